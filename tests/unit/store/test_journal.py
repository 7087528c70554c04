"""The journal: WAL, schema versions, messages, folded job state, devices, trust, retention."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

import pytest

from wsdmon.core import JobTable
from wsdmon.core.devices import SubscriptionStatus
from wsdmon.protocol.dsm import FilterState, JobState
from wsdmon.store import Journal, JournalError, read_jobs
from wsdmon.store import journal as journal_module
from wsdmon.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate

from .helpers import DEV, DEV2, T0, device_record, lifecycle, message, observe, raw, status


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


# --- opening -----------------------------------------------------------------------------------


def test_wal_mode_is_active_and_persistent(journal: Journal, db_path: Path) -> None:
    journal.append_message(*message(1))
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert db_path.with_name(db_path.name + "-wal").exists()


@pytest.mark.parametrize(("setting", "level"), [("NORMAL", 1), ("FULL", 2)])
def test_synchronous_setting(db_path: Path, setting: str, level: int) -> None:
    with Journal(db_path, synchronous=setting) as j:  # type: ignore[arg-type]
        assert j._conn.execute("PRAGMA synchronous").fetchone()[0] == level


def test_schema_version_is_user_version(journal: Journal, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)


def test_a_journal_from_a_newer_wsdmon_is_refused_untouched(db_path: Path) -> None:
    Journal(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(JournalError, match="newer than this wsdmon"):
        Journal(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99


def test_migrations_run_in_order_and_a_failing_one_leaves_the_old_version(db_path: Path) -> None:
    Journal(db_path).close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    broken = (*MIGRATIONS, ("ALTER TABLE messages ADD COLUMN size INTEGER", "THIS IS NOT SQL"))
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
    assert "size" not in columns  # the DDL of the failed migration was rolled back with it

    def backfill(c: sqlite3.Connection) -> None:
        c.execute("UPDATE messages SET size = length(raw)")

    good = (*MIGRATIONS, ("ALTER TABLE messages ADD COLUMN size INTEGER", backfill))
    assert migrate(conn, good) == SCHEMA_VERSION
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


def test_a_file_that_is_not_a_database_gives_advice(db_path: Path) -> None:
    db_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JournalError, match="move it aside"):
        Journal(db_path)


def test_parent_directories_are_created(tmp_path: Path) -> None:
    with Journal(tmp_path / "a" / "b" / "journal.sqlite3") as j:
        assert j.append_message(*message(1)) == 1


def test_use_from_another_thread_fails_loudly(journal: Journal) -> None:
    with ThreadPoolExecutor(1) as pool, pytest.raises(sqlite3.ProgrammingError):
        pool.submit(journal.append_message, *message(1)).result()


# --- messages ----------------------------------------------------------------------------------


def test_append_returns_increasing_ids_and_raw_bytes_come_back(journal: Journal) -> None:
    ids = [journal.append_message(*message(i)) for i in range(1, 4)]
    assert ids == [1, 2, 3]
    assert journal.raw_message(2) == raw(2)
    assert journal.raw_message(99) is None


def test_append_messages_is_one_transaction_all_or_none(journal: Journal, db_path: Path) -> None:
    assert journal.append_messages([message(i) for i in range(1, 6)]) == [1, 2, 3, 4, 5]
    bad = [message(6), message(7)._replace(arrival=datetime(2026, 1, 1)), message(8)]  # naive arrival
    with pytest.raises(ValueError, match="timezone-aware"):
        journal.append_messages(bad)
    assert _count(db_path, "messages") == 5
    assert journal.append_messages([]) == []


@pytest.mark.parametrize("size", [1, 3, 64, 100, 257])
def test_batched_ids_name_the_rows_written_even_after_retention_removed_the_newest(
    journal: Journal, db_path: Path, size: int
) -> None:
    # Batches go in as multi-row INSERTs of 64, 32 … 1 rows; each returned id must be its own row's.
    journal.append_messages([message(i) for i in range(1, 4)])
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM messages WHERE id = 3")  # AUTOINCREMENT: id 3 is never reused
    rows = [message(i) for i in range(10, 10 + size)]
    ids = journal.append_messages(rows)
    assert ids == list(range(4, 4 + size))
    for row_id, row in zip(ids, rows, strict=True):
        assert journal.raw_message(row_id) == row.raw


def test_a_failing_row_rolls_the_batch_back_and_the_journal_stays_usable(
    journal: Journal, db_path: Path
) -> None:
    bad = [message(1), message(2)._replace(device=None), message(3)]  # NOT NULL fails inside the transaction
    with pytest.raises(sqlite3.IntegrityError):
        journal.append_messages(bad)  # type: ignore[list-item]
    assert _count(db_path, "messages") == 0
    assert journal.append_messages([message(4)]) == [1]


def test_damaged_message_rows_are_skipped_in_replay_and_raw_view(journal: Journal, db_path: Path) -> None:
    journal.append_messages([message(i) for i in range(1, 4)])
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE messages SET arrival = 'soon' WHERE id = 1")
        conn.execute("UPDATE messages SET raw = 'text' WHERE id = 2")
    assert [m.id for m in journal.messages_after(0)] == [3]
    assert journal.skipped_rows == 2
    assert journal.raw_message(2) is None


class _EnginesOwnRow(NamedTuple):
    arrival: datetime
    device: str
    subscription: str | None
    action: str
    message_id: str | None
    summary: str
    raw: bytes


def test_any_tuple_of_the_row_shape_is_accepted(journal: Journal) -> None:
    row = _EnginesOwnRow(*message(1))  # the engine passes its own NamedTuple
    assert journal.append_messages([row]) == [1]
    assert journal.raw_message(1) == raw(1)


def test_arrival_is_stored_in_utc(journal: Journal) -> None:
    local = datetime(2026, 11, 23, 18, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    journal.append_message(*message(1, at=local))
    (stored,) = journal.messages_after(0)
    assert stored.arrival == local
    assert stored.arrival.utcoffset() == timedelta(0)


def test_messages_after_pages_and_tolerates_appends_while_iterating(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "REPLAY_PAGE_ROWS", 3)
    journal.append_messages([message(i) for i in range(1, 11)])
    seen = []
    for stored in journal.messages_after(4):
        seen.append(stored.id)
        if stored.id == 5:
            journal.append_message(*message(11))
    assert seen == list(range(5, 12))
    row_id, arrival, device, action, body = next(journal.messages_after(10))  # unpacks as a 5-tuple
    assert (row_id, device, body) == (11, DEV, raw(11))
    assert arrival.tzinfo is not None
    assert action.endswith("PostScanJobStatusEvent")


# --- folded job state --------------------------------------------------------------------------


def test_jobs_round_trip_through_the_journal(journal: Journal) -> None:
    table = JobTable()
    lifecycle(table, "tok-1")
    observe(table, status("tok-2", JobState.PROCESSING, 5), 10, 10)
    lifecycle(table, "tok-1", DEV2)  # same token on another server: another job (§2.2.3.28)
    journal.upsert_jobs(table.jobs.values(), 10)
    assert journal.load_jobs() == list(table.jobs.values())
    assert journal.last_folded_message_id() == 10


def test_timeline_rows_are_appended_not_rewritten(journal: Journal, db_path: Path) -> None:
    table = JobTable()
    first = observe(table, status("tok-1", JobState.PENDING, 0), 1, 1)
    journal.upsert_jobs([first], 1)
    with sqlite3.connect(db_path) as conn:  # a mark a rewrite of row 0 would erase
        conn.execute("UPDATE timeline SET journal_id = 777 WHERE seq = 0")
    record = lifecycle(table, "tok-1")  # the repeated first observation is a duplicate: +3 entries
    journal.upsert_jobs([record], 4)
    assert _count(db_path, "timeline") == len(record.timeline) == 4
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT journal_id FROM timeline WHERE seq = 0").fetchone()[0] == 777
    assert journal.load_jobs() == [record]


def test_a_timeline_that_is_not_an_extension_is_rewritten(journal: Journal) -> None:
    record = lifecycle(JobTable(), "tok-1")
    journal.upsert_jobs([record], 4)
    shorter = dataclasses.replace(record, timeline=record.timeline[:2])
    journal.upsert_jobs([shorter], 4)
    assert journal.load_jobs() == [shorter]
    other_last = dataclasses.replace(record, timeline=(*record.timeline[:1], record.timeline[3]))
    journal.upsert_jobs([other_last], 4)
    assert journal.load_jobs() == [other_last]
    journal.upsert_jobs([record], 4)
    assert journal.load_jobs() == [record]


def test_a_trimmed_timeline_is_stored_incrementally_and_loads_back(journal: Journal, db_path: Path) -> None:
    from wsdmon.core.jobs import MAX_TIMELINE

    table = JobTable()
    record = observe(table, status("tok-1", JobState.PENDING, 0), 0, 0)
    for i in range(1, MAX_TIMELINE - 2):
        record = observe(table, status("tok-1", JobState.PROCESSING, i), i, i)
    journal.upsert_jobs([record], MAX_TIMELINE)
    with sqlite3.connect(db_path) as conn:  # a mark a rewrite of the kept rows would erase
        conn.execute("UPDATE timeline SET journal_id = 777 WHERE seq IN (0, ?)", (MAX_TIMELINE - 4,))
    for i in range(MAX_TIMELINE - 2, MAX_TIMELINE + 120):  # past the cap: the oldest but one go
        record = observe(table, status("tok-1", JobState.PROCESSING, i), i, i)
        if i % 50 == 0:
            journal.upsert_jobs([record], i)
    journal.upsert_jobs([record], MAX_TIMELINE + 120)
    assert record.timeline_dropped == 120  # observations 0 … MAX_TIMELINE + 119
    assert _count(db_path, "timeline") == MAX_TIMELINE
    with sqlite3.connect(db_path) as conn:
        marks = conn.execute("SELECT seq FROM timeline WHERE journal_id = 777 ORDER BY seq").fetchall()
        last_seq = conn.execute("SELECT max(seq) FROM timeline").fetchone()[0]
    assert marks == [(0,), (MAX_TIMELINE - 4,)]  # appended to, never rewritten
    assert last_seq == record.observations - 1
    (loaded,) = journal.load_jobs()
    fixed = [e if e.journal_id != 777 else record.timeline[i] for i, e in enumerate(loaded.timeline)]
    assert dataclasses.replace(loaded, timeline=tuple(fixed)) == record
    # Many events between two flushes: everything stored has been trimmed, so it is rewritten.
    for i in range(MAX_TIMELINE + 120, 2 * MAX_TIMELINE + 200):
        record = observe(table, status("tok-1", JobState.PROCESSING, i), i, i)
    journal.upsert_jobs([record], 2 * MAX_TIMELINE + 200)
    assert journal.load_jobs() == [record]
    assert _count(db_path, "timeline") == MAX_TIMELINE


def test_last_folded_is_zero_before_any_snapshot(journal: Journal) -> None:
    assert journal.last_folded_message_id() == 0
    assert journal.load_jobs() == []


def test_damaged_job_rows_are_skipped_logged_and_counted(
    journal: Journal, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    table = JobTable()
    lifecycle(table, "tok-1")
    lifecycle(table, "tok-2")
    journal.upsert_jobs(table.jobs.values(), 8)
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE jobs SET record = '{\"v\": 1, \"status\": ' WHERE job_token = 'tok-1'")
        conn.execute("UPDATE timeline SET entry = 'null' WHERE job_token = 'tok-2' AND seq = 1")
    with caplog.at_level(logging.WARNING, logger="wsdmon.store"):
        jobs = journal.load_jobs()
    assert [j.key.job_token for j in jobs] == ["tok-2"]
    assert len(jobs[0].timeline) == len(table.jobs[jobs[0].key].timeline) - 1
    assert journal.skipped_rows == 2
    assert "tok-1" in caplog.text
    assert "timeline entry 1" in caplog.text


def test_read_jobs_in_an_executor_while_the_journal_writes(journal: Journal, db_path: Path) -> None:
    table = JobTable()
    record = lifecycle(table)
    journal.upsert_jobs([record], 4)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(read_jobs, db_path)
        journal.append_messages([message(i) for i in range(100)])
        assert future.result() == [record]


# --- devices and trust -------------------------------------------------------------------------


def test_devices_round_trip_without_runtime_state(journal: Journal) -> None:
    record = device_record()
    journal.upsert_device(record)
    (back,) = journal.load_devices()
    expected = record.with_subscription(record.services[0].address, SubscriptionStatus.NONE)
    assert back == expected
    assert back.roles == record.roles


def test_device_upsert_keeps_first_seen_and_takes_the_latest_metadata(journal: Journal) -> None:
    journal.upsert_device(device_record(seen=T0))
    later = T0 + timedelta(days=3)
    journal.upsert_device(device_record(seen=later, name="Renamed"))
    journal.upsert_device(dataclasses.replace(device_record(seen=later, name="Renamed"), last_seen=None))
    (back,) = journal.load_devices()
    assert back.friendly_name == "Renamed"
    assert back.last_seen == later
    assert journal.first_seen(DEV) == T0
    assert journal.first_seen(DEV2) is None


def test_trusted_fingerprint_is_normalised_kept_and_forgotten(journal: Journal) -> None:
    fp = "AB:" * 31 + "AB"
    assert journal.trusted_fingerprint(DEV) is None
    journal.set_trusted_fingerprint(DEV, fp)  # before the device's metadata was ever stored
    assert journal.trusted_fingerprint(DEV) == "ab" * 32
    journal.upsert_device(device_record())
    assert journal.trusted_fingerprint(DEV) == "ab" * 32
    journal.set_trusted_fingerprint(DEV, "cd" * 32)
    assert journal.trusted_fingerprint(DEV) == "cd" * 32
    journal.set_trusted_fingerprint(DEV, None)
    assert journal.trusted_fingerprint(DEV) is None
    with pytest.raises(ValueError, match="SHA-256"):
        journal.set_trusted_fingerprint(DEV, "abc")


def test_damaged_device_row_is_skipped(journal: Journal, db_path: Path) -> None:
    journal.upsert_device(device_record(DEV))
    journal.upsert_device(device_record(DEV2))
    with sqlite3.connect(db_path) as conn:
        conn.execute('UPDATE devices SET services = \'[{"role": "toaster"}]\' WHERE endpoint = ?', (DEV,))
    assert [d.endpoint for d in journal.load_devices()] == [DEV2]
    assert journal.skipped_rows == 1


# --- restart -----------------------------------------------------------------------------------


def test_restart_restores_jobs_and_replays_the_rest(db_path: Path) -> None:
    table = JobTable()
    with Journal(db_path) as j:
        ids = j.append_messages([message(i) for i in range(1, 4)])
        observe(table, status("tok-1", JobState.PENDING, 0), 1, ids[0])
        observe(table, status("tok-1", JobState.PROCESSING, 1, fs=FilterState.PROCESSING), 2, ids[1])
        observe(table, status("tok-2", JobState.PENDING, 0), 3, ids[2])
        j.upsert_jobs(table.jobs.values(), ids[-1])
        snapshot = list(table.jobs.values())
        later = j.append_messages([message(i) for i in range(4, 7)])  # arrive after the snapshot
    with Journal(db_path) as j:
        assert j.load_jobs() == snapshot
        folded = j.last_folded_message_id()
        assert folded == 3
        assert [m.id for m in j.messages_after(folded)] == later
        assert [m.raw for m in j.messages_after(folded)] == [raw(4), raw(5), raw(6)]


def test_append_rate_in_batches_of_100(db_path: Path) -> None:
    """Performance sanity (no timing assertion; figures live in bench/)."""
    batches = [[message(b * 100 + i) for i in range(100)] for b in range(100)]
    with Journal(db_path) as j:
        start = time.perf_counter()
        for batch in batches:
            j.append_messages(batch)
        elapsed = time.perf_counter() - start
    assert _count(db_path, "messages") == 10_000
    print(f"\nappend_messages: 10000 messages in batches of 100: {10_000 / elapsed:,.0f} messages/s")


def test_journal_is_usable_from_a_thread_that_opened_it(db_path: Path) -> None:
    result: list[int] = []

    def work() -> None:
        with Journal(db_path) as j:
            result.append(j.append_message(*message(1)))

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert result == [1]
