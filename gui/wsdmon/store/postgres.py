"""The PostgreSQL store: many collectors (one per site) write into one database, with a local spool
for when the server cannot be reached.

Why a synchronous psycopg connection behind an executor, not psycopg's async API: the engine calls
its store synchronously today (folding, device upserts, trust, retention), and the sqlite journal is
fastest called right on the loop. An async port would make every call site in the engine await and
give sqlite an executor hop (or a second code path) for nothing. So the store stays synchronous and
says `writes_block = True`; the Recorder then runs append_messages() (the only hot path: once per
batch of notifications) in the loop's executor, one batch at a time, and what arrives meanwhile
joins the next batch. The other calls come from the loop: each waits at most LOOP_LOCK_WAIT_S for
the connection (never for a reconnect), then makes its round trips; while the server is away it is
queued in memory instead (the latest record per job and device wins) and written when it is back.
upsert_jobs (the engine calls it from its executor, engine.job_ledger) writes on a session of its
own (store.pg_jobs: two round trips however many jobs, ~60 ms for 200 jobs here), so that the
batches of messages never wait for it. The async API is used where
waiting is the point: follow() (store.pg_follow) LISTENs on an AsyncConnection.

Durability: append_messages() returns once PostgreSQL committed the batch (one binary COPY in
autocommit, its NOTIFY sent by a trigger at the commit; synchronous_commit as the server is
configured: on by default, i.e. flushed to its WAL), or, with the server unreachable, once the batch
is committed to the local spool (a sqlite Journal). Either way the device gets its 202 only after
that.

The spool: when the server cannot be reached, batches go to the spool with the ids they would have
had (a message's id is handed out here, unique within the site), and every later batch goes there
too until the spool is replayed, in order, by the first append after the server is back (at most
every RECONNECT_INTERVAL_S a reconnect is tried), or at open, or by a background thread
(store.pg_reach.SpoolReplayer) that tries every RECONNECT_INTERVAL_S while the server is away or the
spool holds messages, so that an idle collector's spool is replayed too. Replay inserts with ON
CONFLICT (site, id) DO NOTHING, so a batch whose commit reached the server just before the connection
dropped is not stored twice; a conflicting row with other content means two collectors write as one
site, which is refused (StoreError) rather than silently merged. An advisory lock per site stops a
second collector from writing as the same site at all.

Starting without the server (offline_start=True, what `wsdmon collect` asks for): when the server
cannot be reached at open, the store opens anyway, says so in a warning, and accepts into the spool;
it connects, migrates the schema and replays once the server answers. Its ids then start at
pg_reach.offline_start_id() (it cannot ask for the site's last id), and until the server has been
reached it restores nothing but the spool's messages (no devices, no jobs: the engine starts afresh
and the devices' snapshots tell it what is going on). A location that can never work (bad syntax,
authentication refused, no such database, tables of another program, a newer schema) is a
StoreError at open either way.

Notifications: every committed append and upsert sends NOTIFY wsdmon_changes with a JSON payload
{"site", "kind", "id"} (store.pg_follow parses it), delivered by PostgreSQL at commit.
"""

from __future__ import annotations

import contextlib
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
from wsdmon.core.health import DeviceHealth
from wsdmon.core.jobs import JobRecord

