"""The journal: every accepted message, the folded job state, and the devices seen, in sqlite.

Threading: a Journal belongs to the thread that opened it (the engine's event loop) and every call
is one short transaction, so the loop can call it directly. sqlite3's check_same_thread is left on,
so a call from another thread raises instead of racing. Long work (export, a history load) is done
by the plain functions in export.py and `read_jobs`, which open their own read-only connection and
may run in an executor while the journal keeps writing (WAL readers never block the writer).

Restart: load_devices() and load_jobs() give the folded state as of the last upsert_jobs(); replay
messages_after(last_folded_message_id()) through the reducer to catch up with what came after.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from wsdmon.core.devices import DeviceRecord
from wsdmon.core.health import DeviceHealth
from wsdmon.core.jobs import JobKey, JobRecord, TimelineEntry

from . import devices as _devices
from .codec import (
    CodecError,
    decode_job_record,
    decode_timeline_entry,
    dumps,
    encode_job_record,
    encode_timeline_entry,
    loads,
)
from .devices import normalize_fingerprint
from .job_index import INDEX_COLUMNS, index_values
from .schema import Synchronous, check_site, connect_read_only, connect_writer, default_site

__all__ = [
    "IncomingMessage",
    "Journal",
    "MessageRow",
    "StoredMessage",
    "TimelineWrite",
    "decode_jobs",
    "default_journal_path",
    "read_jobs",
    "timeline_write",
]

_log = logging.getLogger(__name__)

RETENTION_BATCH_ROWS = 5000  # rows deleted per apply_retention() call: keeps each call short
REPLAY_PAGE_ROWS = 500  # rows fetched per query by messages_after()

_INSERT_MESSAGE = (
    "INSERT INTO messages (arrival, arrival_epoch, device, subscription, action, message_id, summary, raw,"
    " site) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_JOB = f"""
INSERT INTO jobs (device, job_token, generation, active, last_update_epoch, record, site,
    {", ".join(INDEX_COLUMNS)})
VALUES (?, ?, ?, ?, ?, ?, ?{", ?" * len(INDEX_COLUMNS)})
ON CONFLICT (device, job_token, generation) DO UPDATE SET
    active = excluded.active, last_update_epoch = excluded.last_update_epoch, record = excluded.record,
    site = excluded.site, {", ".join(f"{c} = excluded.{c}" for c in INDEX_COLUMNS)}
"""  # noqa: S608 - column names only
_LAST_FOLDED = "last_folded_message_id"


MessageRow = tuple[datetime, str, str | None, str, str | None, str, bytes]
"""(arrival, device, subscription, action, message_id, summary, raw): any tuple of this shape,
such as IncomingMessage or the engine's own NamedTuple, is a row for append_messages()."""


def default_journal_path() -> Path:
    """Where the journal lives unless told otherwise: the user's data directory for wsdmon."""
    import platformdirs  # a dependency of wsdmon; imported here so tests of the store need none

    return Path(platformdirs.user_data_path("wsdmon", appauthor=False)) / "journal.sqlite3"


class IncomingMessage(NamedTuple):
    """One accepted message, as append_messages() takes it."""

    arrival: datetime  # timezone-aware
    device: str
    subscription: str | None
    action: str
    message_id: str | None
    summary: str
    raw: bytes


class StoredMessage(NamedTuple):
    """One journalled message, as messages_after() gives it for replay."""

    id: int
    arrival: datetime  # UTC
    device: str
    action: str
    raw: bytes


def _message_params(m: MessageRow, site: str) -> tuple[object, ...]:
    arrival, device, subscription, action, message_id, summary, raw = m
    if arrival.tzinfo is None:
        raise ValueError("arrival must be timezone-aware (pass datetime.now(UTC))")
    utc = arrival.astimezone(UTC)
    return (utc.isoformat(), utc.timestamp(), device, subscription, action, message_id, summary, raw, site)


_MAX_CHUNK = 64  # 64 rows x 9 parameters: far below sqlite's limit of host parameters


def _chunk(remaining: int) -> int:
    """The largest power of two ≤ remaining, at most _MAX_CHUNK."""
    return min(_MAX_CHUNK, 1 << (remaining.bit_length() - 1))


