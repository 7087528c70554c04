"""wsdmon.store: the store interface (StorePort) and its two stores: the sqlite3 journal (WAL) of every
accepted message, the folded job state and the devices seen, and PostgreSQL for many sites
(store.postgres, imported only when opened: it needs psycopg); export of jobs and events. No Qt, no
asyncio."""

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
from .locations import has_password, is_postgres, open_store, redact_dsn
from .opening import (
    JournalProblem,
    JournalUnusableError,
    OpenedJournal,
    demo_journal_path,
    is_damage,
    open_journal,
    restart_damaged,
)
from .port import StoreError, StorePort, StoreUnavailableError, check_site
from .schema import SCHEMA_VERSION, JournalError, default_site

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
    "StoreError",
    "StorePort",
    "StoreUnavailableError",
    "StoredMessage",
    "check_site",
    "default_journal_path",
    "default_site",
    "demo_journal_path",
    "export_events_csv",
    "export_events_json",
    "export_jobs_csv",
    "export_jobs_json",
    "has_password",
    "is_damage",
    "is_postgres",
    "normalize_fingerprint",
    "open_journal",
    "open_store",
    "read_jobs",
    "redact_dsn",
    "restart_damaged",
]
