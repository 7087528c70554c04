"""What only the PostgreSQL store does: the spool while the server is away (exactly once afterwards),
idempotent replay, one collector per site, roles, NOTIFY and follow(), and what it says of a URL."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.pg import PgCluster
from tests.unit.store.helpers import DEV, device_record, lifecycle, message, raw
from wsdmon.core import JobTable
from wsdmon.core.health import DeviceHealth
from wsdmon.net.recorder import PendingMessage, Recorder
from wsdmon.store import Journal, StoreError, StoreUnavailableError, open_store, redact_dsn
from wsdmon.store import postgres as pg_module
from wsdmon.store.health import decode_health
from wsdmon.store.job_index import decode_record_row
from wsdmon.store.pg_follow import ChangeKind, StoreChange, follow, parse_change
from wsdmon.store.pg_schema import MIGRATIONS, migrate, roles_sql
from wsdmon.store.postgres import PostgresStore

ACTION = "http://schemas.microsoft.com/windows/2008/12/wdp/distributedscan/PostScanJobStatusEvent"
_roles = itertools.count(1)


def _open(dsn: str, tmp_path: Path, site: str = "floor-3") -> PostgresStore:
    store = open_store(dsn, site=site, spool_path=tmp_path / f"spool-{site}.sqlite3")
    assert isinstance(store, PostgresStore)
    return store


def _stored(dsn: str, site: str = "floor-3") -> list[tuple[int, bytes]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT id, raw FROM messages WHERE site = %s ORDER BY id", (site,)).fetchall()
    return [(int(i), bytes(r)) for i, r in rows]


# --- the spool -----------------------------------------------------------------------------------


def test_server_stopped_mid_burst_every_acknowledged_message_is_stored_once(
    pg_cluster: PgCluster, pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_module, "RECONNECT_INTERVAL_S", 0.1)
    store = _open(pg_dsn, tmp_path)
    acknowledged: dict[int, bytes] = {}
    refused: list[int] = []

    async def one(recorder: Recorder, i: int) -> None:
        body = raw(i)
        try:
            row = await recorder.record(
                PendingMessage(datetime.now(UTC), DEV, None, ACTION, f"urn:uuid:m-{i}", f"m {i}", body)
            )
        except Exception:  # not acknowledged: the device would be told so and send it again
            refused.append(i)
            return
        assert row not in acknowledged
        acknowledged[row] = body

    async def burst() -> None:
        recorder = Recorder(store)
        loop = asyncio.get_running_loop()
        counter = itertools.count()
        stop = asyncio.Event()

        async def produce() -> None:
            while not stop.is_set():  # ~10 notifications in flight at any time
                await asyncio.gather(*(one(recorder, next(counter)) for _ in range(10)))

        producer = asyncio.create_task(produce())
        await asyncio.sleep(0.3)
        await loop.run_in_executor(None, pg_cluster.stop)  # the server goes away mid-burst
        await asyncio.sleep(0.5)
        assert not store.online
        await loop.run_in_executor(None, pg_cluster.start)
        await asyncio.sleep(0.5)  # the next appends replay the spool, then write directly again
        stop.set()
        await producer

    try:
        asyncio.run(burst())
        assert store.online
        assert store.spooled > 0
        assert store.replayed == store.spooled
    finally:
        store.close()
    assert refused == []
    assert _stored(pg_dsn) == sorted(acknowledged.items())  # each once, in order, nothing else
    assert not Journal(tmp_path / "spool-floor-3.sqlite3").rows_after(0, 1)


def test_jobs_and_devices_written_while_the_server_is_away_arrive_when_it_is_back(
    pg_cluster: PgCluster, pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_module, "RECONNECT_INTERVAL_S", 0.0)
    store = _open(pg_dsn, tmp_path)
    try:
        pg_cluster.stop()
        try:
            ids = store.append_messages([message(1), message(2)])  # into the spool
            assert not store.online
            store.upsert_device(device_record())  # queued, not raised
            judged = DeviceHealth(DEV, datetime(2026, 12, 6, 22, 0, tzinfo=UTC))
            store.save_device_health(judged)  # queued after the device's row it goes on
            job = lifecycle(JobTable())
            store.upsert_jobs([job], ids[-1])
            assert store.raw_message(ids[0]) == raw(1)  # from the spool meanwhile
        finally:
            pg_cluster.start()
        more = store.append_messages([message(3)])  # back: spool replayed first, then this
        assert more[0] == ids[-1] + 1
        assert store.load_jobs() == [job]
        assert [d.endpoint for d in store.load_devices()] == [DEV]
        assert store.last_folded_message_id() == ids[-1]
    finally:
        store.close()
    assert _stored(pg_dsn) == [(ids[0], raw(1)), (ids[1], raw(2)), (more[0], raw(3))]
    with psycopg.connect(pg_dsn) as conn:
        ((text,),) = conn.execute("SELECT health FROM devices").fetchall()
    assert decode_health(DEV, text) == (judged, 0)


def test_a_replay_of_a_batch_the_server_already_committed_is_not_stored_twice(
    pg_dsn: str, tmp_path: Path
) -> None:
    store = _open(pg_dsn, tmp_path)
    batch = [message(i) for i in range(1, 4)]
    ids = store.append_messages(batch)
    store.close()
    # The commit reached the server but its answer was lost: the same batch went to the spool too.
    spool = Journal(tmp_path / "spool-floor-3.sqlite3", site="floor-3")
    spool.reserve_ids(ids[0] - 1)
    assert spool.append_messages(batch) == ids
    spool.close()
    store = _open(pg_dsn, tmp_path)  # opening replays the spool
    try:
        assert store.replayed == 3
        assert store.append_messages([message(4)])[0] == ids[-1] + 1
    finally:
        store.close()
    assert _stored(pg_dsn) == [*zip(ids, (raw(1), raw(2), raw(3)), strict=True), (ids[-1] + 1, raw(4))]


def test_a_replayed_id_with_other_content_is_refused_not_merged(pg_dsn: str, tmp_path: Path) -> None:
    store = _open(pg_dsn, tmp_path)
    (first,) = store.append_messages([message(1)])
    store.close()
    spool = Journal(tmp_path / "spool-floor-3.sqlite3", site="floor-3")
    spool.reserve_ids(first - 1)
    spool.append_messages([message(99)])  # the same id, another message: two collectors, one site
    spool.close()
    with pytest.raises(StoreError, match="two collectors write as the same site"):
        _open(pg_dsn, tmp_path)
    assert _stored(pg_dsn) == [(first, raw(1))]


def test_commits_are_flushed_even_where_the_server_says_synchronous_commit_off(
    pg_dsn: str, tmp_path: Path
) -> None:
    dbname = pg_dsn.rsplit("dbname=", 1)[1]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {dbname} SET synchronous_commit = off".encode())
    store = _open(pg_dsn, tmp_path)
    try:
        conn = store._conn  # the store's own session is what matters
        assert conn is not None
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
    finally:
        store.close()


def test_synchronous_commit_off_is_kept_where_the_collectors_own_location_asks_for_it(
    pg_dsn: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/postgresql.md tells a site it may trade durability for speed in its location
    (options=-c synchronous_commit=off): the store must keep that choice (it used to raise it to
    on whatever its source, so the documented option did nothing) and say what it risks."""
    store = _open(pg_dsn + " options='-c synchronous_commit=off'", tmp_path)
    try:
        conn = store._conn
        assert conn is not None
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("off",)
    finally:
        store.close()
    assert any("may be lost if the database server loses power" in r.getMessage() for r in caplog.records)


