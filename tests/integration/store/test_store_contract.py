"""One suite for both stores (the sqlite journal and PostgreSQL), through open_store() as the program
opens them: messages, folded jobs, devices, trust, retention, sites, migration and restart."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest

from tests.unit.store.helpers import (
    DEV,
    DEV2,
    T0,
    device_record,
    lifecycle,
    message,
    observe,
    raw,
    status,
)
from wsdmon.core import DeviceError, DeviceErrorKind, DeviceRecord, JobTable, OfflineReason
from wsdmon.core.devices import SubscriptionStatus
from wsdmon.protocol.dsm import FilterState, JobState
from wsdmon.store import Journal, StorePort
from wsdmon.store.devices import decode_device_state
from wsdmon.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate

from .stores import KINDS, Backend

NOW = T0 + timedelta(days=30)


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return Backend(request.param, tmp_path, lambda: request.getfixturevalue("pg_dsn"))


@pytest.fixture
def store(backend: Backend) -> Iterator[StorePort]:
    s = backend.open()
    yield s
    s.close()


# --- messages ------------------------------------------------------------------------------------


def test_appended_messages_come_back_in_order_with_their_bytes(store: StorePort) -> None:
    ids = store.append_messages([message(i) for i in range(1, 4)])
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    more = store.append_messages([message(4)])
    assert more[0] > ids[-1]
    back = list(store.messages_after(0))
    assert [m.id for m in back] == [*ids, *more]
    assert [m.raw for m in back] == [raw(i) for i in range(1, 5)]
    assert back[0].arrival == T0 + timedelta(seconds=1)
    assert back[0].arrival.utcoffset() == timedelta(0)
    assert [m.id for m in store.messages_after(ids[1])] == [ids[2], more[0]]
    assert store.raw_message(ids[1]) == raw(2)
    assert store.raw_message(10_000) is None
    assert store.append_messages([]) == []


def test_a_batch_with_a_naive_arrival_is_refused_whole(store: StorePort) -> None:
    naive = message(2)._replace(arrival=T0.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        store.append_messages([message(1), naive])
    assert list(store.messages_after(0)) == []


def test_a_nul_in_a_header_field_is_stored_not_refused(store: StorePort) -> None:
    odd = message(1)._replace(message_id="urn:uuid:\x00x", summary="job \x00", subscription="s\x00")
    (row,) = store.append_messages([odd])
    assert store.raw_message(row) == raw(1)


def test_messages_after_pages_through_many_rows(store: StorePort) -> None:
    ids = store.append_messages([message(i) for i in range(1, 1201)])
    assert [m.id for m in store.messages_after(0)] == ids


# --- folded job state ----------------------------------------------------------------------------


def test_jobs_and_the_last_folded_message_round_trip(store: StorePort) -> None:
    assert store.last_folded_message_id() == 0
    assert store.load_jobs() == []
    table = JobTable()
    lifecycle(table, "tok-1")
    observe(table, status("tok-2", JobState.PROCESSING, 5), 10, 10)
    lifecycle(table, "tok-1", DEV2)  # same token on another server: another job
    store.upsert_jobs(table.jobs.values(), 10)
    assert store.load_jobs() == list(table.jobs.values())
    assert store.last_folded_message_id() == 10


def test_timelines_grow_shrink_and_are_rewritten(store: StorePort) -> None:
    record = lifecycle(JobTable(), "tok-1")
    store.upsert_jobs([record], 4)
    shorter = dataclasses.replace(record, timeline=record.timeline[:2])
    store.upsert_jobs([shorter], 4)
    assert store.load_jobs() == [shorter]
    other_last = dataclasses.replace(record, timeline=(*record.timeline[:1], record.timeline[3]))
    store.upsert_jobs([other_last], 4)
    assert store.load_jobs() == [other_last]
    store.upsert_jobs([record], 4)
    assert store.load_jobs() == [record]


def test_a_trimmed_timeline_loads_back(store: StorePort) -> None:
    from wsdmon.core.jobs import MAX_TIMELINE

    table = JobTable()
    record = observe(table, status("tok-1", JobState.PENDING, 0), 0, 0)
    for i in range(1, MAX_TIMELINE + 60):
        record = observe(table, status("tok-1", JobState.PROCESSING, i), i, i)
        if i % 50 == 0:
            store.upsert_jobs([record], i)
    store.upsert_jobs([record], MAX_TIMELINE + 60)
    assert record.timeline_dropped > 0
    assert store.load_jobs() == [record]


# --- devices and trust ---------------------------------------------------------------------------


def test_devices_round_trip_and_take_the_latest_metadata(store: StorePort) -> None:
    record = device_record()
    store.upsert_device(record)
    (back,) = store.load_devices()
    assert back == record.with_subscription(record.services[0].address, SubscriptionStatus.NONE)
    later = T0 + timedelta(days=3)
    store.upsert_device(device_record(seen=later, name="Renamed"))
    store.upsert_device(dataclasses.replace(device_record(seen=later, name="Renamed"), last_seen=None))
    store.upsert_device(device_record(DEV2))
    devices = {d.endpoint: d for d in store.load_devices()}
    assert set(devices) == {DEV, DEV2}
    assert devices[DEV].friendly_name == "Renamed"
    assert devices[DEV].last_seen == later


def test_a_devices_runtime_state_is_written_on_its_row_and_not_read_back(backend: Backend) -> None:
    """What the viewers of a shared store show (schema v5); the collector itself starts afresh."""
    store = backend.open()
    try:
        record = device_record()
        # Never read (unreachable since it was found): a row of what is known, for the viewers and
        # bundles, which the collector does not restore as a device at its next start.
        unread = DeviceRecord(
            record.endpoint,
            record.xaddrs,
            last_seen=T0,
            online=False,
            offline_reason=OfflineReason.UNREACHABLE,
            error=DeviceError(DeviceErrorKind.TIMEOUT, url=record.xaddrs[0]),
        )
        store.save_device_state(unread)
        ((xaddrs, state, read),) = backend.rows("SELECT xaddrs, state, metadata_read FROM devices")
        assert (json.loads(str(xaddrs)), bool(read)) == (list(record.xaddrs), False)
        bare = DeviceRecord(record.endpoint, record.xaddrs)
        assert decode_device_state(bare, str(state)).error == unread.error
        assert store.load_devices() == []
        store.upsert_device(record)  # read at last: a device like any other
        assert [d.endpoint for d in store.load_devices()] == [record.endpoint]
        offline = dataclasses.replace(record, online=False, offline_reason=OfflineReason.BYE)
        store.save_device_state(offline)
        (state, at), *more = backend.rows("SELECT state, state_at FROM devices")
        assert not more
        assert at is not None
        assert isinstance(state, str)
        assert decode_device_state(record, state) == offline
        (back,) = store.load_devices()
        assert back.online
        assert back.services[0].subscription is SubscriptionStatus.NONE
        store.upsert_device(device_record(name="Renamed"))  # new metadata keeps the state
        assert backend.rows("SELECT state FROM devices") == [(state,)]
    finally:
        store.close()


def test_trusted_fingerprints_are_normalised_kept_and_forgotten(backend: Backend) -> None:
    store = backend.open()
    fp = "AB:" * 31 + "AB"
    assert store.trusted_fingerprint(DEV) is None
    store.set_trusted_fingerprint(DEV, fp)
    assert store.trusted_fingerprint(DEV) == "ab" * 32
    with pytest.raises(ValueError, match="SHA-256"):
        store.set_trusted_fingerprint(DEV, "abc")
    store.set_trusted_fingerprint(DEV2, "cd" * 32)
    store.close()
    store = backend.open()  # kept across a restart
    assert store.trusted_fingerprint(DEV) == "ab" * 32
    assert store.trusted_fingerprint(DEV2) == "cd" * 32
    store.close()


# --- retention -----------------------------------------------------------------------------------


def test_retention_by_age_keeps_unfolded_messages_and_active_jobs(store: StorePort) -> None:
    ids = store.append_messages([message(i) for i in range(1, 11)])  # all at T0 + i s: all old
    table = JobTable()
    lifecycle(table, "old-ended")
    observe(table, status("old-active", JobState.PROCESSING, 1), 5, 5)
    store.upsert_jobs(table.jobs.values(), ids[5])
    deleted = store.apply_retention(NOW, timedelta(days=1), None)
    assert deleted == 6 + 1  # six folded messages and the ended job
    assert [m.id for m in store.messages_after(0)] == ids[6:]
    assert store.raw_message(ids[2]) is None
    assert [j.key.job_token for j in store.load_jobs()] == ["old-active"]


def test_retention_by_count_keeps_the_newest_and_ids_are_not_reused(store: StorePort) -> None:
    ids = store.append_messages([message(i) for i in range(1, 11)])
    store.upsert_jobs([], ids[-1])
    assert store.apply_retention(NOW, None, 3) == 7
    assert [m.id for m in store.messages_after(0)] == ids[7:]
    assert store.apply_retention(NOW, None, 3) == 0
    assert store.append_messages([message(11)])[0] > ids[-1]


# --- sites ---------------------------------------------------------------------------------------


def test_every_row_names_its_site(backend: Backend) -> None:
    store = backend.open(site="floor-3")
    store.append_messages([message(1)])
    store.upsert_jobs([lifecycle(JobTable())], 1)
    store.upsert_device(device_record())
    assert store.site == "floor-3"
    store.close()
    for table in ("messages", "jobs", "devices"):
        assert backend.rows(f"SELECT DISTINCT site FROM {table}") == [("floor-3",)], table  # noqa: S608


def test_the_site_defaults_to_the_host_name(backend: Backend) -> None:
    import socket

    from wsdmon.store import open_store

    store = open_store(backend.location, spool_path=backend.spool)
    try:
        assert store.site == socket.gethostname()
        store.append_messages([message(1)])
    finally:
        store.close()
    assert backend.rows("SELECT site FROM messages") == [(socket.gethostname(),)]


@pytest.mark.parametrize("site", ["", "   ", "a" * 101, "bad\nname"])
def test_a_bad_site_name_is_refused_with_advice(backend: Backend, site: str) -> None:
    with pytest.raises(ValueError, match="site name"):
        backend.open(site=site)


# --- restart -------------------------------------------------------------------------------------


def test_a_restart_restores_jobs_and_replays_the_rest(backend: Backend) -> None:
    table = JobTable()
    store = backend.open()
    ids = store.append_messages([message(i) for i in range(1, 4)])
    observe(table, status("tok-1", JobState.PENDING, 0), 1, ids[0])
    observe(table, status("tok-1", JobState.PROCESSING, 1, fs=FilterState.PROCESSING), 2, ids[1])
    store.upsert_jobs(table.jobs.values(), ids[-1])
    snapshot = list(table.jobs.values())
    later = store.append_messages([message(i) for i in range(4, 7)])
    store.close()
    store = backend.open()
    try:
        assert store.load_jobs() == snapshot
        assert store.last_folded_message_id() == ids[-1]
        assert [m.id for m in store.messages_after(ids[-1])] == later
        assert store.append_messages([message(7)])[0] > later[-1]
    finally:
        store.close()


# --- migration of an old sqlite journal ----------------------------------------------------------


def test_a_journal_from_before_sites_keeps_its_rows_as_this_hosts(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:2])  # schema version 2: no site columns
    m = message(1)
    conn.execute(
        "INSERT INTO messages (arrival, arrival_epoch, device, subscription, action, message_id,"
        " summary, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (m.arrival.astimezone(UTC).isoformat(), m.arrival.timestamp(), *m[1:]),
    )
    conn.close()
    with Journal(path, site="old-pc") as journal:
        assert [x.raw for x in journal.messages_after(0)] == [raw(1)]
        journal.append_messages([message(2)])
        journal.upsert_jobs([lifecycle(JobTable())], 2)
        assert len(journal.load_jobs()) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        assert conn.execute("SELECT id, site FROM messages ORDER BY id").fetchall() == [
            (1, "old-pc"),
            (2, "old-pc"),
        ]
    with Journal(path, site="new-name") as journal:  # a renamed host: old rows keep their site
        journal.append_messages([message(3)])
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT site FROM messages ORDER BY id")] == [
            "old-pc",
            "old-pc",
            "new-name",
        ]
