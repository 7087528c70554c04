"""One engine per journal, without Qt: the lock file `<journal>.lock` that the window takes with
QLockFile, taken and honoured here the same way, so a window, `wsdmon watch` and `wsdmon collect`
on one journal exclude each other.

Hand-written rather than a library (filelock, portalocker): the lock must interoperate with Qt's
QLockFile, which the window uses. QLockFile creates the file exclusively, writes its process id,
application name and host name one per line, and on Unix also holds an flock on it; a lock file
whose holder is gone is stale and taken over. Here:
- Unix: the flock decides. A holder that is alive keeps its flock (the kernel drops it when the
  process dies, even by SIGKILL), so a lock file that can be flock'ed is stale and is removed.
  Where flock is not supported (some network file systems) the holder's process id is checked.
- Windows: a holder keeps the file open without delete sharing (Python's os.open and Qt both), so
  a lock file that can be deleted is stale.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sys
from pathlib import Path

__all__ = ["JournalLock", "lock_journal"]

_ATTEMPTS = 3  # a stale lock removed by someone else at the same time: try to create it again


class JournalLock:
    """A held lock; release() (or the process ending) frees it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        """Remove the lock file, then let go of it (QLockFile.unlock does the same)."""
        if self._fd is None:
            return
        if sys.platform == "win32":  # an open file cannot be deleted there, even by its opener
            os.close(self._fd)
        with contextlib.suppress(OSError):
            self.path.unlink()
        if sys.platform != "win32":  # deleted while still flock'ed: no one takes a half-freed lock
            os.close(self._fd)
        self._fd = None


def lock_journal(journal: Path) -> tuple[JournalLock | None, int]:
    """Take `<journal>.lock`: (the lock, 0), or (None, the process id of the holder; 0 if unknown).
    OSError when the lock file cannot be made (its folder is missing or read-only)."""
    path = Path(f"{journal}.lock")
    holder = 0
    for _ in range(_ATTEMPTS):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _holder(path)
            if not _remove_if_stale(path):
                return None, holder
            continue
        if sys.platform != "win32":
            with contextlib.suppress(OSError):  # QLockFile goes on without native locks too
                _flock(fd)
        os.write(fd, _contents())
        return JournalLock(path, fd), 0
    return None, holder


def _contents() -> bytes:
    """QLockFile's format: process id, application name, host name (Qt 5.10+ adds two optional
    lines, machine and boot id, which it reads as absent). Qt on Linux compares the application
    name with /proc/<pid>/exe's file name, so it is that name here too."""
    try:
        app = Path(os.readlink("/proc/self/exe")).name
    except OSError:
        app = Path(sys.executable).name
    return f"{os.getpid()}\n{app}\n{socket.gethostname()}\n".encode()


def _holder(path: Path) -> int:
    try:
        first = path.read_bytes().split(b"\n", 1)[0]
    except OSError:
        return 0
    return int(first) if first.isdigit() else 0


def _flock(fd: int) -> bool:
    """flock(LOCK_EX | LOCK_NB): True when taken, False when another process holds it; OSError
    when the file system does not support it."""
    import fcntl  # Unix only

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in {errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES}:
            return False
        raise
    return True


def _remove_if_stale(path: Path) -> bool:
    """Remove the lock file if its holder is gone; True when it is gone (try again to create it)."""
    if sys.platform == "win32":
        try:
            path.unlink()
        except FileNotFoundError:
            return True
        except PermissionError:  # held open by a live holder
            return False
        return True
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        try:
            if not _flock(fd):
                return False
        except OSError:  # no flock here: the holder's process decides
            if _alive(_holder(path)):
                return False
        same = os.fstat(fd).st_ino == os.stat(path).st_ino
        if same:  # not already replaced by a new holder's file
            path.unlink()
        return True
    except FileNotFoundError:
        return True
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
