"""Opening the journal at start-up, when things go wrong: a folder that cannot be written, a journal
from a newer wsdmon, a damaged file.

A damaged journal is never changed or deleted: it is renamed (with its -wal and -shm files, so sqlite
still finds them beside it) to `<name>.damaged-YYYYmmdd-HHMMSS` in the same folder, and a fresh
journal starts. The caller tells the user where the old one went (OpenedJournal.moved_aside).

Damage is looked for before the writer opens the file (a read-write open would checkpoint a -wal
into the damaged file): PRAGMA quick_check on a read-only connection reads every page of every
table and index (≈0.12 s for 165 MB, warm cache). Above QUICK_CHECK_MAX_BYTES it is skipped to keep
start-up short; damage there surfaces as sqlite3.DatabaseError from the first loads, which the
caller recognises with is_damage() and answers with move_aside() and a fresh journal.
"""

from __future__ import annotations

import enum
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .journal import Journal, default_journal_path
from .schema import SCHEMA_VERSION, JournalError, Synchronous

__all__ = [
    "QUICK_CHECK_MAX_BYTES",
    "JournalProblem",
    "JournalUnusableError",
    "OpenedJournal",
    "damage_of",
    "demo_journal_path",
    "is_damage",
    "move_aside",
    "open_journal",
    "os_detail",
    "restart_damaged",
]

_log = logging.getLogger(__name__)

QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024  # larger journals skip the check at open (≈0.2 s here)
_CORRUPT_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB
_SIDE_FILES = ("-wal", "-shm")


class JournalProblem(enum.Enum):
    """Why the journal cannot be used; the window and `watch` word each one."""

    UNWRITABLE = "unwritable"  # its folder cannot be made or the file cannot be written
    NEWER_SCHEMA = "newer-schema"  # written by a newer wsdmon: left alone
    DAMAGED_NOT_MOVED = "damaged-not-moved"  # damaged, and renaming it failed


class JournalUnusableError(JournalError):
    """The journal cannot be opened; `problem` says why, `detail` is the system's own words."""

    def __init__(self, problem: JournalProblem, path: Path, detail: str) -> None:
        super().__init__(f"{path}: {problem.value}: {detail}")
        self.problem = problem
        self.path = path
        self.detail = detail


@dataclass(frozen=True, slots=True)
class OpenedJournal:
    journal: Journal
    moved_aside: Path | None = None  # a damaged journal was renamed to this; None when all was well
    damage: str = ""  # what sqlite said of the damaged one


def demo_journal_path() -> Path:
    """`--demo`'s own journal, beside the default one: its history survives a restart of the demo
    and never mixes with the real devices'."""
    return default_journal_path().with_name("demo-journal.sqlite3")


def is_damage(exc: BaseException) -> bool:
    """True when sqlite reports a damaged file (not a locked, missing or read-only one)."""
    seen: BaseException | None = exc
    while seen is not None:
        code = getattr(seen, "sqlite_errorcode", None)
        if isinstance(seen, sqlite3.DatabaseError) and code in _CORRUPT_CODES:
            return True
        seen = seen.__cause__
    return False


def damage_of(path: Path) -> str | None:
    """What is wrong with the journal file, or None when it is sound (or absent, or too large to
    check at start-up). Reads only: the file stays byte-identical."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if size == 0 or size > QUICK_CHECK_MAX_BYTES:
        if size:
            _log.info("journal %s is %d bytes: no integrity check at start-up", path, size)
        return None
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error:
        return None  # cannot even be opened for reading: the writer's open says why
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        if is_damage(exc):
            return str(exc)
        return None
    finally:
        conn.close()
    problems = [str(r[0]) for r in rows if r and r[0] != "ok"]
    return "; ".join(problems[:3]) if problems else None


def move_aside(path: Path, now: datetime) -> Path:
    """Rename the journal and its -wal/-shm to `<name>.damaged-<local time>` (a free name in the
    same folder); returns the new path of the journal. Raises OSError when it cannot."""
    stamp = now.astimezone().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while any(Path(f"{target}{s}").exists() for s in ("", *_SIDE_FILES)):
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    path.rename(target)
    for suffix in _SIDE_FILES:
        side = Path(f"{path}{suffix}")
        if side.exists():
            side.rename(f"{target}{suffix}")
    _log.warning("journal %s is damaged: moved aside to %s", path, target)
    return target


def os_detail(exc: OSError) -> str:
    """The system's words for a failed file operation, naming the file: "/x/y: Permission denied";
    an existing file where a folder is needed says so instead of "File exists"."""
    name = exc.filename
    if isinstance(exc, FileExistsError) and name is not None and not Path(name).is_dir():
        return f"{name} is a file, not a folder"
    return f"{name}: {exc.strerror}" if name is not None and exc.strerror else str(exc)


def _schema_version(path: Path) -> int | None:
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _open_writer(path: Path, synchronous: Synchronous, site: str | None = None) -> Journal:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JournalUnusableError(JournalProblem.UNWRITABLE, path, os_detail(exc)) from exc
    try:
        return Journal(path, synchronous=synchronous, site=site)
    except JournalError as exc:
        if is_damage(exc):
            raise
        version = _schema_version(path)
        if version is not None and version > SCHEMA_VERSION:
            raise JournalUnusableError(JournalProblem.NEWER_SCHEMA, path, str(exc)) from exc
        raise JournalUnusableError(JournalProblem.UNWRITABLE, path, str(exc.__cause__ or exc)) from exc
    except OSError as exc:
        raise JournalUnusableError(JournalProblem.UNWRITABLE, path, os_detail(exc)) from exc


def open_journal(
    path: Path, now: datetime, *, synchronous: Synchronous = "NORMAL", site: str | None = None
) -> OpenedJournal:
    """Open (or create) the journal, writing as `site` (default: this host's name); a damaged one is
    moved aside and a fresh one started. Raises JournalUnusableError when there is no journal to be
    had; the caller words it."""
    damage = damage_of(path)
    if damage is None:
        try:
            return OpenedJournal(_open_writer(path, synchronous, site))
        except JournalError as exc:
            if not is_damage(exc):
                raise
            damage = str(exc.__cause__ or exc)
    return restart_damaged(path, now, damage, synchronous=synchronous, site=site)


def restart_damaged(
    path: Path, now: datetime, damage: str, *, synchronous: Synchronous = "NORMAL", site: str | None = None
) -> OpenedJournal:
    """Move the damaged journal aside and open a fresh one in its place."""
    try:
        moved = move_aside(path, now)
    except OSError as exc:
        raise JournalUnusableError(
            JournalProblem.DAMAGED_NOT_MOVED, path, f"{damage}; {exc.strerror or exc}"
        ) from exc
    return OpenedJournal(_open_writer(path, synchronous, site), moved, damage)
