"""Running the real `wsdmon` (the installed console script) as a person or a script would: the window
offscreen, `watch` headless, each with its own data and settings folders (never the user's), no
multicast (--no-discovery). Also: a journal with rows, and the same journal damaged past its header."""

from __future__ import annotations

import errno
import hashlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from wsdmon.store import IncomingMessage, Journal

WSDMON = str(Path(sys.executable).with_name("wsdmon"))
PAGE = 4096  # sqlite's default page size, which the journal keeps


def environment(home: Path) -> dict[str, str]:
    """The process's own data (journal, lock) and config (QSettings) folders under `home`."""
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_RUNTIME_DIR": str(runtime),
        "PYTHONUNBUFFERED": "1",
    }


def env_command(home: Path) -> list[str]:
    """`env NAME=VALUE…` giving a command run through `ip netns exec` the folders of environment()."""
    base = os.environ
    return ["env", *(f"{k}={v}" for k, v in environment(home).items() if base.get(k) != v)]


def run_wsdmon(home: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WSDMON, *args],
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_wsdmon(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [WSDMON, *args],
        env=environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def journal_with_rows(path: Path, rows: int = 100) -> None:
    with Journal(path) as journal:
        journal.append_messages(
            IncomingMessage(
                datetime.now(UTC),
                "urn:uuid:553852db-6d5a-4eee-a34f-5b499c1a2944",
                None,
                "http://schemas.microsoft.com/windows/2008/12/wdp/distributedscan/PostScanJobStatusEvent",
                f"urn:uuid:msg-{i}",
                f"message {i}",
                b"<soap:Envelope>" + b"x" * 1500 + b"</soap:Envelope>",
            )
            for i in range(rows)
        )


def damage(path: Path) -> None:
    """Overwrite the b-tree header of a page in the middle of the file (well past sqlite's header
    page): reading that page gives `database disk image is malformed`."""
    data = bytearray(path.read_bytes())
    page = len(data) // PAGE // 2
    assert page > 1
    data[page * PAGE : page * PAGE + 64] = b"\xff" * 64
    path.write_bytes(data)


def damaged_journal(path: Path) -> str:
    """A journal with rows, damaged; returns the SHA-256 of the damaged file."""
    journal_with_rows(path)
    assert not Path(f"{path}-wal").exists()  # closed cleanly: all of it is in the one file
    damage(path)
    return sha256(path)


@contextmanager
def port_taken(port: int) -> Iterator[None]:
    """Hold a listening TCP socket on `port` (already busy is just as good)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - the sink binds all addresses
            sock.listen()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
        yield
    finally:
        sock.close()