def test_collectors_starting_together_on_an_empty_database_create_the_tables_once(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    """Three sites' collectors open one new database at the same moment: one creates the tables,
    the others wait for it and use them (each used to fail with 'relation "messages" already
    exists'). Repeated on fresh databases: the race is a matter of timing."""
    for _ in range(4):
        dsn = pg_cluster.new_database()
        errors: list[BaseException] = []

        def open_one(site: str, dsn: str = dsn, errors: list[BaseException] = errors) -> None:
            try:
                _open(dsn, tmp_path / site, site).close()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_one, args=(site,)) for site in ("a", "b", "c")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []


def test_one_collector_per_site(pg_dsn: str, tmp_path: Path) -> None:
    first = _open(pg_dsn, tmp_path, "floor-3")
    try:
        with pytest.raises(StoreError, match="another collector is writing as site 'floor-3'"):
            _open(pg_dsn, tmp_path / "other", "floor-3")
        other = _open(pg_dsn, tmp_path, "floor-4")
        other.append_messages([message(1)])
        first.append_messages([message(2)])
        assert [m.raw for m in first.messages_after(0)] == [raw(2)]  # each site sees its own
        assert [m.raw for m in other.messages_after(0)] == [raw(1)]
        other.close()
    finally:
        first.close()


def test_a_spool_that_cannot_be_kept_is_said_before_connecting(pg_dsn: str, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreError, match=r"cannot keep the local spool .*file is a file, not a folder"):
        open_store(pg_dsn, site="floor-3", spool_path=tmp_path / "file" / "spool.sqlite3")
    with psycopg.connect(pg_dsn) as conn:  # nothing was left connected (nor created)
        assert conn.execute("SELECT to_regclass('messages')").fetchone() == (None,)


