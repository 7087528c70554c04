"""The journal keys jobs by (device, token, generation) (core.jobs rule 6): two jobs with one token
are two rows with their own timelines, through upsert, load, retention and export, and a journal
written before generations existed (schema version 1) migrates with its jobs as generation 0."""

from __future__ import annotations

import csv
import dataclasses
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from wsdmon.core import Change, ChangeField, JobKey, JobRecord, JobTable, TimelineEntry
from wsdmon.protocol.dsm import JobState
from wsdmon.store import Journal, export_jobs_csv, export_jobs_json
from wsdmon.store.codec import dumps, encode_job_record, encode_timeline_entry
from wsdmon.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate

from .helpers import CREATED, DEV, T0, lifecycle, message, observe, status

LATER = CREATED + timedelta(hours=2)  # the JobCreatedTime of the job that reuses "tok-1"


def two_jobs_one_token(table: JobTable) -> tuple[JobRecord, JobRecord]:
    """tok-1 from Pending to its end, then another job that reused tok-1 (a new JobCreatedTime)."""
    first = lifecycle(table)
    observe(table, status("tok-1", JobState.PENDING, 0, created=LATER), 100, 5)
    second = observe(table, status("tok-1", JobState.PROCESSING, 1, created=LATER), 101, 6)
    assert second.key == JobKey(DEV, "tok-1", 1)
    return table.jobs[first.key], second


def test_two_jobs_with_one_token_are_stored_and_loaded_apart(journal: Journal) -> None:
    table = JobTable()
    first, second = two_jobs_one_token(table)
    journal.upsert_jobs([first, second], 6)
    # A later observation of the new job appends to its timeline only.
    third = observe(table, status("tok-1", JobState.PROCESSING, 2, created=LATER), 102, 7)
    journal.upsert_jobs([third], 7)
    loaded = {job.key: job for job in journal.load_jobs()}
    assert loaded == {first.key: first, third.key: third}
    assert [e.journal_id for e in loaded[first.key].timeline] == [1, 2, 3, 4]
    assert [e.journal_id for e in loaded[third.key].timeline] == [5, 6, 7]


def _old_entry(entry: TimelineEntry) -> str:
    """A timeline row as wsdmon wrote it before changes were typed: English lines."""
    obj = encode_timeline_entry(entry)
    obj["changes"] = [f"line {i} of {entry.journal_id}" for i in range(len(entry.changes))]
    return dumps(obj)


def _v1_journal(path: Path, records: list[JobRecord]) -> None:
    """A journal as wsdmon wrote it before generations: schema version 1, jobs keyed by (device,
    token), its rows written the way that version wrote them (timeline changes as English lines)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn, MIGRATIONS[:1])
    m = message(1)
    conn.execute(
        "INSERT INTO messages (arrival, arrival_epoch, device, subscription, action, message_id,"
        " summary, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (m.arrival.isoformat(), m.arrival.timestamp(), *m[1:]),
    )
    for r in records:
        key = (r.key.device, r.key.job_token)
        conn.execute(
            "INSERT INTO jobs (device, job_token, active, last_update_epoch, record) VALUES (?, ?, ?, ?, ?)",
            (*key, int(r.is_active), r.last_update.timestamp(), dumps(encode_job_record(r, timeline=False))),
        )
        for seq, entry in enumerate(r.timeline):
            conn.execute(
                "INSERT INTO timeline (device, job_token, seq, journal_id, entry) VALUES (?, ?, ?, ?, ?)",
                (*key, seq, entry.journal_id, _old_entry(entry)),
            )
    conn.execute("INSERT INTO state (key, value) VALUES ('last_folded_message_id', 4)")
    conn.close()


def _timeline_rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT * FROM timeline ORDER BY job_token, seq").fetchall()


def test_a_journal_of_schema_1_migrates_with_its_jobs_as_generation_0(db_path: Path, tmp_path: Path) -> None:
    table = JobTable()
    old = lifecycle(table)
    running = observe(table, status("tok-2", JobState.PROCESSING, 1), 5, None)
    _v1_journal(db_path, [old, running])

    with Journal(db_path) as journal:
        with sqlite3.connect(db_path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        loaded = {job.key: job for job in journal.load_jobs()}
        assert set(loaded) == {JobKey(DEV, "tok-1", 0), JobKey(DEV, "tok-2", 0)}
        for was in (old, running):
            back = loaded[was.key]
            assert dataclasses.replace(back, timeline=was.timeline) == was
            assert [e.changes for e in back.timeline] == [
                tuple(
                    Change(ChangeField.TEXT, new=f"line {i} of {e.journal_id}") for i in range(len(e.changes))
                )
                for e in was.timeline
            ]  # the English lines, shown as they were written
        rows_before = _timeline_rows(db_path)
        journal.upsert_jobs(loaded.values(), 4)  # written back as loaded: not one row rewritten
        assert _timeline_rows(db_path) == rows_before
        assert journal.last_folded_message_id() == 4
        assert journal.raw_message(1) == message(1).raw
        # The journal goes on: a job that reuses tok-1 is a row beside the old one.
        restored = JobTable()
        restored.restore(loaded.values())
        reused = observe(restored, status("tok-1", JobState.PENDING, 0, created=LATER), 100, 5)
        assert reused.key == JobKey(DEV, "tok-1", 1)
        journal.upsert_jobs([reused], 5)
        assert {job.key for job in journal.load_jobs()} == {old.key, running.key, reused.key}
        # Retention removes the old job with its own timeline only (the foreign key survived).
        journal.apply_retention(T0 + timedelta(seconds=60), timedelta(seconds=30), None)
        left = {job.key: job for job in journal.load_jobs()}
        assert set(left) == {running.key, reused.key}
        assert len(left[reused.key].timeline) == 1
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT job_token, generation FROM timeline ORDER BY job_token").fetchall()
        assert rows == [("tok-1", 1), ("tok-2", 0)]


def test_exports_tell_two_jobs_with_one_token_apart(journal: Journal, db_path: Path, tmp_path: Path) -> None:
    first, second = two_jobs_one_token(JobTable())
    journal.upsert_jobs([first, second], 6)
    export_jobs_csv(db_path, tmp_path / "jobs.csv")
    with (tmp_path / "jobs.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["job_token"], r["generation"], r["job_state"]) for r in rows] == [
        ("tok-1", "0", "Completed"),
        ("tok-1", "1", "Processing"),
    ]
    assert rows[1]["created"] == LATER.isoformat()
    export_jobs_json(db_path, tmp_path / "jobs.json")
    jobs = json.loads((tmp_path / "jobs.json").read_text(encoding="utf-8"))
    assert [(j["generation"], len(j["timeline"])) for j in jobs] == [(0, 4), (1, 2)]
    assert jobs[0]["created"] == CREATED.isoformat()  # the old job keeps its own time
