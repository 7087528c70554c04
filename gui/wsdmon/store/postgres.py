"""The PostgreSQL store: many collectors (one per site) write into one database, with a local spool
for when the server cannot be reached.

Why a synchronous psycopg connection behind an executor, not psycopg's async API: the engine calls
its store synchronously today (folding, device upserts, trust, retention), and the sqlite journal is
fastest called right on the loop. An async port would make every call site in the engine await and
give sqlite an executor hop (or a second code path) for nothing. So the store stays synchronous and
says `writes_block = True`; the Recorder then runs append_messages() (the only hot path: once per
batch of notifications) in the loop's executor, one batch at a time, and what arrives meanwhile
joins the next batch. The other calls come from the loop: each waits at most LOOP_LOCK_WAIT_S for
the connection (never for a reconnect), and while the server is away it is queued in memory (the
latest record per job and device wins) and written when it is back. The async API is used where
waiting is the point: follow() (store.pg_follow) LISTENs on an AsyncConnection.

Durability: append_messages() returns once PostgreSQL committed the batch (one statement in
autocommit, synchronous_commit as the server is configured: on by default, i.e. flushed to its WAL),
or, with the server unreachable, once the batch is committed to the local spool (a sqlite Journal).
Either way the device gets its 202 only after that.

The spool: when the server cannot be reached, batches go to the spool with the ids they would have
had (a message's id is handed out here, unique within the site), and every later batch goes there
too until the spool is replayed, in order, by the first append after the server is back (at most
every RECONNECT_INTERVAL_S a reconnect is tried), or at open. Replay inserts with ON CONFLICT (site,
id) DO NOTHING, so a batch whose commit reached the server just before the connection dropped is
not stored twice; a conflicting row with other content means two collectors write as one site,
which is refused (StoreError) rather than silently merged. An advisory lock per site stops a second
collector from writing as the same site at all.

Notifications: every committed append and upsert sends NOTIFY wsdmon_changes with a JSON payload
{"site", "kind", "id"} (store.pg_follow parses it), delivered by PostgreSQL at commit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from wsdmon.core.devices import DeviceRecord
from wsdmon.core.jobs import JobKey, JobRecord

from . import devices as _devices
from .codec import CodecError, dumps, encode_job_record
from .devices import normalize_fingerprint
from .journal import (
    RETENTION_BATCH_ROWS,
    Journal,
    MessageRow,
    StoredMessage,
    decode_jobs,
    timeline_write,
)
from .locations import redact_dsn
from .opening import os_detail
from .pg_follow import CHANNEL
from .pg_schema import SCHEMA_VERSION, migrate, schema_version
from .port import StoreError, StoreUnavailableError, check_site
from .schema import JournalError

__all__ = [
    "CHANNEL",
    "CONNECT_TIMEOUT_S",
    "LOOP_LOCK_WAIT_S",
    "RECONNECT_INTERVAL_S",
    "PostgresStore",
]

_log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3  # libpq's connect_timeout: how long one attempt to reach the server may take
RECONNECT_INTERVAL_S = 2.0  # while the server is away, appends try to reach it at most this often
LOOP_LOCK_WAIT_S = 0.05  # a call from the loop waits this long for the connection, then queues
SPOOL_REPLAY_ROWS = 256  # spooled messages per replayed statement
REPLAY_PAGE_ROWS = 500  # rows per query of messages_after()
_LAST_FOLDED = "last_folded_message_id"

_INSERT_MESSAGES = """
WITH ins AS (
    INSERT INTO messages (site, id, arrival, device, subscription, action, message_id, summary, raw)
    SELECT %(site)s, * FROM unnest(%(id)b::bigint[], %(arrival)b::timestamptz[], %(device)b::text[],
        %(subscription)b::text[], %(action)b::text[], %(message_id)b::text[], %(summary)b::text[],
        %(raw)b::bytea[])
    ON CONFLICT (site, id) DO NOTHING
    RETURNING id
)
SELECT array_agg(id), pg_notify(%(channel)s, %(payload)s) FROM ins
"""  # %b: arrays go in binary, which spares psycopg escaping every element of the text form
_UPSERT_JOB = """
INSERT INTO jobs (site, device, job_token, generation, active, last_update_epoch, record)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (site, device, job_token, generation) DO UPDATE SET
    active = excluded.active, last_update_epoch = excluded.last_update_epoch, record = excluded.record