# --- roles ---------------------------------------------------------------------------------------


def _login_role(cluster: PgCluster, dsn: str, group: str) -> str:
    name = f"wsdmon_login_{next(_roles)}"
    cluster.admin(f"CREATE ROLE {name} LOGIN IN ROLE {group}")
    return dsn.replace("user=postgres", f"user={name}")


def test_a_viewer_may_read_but_not_write_and_a_collector_may_not_change_the_schema(
    pg_cluster: PgCluster, pg_dsn: str, tmp_path: Path
) -> None:
    owner = _open(pg_dsn, tmp_path, "owner")  # the owner creates the tables
    owner.append_messages([message(1)])
    owner.close()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(roles_sql().encode())
    viewer = _login_role(pg_cluster, pg_dsn, "wsdmon_viewer")
    with psycopg.connect(viewer, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO messages (site, id, arrival, device, action, summary, raw)"
                " VALUES ('x', 1, now(), 'd', 'a', 's', '\\x00')"
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM messages")
    collector = _login_role(pg_cluster, pg_dsn, "wsdmon_collector")
    store = _open(collector, tmp_path, "floor-3")  # every write a collector makes, as that role
    try:
        ids = store.append_messages([message(2)])
        store.upsert_jobs([lifecycle(JobTable())], ids[0])
        store.upsert_device(device_record())
        store.set_trusted_fingerprint(DEV, "ab" * 32)
        store.save_device_state(device_record())  # what the viewers show of it
        store.save_device_health(DeviceHealth(DEV, datetime.now(UTC)))  # and its health
        store.heartbeat()
        assert store.online
        assert len(store.load_jobs()) == 1
    finally:
        store.close()  # says it stopped
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM devices WHERE state IS NOT NULL").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM devices WHERE health IS NOT NULL").fetchone() == (1,)
        keys = conn.execute("SELECT key FROM state WHERE site = 'floor-3' ORDER BY key").fetchall()
        assert {"heartbeat", "stopped"} <= {k for (k,) in keys}
    with psycopg.connect(collector, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DROP TABLE messages")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE sneaky (x int)")


