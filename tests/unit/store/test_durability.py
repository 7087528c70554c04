"""Durability against a process crash: a real child process, really killed with SIGKILL.

The contract (schema.py): once append_message() / append_messages() has returned, the message
survives a crash or kill -9 of the process. Not tested here: power loss, which synchronous=NORMAL
does not cover (synchronous="FULL" does, at the price the bench shows).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from wsdmon.store import Journal

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

CHILD_SELF_KILL = r"""
import os, signal, sys
from datetime import UTC, datetime, timedelta
from wsdmon.store import Journal

path, n, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
journal = Journal(path)
t0 = datetime(2026, 1, 1, tzinfo=UTC)

def row(i):
    return (t0 + timedelta(seconds=i), "urn:uuid:dev", "urn:uuid:sub", "urn:action", f"urn:uuid:m{i}",
            f"summary {i}", f"<m n='{i}'/>".encode())

i = 0
while i < n:
    if batch == 1:
        i += 1
        journal.append_message(*row(i))
    else:
        rows = [row(k) for k in range(i + 1, min(i + batch, n) + 1)]
        journal.append_messages(rows)
        i += len(rows)
    if i == n:
        os.kill(os.getpid(), signal.SIGKILL)  # right after the call for message N returned
raise SystemExit("not reached")
"""

CHILD_BURST = r"""
import random, sys
from datetime import UTC, datetime
from wsdmon.store import Journal

journal = Journal(sys.argv[1])
now = datetime.now(UTC)
random.seed(7)
i = 0
while True:
    size = random.choice((1, 1, 1, 5, 20))
    rows = [(now, "urn:uuid:dev", None, "urn:action", f"urn:uuid:m{i + k}", "s", b"x" * 500)
            for k in range(size)]
    i += size
    if size == 1:
        ids = [journal.append_message(*rows[0])]
    else:
        ids = journal.append_messages(rows)
    sys.stdout.write(" ".join(map(str, ids)) + "\n")  # the "2xx reply": sent only after the call returned
    sys.stdout.flush()
"""


def _env() -> dict[str, str]:
    # The child imports the very wsdmon this test imports.
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


@pytest.mark.parametrize("batch", [1, 10], ids=["append_message", "append_messages"])
def test_every_returned_append_survives_kill_9(tmp_path: Path, batch: int) -> None:
    path = tmp_path / "journal.sqlite3"
    n = 500
    result = subprocess.run(
        [sys.executable, "-c", CHILD_SELF_KILL, str(path), str(n), str(batch)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    wal = path.with_name(path.name + "-wal")
    assert wal.exists()
    assert wal.stat().st_size > 0  # the messages are in the WAL: the child never closed the journal
    with Journal(path) as journal:
        stored = list(journal.messages_after(0))
        assert [m.id for m in stored] == list(range(1, n + 1))
        assert stored[-1].raw == f"<m n='{n}'/>".encode()
        assert journal.raw_message(n) == f"<m n='{n}'/>".encode()


def test_kill_9_from_outside_during_a_burst_loses_no_acknowledged_message(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_BURST, str(path)], env=_env(), stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    acked: list[int] = []
    try:
        while len(acked) < 2000:
            line = child.stdout.readline()
            assert line, "child stopped early"
            acked.extend(map(int, line.split()))
        child.send_signal(signal.SIGKILL)  # while it is appending
        for line in child.stdout:  # acknowledgements already written before it died
            if line.endswith("\n"):
                acked.extend(map(int, line.split()))
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    with Journal(path) as journal:
        stored = {m.id for m in journal.messages_after(0)}
    assert set(acked) <= stored
    assert max(stored) == len(stored)  # no gaps: each transaction committed whole or not at all
    print(f"\n{len(acked)} acknowledged, {len(stored)} stored after kill -9")
