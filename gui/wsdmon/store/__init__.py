"""wsdmon.store: the sqlite3 journal (WAL) of every accepted message, the folded job state and the
devices seen, and export of jobs and events. Standard library only: no Qt, no asyncio."""

from __future__ import annotations

from .codec import CodecError
from .devices import normalize_fingerprint
from .export import (
    EVENT_CSV_COLUMNS,
    JOB_CSV_COLUMNS,
    ExportResult,
    Progress,
    export_events_csv,
    export_events_json,
    export_jobs_csv,
    export_jobs_json,
)
from .journal import IncomingMessage, Journal, MessageRow, StoredMessage, default_journal_path, read_jobs
from .opening import (
    JournalProblem,
    JournalUnusableError,
    OpenedJournal,
    demo_journal_path,
    is_damage,
    open_journal,
    restart_damaged,
)
from .schema import SCHEMA_VERSION, JournalError

__all__ = [
    "EVENT_CSV_COLUMNS",
    "JOB_CSV_COLUMNS",
    "SCHEMA_VERSION",
    "CodecError",
    "ExportResult",
    "IncomingMessage",
    "Journal",
    "JournalError",
    "JournalProblem",
    "JournalUnusableError",
    "MessageRow",
    "OpenedJournal",
    "Progress",
    "StoredMessage",
    "default_journal_path",
    "demo_journal_path",
    "export_events_csv",
    "export_events_json",
    "export_jobs_csv",
    "export_jobs_json",
    "is_damage",
    "normalize_fingerprint",
    "open_journal",
    "read_jobs",
    "restart_damaged",
]