def test_a_collector_role_on_an_older_store_is_told_to_let_the_owner_upgrade_it(
    pg_cluster: PgCluster, pg_dsn: str, tmp_path: Path
) -> None:
    """A store of schema 5 (before the health column) and a collector of this wsdmon on the
    restricted role: it may not add the column, and says who can; the owner's start upgrades it."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        migrate(conn, MIGRATIONS[:5])
        conn.execute(roles_sql().encode())
    collector = _login_role(pg_cluster, pg_dsn, "wsdmon_collector")
    with pytest.raises(StoreError, match=r"schema version 6 .*run wsdmon once as the database's owner"):
        _open(collector, tmp_path, "floor-3")
    _open(pg_dsn, tmp_path, "owner").close()  # the owner's collector upgrades it
    store = _open(collector, tmp_path, "floor-3")
    try:
        store.upsert_device(device_record())
        store.save_device_health(DeviceHealth(DEV, datetime.now(UTC)))
    finally:
        store.close()
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM devices WHERE health IS NOT NULL").fetchone() == (1,)


def test_a_collector_role_cannot_create_the_tables_and_is_told_who_can(
    pg_cluster: PgCluster, pg_dsn: str, tmp_path: Path
) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    pg_cluster.admin(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wsdmon_collector')"
        " THEN CREATE ROLE wsdmon_collector NOLOGIN; END IF; END $$"
    )
    collector = _login_role(pg_cluster, pg_dsn, "wsdmon_collector")
    with pytest.raises(StoreError, match="run wsdmon once as the database's owner"):
        _open(collector, tmp_path)


# --- NOTIFY and follow() -------------------------------------------------------------------------


def test_follow_yields_each_committed_change(pg_dsn: str, tmp_path: Path) -> None:
    store = _open(pg_dsn, tmp_path)

    async def listening() -> None:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            for _ in range(200):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%%'"
                ).fetchone()
                if row and row[0]:
                    return
                await asyncio.sleep(0.02)
        raise AssertionError("follow() never listened")

    async def run() -> list[StoreChange]:
        changes = follow(pg_dsn)
        first = asyncio.ensure_future(anext(changes))
        await listening()
        ids = store.append_messages([message(1), message(2)])
        store.upsert_jobs([lifecycle(JobTable())], ids[-1])
        store.upsert_device(device_record())
        got = [await asyncio.wait_for(first, 10)]
        got += [await asyncio.wait_for(anext(changes), 10) for _ in range(2)]
        await changes.aclose()
        return got

    try:
        got = asyncio.run(run())
        ids = [m.id for m in store.messages_after(0)]
    finally:
        store.close()
    assert got == [
        StoreChange("floor-3", ChangeKind.MESSAGES, ids[-1]),
        StoreChange("floor-3", ChangeKind.JOBS, ids[-1], added=1),
        StoreChange("floor-3", ChangeKind.DEVICE, DEV),
    ]


def test_the_notify_of_jobs_says_how_many_were_new(pg_dsn: str, tmp_path: Path) -> None:
    """A viewer re-counts its rows only when jobs were added (issue 14, item 5: the latency through
    PostgreSQL): the NOTIFY of a write of jobs says how many of them the store did not hold yet.
    A job's searched words are written again only when they changed."""
    from tests.unit.store.helpers import observe, status
    from wsdmon.protocol.dsm import JobState

    store = _open(pg_dsn, tmp_path)
    table = JobTable()
    try:
        with psycopg.connect(pg_dsn, autocommit=True) as listener:
            listener.execute("LISTEN wsdmon_changes")
            first = observe(table, status("tok-1", JobState.PROCESSING, 1), 1, 1)
            store.upsert_jobs([first, lifecycle(table, "tok-2")], 4)
            words = listener.execute("SELECT xmin::text FROM job_words WHERE job_token = 'tok-1'").fetchone()
            again = observe(table, status("tok-1", JobState.PROCESSING, 2), 5, 5)  # an image more
            store.upsert_jobs([again, lifecycle(table, "tok-3")], 6)
            store.upsert_jobs([again], 6)
            store.upsert_jobs([], 7)  # only the last folded message
            notes = [parse_change(n.payload) for n in listener.notifies(timeout=2.0, stop_after=4)]
            after = listener.execute("SELECT xmin::text FROM job_words WHERE job_token = 'tok-1'").fetchone()
            row = listener.execute(
                "SELECT device, job_token, generation, record FROM jobs WHERE job_token = 'tok-1'"
            ).fetchone()
    finally:
        store.close()
    assert [(n.kind, n.added) for n in notes if n is not None] == [(ChangeKind.JOBS, a) for a in (2, 1, 0, 0)]
    assert row is not None
    stored = decode_record_row(tuple(row))
    assert stored is not None
    assert stored.status.images_received == 2  # the job was written
    assert after == words  # its words were not


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _columns(dsn: str, token: str) -> tuple[Any, ...]:
    """A job's stored images and state columns, its record's images and whether it is active."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT images, state, active, device, job_token, generation, record FROM jobs"
            " WHERE job_token = %s",
            (token,),
        ).fetchone()
    assert row is not None
    rec = decode_record_row(tuple(row[3:]))
    assert rec is not None
    return row[0], row[1], row[2], rec.status.images_received


def test_a_live_jobs_images_go_ahead_in_its_record_and_its_columns_follow(
    pg_dsn: str, tmp_path: Path
) -> None:
    """A busy job's images replace its record alone (no new entry in each of the jobs table's
    indexes: half a core of the server at 1,000 notifications/s); its sort columns follow within
    SORT_LAG_S, at the next write or from the replay thread of an idle collector. A change of state
    is written whole at once."""
    from tests.unit.store.helpers import end, observe, status
    from wsdmon.protocol.dsm import JobState
    from wsdmon.store.pg_jobs import SORT_LAG_S

    clock = _Clock()
    store = PostgresStore(pg_dsn, site="floor-3", spool_path=tmp_path / "spool.sqlite3", clock=clock)
    table = JobTable()
    try:
        store.upsert_jobs([observe(table, status("tok-1", JobState.PROCESSING, 1), 1, 1)], 1)
        assert _columns(pg_dsn, "tok-1") == (1, "Processing", True, 1)
        clock.now += SORT_LAG_S / 2
        store.upsert_jobs([observe(table, status("tok-1", JobState.PROCESSING, 2), 2, 2)], 2)
        store.upsert_jobs([observe(table, status("tok-1", JobState.PROCESSING, 3), 3, 3)], 3)
        assert _columns(pg_dsn, "tok-1") == (1, "Processing", True, 3)  # the record went ahead
        assert not store._jobs.pending
        clock.now += SORT_LAG_S / 2
        assert store._jobs.pending  # the replay thread's next round writes the columns
        assert store.retry()
        assert _columns(pg_dsn, "tok-1") == (3, "Processing", True, 3)
        assert not store._jobs.pending
        store.upsert_jobs([observe(table, status("tok-1", JobState.PROCESSING, 4), 4, 4)], 4)
        assert _columns(pg_dsn, "tok-1") == (3, "Processing", True, 4)
        store.upsert_jobs([end(table, "tok-1", 5, 5)], 5)  # its end: whole at once
        images, state, active, in_record = _columns(pg_dsn, "tok-1")
        assert (state, active, images) == ("Completed", False, in_record)
        assert store.load_jobs() == list(table.jobs.values())
    finally:
        store.close()


def test_a_batch_of_messages_writes_queued_jobs_only_when_their_session_is_free(
    pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs queued while the server was away are written by whatever reaches the server first; a
    batch of messages does so only when the jobs' session is free, never waiting for it (its 202s
    used to wait up to 50 ms behind a write of jobs in progress)."""
    from wsdmon.store.pg_jobs import JobsWriter

    store = _open(pg_dsn, tmp_path)
    waits: list[float] = []
    real = JobsWriter.write
    monkeypatch.setattr(JobsWriter, "write", lambda self, wait_s: waits.append(wait_s) or real(self, wait_s))
    try:
        store._jobs.queue([lifecycle(JobTable(), "tok-1")], 0)
        store._jobs._lock.acquire()  # a write of jobs in progress
        try:
            store.append_messages([message(1)])
        finally:
            store._jobs._lock.release()
        assert waits  # tried,
        assert set(waits) == {0.0}  # never waiting
        assert store._jobs.queued  # left for the next write
        store.append_messages([message(2)])
        assert not store._jobs.queued
        assert [j.status.job_token for j in store.load_jobs()] == ["tok-1"]
    finally:
        store.close()


