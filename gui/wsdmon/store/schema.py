"""The journal's schema, its migrations, and how connections to it are opened.

The schema version is PRAGMA user_version. MIGRATIONS[i] takes a database from version i to i + 1;
each runs in its own transaction together with the version bump, so a crash mid-migration leaves the
old version intact. To change the schema, append a migration; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "MAX_SITE_CHARS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "JournalError",
    "SiteDefault",
    "Synchronous",
    "check_site",
    "connect_read_only",
    "connect_writer",
    "default_site",
]

BUSY_TIMEOUT_MS = 2000  # only schema migration and checkpoints ever wait on another connection

Synchronous = Literal["NORMAL", "FULL"]


@dataclass(frozen=True, slots=True)
class SiteDefault:
    """A migration step that needs the opener's site name: `sql` with `{site}` replaced by the name
    as a quoted SQL literal (sqlite's ADD COLUMN takes only a constant default)."""

    sql: str

    def render(self, site: str) -> str:
        return self.sql.format(site="'" + site.replace("'", "''") + "'")


Step = str | SiteDefault | Callable[[sqlite3.Connection], None]

_V1: tuple[Step, ...] = (
    # AUTOINCREMENT: ids are never reused, even after retention deleted the newest rows, because
    # timelines and the "last folded message" point at them.
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        arrival TEXT NOT NULL,          -- ISO-8601, UTC
        arrival_epoch REAL NOT NULL,    -- seconds since 1970, for retention
        device TEXT NOT NULL,           -- endpoint urn:uuid
        subscription TEXT,              -- our subscription Identifier, if it came through one
        action TEXT NOT NULL,
        message_id TEXT,                -- wsa:MessageID
        summary TEXT NOT NULL,
        raw BLOB NOT NULL
    )""",
    "CREATE INDEX messages_by_arrival ON messages (arrival_epoch)",
    """CREATE TABLE jobs (
        device TEXT NOT NULL,
        job_token TEXT NOT NULL,
        active INTEGER NOT NULL,        -- 0 once terminal or its end-state event arrived
        last_update_epoch REAL NOT NULL,
        record TEXT NOT NULL,           -- codec.encode_job_record(timeline=False)
        PRIMARY KEY (device, job_token)
    )""",
    "CREATE INDEX jobs_by_age ON jobs (active, last_update_epoch)",
    """CREATE TABLE timeline (
        device TEXT NOT NULL,
        job_token TEXT NOT NULL,
        seq INTEGER NOT NULL,           -- 0-based position in JobRecord.timeline
        journal_id INTEGER,             -- messages.id; may outlive the message (retention)
        entry TEXT NOT NULL,            -- codec.encode_timeline_entry
        PRIMARY KEY (device, job_token, seq),
        FOREIGN KEY (device, job_token) REFERENCES jobs (device, job_token) ON DELETE CASCADE
    ) WITHOUT ROWID""",
    """CREATE TABLE devices (
        endpoint TEXT PRIMARY KEY,      -- urn:uuid
        friendly_name TEXT,
        manufacturer TEXT,
        model_name TEXT,
        model_number TEXT,
        serial_number TEXT,
        firmware_version TEXT,
        presentation_url TEXT,
        device_category TEXT NOT NULL,  -- JSON list
        roles TEXT NOT NULL,            -- JSON list, derived from services (for people and exports)
        xaddrs TEXT NOT NULL,           -- JSON list
        services TEXT NOT NULL,         -- JSON list of {address, role, service_id}
        metadata_version INTEGER,
        instance_id INTEGER,
        first_seen TEXT,                -- ISO-8601
        last_seen TEXT,
        last_event TEXT
    )""",
    # Trust is its own table: the user may accept a certificate before metadata was ever read,
    # and forgetting a device's metadata must not forget the user's decision.
    """CREATE TABLE trust (
        endpoint TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL            -- lower-case hex of the accepted certificate's SHA-256
    )""",
    "CREATE TABLE state (key TEXT PRIMARY KEY, value) WITHOUT ROWID",
)

_V2: tuple[Step, ...] = (
    # Job generations (core.jobs rule 6): devices reuse job tokens, so a job is keyed by (device,
    # job_token, generation). sqlite cannot change a primary key in place: both tables are built
    # anew and filled from the old ones, every stored job becoming generation 0. The timeline is
    # dropped before the jobs, so that dropping the jobs cascades to nothing.
    """CREATE TABLE jobs_v2 (
        device TEXT NOT NULL,
        job_token TEXT NOT NULL,
        generation INTEGER NOT NULL,    -- 0 for the first job with this token, n for its nth reuse
        active INTEGER NOT NULL,        -- 0 once terminal, ended, lost or unknown
        last_update_epoch REAL NOT NULL,
        record TEXT NOT NULL,           -- codec.encode_job_record(timeline=False)
        PRIMARY KEY (device, job_token, generation)
    )""",
    """INSERT INTO jobs_v2 (device, job_token, generation, active, last_update_epoch, record)
        SELECT device, job_token, 0, active, last_update_epoch, record FROM jobs ORDER BY rowid""",
    """CREATE TABLE timeline_v2 (
        device TEXT NOT NULL,
        job_token TEXT NOT NULL,
        generation INTEGER NOT NULL,
        seq INTEGER NOT NULL,           -- 0-based position in JobRecord.timeline
        journal_id INTEGER,             -- messages.id; may outlive the message (retention)
        entry TEXT NOT NULL,            -- codec.encode_timeline_entry
        PRIMARY KEY (device, job_token, generation, seq),
        FOREIGN KEY (device, job_token, generation)
            REFERENCES jobs_v2 (device, job_token, generation) ON DELETE CASCADE
    ) WITHOUT ROWID""",
    """INSERT INTO timeline_v2 (device, job_token, generation, seq, journal_id, entry)
        SELECT device, job_token, 0, seq, journal_id, entry FROM timeline""",
    "DROP TABLE timeline",
    "DROP TABLE jobs",
    # Renaming rewrites the foreign key of timeline_v2 to name "jobs" (sqlite >= 3.26).
    "ALTER TABLE jobs_v2 RENAME TO jobs",
    "ALTER TABLE timeline_v2 RENAME TO timeline",
    "CREATE INDEX jobs_by_age ON jobs (active, last_update_epoch)",
)

_V3: tuple[Step, ...] = (
    # Sites (issue 14): every message, job and device row says which site (collector host) saw it.
    # ADD COLUMN with a constant default rewrites no row: the rows of an old journal read as the site
    # of the wsdmon that migrated it (this host), new rows always name their site.
    SiteDefault("ALTER TABLE messages ADD COLUMN site TEXT NOT NULL DEFAULT {site}"),
    SiteDefault("ALTER TABLE jobs ADD COLUMN site TEXT NOT NULL DEFAULT {site}"),
    SiteDefault("ALTER TABLE devices ADD COLUMN site TEXT NOT NULL DEFAULT {site}"),
)


def _copy_jobs_v4(conn: sqlite3.Connection) -> None:
    """Copy every job into jobs_v4 under its rowid (the order jobs were first stored in), with its
    sort and filter columns (store.job_index) made from its record, a few thousand rows at a time;
    a damaged record keeps the defaults (it is skipped when read anyway)."""
    from .job_index import INDEX_COLUMNS, decode_record_row, index_values

    plain = "rowid, device, job_token, generation, site, active, last_update_epoch, record"
    full = f"{plain}, {', '.join(INDEX_COLUMNS)}"
    marks = ", ".join("?" * (8 + len(INDEX_COLUMNS)))
    last = -(2**63)
    while True:
        rows = conn.execute(
            f"SELECT {plain} FROM jobs WHERE rowid > ? ORDER BY rowid LIMIT ?",  # noqa: S608
            (last, _COPY_ROWS),
        ).fetchall()
        if not rows:
            return
        with_index, without = [], []
        for row in rows:
            rec = decode_record_row((row[1], row[2], row[3], row[7]))
            if rec is None:
                without.append(row)
            else:
                with_index.append((*row, *index_values(rec)))
        conn.executemany(f"INSERT INTO jobs_v4 ({full}) VALUES ({marks})", with_index)  # noqa: S608
        conn.executemany(f"INSERT INTO jobs_v4 ({plain}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", without)  # noqa: S608
        last = rows[-1][0]


_COPY_ROWS = 5000  # jobs copied per step of the v4 migration (bounds its memory)


_V4: tuple[Step, ...] = (
    # Paging a large history from the store (issue 14, item 4): the job table's sort and filter
    # values as columns (store.job_index), an index per sort column (its ties in rowid order, which is
    # the order jobs were first stored in), and a trigram full-text index over the searched words
    # (an FTS5 table kept by triggers), so that sorting, filtering and searching a million jobs never
    # reads every record. The table is built anew (as in v2) so that the record comes last in each
    # row: sqlite keeps the part of a row that does not fit its page in overflow pages, and a column
    # after the record (~1 KiB of JSON) would cost reading them for every row a filter looks at.
    """CREATE TABLE jobs_v4 (
        device TEXT NOT NULL,
        job_token TEXT NOT NULL,
        generation INTEGER NOT NULL,
        site TEXT NOT NULL,
        active INTEGER NOT NULL,
        last_update_epoch REAL NOT NULL,
        quick TEXT NOT NULL DEFAULT '',         -- store.job_index: "A", "F", "C" or ""
        kind TEXT NOT NULL DEFAULT 'post-scan',
        state_rank INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT '',
        reasons TEXT NOT NULL DEFAULT '',
        images INTEGER NOT NULL DEFAULT 0,
        created REAL,                           -- epoch seconds; NULL when absent
        completed REAL,
        duration REAL,
        filters_key INTEGER NOT NULL DEFAULT 0,
        search TEXT NOT NULL DEFAULT '',        -- the searched words, case-folded
        record TEXT NOT NULL,                   -- codec.encode_job_record(timeline=False): last
        PRIMARY KEY (device, job_token, generation)
    )""",
    _copy_jobs_v4,
    """CREATE TABLE timeline_v4 (
        device TEXT NOT NULL,
        job_token TEXT NOT NULL,
        generation INTEGER NOT NULL,
        seq INTEGER NOT NULL,           -- 0-based position in JobRecord.timeline
        journal_id INTEGER,             -- messages.id; may outlive the message (retention)
        entry TEXT NOT NULL,            -- codec.encode_timeline_entry
        PRIMARY KEY (device, job_token, generation, seq),
        FOREIGN KEY (device, job_token, generation)
            REFERENCES jobs_v4 (device, job_token, generation) ON DELETE CASCADE
    ) WITHOUT ROWID""",
    "INSERT INTO timeline_v4 SELECT device, job_token, generation, seq, journal_id, entry FROM timeline",
    "DROP TABLE timeline",  # first: dropping the jobs then cascades to nothing
    "DROP TABLE jobs",
    "ALTER TABLE jobs_v4 RENAME TO jobs",
    "ALTER TABLE timeline_v4 RENAME TO timeline",
    "CREATE INDEX jobs_by_age ON jobs (active, last_update_epoch)",
    "CREATE INDEX jobs_by_quick ON jobs (quick, last_update_epoch)",
    "CREATE INDEX jobs_by_kind ON jobs (kind)",
    "CREATE INDEX jobs_by_token ON jobs (job_token)",
    "CREATE INDEX jobs_by_state ON jobs (state_rank, state)",
    "CREATE INDEX jobs_by_reasons ON jobs (reasons)",
    "CREATE INDEX jobs_by_images ON jobs (images)",
    "CREATE INDEX jobs_by_created ON jobs (created)",
    "CREATE INDEX jobs_by_completed ON jobs (completed)",
    "CREATE INDEX jobs_by_duration ON jobs (duration)",
    "CREATE INDEX jobs_by_filters ON jobs (filters_key)",
    "CREATE INDEX jobs_by_site ON jobs (site)",
    # The search words are copied into the FTS table (not read back from jobs): checking a candidate
    # against the pattern then reads a short row, not a job's record. detail=none: substring search
    # needs no positions (sqlite checks each candidate itself), and the index is a fraction the size.
    "CREATE VIRTUAL TABLE jobs_search USING fts5(search, tokenize='trigram', detail='none')",
    "CREATE TRIGGER jobs_search_insert AFTER INSERT ON jobs BEGIN"
    " INSERT INTO jobs_search (rowid, search) VALUES (new.rowid, new.search); END",
    "CREATE TRIGGER jobs_search_delete AFTER DELETE ON jobs BEGIN"
    " DELETE FROM jobs_search WHERE rowid = old.rowid; END",
    "CREATE TRIGGER jobs_search_update AFTER UPDATE OF search ON jobs WHEN old.search IS NOT new.search BEGIN"
    " UPDATE jobs_search SET search = new.search WHERE rowid = new.rowid; END",
    "INSERT INTO jobs_search (rowid, search) SELECT rowid, search FROM jobs",
)

# v5: what a device's collector last knew of it (store.devices: encode_device_state), for the
# viewers of a shared store; the sqlite journal keeps it too, so that both stores are one contract.
_V5: tuple[Step, ...] = (
    "ALTER TABLE devices ADD COLUMN state TEXT",
    "ALTER TABLE devices ADD COLUMN state_at TEXT",
    # 0: a device known only by its state (its metadata never read: unreachable since it was
    # found), kept for the viewers and bundles; not restored as a device at the next start.
    "ALTER TABLE devices ADD COLUMN metadata_read INTEGER NOT NULL DEFAULT 1",
)

MIGRATIONS: tuple[tuple[Step, ...], ...] = (_V1, _V2, _V3, _V4, _V5)
SCHEMA_VERSION = len(MIGRATIONS)
# The oldest version a read-only reader (bundle, export, a paged view) takes as it is: v5 only added
# the devices' state columns, which those readers do without (the bundle lists a row's columns as
# they are). A journal not yet opened by this wsdmon's writer need not be migrated to be read.
READABLE_SINCE = 4


class JournalError(Exception):
    """The journal cannot be opened or used; the message says what to do."""


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")


MAX_SITE_CHARS = 100


def check_site(site: str) -> str:
    """The site name, stripped; ValueError when it is empty, too long or has control characters."""
    name = site.strip()
    if not name or len(name) > MAX_SITE_CHARS or any(not c.isprintable() for c in name):
        raise ValueError(
            f"a site name is 1 to {MAX_SITE_CHARS} printable characters (got {site!r}): "
            "use a short name such as the building or floor"
        )
    return name


def default_site() -> str:
    """The site a store names its rows with unless told otherwise: this computer's host name."""
    import socket

    return socket.gethostname() or "localhost"


def migrate(
    conn: sqlite3.Connection,
    migrations: tuple[tuple[Step, ...], ...] = MIGRATIONS,
    *,
    site: str | None = None,
) -> int:
    """Bring the database up to len(migrations); returns the version it was at before. `site` names
    the rows that were there before sites existed (default: this host)."""
    (start,) = conn.execute("PRAGMA user_version").fetchone()
    if start > len(migrations):
        raise JournalError(
            f"the journal has schema version {start}, newer than this wsdmon understands "
            f"({len(migrations)}): upgrade wsdmon, or start a new journal"
        )
    for version in range(start, len(migrations)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for step in migrations[version]:
                if isinstance(step, str):
                    conn.execute(step)
                elif isinstance(step, SiteDefault):
                    conn.execute(step.render(site or default_site()))
                else:
                    step(conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:  # the step failed (sqlite may have rolled back already)
                conn.execute("ROLLBACK")
    return int(start)


def connect_writer(
    path: Path,
    synchronous: Synchronous,
    migrations: tuple[tuple[Step, ...], ...] = MIGRATIONS,
    *,
    site: str | None = None,
    check_same_thread: bool = True,
) -> sqlite3.Connection:
    """The one read-write connection, in WAL mode, migrated to the current schema.

    isolation_level=None: the sqlite3 module opens no transactions behind our back; a lone
    statement commits by itself, and batches say BEGIN/COMMIT explicitly. check_same_thread stays
    on, so using the journal from a second thread fails loudly instead of corrupting state."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=check_same_thread)
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open the journal {path}: {exc}") from exc
    try:
        _configure(conn)
        (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if str(mode).lower() != "wal":
            raise JournalError(
                f"the journal {path} cannot use WAL mode (got {mode!r}): put it on a local disk, "
                "not a network share"
            )
        # Durability contract: once append_message() returns, the message survives a crash or
        # kill -9 of this process. In WAL mode a commit has written its frames to the -wal file
        # with write() before it returns, so they are in the OS page cache and survive the
        # process; synchronous=NORMAL only skips the fsync at commit (it still fsyncs at each
        # checkpoint), which costs the last commits only on an OS crash or power loss, and never
        # corrupts the database. FULL adds an fsync per commit for power-loss durability; the
        # bench (bench/bench_journal.py) shows what that costs.
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        migrate(conn, migrations, site=site)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise JournalError(f"the journal {path} is not usable ({exc}): move it aside to start anew") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection for work off the loop (export, history load): WAL lets it read a
    consistent snapshot while the journal keeps writing. Fails if the journal does not exist."""
    if not path.exists():
        raise JournalError(f"no journal at {path}")
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        _configure(conn)
        (version,) = conn.execute("PRAGMA user_version").fetchone()
    except sqlite3.Error as exc:
        raise JournalError(f"cannot read the journal {path}: {exc}") from exc
    if not READABLE_SINCE <= version <= SCHEMA_VERSION:
        conn.close()
        raise JournalError(
            f"the journal {path} has schema version {version}, this wsdmon reads {SCHEMA_VERSION}: "
            "open it once with this version of wsdmon to migrate it"
        )
    return conn