"""
_JOB_KEY = "site = %s AND device = %s AND job_token = %s AND generation = %s"
_UPSERT_DEVICE = """
INSERT INTO devices (endpoint, friendly_name, manufacturer, model_name, model_number, serial_number,
                     firmware_version, presentation_url, device_category, roles, xaddrs, services,
                     metadata_version, instance_id, first_seen, last_seen, last_event, site)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (site, endpoint) DO UPDATE SET
    friendly_name = excluded.friendly_name, manufacturer = excluded.manufacturer,
    model_name = excluded.model_name, model_number = excluded.model_number,
    serial_number = excluded.serial_number, firmware_version = excluded.firmware_version,
    presentation_url = excluded.presentation_url, device_category = excluded.device_category,
    roles = excluded.roles, xaddrs = excluded.xaddrs, services = excluded.services,
    metadata_version = excluded.metadata_version, instance_id = excluded.instance_id,
    first_seen = coalesce(devices.first_seen, excluded.first_seen),
    last_seen = coalesce(excluded.last_seen, devices.last_seen),
    last_event = coalesce(excluded.last_event, devices.last_event)
"""
_SELECT_DEVICES = """
SELECT endpoint, friendly_name, manufacturer, model_name, model_number, serial_number,
       firmware_version, presentation_url, device_category, xaddrs, services,
       metadata_version, instance_id, last_seen, last_event