def _processing(table: JobTable, token: str, images: int, at: int) -> Any:
    from tests.unit.store.helpers import observe, status
    from wsdmon.protocol.dsm import JobState

    return observe(table, status(token, JobState.PROCESSING, images), at, at)


def _gone_ahead(dsn: str, tmp_path: Path) -> tuple[PostgresStore, JobTable]:
    """A store (on a clock of the test's) holding a live job whose record went ahead of its columns."""
    store = PostgresStore(dsn, site="floor-3", spool_path=tmp_path / "spool.sqlite3", clock=_Clock())
    table = JobTable()
    store.upsert_jobs([_processing(table, "tok-1", 1, 1)], 1)
    store.upsert_jobs([_processing(table, "tok-1", 2, 2)], 2)
    assert _columns(dsn, "tok-1") == (1, "Processing", True, 2)
    return store, table


def test_a_collector_that_stops_writes_the_columns_its_records_went_ahead_of(
    pg_dsn: str, tmp_path: Path
) -> None:
    """A collector that stops leaves no job in the wrong place of a sorted table."""
    store, _ = _gone_ahead(pg_dsn, tmp_path)
    store.close()
    assert _columns(pg_dsn, "tok-1") == (2, "Processing", True, 2)


def test_a_record_that_went_ahead_is_written_whole_after_a_failed_write(pg_dsn: str, tmp_path: Path) -> None:
    """What the jobs' session wrote is forgotten when a write fails (the server went away meanwhile):
    the records that went ahead of their columns are written whole with the next write."""
    store, table = _gone_ahead(pg_dsn, tmp_path)
    try:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:  # the jobs' session is cut off
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        store.upsert_jobs([_processing(table, "tok-2", 1, 3)], 3)  # fails
        assert store._jobs.pending
        store.upsert_jobs([], 3)
        assert _columns(pg_dsn, "tok-1") == (2, "Processing", True, 2)
        assert _columns(pg_dsn, "tok-2") == (1, "Processing", True, 1)
    finally:
        store.close()


