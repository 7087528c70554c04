"""Job identity when devices reuse tokens (core.jobs rule 6), and jobs whose fate is unknown (rule 7)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from wsdmon.core import JobKey, JobTable, Observation, ObservationKind
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStatus,
    JobState,
    JobStateReason,
    JobStatus,
    PostScanJobEndState,
)

DEV = "urn:uuid:553852db-6d5a-4eee-a34f-5b499c1a2944"
OTHER = "urn:uuid:0c7e4e7a-1111-4c1b-9c1e-2f3f4a5b6c7d"
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
C1 = datetime(2026, 11, 23, 16, 59, 58, tzinfo=UTC)
C2 = datetime(2026, 11, 23, 18, 30, 0, tzinfo=UTC)
TOKEN = "1"  # a counter, as WS-Scan JobIds and some vendors' DSM tokens are
FILTERS = (FilterStatus(ns.FILTER_FILESHARE, FilterState.PENDING),)


def status(
    state: str, images: int, created: datetime | None = None, completed: datetime | None = None
) -> JobStatus:
    return JobStatus(TOKEN, state, (), FILTERS, images, created, completed)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(st: JobStatus, seconds: float, mid: str | None = None, **kw: object) -> Observation:
    return Observation(ObservationKind.STATUS_EVENT, DEV, st, at(seconds), mid, **kw)  # type: ignore[arg-type]


def snapshot(st: JobStatus, seconds: float, asked: float, **kw: object) -> Observation:
    return Observation(ObservationKind.SNAPSHOT, DEV, st, at(seconds), asked=at(asked), **kw)  # type: ignore[arg-type]


def end(
    state: str, images: int, completed: datetime | None, seconds: float, mid: str | None = None
) -> Observation:
    e = PostScanJobEndState(
        TOKEN, "psp-1", "Scan to share", "alice", state, (JobStateReason.NONE,), FILTERS, images, completed
    )
    return Observation.from_end_state(DEV, e, at(seconds), mid)


def finished_job(table: JobTable, created: datetime | None = C1) -> JobKey:
    """Job "1": Pending → Processing → its end state (Completed, 3 images), at 0..2 s."""
    table.apply(event(status(JobState.PENDING, 1, created), 0, "a1"))
    table.apply(event(status(JobState.PROCESSING, 3, created), 1, "a2"))
    change = table.apply(end(JobState.COMPLETED, 3, at(2), 2, "a3"))
    assert change.record.ended
    return change.record.key


def frozen(table: JobTable, key: JobKey) -> tuple[object, ...]:
    rec = table.jobs[key]
    return rec.status, rec.timeline, rec.last_update, rec.ended


# --- rule 6: another job with the same token ------------------------------------------------------


def test_a_reused_token_with_a_new_created_time_is_a_new_job_and_the_old_one_stays() -> None:
    table = JobTable()
    old = finished_job(table)
    before = frozen(table, old)

    change = table.apply(event(status(JobState.PENDING, 0, C2), 10, "b1"))

    assert change.added
    assert change.record.key == JobKey(DEV, TOKEN, 1)
    assert change.record.status.job_created_time == C2  # not dropped for the old job's
    assert frozen(table, old) == before  # the old job untouched
    # Its later observations, even without a JobCreatedTime, go to the new job.
    done = table.apply(end(JobState.ABORTED, 2, at(20), 20, "b2"))
    assert done.record.key == JobKey(DEV, TOKEN, 1)
    assert done.record.status.job_state == JobState.ABORTED  # its own end state, not ignored
    assert done.record.status.job_created_time == C2
    assert table.latest(DEV, TOKEN) == done.record
    assert frozen(table, old) == before
    assert table.jobs[old].status.job_state == JobState.COMPLETED


def test_a_late_event_of_the_previous_job_goes_to_it_not_to_the_new_one() -> None:
    table = JobTable()
    old = finished_job(table)
    table.apply(event(status(JobState.PENDING, 0, C2), 10, "b1"))
    new_before = frozen(table, JobKey(DEV, TOKEN, 1))

    late = table.apply(event(status(JobState.PROCESSING, 2, C1), 11, "a-late"))

    assert late.record.key == old
    assert not late.accepted  # after its end state: stale, as before
    assert late.record.timeline[-1].stale
    assert frozen(table, JobKey(DEV, TOKEN, 1)) == new_before
    assert len(table.jobs) == 2


def test_after_a_device_restart_a_job_going_backwards_is_a_new_job() -> None:
    table = JobTable()
    table.apply(event(status(JobState.PROCESSING, 3), 0, "a1", instance=5))
    # The device restarted (InstanceId 6) and runs a new job "1"; no JobCreatedTime to tell.
    change = table.apply(event(status(JobState.PENDING, 1), 10, "b1", instance=6))
    assert change.added
    assert change.record.key.generation == 1
    assert change.record.instance_id == 6
    old = table.jobs[JobKey(DEV, TOKEN)]
    assert (old.status.job_state, old.status.images_received) == (JobState.PROCESSING, 3)


def test_after_a_device_restart_its_history_still_listing_the_old_job_is_the_same_job() -> None:
    table = JobTable()
    old = finished_job(table)
    table.jobs[old] = dataclasses.replace(table.jobs[old], instance_id=5)
    listed = table.apply(snapshot(status(JobState.COMPLETED, 3), 10, 9, instance=6))
    assert not listed.added
    assert listed.record.key == old
    assert len(table.jobs) == 1


def test_a_job_starting_over_after_it_ended_is_a_new_job() -> None:
    table = JobTable()
    old = finished_job(table, created=None)  # a server that sends no JobCreatedTime
    before = frozen(table, old)
    change = table.apply(event(status(JobState.CREATING, 0), 10, "b1"))
    assert change.added
    assert change.record.key.generation == 1
    assert frozen(table, old) == before
    # ...and the new job then runs its own course.
    assert table.apply(event(status(JobState.PROCESSING, 1), 11, "b2")).record.key.generation == 1


def test_a_snapshot_asked_before_the_end_cannot_start_a_new_job() -> None:
    # GetActiveJobs answered while the end-state event overtook it: its Pending is stale, not new.
    table = JobTable()
    old = finished_job(table, created=None)
    change = table.apply(snapshot(status(JobState.PENDING, 1), 3, asked=1.5))
    assert not change.added
    assert change.record.key == old
    assert not change.accepted
    # Asked after the end, the same answer is a new job that reused the token.
    assert table.apply(snapshot(status(JobState.PENDING, 1), 6, asked=5)).added


def test_a_second_end_state_with_another_completed_time_ends_another_job() -> None:
    table = JobTable()
    old = finished_job(table, created=None)
    resent = table.apply(end(JobState.COMPLETED, 3, at(2), 5, "a3-resent"))  # same job, sent again
    assert resent.record.key == old
    other = table.apply(end(JobState.ABORTED, 1, at(30), 30, "c1"))
    assert other.added
    assert other.record.key.generation == 1
    assert table.jobs[old].status.job_completed_time == at(2)


def test_duplicates_and_stale_events_of_one_job_are_still_merged() -> None:
    table = JobTable()
    table.apply(event(status(JobState.PENDING, 1, C1), 0, "a1"))
    table.apply(event(status(JobState.PROCESSING, 3, C1), 1, "a2"))
    duplicate = table.apply(event(status(JobState.PENDING, 1, C1), 2, "a1"))
    assert not duplicate.accepted
    assert not duplicate.added
    stale = table.apply(event(status(JobState.PENDING, 2, C1), 3, "a0"))  # overtaken on the way
    assert not stale.accepted
    assert not stale.added
    table.apply(end(JobState.COMPLETED, 3, at(4), 4, "a3"))
    # Same JobCreatedTime: the same job, even starting over after its end (a delivery that came late).
    late = table.apply(event(status(JobState.CREATING, 0, C1), 5, "a-1"))
    assert not late.added
    assert late.record.timeline[-1].stale
    assert list(table.jobs) == [JobKey(DEV, TOKEN)]


def test_a_lost_job_seen_starting_over_is_a_new_job_and_seen_further_is_found() -> None:
    table = JobTable()
    table.apply(event(status(JobState.PROCESSING, 3), 0, "a1"))
    table.mark_lost(DEV, [], at(5), at(6))
    assert table.jobs[JobKey(DEV, TOKEN)].lost
    again = table.apply(event(status(JobState.PENDING, 1), 10, "b1"))  # the server restarted
    assert again.added
    assert again.record.key.generation == 1
    assert table.jobs[JobKey(DEV, TOKEN)].lost  # the old one stays lost


def test_a_reported_token_speaks_for_its_latest_job_only() -> None:
    table = JobTable()
    table.apply(event(status(JobState.PROCESSING, 3), 0, "a1", instance=5))
    table.apply(event(status(JobState.PENDING, 1), 10, "b1", instance=6))
    changes = table.mark_lost(DEV, [TOKEN], at(11), at(12))
    assert [c.record.key for c in changes] == [JobKey(DEV, TOKEN, 0)]
    assert table.jobs[JobKey(DEV, TOKEN, 1)].is_active


def test_restore_and_remove_keep_observations_going_to_the_latest_job() -> None:
    first = JobTable()
    finished_job(first)
    first.apply(event(status(JobState.PENDING, 0, C2), 10, "b1"))
    table = JobTable()
    table.restore(first.jobs.values())  # a restart on the journal
    assert table.apply(event(status(JobState.PROCESSING, 1, C2), 11, "b2")).record.key.generation == 1
    table.remove([JobKey(DEV, TOKEN, 1)])  # retention
    assert table.latest(DEV, TOKEN) == table.jobs[JobKey(DEV, TOKEN, 0)]
    table.remove([JobKey(DEV, TOKEN, 0)])
    assert table.latest(DEV, TOKEN) is None
    fresh = table.apply(event(status(JobState.PENDING, 0, C2), 20, "d1"))
    assert fresh.record.key == JobKey(DEV, TOKEN)


# --- rule 7: unknown since ----------------------------------------------------------------------


def test_restored_active_jobs_become_unknown_since_their_last_update() -> None:
    table = JobTable()
    table.apply(event(status(JobState.PROCESSING, 3), 4, "a1"))
    done = table.apply(dataclasses.replace(event(status(JobState.COMPLETED, 1), 1, "c1"), device=OTHER))

    changes = table.mark_unknown(None)

    assert [c.record.key for c in changes] == [JobKey(DEV, TOKEN)]
    rec = table.jobs[JobKey(DEV, TOKEN)]
    assert rec.unknown_since == at(4)
    assert not rec.is_active
    assert rec.is_unfinished
    assert rec.status.job_state == JobState.PROCESSING  # what it last said, kept
    assert table.jobs[done.record.key].unknown_since is None  # an ended job is known
    assert table.mark_unknown(at(50)) == []  # already unknown: keeps its time


def test_the_jobs_of_a_device_that_went_offline_become_unknown_and_the_next_word_settles_them() -> None:
    table = JobTable()
    table.apply(event(status(JobState.PROCESSING, 3, C1), 0, "a1"))
    other = table.apply(dataclasses.replace(event(status(JobState.PROCESSING, 1), 0, "o1"), device=OTHER))
    assert [c.record.key for c in table.mark_unknown(at(9), DEV)] == [JobKey(DEV, TOKEN)]
    assert table.jobs[JobKey(DEV, TOKEN)].unknown_since == at(9)
    assert table.jobs[other.record.key].is_active  # another device's job
    back = table.apply(event(status(JobState.PROCESSING, 4, C1), 12, "a2"))
    assert back.record.unknown_since is None
    assert back.record.is_active
    # A stale answer about the same job (same JobCreatedTime) still tells the device knows it.
    table.mark_unknown(at(20), DEV)
    stale = table.apply(event(status(JobState.PENDING, 1, C1), 21, "a0"))
    assert not stale.accepted
    assert stale.record.unknown_since is None
    assert stale.record.status.images_received == 4
    # Without a JobCreatedTime, going backwards after the device was out of sight is another job.
    table.mark_unknown(at(30), DEV)
    restarted = table.apply(event(status(JobState.PENDING, 1), 31, "b1"))
    assert restarted.added
    assert table.jobs[JobKey(DEV, TOKEN)].unknown_since == at(30)  # left for the snapshot to settle


def test_a_snapshot_settles_unknown_jobs_as_ended_or_lost() -> None:
    table = JobTable()
    table.apply(event(status(JobState.PROCESSING, 3), 0, "a1"))
    gone = dataclasses.replace(status(JobState.PROCESSING, 1), job_token="2")
    table.apply(event(gone, 0, "g1"))
    table.mark_unknown(None)
    # GetJobHistory lists job 1 as completed; job 2 is in neither list.
    settled = table.apply(snapshot(status(JobState.COMPLETED, 3), 11, asked=10))
    assert settled.record.unknown_since is None
    assert settled.record.is_terminal
    (lost,) = table.mark_lost(DEV, [TOKEN], at(10), at(11))
    assert lost.record.key == JobKey(DEV, "2")
    assert lost.record.lost
    assert lost.record.unknown_since is None
    assert not any(r.is_active or r.unknown_since for r in table.jobs.values())