@functools.cache
def _insert_rows(n: int) -> str:
    return _INSERT_MESSAGE + ", (?, ?, ?, ?, ?, ?, ?, ?, ?)" * (n - 1)


def _row_id(cursor: sqlite3.Cursor) -> int:
    row_id = cursor.lastrowid
    if row_id is None:  # never after a successful INSERT into a rowid table
        raise RuntimeError("sqlite reported no row id for an INSERT")
    return row_id


class TimelineWrite(NamedTuple):
    """What upsert_jobs() writes of one job's timeline, given the last stored entry."""

    rewrite: bool  # delete every stored entry of the job first
    trim_through: int  # else: delete the stored entries with seq 1 … trim_through (0: none)
    rows: list[tuple[int, int | None, str]]  # (seq, journal_id, entry) to insert


def timeline_write(
    record: JobRecord, last: tuple[int, str] | None, last_entry: TimelineEntry | None = None
) -> TimelineWrite:
    """A timeline row's seq is the entry's place among all the job's observations: timeline[0]
    is seq 0 and timeline[i] is seq i + timeline_dropped. Timelines only grow at the end
    (JobTable appends, and trims from the second entry on), so only the new entries are
    written and the trimmed ones deleted: when the stored last entry (`last`: seq, entry) is still
    in the new timeline at its seq, the rest is appended; otherwise the timeline is rewritten whole.
    `last_entry`: the stored last entry itself, when the caller wrote it (then it is known without
    encoding the new timeline's entry to compare: JobTable keeps its entries as they are)."""
    timeline, dropped = record.timeline, record.timeline_dropped
    start = 0
    rewrite, trim = False, 0
    if last is not None:
        stored_seq = last[0]
        at = 0 if stored_seq == 0 else stored_seq - dropped  # its index in the new timeline
        kept = (at >= 1 or stored_seq == 0) and at < len(timeline)  # not trimmed since
        if kept and (timeline[at] is last_entry or dumps(encode_timeline_entry(timeline[at])) == last[1]):
            start = at + 1  # the stored timeline leads up to this one: append the rest
        if start == 0:
            rewrite = True
        elif dropped:
            trim = dropped
    rows = [
        (i + dropped if i else 0, timeline[i].journal_id, dumps(encode_timeline_entry(timeline[i])))
        for i in range(start, len(timeline))
    ]
    return TimelineWrite(rewrite, trim, rows)


def _load_jobs(conn: sqlite3.Connection) -> tuple[list[JobRecord], int]:
    return decode_jobs(
        conn.execute(
            "SELECT device, job_token, generation, seq, entry FROM timeline"
            " ORDER BY device, job_token, generation, seq"
        ),
        conn.execute("SELECT device, job_token, generation, record FROM jobs ORDER BY rowid"),
    )


def decode_jobs(
    timeline_rows: Iterable[tuple[Any, ...]],
    job_rows: Iterable[tuple[Any, ...]],
) -> tuple[list[JobRecord], int]:
    """All stored jobs with their timelines, and how many damaged rows were skipped (each logged).
    A damaged timeline entry is dropped from its job; a damaged job row drops the job. The timeline
    rows come ordered by job and seq; the jobs in the order they were first stored."""
    timelines: dict[tuple[str, str, int], list[TimelineEntry]] = {}
    skipped = 0
    for device, token, generation, seq, entry in timeline_rows:
        try:
            timelines.setdefault((device, token, generation), []).append(decode_timeline_entry(loads(entry)))
        except (CodecError, TypeError) as exc:
            skipped += 1
            _log.warning("journal: skipped timeline entry %s of job %r on %s: %s", seq, token, device, exc)
    jobs: list[JobRecord] = []
    for device, token, generation, record in job_rows:
        try:
            job = decode_job_record(loads(record), tuple(timelines.get((device, token, generation), ())))
            if job.key != JobKey(device, token, generation):
                raise CodecError(f"the record is of {job.key}")
            jobs.append(job)
        except (CodecError, TypeError) as exc:
            skipped += 1
            _log.warning("journal: skipped damaged job %r on %s: %s", token, device, exc)
    return jobs, skipped