def test_retention_that_deletes_jobs_says_so_without_a_count(pg_dsn: str, tmp_path: Path) -> None:
    """A viewer that counts its rows only when jobs are added must hear that some went: retention's
    NOTIFY of jobs has no count of new ones, so the viewer counts again."""
    from datetime import timedelta

    from tests.unit.store.helpers import T0

    store = _open(pg_dsn, tmp_path)
    try:
        store.upsert_jobs([lifecycle(JobTable(), "tok-1")], 0)  # ended, on T0
        with psycopg.connect(pg_dsn, autocommit=True) as listener:
            listener.execute("LISTEN wsdmon_changes")
            assert store.apply_retention(T0 + timedelta(days=30), timedelta(days=1), None) == 1
            notes = [parse_change(n.payload) for n in listener.notifies(timeout=2.0, stop_after=1)]
            left = listener.execute(
                "SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM timeline),"
                " (SELECT count(*) FROM job_words)"
            ).fetchone()
    finally:
        store.close()
    assert notes == [StoreChange("floor-3", ChangeKind.JOBS, None, added=None)]
    assert left == (0, 0, 0)  # the job went with its timeline and words (no foreign keys since v4)


# --- what it says of a location ------------------------------------------------------------------


def test_an_unreachable_server_is_named_without_the_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with socket.socket() as s:  # a port of this host where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://alice:Sup3r-s3cret@127.0.0.1:{port}/wsdmon?connect_timeout=2"
    with caplog.at_level(logging.INFO), pytest.raises(StoreUnavailableError) as raised:
        open_store(url, site="floor-3", spool_path=tmp_path / "spool.sqlite3")
    shown = str(raised.value)
    assert "cannot reach the PostgreSQL server of postgresql://alice:***@127.0.0.1" in shown
    assert "Sup3r-s3cret" not in shown
    assert raised.value.__cause__ is None  # nothing chained that could print the URL
    assert "carries a password" in caplog.text
    assert "Sup3r-s3cret" not in caplog.text
    assert redact_dsn(url) in caplog.text


def test_fixture_fails_naming_the_package_when_postgresql_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests import pg

    monkeypatch.setattr(pg, "find_pg_bin", lambda: None)
    with pytest.raises(pytest.fail.Exception, match="install Debian's `postgresql` package"):
        pg.PgCluster()


# --- the batch write (binary COPY) ---------------------------------------------------------------