from . import devices as _devices
from .codec import CodecError
from .devices import normalize_fingerprint
from .journal import (
    RETENTION_BATCH_ROWS,
    Journal,
    MessageRow,
    StoredMessage,
    decode_jobs,
)
from .locations import redact_dsn
from .opening import os_detail
from .pg_follow import CHANNEL
from .pg_jobs import JobsWriter
from .pg_reach import SpoolReplayer, connect, now_s, offline_start_id, words
from .pg_rows import (
    LAST_FOLDED,
    SELECT_DEVICES,
    Conn,
    copy_messages,
    delete_old,
    insert_messages,
    write_device,
    write_device_health,
    write_device_state,
    write_heartbeat,
    write_trust,
)
from .pg_rows import arrival as check_arrival
from .pg_schema import STOPPED
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
        offline_start: bool = False,
    ) -> None:
        self.site = check_site(site)
        self.location = redact_dsn(conninfo)
        self.spool_path = spool_path
        try:
            self._conninfo = make_conninfo(
                conninfo, connect_timeout=connect_timeout_s, application_name=f"wsdmon {self.site}"[:63]
            )
        except psycopg.ProgrammingError as exc:  # libpq cannot parse it: no use trying later
            raise StoreError(f"{self.location} is not a location libpq understands: {exc}") from None
        self._clock = clock
        self._lock = threading.RLock()  # the connection, the spool, the id counter
        self._pending_lock = threading.Lock()  # the queues below; never held while waiting on I/O
        self._jobs = JobsWriter(self.site, self._connect_aside, clock)  # folded jobs: a session of their own
        self._pending_devices: dict[str, DeviceRecord] = {}
        self._pending_trust: dict[str, str | None] = {}
        self._pending_states: dict[str, DeviceRecord] = {}  # endpoint → its latest runtime state
        self._pending_health: dict[str, DeviceHealth] = {}  # endpoint → its latest health report
        self._next_try = 0.0
        self._beating = False  # a heartbeat was written: a clean close says the collector stopped
        self.spooled = 0  # messages written to the spool since open (for logs and tests)
        self.replayed = 0  # spooled messages replayed into PostgreSQL since open
        self._conn: Conn | None = None
        self._closed = False
        self._spool_dirty: bool | None = None  # None: not known yet (ask the spool)
        self._reached = False  # the server answered since open (its rows may be read)
        self._replayer: SpoolReplayer | None = None
        # The spool first: a folder that cannot be written is said before the server is bothered.
        try:
            self._spool = Journal(spool_path, site=self.site, check_same_thread=False)
        except (JournalError, OSError) as exc:
            detail = os_detail(exc) if isinstance(exc, OSError) else str(exc)
            raise StoreError(f"cannot keep the local spool {spool_path}: {detail}") from None
        self._trust: dict[str, str] = {}
        try:
            try:
                self._conn = self._connect(first=True)
            except StoreUnavailableError as exc:
                if not offline_start:
                    raise
                self._start_offline(exc)
            else:
                self._reached = True
                self._drain_spool()
                self._next_id = 1 + max(self._max_id(), self._spool_max_id())
                self._trust = dict(self._query("SELECT endpoint, sha256 FROM trust"))
        except BaseException:
            self.close()
            raise
        self._replayer = SpoolReplayer(
            f"wsdmon spool {self.site}"[:40], self._replay_needed, self.retry, lambda: RECONNECT_INTERVAL_S
        )

    def _start_offline(self, exc: StoreUnavailableError) -> None:
        self._next_id = offline_start_id(self._spool_max_id(), now_s())
        self._next_try = self._clock() + RECONNECT_INTERVAL_S
        _log.warning(
            "%s; accepting into the local spool %s and trying again every %g s (the schema is migrated "
            "and the spool replayed once the server answers)",
            exc,
            self.spool_path,
            RECONNECT_INTERVAL_S,
        )

    def _replay_needed(self) -> bool:
        """A hint for the replay thread (read without the lock): away, or the spool holds messages."""
        return not self._closed and (
            self._conn is None or bool(self._spool_dirty) or self._jobs.pending or self._queued_rows()
        )

    def _queued_rows(self) -> bool:
        """Devices, states or trust queued (the loop found the connection busy): the replay thread
        writes them when nothing else would soon."""
        return bool(
            self._pending_devices or self._pending_states or self._pending_health or self._pending_trust
        )

    # --- connection --------------------------------------------------------------------------

    def _words(self, exc: BaseException) -> str:
        return words(exc)

    def _connect(self, *, first: bool = False) -> Conn:
        return connect(self._conninfo, self.location, self.site, first=first)

    def _connect_aside(self) -> Conn:
        """The folded jobs' session (store.pg_jobs); the site's lock stays with the messages' one."""
        if self._closed:
            raise StoreUnavailableError(f"the store of {self.location} is closed")
        return connect(self._conninfo, self.location, self.site, first=False, lock_site=False)

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
        self._next_try = self._clock() + RECONNECT_INTERVAL_S
        conn = self._try_connect()
        return conn is not None and self._install(conn)

    def _try_connect(self) -> Conn | None:
        try:
            return self._connect()
        except StoreError as exc:
            _log.debug("PostgreSQL still unreachable: %s", exc)
            return None

    def _install(self, conn: Conn) -> bool:
        """Use a new session (under the lock); True when online afterwards."""
        if self._closed or self._conn is not None:
            conn.close()
            return self._conn is not None
        self._conn = conn
        _log.info("PostgreSQL %s is back", self.location)
        if not self._reached:  # the first answer since an offline start
            try:
                self._next_id = max(self._next_id, 1 + self._max_id())
                stored = dict(self._query("SELECT endpoint, sha256 FROM trust"))
            except StoreUnavailableError:
                return False
            with self._pending_lock:  # what was accepted or forgotten meanwhile wins
                forgotten = {d for d, sha in self._pending_trust.items() if sha is None}
            self._trust = {d: sha for d, sha in {**stored, **self._trust}.items() if d not in forgotten}
            self._reached = True
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
            check_arrival(m)  # validate before anything is written
        if not rows:
            return []
        with self._lock:
            if self._reconnect():
                self._drain_spool()
            ids = list(range(self._next_id, self._next_id + len(rows)))
            if self._conn is not None and not self._spool_has_rows():
                try:
                    self._write_new(self._conn, ids, rows)
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
            self._spool_dirty = True
            return ids

    def retry(self) -> bool:
        """Reach the server again if it is away (at most every RECONNECT_INTERVAL_S), then replay the
        spool and the queued writes; True when online. Blocks: call it from an executor, e.g. on a
        timer of a collector that may be idle when the server comes back (the store's own
        SpoolReplayer does). The attempt to connect is made without the lock, so that appends go on
        into the spool meanwhile instead of waiting up to connect_timeout for their 202."""
        conn = None
        if self._conn is None and self._clock() >= self._next_try:
            self._next_try = self._clock() + RECONNECT_INTERVAL_S  # appends leave this try to us
            conn = self._try_connect()
        with self._lock:
            if conn is not None:
                self._install(conn)
            if self._reconnect():
                self._drain_spool()
            online = self._conn is not None
        if online and self._jobs.pending:  # e.g. sort columns due of an idle collector (store.pg_jobs)
            self._jobs.write(LOOP_LOCK_WAIT_S)
        return online

    def heartbeat(self) -> None:
        """Tell the viewers this site's collector is alive (core.sites), from its loop. Not queued:
        a heartbeat late is no heartbeat (the next comes in HEARTBEAT_S)."""
        if self._write_or_queue(lambda conn: write_heartbeat(conn, self.site)):
            self._beating = True

    def _write_new(self, conn: Conn, ids: list[int], rows: Sequence[MessageRow]) -> None:
        """A batch under fresh ids: one COPY; should an id be there already (another collector
        writing as this site after a reconnect), the batch goes through _insert()'s checks."""
        try:
            copy_messages(conn, self.site, ids, rows)
        except psycopg.errors.UniqueViolation:
            self._insert(conn, ids, rows)

    def _insert(self, conn: Conn, ids: list[int], rows: Sequence[MessageRow]) -> None:
        for i, same in insert_messages(conn, self.site, ids, rows):
            if not same:  # a replayed id with other content: never merged
                raise StoreError(
                    f"message {i} of site {self.site!r} is already in {self.location} with other content: "
                    "two collectors write as the same site; give each its own --site"
                )

    def _spool_has_rows(self) -> bool:
        # Remembered, not asked of sqlite on every append: only this store writes its spool.
        if self._spool_dirty is None:
            self._spool_dirty = bool(self._spool.rows_after(0, 1))
        return self._spool_dirty

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
        while self._conn is not None and self._spool_has_rows():
            rows = self._spool.rows_after(0, SPOOL_REPLAY_ROWS)
            if not rows:
                self._spool_dirty = False
                break
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
        """This site's messages with an id above message_id, oldest first, a page per query (before
        the server was ever reached, after an offline start: the spool's)."""
        if not self._reached:
            with self._lock:  # the replay thread may be draining the spool
                waiting = list(self._spool.messages_after(message_id))
            yield from waiting
            return
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
        """Write what was queued while the server was away or busy (under the lock, online). The
        jobs only when their session is free: a batch of messages (its 202s) never waits for a
        write of jobs, which takes what was queued meanwhile at its next round."""
        conn = self._conn
        if conn is not None and self._jobs.queued:  # jobs queued while the server was away
            self._jobs.write(0.0)
        with self._pending_lock:
            devices, trust, states = self._pending_devices, self._pending_trust, self._pending_states
            health = self._pending_health
            if conn is None or not (devices or trust or states or health):
                return
            self._pending_devices, self._pending_trust, self._pending_states = {}, {}, {}
            self._pending_health = {}
        try:
            with conn.transaction():
                for record in devices.values():
                    write_device(conn, self.site, record)
                for record in states.values():  # after the rows they go on
                    write_device_state(conn, self.site, record)
                for report in health.values():
                    write_device_health(conn, self.site, report)
                for endpoint, sha in trust.items():
                    write_trust(conn, self.site, endpoint, sha)
        except psycopg.OperationalError as exc:
            with self._pending_lock:  # back in the queue, unless something newer came meanwhile
                self._pending_devices = {**devices, **self._pending_devices}
                self._pending_trust = {**trust, **self._pending_trust}
                self._pending_states = {**states, **self._pending_states}
                self._pending_health = {**health, **self._pending_health}
            self._offline(exc)

    # --- folded job state ----------------------------------------------------------------------

    def upsert_jobs(self, records: Iterable[JobRecord], last_folded_message_id: int) -> None:
        """Store the jobs' folded state and the last folded message in one transaction, on the
        jobs' own session (store.pg_jobs: a batch of messages never waits for it); queued while
        the server is away (the latest state of each job is written when it is back)."""
        self._jobs.queue(records, last_folded_message_id)
        if self._conn is not None:
            self._jobs.write(LOOP_LOCK_WAIT_S)

    def load_jobs(self) -> list[JobRecord]:
        """Every job of this site with its timeline, from one snapshot; damaged rows skipped (none
        before the server was ever reached)."""
        if not self._reached:
            return []
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
        pending = self._jobs.pending_folded
        if not self._reached:
            return pending or 0
        rows = self._query("SELECT value FROM state WHERE site = %s AND key = %s", (self.site, LAST_FOLDED))
        stored = int(rows[0][0]) if rows else 0
        return max(stored, pending or 0)

    # --- devices and trust ---------------------------------------------------------------------

    def upsert_device(self, record: DeviceRecord) -> None:
        """Remember a device's metadata for this site (queued while the server is away)."""
        if not self._write_or_queue(lambda conn: write_device(conn, self.site, record)):
            with self._pending_lock:
                self._pending_devices[record.endpoint] = record

    def save_device_state(self, record: DeviceRecord) -> None:
        """Write what this collector knows of a device now (online, subscriptions, what it said of
        itself) on its row, for the viewers (a device never read gets a row of what is known of it);
        queued while the server is away (the latest is kept)."""
        if not self._write_or_queue(lambda conn: write_device_state(conn, self.site, record)):
            with self._pending_lock:
                self._pending_states[record.endpoint] = record

    def save_device_health(self, health: DeviceHealth) -> None:
        """Write the health report this collector judged of a device on its row, for the viewers
        (pg_rows.write_device_health: only a device's row); queued while the server is away (the
        latest is kept)."""
        if not self._write_or_queue(lambda conn: write_device_health(conn, self.site, health)):
            with self._pending_lock:
                self._pending_health[health.endpoint] = health

    def load_devices(self) -> list[DeviceRecord]:
        """Every device this site has seen, as last upserted; damaged rows are skipped (none before
        the server was ever reached)."""
        out: list[DeviceRecord] = []
        if not self._reached:
            return out
        for row in self._query(SELECT_DEVICES, (self.site,)):
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
        if not self._write_or_queue(lambda conn: write_trust(conn, self.site, device, value)):
            with self._pending_lock:
                self._pending_trust[device] = value

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
            deleted[0] = delete_old(
                conn, self.site, now=now, max_age=max_age, max_messages=max_messages, limit=limit
            )

        self._write_or_queue(write)
        return deleted[0]

    # --- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Replay what the spool holds if the server is there, then close connection and spool."""
        if self._replayer is not None:  # before the lock: a replay in progress finishes first
            self._replayer.stop(CONNECT_TIMEOUT_S + 1.0)
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
            self._jobs.close(CONNECT_TIMEOUT_S + 1.0)
            if self._conn is not None and self._beating:  # the viewers: stopped, not silent
                try:
                    with self._conn.transaction():
                        write_heartbeat(self._conn, self.site, STOPPED)
                except psycopg.Error as exc:
                    _log.warning("could not tell %s that site %s stopped: %s", self.location, self.site, exc)
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