def read_jobs(db_path: str | Path) -> list[JobRecord]:
    """load_jobs() on a read-only connection of its own, for an executor (a long history load)."""
    conn = connect_read_only(Path(db_path))
    try:
        conn.execute("BEGIN")  # one snapshot for jobs and timelines
        return _load_jobs(conn)[0]
    finally:
        conn.close()


class Journal:
    """The durable record of the monitor (see the module docstring for threading and restart).

    `site` names the rows this journal writes (default: this host's name); the rows of a journal
    from before sites existed read as the site of the wsdmon that migrated it."""

    writes_block = False  # appends are short local commits: the Recorder calls it on the loop

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: Synchronous = "NORMAL",
        site: str | None = None,
        check_same_thread: bool = True,
    ) -> None:
        self.path = Path(path)
        self.site = default_site() if site is None else check_site(site)
        self._conn = connect_writer(
            self.path, synchronous, site=self.site, check_same_thread=check_same_thread
        )
        self.skipped_rows = 0  # damaged rows skipped by load_jobs(), load_devices(), messages_after()

    @property
    def location(self) -> str:
        """Where the journal is, for people (the file's path)."""
        return str(self.path)

    # --- messages ------------------------------------------------------------------------------

    def append_message(  # noqa: PLR0917  # the sink passes the message's fields as they come
        self,
        arrival: datetime,
        device: str,
        subscription: str | None,
        action: str,
        message_id: str | None,
        summary: str,
        raw: bytes,
    ) -> int:
        """Journal one accepted message; when this returns it survives a crash of the process.
        Returns its id."""
        params = _message_params((arrival, device, subscription, action, message_id, summary, raw), self.site)
        return _row_id(self._conn.execute(_INSERT_MESSAGE, params))  # autocommit: one transaction

    def append_messages(self, batch: Iterable[MessageRow]) -> list[int]:
        """Journal many messages in one transaction (group commit): all or none. Returns their ids.

        The rows go in as few multi-row INSERTs as possible (chunks of 64, 32, … 1 rows, so only a
        handful of statements are ever cached): one sqlite3_step per chunk instead of one per row
        costs ~15 % less per message at the sink's usual batches of 4-16 (bench_notify_e2e.py).
        One INSERT gives its rows consecutive ids (rowid is max + 1 per row and the write lock is
        ours for the transaction), so the last row's id names them all."""
        site = self.site
        params = [_message_params(m, site) for m in batch]  # validate before the transaction starts
        ids: list[int] = []
        with self._transaction():
            at = 0
            while at < len(params):
                n = _chunk(len(params) - at)
                flat = [value for row in params[at : at + n] for value in row]
                last = _row_id(self._conn.execute(_insert_rows(n), flat))
                ids.extend(range(last - n + 1, last + 1))
                at += n
        return ids

    def messages_after(self, message_id: int) -> Iterator[StoredMessage]:
        """Messages with an id above message_id, oldest first, for replay after a restart. Pages
        through the table, so no cursor stays open between pages while the caller appends."""
        last = message_id
        while True:
            rows = self._conn.execute(
                "SELECT id, arrival, device, action, raw FROM messages WHERE id > ? ORDER BY id LIMIT ?",
                (last, REPLAY_PAGE_ROWS),
            ).fetchall()
            for row_id, arrival, device, action, raw in rows:
                try:
                    if not isinstance(raw, bytes):
                        raise TypeError(f"raw is {type(raw).__name__}, not bytes")
                    stored = StoredMessage(row_id, datetime.fromisoformat(arrival), device, action, raw)
                except (TypeError, ValueError) as exc:
                    self.skipped_rows += 1
                    _log.warning("journal: skipped damaged message row %s: %s", row_id, exc)
                    continue
                yield stored
            if len(rows) < REPLAY_PAGE_ROWS:
                return
            last = rows[-1][0]

    def raw_message(self, message_id: int) -> bytes | None:
        """The message's bytes as received, or None when retention removed it (or it never was)."""
        row = self._conn.execute("SELECT raw FROM messages WHERE id = ?", (message_id,)).fetchone()
        return row[0] if row is not None and isinstance(row[0], bytes) else None

    # --- folded job state ----------------------------------------------------------------------

    def upsert_jobs(self, records: Iterable[JobRecord], last_folded_message_id: int) -> None:
        """Store the folded state of these jobs and the id of the last message folded into the
        state, in one transaction (only new timeline entries are written: see timeline_write())."""
        with self._transaction():
            for record in records:
                self._upsert_job(record)
            self._conn.execute(
                "INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)",
                (_LAST_FOLDED, last_folded_message_id),
            )

    def _upsert_job(self, record: JobRecord) -> None:
        key = (record.key.device, record.key.job_token, record.key.generation)
        execute = self._conn.execute
        encoded = dumps(encode_job_record(record, timeline=False))
        execute(
            _UPSERT_JOB,
            (
                *key,
                int(record.is_active),
                record.last_update.timestamp(),
                encoded,
                self.site,
                *index_values(record),
            ),
        )
        last = execute(
            "SELECT seq, entry FROM timeline WHERE device = ? AND job_token = ? AND generation = ?"
            " ORDER BY seq DESC LIMIT 1",
            key,
        ).fetchone()
        plan = timeline_write(record, last)
        if plan.rewrite:
            execute("DELETE FROM timeline WHERE device = ? AND job_token = ? AND generation = ?", key)
        elif plan.trim_through:
            execute(
                "DELETE FROM timeline WHERE device = ? AND job_token = ? AND generation = ?"
                " AND seq BETWEEN 1 AND ?",
                (*key, plan.trim_through),
            )
        self._conn.executemany(
            "INSERT INTO timeline (device, job_token, generation, seq, journal_id, entry)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(*key, *row) for row in plan.rows],
        )

    def load_jobs(self) -> list[JobRecord]:
        """Every stored job with its timeline; damaged rows are logged, counted and skipped."""
        with self._transaction(immediate=False):
            jobs, skipped = _load_jobs(self._conn)
        self.skipped_rows += skipped
        return jobs

    def last_folded_message_id(self) -> int:
        """The last_folded_message_id of the latest upsert_jobs(), 0 before the first."""
        row = self._conn.execute("SELECT value FROM state WHERE key = ?", (_LAST_FOLDED,)).fetchone()
        return int(row[0]) if row is not None else 0

    # --- devices -------------------------------------------------------------------------------

    def upsert_device(self, record: DeviceRecord) -> None:
        """Remember a device's metadata (its runtime state: save_device_state)."""
        self._conn.execute(_devices.UPSERT_SQL, (*_devices.device_params(record), self.site))

    def save_device_state(self, record: DeviceRecord) -> None:
        """Write what this PC knows of a device now (online, subscriptions, what it said of itself)
        on its row; a device never read gets a row of what is known (store.devices)."""
        params = (*_devices.state_params(record), self.site, datetime.now(UTC).isoformat())
        self._conn.execute(_devices.UPSERT_STATE_SQL, params)

    def save_device_health(self, health: DeviceHealth) -> None:
        """Nothing to write: this PC's window has its engine's reports as they are made, and a
        support bundle judges each device from the journal's messages itself (support/journal_health);
        only the viewers of a shared store read a collector's reports (PostgresStore keeps them)."""

    def heartbeat(self) -> None:
        """Nothing to write: a journal is this PC's own, read by no viewer that judges a collector
        by its heartbeat (the shared store's PostgresStore is)."""

    def load_devices(self) -> list[DeviceRecord]:
        """Every device seen, as last upserted (no subscriptions); damaged rows are skipped."""
        devices, skipped = _devices.load_devices(self._conn)
        self.skipped_rows += skipped
        return devices

    def first_seen(self, device: str) -> datetime | None:
        """When the device was first upserted (its last_seen then), if it ever was."""
        return _devices.first_seen(self._conn, device)

    def set_trusted_fingerprint(self, device: str, sha256_hex: str | None) -> None:
        """Trust this certificate fingerprint for the device's HTTPS endpoints (None forgets it)."""
        if sha256_hex is None:
            self._conn.execute("DELETE FROM trust WHERE endpoint = ?", (device,))
        else:
            self._conn.execute(
                "INSERT OR REPLACE INTO trust (endpoint, sha256) VALUES (?, ?)",
                (device, normalize_fingerprint(sha256_hex)),
            )

    def trusted_fingerprint(self, device: str) -> str | None:
        """The SHA-256 (lower-case hex) the user accepted for this device, if any."""
        row = self._conn.execute("SELECT sha256 FROM trust WHERE endpoint = ?", (device,)).fetchone()
        return None if row is None else str(row[0])

    # --- bounded growth ------------------------------------------------------------------------

    def apply_retention(
        self,
        now: datetime,
        max_age: timedelta | None,
        max_messages: int | None,
        *,
        limit: int = RETENTION_BATCH_ROWS,
    ) -> int:
        """Delete messages older than max_age or beyond the newest max_messages, and jobs that
        ended more than max_age ago; returns the rows deleted (messages + jobs).

        Never deletes a job that is still active, nor a message not yet folded into the stored job
        state (id above last_folded_message_id), which a restart would need to replay. At most
        `limit` rows go per call, so a call stays short on the loop: call it periodically.

        Freed pages are not given back to the OS: sqlite reuses them for new rows, so under a steady
        retention the file levels off at its high-water mark. An incremental vacuum would shrink
        the file only for it to grow again (and must be chosen before the tables exist)."""
        folded = self.last_folded_message_id()
        deleted = 0
        with self._transaction():
            execute = self._conn.execute
            if max_age is not None:
                cutoff = (now - max_age).timestamp()
                deleted += execute(
                    "DELETE FROM messages WHERE id IN (SELECT id FROM messages"
                    " WHERE arrival_epoch < ? AND id <= ? LIMIT ?)",
                    (cutoff, folded, limit),
                ).rowcount
                deleted += execute(
                    "DELETE FROM jobs WHERE rowid IN (SELECT rowid FROM jobs"
                    " WHERE active = 0 AND last_update_epoch < ? LIMIT ?)",
                    (cutoff, max(0, limit - deleted)),
                ).rowcount
            if max_messages is not None and deleted < limit:
                row = execute(
                    "SELECT id FROM messages ORDER BY id DESC LIMIT 1 OFFSET ?", (max(max_messages, 0),)
                ).fetchone()
                if row is not None:  # row is the newest message beyond the allowance
                    deleted += execute(
                        "DELETE FROM messages WHERE id IN"
                        " (SELECT id FROM messages WHERE id <= ? ORDER BY id LIMIT ?)",
                        (min(row[0], folded), limit - deleted),
                    ).rowcount
        return deleted

    # --- the PostgreSQL store's spool ---------------------------------------------------------

    def reserve_ids(self, last_used: int) -> None:
        """The next appended message gets an id above `last_used` (ids already above it stay)."""
        updated = self._conn.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'messages'", (last_used,)
        ).rowcount
        if not updated:
            self._conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('messages', ?)", (last_used,))

    def rows_after(self, message_id: int, limit: int) -> list[tuple[int, IncomingMessage]]:
        """Up to `limit` whole messages with an id above message_id, oldest first (the spool's replay)."""
        rows = self._conn.execute(
            "SELECT id, arrival, device, subscription, action, message_id, summary, raw FROM messages"
            " WHERE id > ? ORDER BY id LIMIT ?",
            (message_id, limit),
        ).fetchall()
        return [(r[0], IncomingMessage(datetime.fromisoformat(r[1]), *r[2:])) for r in rows]

    def discard_through(self, message_id: int) -> int:
        """Delete the messages with an id up to message_id (replayed from the spool); returns how many."""
        return self._conn.execute("DELETE FROM messages WHERE id <= ?", (message_id,)).rowcount

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (the last close checkpoints the WAL into the main file)."""
        self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _transaction(self, *, immediate: bool = True) -> _Transaction:
        return _Transaction(self._conn, "BEGIN IMMEDIATE" if immediate else "BEGIN")


class _Transaction:
    """BEGIN … COMMIT, or ROLLBACK when the block raises."""

    __slots__ = ("_begin", "_conn")

    def __init__(self, conn: sqlite3.Connection, begin: str) -> None:
        self._conn, self._begin = conn, begin

    def __enter__(self) -> None:
        self._conn.execute(self._begin)

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            if exc_type is None:
                self._conn.execute("COMMIT")
        finally:
            # After a failed statement or COMMIT (disk full, I/O error) sqlite may already have
            # rolled back by itself; a second ROLLBACK would raise and hide the real error.
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