def test_an_id_taken_behind_the_stores_back_is_neither_overwritten_nor_merged(
    pg_dsn: str, tmp_path: Path
) -> None:
    """A batch goes in with one COPY under fresh ids; when an id is there already (another collector
    writing as this site), the COPY fails whole and the batch is sorted out row by row: the same
    message is kept once, another one is refused."""
    store = _open(pg_dsn, tmp_path)
    try:
        (first,) = store.append_messages([message(1)])
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            for i, m in ((first + 1, message(2)), (first + 3, message(7))):
                conn.execute(
                    "INSERT INTO messages (site, id, arrival, device, subscription, action, message_id,"
                    " summary, raw) VALUES ('floor-3', %s, %s, %s, %s, %s, %s, %s, %s)",
                    (i, *m),
                )
        assert store.append_messages([message(2), message(3)]) == [first + 1, first + 2]
        with pytest.raises(StoreError, match="two collectors write as the same site"):
            store.append_messages([message(4)])
    finally:
        store.close()
    assert _stored(pg_dsn) == [(first, raw(1)), (first + 1, raw(2)), (first + 2, raw(3)), (first + 3, raw(7))]


def test_a_schema_1_database_is_migrated_and_its_batches_notify(pg_dsn: str, tmp_path: Path) -> None:
    """Schema 2 moved the NOTIFY of a batch into a trigger (the batch is one COPY): a database a
    collector of schema 1 made gets it at the next open, and a batch is announced exactly once."""
    from wsdmon.store.pg_schema import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        migrate(conn, MIGRATIONS[:1])
        assert schema_version(conn) == 1
    store = _open(pg_dsn, tmp_path)
    try:
        with psycopg.connect(pg_dsn, autocommit=True) as listener:
            listener.execute("LISTEN wsdmon_changes")
            ids = store.append_messages([message(1), message(2)])
            store.append_messages([])  # nothing written, nothing said
            notes = [n.payload for n in listener.notifies(timeout=2.0)]
            assert schema_version(listener) == SCHEMA_VERSION == 6
    finally:
        store.close()
    assert len(notes) == 1
    assert parse_change(notes[0]) == StoreChange("floor-3", ChangeKind.MESSAGES, ids[-1])


# --- the folded jobs' own session ----------------------------------------------------------------


def _waiting_on_a_lock(dsn: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        ).fetchone()
    return bool(row and row[0])


def test_a_batch_of_messages_does_not_wait_for_a_folded_jobs_write(pg_dsn: str, tmp_path: Path) -> None:
    """A collector on a shared store writes its folded jobs every 50 ms, tens of milliseconds each on
    a busy server; the devices' 202s must not wait for that. Here a jobs write is held up (another
    session locks the jobs table) and a batch of messages is committed meanwhile; once the lock goes
    the jobs are written too."""
    store = _open(pg_dsn, tmp_path)
    blocker = psycopg.connect(pg_dsn)  # a transaction holding the lock until rolled back
    writing: threading.Thread | None = None
    try:
        (first,) = store.append_messages([message(1)])
        job = lifecycle(JobTable())
        blocker.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
        writing = threading.Thread(target=store.upsert_jobs, args=([job], first), daemon=True)
        writing.start()
        for _ in range(500):
            if _waiting_on_a_lock(pg_dsn):
                break
            threading.Event().wait(0.02)
        else:
            raise AssertionError("the jobs write never waited for the lock")
        appended: list[int] = []
        append = threading.Thread(target=lambda: appended.extend(store.append_messages([message(2)])))
        append.start()
        append.join(10.0)
        assert appended == [first + 1]  # committed while the jobs write still waits
        assert writing.is_alive()
    finally:
        blocker.rollback()
        blocker.close()
        if writing is not None:
            writing.join(10.0)
        try:
            jobs = store.load_jobs()
            folded = store.last_folded_message_id()
        finally:
            store.close()
    assert _stored(pg_dsn) == [(first, raw(1)), (first + 1, raw(2))]
    assert jobs == [job]
    assert folded == first


