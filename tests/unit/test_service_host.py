"""What a service needs from its host, without a service manager: the journal lock (held by a live
process, taken over from a dead one), journald line prefixes, and the JOURNAL_STREAM check."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wsdmon.journal_lock import lock_journal
from wsdmon.service import JournalFormatter, under_journald

HOLD = """
import sys, time
from pathlib import Path
from wsdmon.journal_lock import lock_journal
lock, holder = lock_journal(Path(sys.argv[1]))
print("held" if lock else f"refused {holder}", flush=True)
sys.stdin.readline()
"""


def test_a_live_holder_keeps_the_lock_and_a_dead_ones_is_taken_over(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite3"
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(journal)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "held"
            lock, holder = lock_journal(journal)
            assert lock is None
            assert holder == child.pid
            assert Path(f"{journal}.lock").read_text().splitlines()[0] == str(child.pid)
        finally:
            child.kill()  # no release: the lock file stays behind, its holder gone
    assert Path(f"{journal}.lock").exists()
    lock, holder = lock_journal(journal)
    assert lock is not None
    assert holder == 0
    assert Path(f"{journal}.lock").read_text().splitlines()[0] == str(os.getpid())
    lock.release()
    assert not Path(f"{journal}.lock").exists()


def test_a_lock_file_in_a_missing_folder_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="No such file"):
        lock_journal(tmp_path / "missing" / "j.sqlite3")


def record(level: int, message: str, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("wsdmon.collect", level, __file__, 1, message, None, exc_info)


@pytest.mark.parametrize(
    ("level", "prefix"),
    [(logging.DEBUG, "<7>"), (logging.INFO, "<6>"), (logging.WARNING, "<4>"), (logging.ERROR, "<3>"),
     (logging.CRITICAL, "<2>"), (25, "<4>")],
)  # fmt: skip
def test_journal_lines_carry_the_syslog_priority(level: int, prefix: str) -> None:
    assert JournalFormatter().format(record(level, "started")) == f"{prefix}wsdmon.collect: started"


def test_every_line_of_a_traceback_keeps_the_priority() -> None:
    lines = JournalFormatter().format(record(logging.ERROR, "failed", exc=True)).splitlines()
    assert len(lines) > 3
    assert all(line.startswith("<3>") for line in lines)
    assert lines[-1] == "<3>ValueError: boom"


def test_journal_stream_must_name_this_stream(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with open(tmp_path / "log", "w") as stream:
        stat = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{stat.st_dev}:{stat.st_ino}")
        assert under_journald(stream)
        monkeypatch.setenv("JOURNAL_STREAM", f"{stat.st_dev}:{stat.st_ino + 1}")  # inherited, redirected
        assert not under_journald(stream)
        monkeypatch.setenv("JOURNAL_STREAM", "garbage")
        assert not under_journald(stream)
        monkeypatch.delenv("JOURNAL_STREAM")
        assert not under_journald(stream)