FROM devices WHERE site = %s ORDER BY endpoint
"""

Conn = psycopg.Connection[tuple[Any, ...]]


def _payload(site: str, kind: str, ident: object) -> str:
    return json.dumps({"site": site, "kind": kind, "id": ident}, separators=(",", ":"))


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL, which a device may send in a header: shown as U+FFFD (the
    raw bytes keep it)."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _opt_text(value: str | None) -> str | None:
    return None if value is None else _text(value)


def _arrival(m: MessageRow) -> datetime:
    if m[0].tzinfo is None:
        raise ValueError("arrival must be timezone-aware (pass datetime.now(UTC))")
    return m[0]


class PostgresStore:
    """A store in PostgreSQL for one site (see the module docstring). Opening it connects, migrates
    the schema, takes the site's lock and replays the spool; StoreUnavailableError when the server
    cannot be reached, StoreError when it refuses (never with a password in the words)."""

    writes_block = True

    def __init__(
        self,
        conninfo: str,
        *,
        site: str,
        spool_path: Path,
        connect_timeout_s: int = CONNECT_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.site = check_site(site)
        self.location = redact_dsn(conninfo)
        self.spool_path = spool_path
        self._conninfo = make_conninfo(
            conninfo, connect_timeout=connect_timeout_s, application_name=f"wsdmon {self.site}"[:63]
        )
        self._clock = clock
        self._lock = threading.RLock()  # the connection, the spool, the id counter
        self._pending_lock = threading.Lock()  # the queues below; never held while waiting on I/O
        self._pending_jobs: dict[JobKey, JobRecord] = {}
        self._pending_folded: int | None = None
        self._pending_devices: dict[str, DeviceRecord] = {}
        self._pending_trust: dict[str, str | None] = {}
        self._next_try = 0.0
        self.spooled = 0  # messages written to the spool since open (for logs and tests)
        self.replayed = 0  # spooled messages replayed into PostgreSQL since open
        self._conn: Conn | None = None
        self._closed = False
        # The spool first: a folder that cannot be written is said before the server is bothered.
        try:
            self._spool = Journal(spool_path, site=self.site, check_same_thread=False)
        except (JournalError, OSError) as exc:
            detail = os_detail(exc) if isinstance(exc, OSError) else str(exc)
            raise StoreError(f"cannot keep the local spool {spool_path}: {detail}") from None
        try:
            self._conn = self._connect(first=True)
            self._drain_spool()
            self._next_id = 1 + max(self._max_id(), self._spool_max_id())
            self._trust = dict(self._query("SELECT endpoint, sha256 FROM trust"))
        except BaseException:
            self.close()
            raise

    # --- connection --------------------------------------------------------------------------

    def _words(self, exc: BaseException) -> str:
        """The server's or libpq's words, first line only (they never hold the password)."""
        text = str(exc).strip().splitlines()
        return text[0] if text else type(exc).__name__

    def _connect(self, *, first: bool = False) -> Conn:
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(
                f"cannot reach the PostgreSQL server of {self.location}: {self._words(exc)}"
            ) from None  # the chained error's repr would name the connection string
        try:
            version = schema_version(conn)
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.location} holds wsdmon tables of schema version {version}, newer than this "
                    f"wsdmon understands ({SCHEMA_VERSION}): upgrade wsdmon"
                )
            if version < SCHEMA_VERSION:
                migrate(conn)
            got = conn.execute(
                "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (f"wsdmon site {self.site}",)
            ).fetchone()
            if (got is None or not got[0]) and not first:
                # After a network outage the server may keep our old session (and its lock) until
                # its TCP keepalive gives up: go on; a real second collector on this site is still
                # caught by the content check of any id both of them wrote.
                _log.warning("site %r is still locked by an older session of %s", self.site, self.location)
            elif got is None or not got[0]:
                raise StoreError(
                    f"another collector is writing as site {self.site!r} into {self.location}: "
                    "give each collector its own --site"
                )
        except psycopg.errors.InsufficientPrivilege as exc:
            conn.close()
            raise StoreError(
                f"{self.location} has no wsdmon tables of schema version {SCHEMA_VERSION} and this role "
                f"may not create them ({self._words(exc)}): run wsdmon once as the database's owner"
            ) from None
        except psycopg.Error as exc:
            conn.close()
            raise StoreUnavailableError(f"{self.location}: {self._words(exc)}") from None
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def online(self) -> bool:
        """True while the server is reachable (as far as the last statement knew)."""
        return self._conn is not None

    def _offline(self, exc: BaseException) -> None:
        if self._conn is not None:
            _log.warning(
                "PostgreSQL %s is unreachable (%s): accepting into the local spool %s until it is back",
                self.location,
                self._words(exc),
                self.spool_path,
            )
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None
        self._next_try = self._clock() + RECONNECT_INTERVAL_S

    def _reconnect(self) -> bool:
        """Back online if the server can be reached now (at most every RECONNECT_INTERVAL_S)."""
        if self._conn is not None:
            return True
        if self._clock() < self._next_try:
            return False
        try:
            self._conn = self._connect()
        except StoreError as exc:
            self._next_try = self._clock() + RECONNECT_INTERVAL_S
            _log.debug("PostgreSQL still unreachable: %s", exc)
            return False
        _log.info("PostgreSQL %s is back", self.location)
        return True

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read (from the thread that opened the store, or under the lock)."""
        with self._lock:
            if self._conn is None:
                raise StoreUnavailableError(f"PostgreSQL {self.location} is unreachable at the moment")
            try:
                return self._conn.execute(sql.encode(), params).fetchall()
            except psycopg.OperationalError as exc:
                self._offline(exc)
                raise StoreUnavailableError(f"{self.location}: {self._words(exc)}") from None

    # --- messages ------------------------------------------------------------------------------

    def append_messages(self, batch: Sequence[MessageRow]) -> list[int]:
        """Commit the messages to PostgreSQL (or, while it is unreachable, to the spool) before
        returning their ids; all or none. Runs in an executor thread (writes_block)."""
        rows = list(batch)
        for m in rows:
            _arrival(m)  # validate before anything is written
        if not rows:
            return []
        with self._lock:
            if self._reconnect():
                self._drain_spool()
            ids = list(range(self._next_id, self._next_id + len(rows)))
            if self._conn is not None and not self._spool_has_rows():
                try:
                    self._insert(self._conn, ids, rows)
                except psycopg.OperationalError as exc:
                    self._offline(exc)
                else:
                    self._next_id += len(rows)
                    self._flush_pending()
                    return ids
            self._spool.reserve_ids(ids[0] - 1)
            got = self._spool.append_messages(rows)
            if got != ids:  # the spool only ever holds this site's messages, in order
                raise StoreError(f"the spool {self.spool_path} handed out ids {got[:3]}…, not {ids[:3]}…")
            self._next_id += len(rows)
            self.spooled += len(rows)
            return ids

    def retry(self) -> bool:
        """Reach the server again if it is away (at most every RECONNECT_INTERVAL_S), then replay the
        spool and the queued writes; True when online. Blocks: call it from an executor, e.g. on a
        timer of a collector that may be idle when the server comes back."""
        with self._lock:
            if self._reconnect():
                self._drain_spool()
            return self._conn is not None

    def _insert(self, conn: Conn, ids: list[int], rows: Sequence[MessageRow]) -> None:
        params = {
            "site": self.site,
            "id": ids,
            "arrival": [_arrival(m) for m in rows],
            "device": [_text(m[1]) for m in rows],
            "subscription": [_opt_text(m[2]) for m in rows],
            "action": [_text(m[3]) for m in rows],
            "message_id": [_opt_text(m[4]) for m in rows],
            "summary": [_text(m[5]) for m in rows],
            "raw": [m[6] for m in rows],
            "channel": CHANNEL,
            "payload": _payload(self.site, "messages", ids[-1]),
        }
        row = conn.execute(_INSERT_MESSAGES.encode(), params).fetchone()
        inserted = set(row[0] or ()) if row is not None else set()
        if len(inserted) < len(ids):
            self._check_same(conn, [(i, m) for i, m in zip(ids, rows, strict=True) if i not in inserted])

    def _check_same(self, conn: Conn, rows: list[tuple[int, MessageRow]]) -> None:
        """Rows already stored under these ids (a replay) must be these very messages."""
        stored = {
            r[0]: (r[1], r[2], bytes(r[3]))
            for r in conn.execute(
                "SELECT id, arrival, device, raw FROM messages WHERE site = %s AND id = ANY(%s)",
                (self.site, [i for i, _ in rows]),
            )
        }
        for i, m in rows:
            if stored.get(i) != (m[0], _text(m[1]), m[6]):
                raise StoreError(
                    f"message {i} of site {self.site!r} is already in {self.location} with other content: "
                    "two collectors write as the same site; give each its own --site"
                )

    def _spool_has_rows(self) -> bool:
        return bool(self._spool.rows_after(0, 1))

    def _spool_max_id(self) -> int:
        rows = self._spool.rows_after(0, 1)
        if not rows:
            return 0
        last = rows[0][0]
        while more := self._spool.rows_after(last, SPOOL_REPLAY_ROWS):
            last = more[-1][0]
        return last

    def _max_id(self) -> int:
        rows = self._query("SELECT coalesce(max(id), 0) FROM messages WHERE site = %s", (self.site,))
        return int(rows[0][0])

    def _drain_spool(self) -> None:
        """Replay the spool into PostgreSQL in order (under the lock, online)."""
        replayed = 0
        while self._conn is not None and (rows := self._spool.rows_after(0, SPOOL_REPLAY_ROWS)):
            try:
                self._insert(self._conn, [i for i, _ in rows], [m for _, m in rows])
            except psycopg.OperationalError as exc:
                self._offline(exc)
                break
            self._spool.discard_through(rows[-1][0])
            replayed += len(rows)
        if replayed:
            self.replayed += replayed
            _log.info("replayed %d spooled messages into %s", replayed, self.location)
        if self._conn is not None:
            self._flush_pending()

    def messages_after(self, message_id: int) -> Iterator[StoredMessage]:
        """This site's messages with an id above message_id, oldest first, a page per query."""
        last = message_id
        while True:
            rows = self._query(
                "SELECT id, arrival, device, action, raw FROM messages WHERE site = %s AND id > %s"
                " ORDER BY id LIMIT %s",
                (self.site, last, REPLAY_PAGE_ROWS),
            )
            for row_id, arrival, device, action, raw in rows:
                yield StoredMessage(row_id, arrival.astimezone(UTC), device, action, bytes(raw))
            if len(rows) < REPLAY_PAGE_ROWS:
                return
            last = rows[-1][0]

    def raw_message(self, message_id: int) -> bytes | None:
        """The message's bytes as received (from the spool while it waits there), or None."""
        if not self._lock.acquire(timeout=LOOP_LOCK_WAIT_S):
            return None
        try:
            raw = self._spool.raw_message(message_id)
            if raw is not None or self._conn is None:
                return raw
            try:
                row = self._conn.execute(
                    "SELECT raw FROM messages WHERE site = %s AND id = %s", (self.site, message_id)
                ).fetchone()
            except psycopg.OperationalError as exc:
                self._offline(exc)
                return None
            return None if row is None else bytes(row[0])
        finally:
            self._lock.release()

    # --- calls from the loop: write now, or queue until the server is back ----------------------

    def _write_or_queue(self, write: Callable[[Conn], None]) -> bool:
        """Run `write` in a transaction if the connection is free and up; False when it was not."""
        if not self._lock.acquire(timeout=LOOP_LOCK_WAIT_S):
            return False
        try:
            if self._conn is None:
                return False
            try:
                self._flush_pending()
                with self._conn.transaction():
                    write(self._conn)
            except psycopg.OperationalError as exc:
                self._offline(exc)
                return False
            return True
        finally:
            self._lock.release()

    def _flush_pending(self) -> None:
        """Write what was queued while the server was away or busy (under the lock, online)."""
        conn = self._conn
        with self._pending_lock:
            jobs, folded = self._pending_jobs, self._pending_folded
            devices, trust = self._pending_devices, self._pending_trust
            if conn is None or not (jobs or devices or trust or folded is not None):
                return
            self._pending_jobs, self._pending_folded = {}, None
            self._pending_devices, self._pending_trust = {}, {}
        try:
            with conn.transaction():
                for record in devices.values():
                    self._write_device(conn, record)
                for endpoint, sha in trust.items():
                    self._write_trust(conn, endpoint, sha)
                if jobs or folded is not None:
                    self._write_jobs(conn, jobs.values(), folded)
        except psycopg.OperationalError as exc:
            with self._pending_lock:  # back in the queue, unless something newer came meanwhile
                self._pending_jobs = {**jobs, **self._pending_jobs}
                self._pending_devices = {**devices, **self._pending_devices}
                self._pending_trust = {**trust, **self._pending_trust}
                if self._pending_folded is None:
                    self._pending_folded = folded
            self._offline(exc)

    # --- folded job state ----------------------------------------------------------------------

    def upsert_jobs(self, records: Iterable[JobRecord], last_folded_message_id: int) -> None:
        """Store the jobs' folded state and the last folded message in one transaction (queued
        while the server is away: the latest state of each job is written when it is back)."""
        jobs = list(records)
        if not self._write_or_queue(lambda conn: self._write_jobs(conn, jobs, last_folded_message_id)):
            with self._pending_lock:
                self._pending_jobs.update((r.key, r) for r in jobs)
                self._pending_folded = max(self._pending_folded or 0, last_folded_message_id)

    def _write_jobs(self, conn: Conn, records: Iterable[JobRecord], folded: int | None) -> None:
        site = self.site
        for record in records:
            key = (site, record.key.device, record.key.job_token, record.key.generation)
            encoded = dumps(encode_job_record(record, timeline=False))
            conn.execute(_UPSERT_JOB, (*key, record.is_active, record.last_update.timestamp(), encoded))
            last = conn.execute(
                f"SELECT seq, entry FROM timeline WHERE {_JOB_KEY} ORDER BY seq DESC LIMIT 1",  # noqa: S608
                key,
            ).fetchone()
            plan = timeline_write(record, None if last is None else (last[0], last[1]))
            if plan.rewrite:
                conn.execute(f"DELETE FROM timeline WHERE {_JOB_KEY}", key)  # noqa: S608
            elif plan.trim_through:
                conn.execute(
                    f"DELETE FROM timeline WHERE {_JOB_KEY} AND seq BETWEEN 1 AND %s",  # noqa: S608
                    (*key, plan.trim_through),
                )
            if plan.rows:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO timeline (site, device, job_token, generation, seq, journal_id, entry)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [(*key, *row) for row in plan.rows],
                    )
        if folded is not None:
            conn.execute(
                "INSERT INTO state (site, key, value) VALUES (%s, %s, %s)"
                " ON CONFLICT (site, key) DO UPDATE SET value = greatest(state.value, excluded.value)",
                (site, _LAST_FOLDED, folded),
            )
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, _payload(site, "jobs", folded)))

    def load_jobs(self) -> list[JobRecord]:
        """Every job of this site with its timeline, from one snapshot; damaged rows skipped."""
        with self._lock:
            if self._conn is None:
                raise StoreUnavailableError(f"PostgreSQL {self.location} is unreachable at the moment")
            try:
                with self._conn.transaction():
                    self._conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    timeline = self._conn.execute(
                        "SELECT device, job_token, generation, seq, entry FROM timeline WHERE site = %s"
                        " ORDER BY device, job_token, generation, seq",
                        (self.site,),
                    ).fetchall()
                    jobs = self._conn.execute(
                        "SELECT device, job_token, generation, record FROM jobs WHERE site = %s"
                        " ORDER BY stored",
                        (self.site,),
                    ).fetchall()
            except psycopg.OperationalError as exc:
                self._offline(exc)
                raise StoreUnavailableError(f"{self.location}: {self._words(exc)}") from None
        return decode_jobs(timeline, jobs)[0]

    def last_folded_message_id(self) -> int:
        """The last_folded_message_id of the latest upsert_jobs(), 0 before the first."""
        with self._pending_lock:
            pending = self._pending_folded
        rows = self._query("SELECT value FROM state WHERE site = %s AND key = %s", (self.site, _LAST_FOLDED))
        stored = int(rows[0][0]) if rows else 0
        return max(stored, pending or 0)

    # --- devices and trust ---------------------------------------------------------------------

    def upsert_device(self, record: DeviceRecord) -> None:
        """Remember a device's metadata for this site (queued while the server is away)."""
        if not self._write_or_queue(lambda conn: self._write_device(conn, record)):
            with self._pending_lock:
                self._pending_devices[record.endpoint] = record

    def _write_device(self, conn: Conn, record: DeviceRecord) -> None:
        conn.execute(_UPSERT_DEVICE.encode(), (*_devices.device_params(record), self.site))
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, _payload(self.site, "device", record.endpoint)))

    def load_devices(self) -> list[DeviceRecord]:
        """Every device this site has seen, as last upserted; damaged rows are skipped."""
        out: list[DeviceRecord] = []
        for row in self._query(_SELECT_DEVICES, (self.site,)):
            try:
                out.append(_devices.device_from_row(row))
            except CodecError as exc:
                _log.warning("store: skipped damaged device row %r: %s", row[0], exc)
        return out

    def trusted_fingerprint(self, device: str) -> str | None:
        """The accepted certificate's SHA-256 (from memory: read at open, kept up to date here)."""
        return self._trust.get(device)

    def set_trusted_fingerprint(self, device: str, sha256_hex: str | None) -> None:
        """Trust this certificate for the device (None forgets it); shared by every site."""
        value = None if sha256_hex is None else normalize_fingerprint(sha256_hex)
        if value is None:
            self._trust.pop(device, None)
        else:
            self._trust[device] = value
        if not self._write_or_queue(lambda conn: self._write_trust(conn, device, value)):
            with self._pending_lock:
                self._pending_trust[device] = value

    def _write_trust(self, conn: Conn, device: str, sha256: str | None) -> None:
        if sha256 is None:
            conn.execute("DELETE FROM trust WHERE endpoint = %s", (device,))
        else:
            conn.execute(
                "INSERT INTO trust (endpoint, sha256, site) VALUES (%s, %s, %s)"
                " ON CONFLICT (endpoint) DO UPDATE SET sha256 = excluded.sha256, site = excluded.site",
                (device, sha256, self.site),
            )

    # --- bounded growth ------------------------------------------------------------------------

    def apply_retention(
        self,
        now: datetime,
        max_age: timedelta | None,
        max_messages: int | None,
        *,
        limit: int = RETENTION_BATCH_ROWS,
    ) -> int:
        """As Journal.apply_retention, for this site's rows; also never deletes the site's newest
        message, so that ids keep growing across restarts. 0 while the server is away."""
        deleted = [0]

        def write(conn: Conn) -> None:
            site = self.site
            row = conn.execute(
                "SELECT (SELECT value FROM state WHERE site = %s AND key = %s),"
                " (SELECT max(id) FROM messages WHERE site = %s)",
                (
                    site,
                    _LAST_FOLDED,
                    site,
                ),
            ).fetchone()
            folded = int(row[0] or 0) if row else 0
            keep = int(row[1] or 0) if row else 0  # the newest message stays
            bound = min(folded, keep - 1)
            n = 0
            if max_age is not None:
                cutoff = now - max_age
                n += conn.execute(
                    "DELETE FROM messages WHERE site = %s AND id IN (SELECT id FROM messages"
                    " WHERE site = %s AND arrival < %s AND id <= %s LIMIT %s)",
                    (site, site, cutoff, bound, limit),
                ).rowcount
                n += conn.execute(
                    "DELETE FROM jobs WHERE (site, device, job_token, generation) IN (SELECT site, device,"
                    " job_token, generation FROM jobs WHERE site = %s AND NOT active"
                    " AND last_update_epoch < %s LIMIT %s)",
                    (site, cutoff.timestamp(), max(0, limit - n)),
                ).rowcount
            if max_messages is not None and n < limit:
                beyond = conn.execute(
                    "SELECT id FROM messages WHERE site = %s ORDER BY id DESC LIMIT 1 OFFSET %s",
                    (site, max(max_messages, 0)),
                ).fetchone()
                if beyond is not None:
                    n += conn.execute(
                        "DELETE FROM messages WHERE site = %s AND id IN (SELECT id FROM messages"
                        " WHERE site = %s AND id <= %s ORDER BY id LIMIT %s)",
                        (site, site, min(beyond[0], bound), limit - n),
                    ).rowcount
            deleted[0] = n

        self._write_or_queue(write)
        return deleted[0]

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Replay what the spool holds if the server is there, then close connection and spool."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            spool = self._spool
            if self._conn is not None:
                try:
                    self._drain_spool()
                except StoreError as exc:
                    _log.error("the spool %s could not be replayed (%s); it is kept", self.spool_path, exc)
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._spool_has_rows():
                _log.warning("messages wait in the spool %s for %s", self.spool_path, self.location)
            spool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
