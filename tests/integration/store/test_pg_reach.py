"""The PostgreSQL store and an absent server: the spool replayed while the collector is idle, a store
opened while the server is down (offline_start), and the locations that can never work."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.pg import PgCluster
from tests.unit.store.helpers import message, raw
from wsdmon.store import StoreError, StoreUnavailableError, open_store
from wsdmon.store import postgres as pg_module
from wsdmon.store.pg_reach import offline_start_id, refused_for_good
from wsdmon.store.pg_schema import SCHEMA_VERSION, schema_version
from wsdmon.store.postgres import PostgresStore

INTERVAL_S = 0.5  # RECONNECT_INTERVAL_S in these tests (2 s in the program)
# The replay thread wakes every interval and may find the reconnect not yet due: two intervals,
# plus a connection and a replay on a busy machine.
DRAINED_WITHIN_S = 2 * INTERVAL_S + 4.0


def _stored(dsn: str) -> list[tuple[int, bytes]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT id, raw FROM messages WHERE site = 'floor-3' ORDER BY id").fetchall()
    return [(int(i), bytes(r)) for i, r in rows]


def _within(seconds: float, check: Callable[[], bool]) -> float:
    """Seconds until check() held; fails after `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            if check():
                return time.monotonic() - start
        except psycopg.OperationalError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def test_an_idle_collectors_spool_is_replayed_once_the_server_is_back(
    pg_cluster: PgCluster, pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No message arrives after the server came back: the spool is replayed all the same."""
    monkeypatch.setattr(pg_module, "RECONNECT_INTERVAL_S", INTERVAL_S)
    store = open_store(pg_dsn, site="floor-3", spool_path=tmp_path / "spool.sqlite3")
    assert isinstance(store, PostgresStore)
    try:
        first = store.append_messages([message(1)])
        pg_cluster.stop()
        try:
            spooled = store.append_messages([message(2), message(3)])
            assert not store.online
            assert store.spooled == 2
        finally:
            pg_cluster.start()
        _within(DRAINED_WITHIN_S, lambda: store.replayed == 2)  # nothing appended meanwhile
        assert store.online
        assert _stored(pg_dsn) == [(first[0], raw(1)), (spooled[0], raw(2)), (spooled[1], raw(3))]
    finally:
        store.close()


def test_a_store_opened_while_the_server_is_down_spools_then_migrates_and_replays(
    pg_cluster: PgCluster,
    pg_dsn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(pg_module, "RECONNECT_INTERVAL_S", INTERVAL_S)
    with psycopg.connect(pg_dsn) as conn:  # the database is there, wsdmon's tables are not yet
        assert schema_version(conn) == 0
    pg_cluster.stop()
    before = time.time()
    try:
        with caplog.at_level(logging.WARNING):
            store = open_store(
                pg_dsn, site="floor-3", spool_path=tmp_path / "spool.sqlite3", offline_start=True
            )
        assert isinstance(store, PostgresStore)
        assert "cannot reach the PostgreSQL server of" in caplog.text
        assert "accepting into the local spool" in caplog.text
        ids = store.append_messages([message(1), message(2)])
        # Nothing to restore but the spool; the ids start above any this site can have used.
        assert store.load_jobs() == []
        assert store.load_devices() == []
        assert store.last_folded_message_id() == 0
        assert [m.id for m in store.messages_after(0)] == ids
        assert ids[0] >= offline_start_id(0, before)
    except BaseException:
        pg_cluster.start()
        raise
    try:
        pg_cluster.start()
        _within(DRAINED_WITHIN_S, lambda: store.replayed == 2)
        with psycopg.connect(pg_dsn) as conn:
            assert schema_version(conn) == SCHEMA_VERSION  # migrated once the server answered
        more = store.append_messages([message(3)])
        assert more == [ids[-1] + 1]
        assert [m.id for m in store.messages_after(0)] == [*ids, *more]  # now from the server
    finally:
        store.close()
    assert _stored(pg_dsn) == [(ids[0], raw(1)), (ids[1], raw(2)), (more[0], raw(3))]


def test_a_server_that_is_down_without_offline_start_is_still_an_error(
    pg_cluster: PgCluster, pg_dsn: str, tmp_path: Path
) -> None:
    pg_cluster.stop()
    try:
        with pytest.raises(StoreUnavailableError, match="cannot reach the PostgreSQL server"):
            open_store(pg_dsn, site="floor-3", spool_path=tmp_path / "spool.sqlite3")
    finally:
        pg_cluster.start()


@pytest.mark.parametrize(
    ("location", "says"),
    [
        ("{dsn} dbname=no_such_db", 'refuses it: .*database "no_such_db" does not exist'),
        ("{dsn} user=no_such_role", 'refuses it: .*role "no_such_role" does not exist'),
        ("{dsn} port", "is not a location libpq understands"),
        ("{dsn} sslmode=sometimes", "refuses it: .*invalid sslmode value"),
    ],
)
def test_a_location_that_can_never_work_is_an_error_even_with_offline_start(
    pg_dsn: str, tmp_path: Path, location: str, says: str
) -> None:
    with pytest.raises(StoreError, match=says) as raised:
        open_store(
            location.format(dsn=pg_dsn),
            site="floor-3",
            spool_path=tmp_path / "spool.sqlite3",
            offline_start=True,
        )
    assert not isinstance(raised.value, StoreUnavailableError)


def test_a_database_holding_another_programs_tables_is_refused(pg_dsn: str, tmp_path: Path) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE messages (subject text, body text)")
    with pytest.raises(StoreError, match="holds tables of another program") as raised:
        open_store(pg_dsn, site="floor-3", spool_path=tmp_path / "spool.sqlite3", offline_start=True)
    assert not isinstance(raised.value, StoreUnavailableError)


@pytest.mark.parametrize(
    ("words", "for_good"),
    [
        ('connection failed: FATAL:  password authentication failed for user "desk"', True),
        ('FATAL:  no pg_hba.conf entry for host "10.0.0.5", user "desk", database "wsdmon"', True),
        ("fe_sendauth: no password supplied", True),
        ('connection failed: FATAL:  database "wsdmon" does not exist', True),
        ('connection to server at "127.0.0.1", port 1 failed: Connection refused', False),
        ("failed to resolve host 'db.example': [Errno -3] Temporary failure in name resolution", False),
        ("connection failed: FATAL:  the database system is starting up", False),
        ("connection failed: FATAL:  sorry, too many clients already", False),
        ("connection timeout expired", False),
    ],
)
def test_which_connection_failures_wait_in_the_spool(words: str, for_good: bool) -> None:
    assert refused_for_good(words) is for_good
