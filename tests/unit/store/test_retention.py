"""Bounded growth: retention by age and by count, never an active job, never an unfolded message."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path

from wsdmon.core import JobTable
from wsdmon.protocol.dsm import JobState
from wsdmon.store import Journal

from .helpers import T0, lifecycle, message, observe, status

NOW = T0 + timedelta(days=30)


def test_retention_deletes_old_ended_jobs_but_never_an_active_one(journal: Journal, db_path: Path) -> None:
    table = JobTable()
    lifecycle(table, "old-ended")  # ended at T0
    observe(table, status("old-active", JobState.PROCESSING, 1), 5, 5)  # last heard of at T0, still active
    observe(table, status("old-terminal", JobState.ABORTED, 1), 6, 6)  # terminal, no end-state event
    journal.upsert_jobs(table.jobs.values(), 6)
    recent = JobTable()
    lifecycle(recent, "recent-ended")
    rec = dataclasses.replace(recent.jobs[next(iter(recent.jobs))], last_update=NOW - timedelta(hours=1))
    journal.upsert_jobs([rec], 6)
    deleted = journal.apply_retention(NOW, timedelta(days=7), None)
    assert deleted == 2
    assert sorted(j.key.job_token for j in journal.load_jobs()) == ["old-active", "recent-ended"]
    with sqlite3.connect(db_path) as conn:  # the deleted jobs' timelines went with them
        tokens = {r[0] for r in conn.execute("SELECT DISTINCT job_token FROM timeline")}
    assert tokens == {"old-active", "recent-ended"}


def test_retention_by_age_keeps_messages_not_yet_folded(journal: Journal) -> None:
    journal.append_messages([message(i) for i in range(1, 11)])  # all at T0 + i s: all old
    journal.upsert_jobs([], 6)
    assert journal.apply_retention(NOW, timedelta(days=1), None) == 6
    assert [m.id for m in journal.messages_after(0)] == [7, 8, 9, 10]
    assert journal.raw_message(3) is None  # the raw view says "no longer kept"


def test_retention_by_count_keeps_the_newest(journal: Journal) -> None:
    journal.append_messages([message(i) for i in range(1, 11)])
    journal.upsert_jobs([], 10)
    assert journal.apply_retention(NOW, None, 3) == 7
    assert [m.id for m in journal.messages_after(0)] == [8, 9, 10]
    assert journal.apply_retention(NOW, None, 3) == 0
    assert journal.append_message(*message(11)) == 11  # ids are never reused


def test_retention_deletes_in_bounded_steps(journal: Journal) -> None:
    journal.append_messages([message(i) for i in range(1, 26)])
    journal.upsert_jobs([], 25)
    steps = []
    while (n := journal.apply_retention(NOW, timedelta(days=1), None, limit=10)) > 0:
        steps.append(n)
    assert steps == [10, 10, 5]
    assert journal.apply_retention(NOW, None, None) == 0


def test_retention_lets_the_file_reuse_pages(db_path: Path) -> None:
    """Steady state: delete as much as is added, and the file stops growing."""
    big = b"x" * 4000
    sizes = []
    with Journal(db_path) as j:
        for rnd in range(6):
            base = rnd * 200
            ids = j.append_messages([message(base + i)._replace(raw=big) for i in range(200)])
            j.upsert_jobs([], ids[-1])
            j.apply_retention(NOW, None, 200)
            j._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            sizes.append(db_path.stat().st_size)
    assert sizes[-1] <= sizes[1] * 1.1, sizes