def test_jobs_whose_session_cannot_be_opened_wait_said_once_and_are_written_later(
    pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The folded jobs' session may be refused while the messages' one works (the server's
    connection limit): the jobs wait, the reason is said once in words, the messages go on, and
    the jobs are written once their session opens."""
    store = _open(pg_dsn, tmp_path)
    try:
        (first,) = store.append_messages([message(1)])
        job = lifecycle(JobTable())
        refusal = StoreError("the PostgreSQL server of host=127.0.0.1 refuses it: too many clients already")
        opened = store._jobs._open

        def refused() -> psycopg.Connection[Any]:
            raise refusal

        monkeypatch.setattr(store._jobs, "_open", refused)
        with caplog.at_level(logging.DEBUG, logger="wsdmon.store.pg_jobs"):
            store.upsert_jobs([job], first)
            store.upsert_jobs([job], first)
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert [r.getMessage() for r in warnings] == [
            "the folded job state of site floor-3 is kept to be written later: the PostgreSQL server of"
            " host=127.0.0.1 refuses it: too many clients already"
        ]
        assert store.load_jobs() == []
        assert store.append_messages([message(2)]) == [first + 1]  # the messages go on meanwhile
        monkeypatch.setattr(store._jobs, "_open", opened)
        store.upsert_jobs([], first + 1)
        assert store.load_jobs() == [job]
        assert store.last_folded_message_id() == first + 1
    finally:
        store.close()


def test_the_folded_jobs_commit_without_waiting_for_the_disk_and_messages_with(
    pg_dsn: str, tmp_path: Path
) -> None:
    """The jobs' transaction may skip the WAL flush (the folded state is derived from messages
    committed before; a server crash loses the session, and the writer writes each job whole again):
    30 commits a second fewer for the server's disk. Messages are committed with the flush, as ever
    before their 202."""
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        from wsdmon.store.pg_schema import migrate

        migrate(admin)
        admin.execute("CREATE TABLE seen (what text, setting text)")
        admin.execute(
            "CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " INSERT INTO seen VALUES (TG_TABLE_NAME, current_setting('synchronous_commit'));"
            " RETURN NULL; END $$"
        )
        for table in ("jobs", "messages"):
            admin.execute(
                f"CREATE TRIGGER note AFTER INSERT ON {table} FOR EACH STATEMENT EXECUTE FUNCTION note()"
            )
    store = _open(pg_dsn, tmp_path)
    try:
        store.append_messages([message(1)])
        store.upsert_jobs([lifecycle(JobTable(), "tok-1")], 1)
        store.append_messages([message(2)])
    finally:
        store.close()
    with psycopg.connect(pg_dsn) as conn:
        seen = conn.execute("SELECT what, setting FROM seen").fetchall()
    assert sorted(set(seen)) == [("jobs", "off"), ("messages", "on")]


def test_a_followers_slack_covers_the_sort_columns_lag() -> None:
    """`watch --store` re-reads the jobs whose stored last change (a sort column) is within
    JOBS_SLACK_S of the newest it showed: a record that went ahead of its columns must be found. A
    collector short of CPU writes every SHARED_JOB_FLUSH_BUSY_S (each job whole: its columns wait
    for that write)."""
    from wsdmon.net.job_ledger import SHARED_JOB_FLUSH_BUSY_S
    from wsdmon.store.pg_jobs import SORT_LAG_S
    from wsdmon.store.pg_view import JOBS_SLACK_S
    from wsdmon.store.postgres import RECONNECT_INTERVAL_S

    assert max(SORT_LAG_S, SHARED_JOB_FLUSH_BUSY_S) + RECONNECT_INTERVAL_S < JOBS_SLACK_S


def test_a_follower_reads_a_record_that_went_ahead_of_its_columns(pg_dsn: str, tmp_path: Path) -> None:
    """What `watch --store` reads after a NOTIFY of jobs: the jobs changed within JOBS_SLACK_S of the
    newest it showed, by the stored last change — a live job's images written ahead are among them."""
    from wsdmon.store.pg_view import JOBS_SLACK_S, SharedView

    store, table = _gone_ahead(pg_dsn, tmp_path)
    view = SharedView(pg_dsn, "here")
    try:
        newest = table.jobs[next(iter(table.jobs))].last_update.timestamp()
        found = view.jobs_since("floor-3", newest - JOBS_SLACK_S)
    finally:
        view.close()
        store.close()
    assert [(site, rec.status.images_received) for site, rec in found] == [("floor-3", 2)]
