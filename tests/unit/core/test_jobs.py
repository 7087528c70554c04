"""The job reducer: duplicates, re-ordering, snapshot/event races and the end-state rule."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from wsdmon.core import Change, ChangeField, JobKey, JobTable, Observation, ObservationKind, filter_summary
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStateReason,
    FilterStatus,
    JobState,
    JobStateReason,
    JobStatus,
    PostScanJobEndState,
)

DEV = "urn:uuid:553852db-6d5a-4eee-a34f-5b499c1a2944"
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
CREATED = datetime(2026, 11, 23, 16, 59, 58, tzinfo=UTC)


def status(
    state: str, images: int, fs: str = FilterState.PENDING, fm: str = FilterState.PENDING, **kw: object
) -> JobStatus:
    return JobStatus(
        "tok-1",
        state,
        kw.pop("reasons", (JobStateReason.NONE,)),  # type: ignore[arg-type]
        (FilterStatus(ns.FILTER_FILESHARE, fs), FilterStatus(ns.FILTER_EMAIL, fm)),
        images,
        kw.pop("created", CREATED),  # type: ignore[arg-type]
        kw.pop("completed", None),  # type: ignore[arg-type]
    )


def obs(
    st: JobStatus,
    seconds: float,
    mid: str | None = None,
    kind: ObservationKind = ObservationKind.STATUS_EVENT,
) -> Observation:
    return Observation(kind, DEV, st, T0 + timedelta(seconds=seconds), mid)


def test_first_observation_adds_a_job() -> None:
    table = JobTable()
    change = table.apply(obs(status(JobState.PENDING, 1), 0, "m1"))
    assert change.added
    assert change.accepted
    assert table.jobs[JobKey(DEV, "tok-1")].status.images_received == 1


def test_duplicate_message_changes_nothing() -> None:
    table = JobTable()
    table.apply(obs(status(JobState.PENDING, 1), 0, "m1"))
    change = table.apply(obs(status(JobState.PENDING, 1), 1, "m1"))
    assert not change.accepted
    assert len(change.record.timeline) == 1


def test_same_token_on_two_servers_are_two_jobs() -> None:
    table = JobTable()
    table.apply(obs(status(JobState.PENDING, 1), 0))
    table.apply(dataclasses.replace(obs(status(JobState.PENDING, 1), 0), device="urn:uuid:other"))
    assert len(table.jobs) == 2


def test_overtaken_event_is_stale() -> None:
    table = JobTable()
    table.apply(obs(status(JobState.PENDING, 3), 0, "m1"))
    table.apply(obs(status(JobState.PROCESSING, 3, FilterState.COMPLETED_SUCCESSFULLY), 2, "m3"))
    change = table.apply(obs(status(JobState.PENDING, 2), 1, "m2"))  # arrived late
    assert not change.accepted
    assert change.record.status.job_state == JobState.PROCESSING
    assert change.record.timeline[-1].stale


@pytest.mark.parametrize(
    ("later", "why"),
    [
        (status(JobState.PROCESSING, 3), "terminal state never regresses"),
        (status(JobState.COMPLETED, 2), "ImagesReceived only grows"),
        (status(JobState.COMPLETED, 3, FilterState.PROCESSING), "terminal filter never regresses"),
    ],
)
def test_backwards_observations_are_stale(later: JobStatus, why: str) -> None:
    table = JobTable()
    done = status(
        JobState.COMPLETED, 3, FilterState.COMPLETED_SUCCESSFULLY, FilterState.COMPLETED_SUCCESSFULLY
    )
    table.apply(obs(done, 0))
    assert not table.apply(obs(later, 1)).accepted, why


def test_end_state_wins_over_a_later_status_event_and_keeps_created_time() -> None:
    table = JobTable()
    table.apply(obs(status(JobState.PROCESSING, 3), 0, "m1"))
    end = PostScanJobEndState(
        "tok-1",
        "psp-1",
        "Scan to share",
        "alice",
        JobState.COMPLETED,
        (JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_ERRORS,),
        (
            FilterStatus(ns.FILTER_FILESHARE, FilterState.COMPLETED_SUCCESSFULLY),
            FilterStatus(
                ns.FILTER_EMAIL, FilterState.COMPLETED_WITH_ERRORS, (FilterStateReason.INVALID_SMTP_SERVER,)
            ),
        ),
        3,
        T0,
    )
    change = table.apply(Observation.from_end_state(DEV, end, T0 + timedelta(seconds=5), "m9"))
    assert change.accepted
    assert change.record.ended
    rec = change.record
    assert rec.status.job_created_time == CREATED  # end state has none; the known one is kept
    assert rec.psp_display_name == "Scan to share"
    assert rec.is_failed
    assert rec.duration_s == 2.0
    # A status event arriving after the end state cannot change the final values.
    late = table.apply(
        obs(
            status(
                JobState.COMPLETED, 3, FilterState.COMPLETED_SUCCESSFULLY, FilterState.COMPLETED_SUCCESSFULLY
            ),
            6,
            "m8",
        )
    )
    assert not late.accepted
    assert late.record.status.job_state_reasons == (JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_ERRORS,)


def test_snapshot_without_times_keeps_known_times() -> None:
    table = JobTable()
    table.apply(obs(status(JobState.PENDING, 1), 0))
    snap = obs(status(JobState.PENDING, 2, created=None), 1, kind=ObservationKind.SNAPSHOT)
    change = table.apply(snap)
    assert change.accepted
    assert change.record.status.job_created_time == CREATED
    assert change.record.status.images_received == 2


def test_vendor_states_are_compared_by_arrival() -> None:
    table = JobTable()
    table.apply(obs(status(JobState.PROCESSING, 1), 0))
    change = table.apply(obs(status("acme:Quarantined", 1), 1))
    assert change.accepted
    assert change.record.status.job_state == "acme:Quarantined"


def test_timeline_says_what_changed() -> None:
    table = JobTable()
    table.apply(obs(status(JobState.PENDING, 1), 0))
    change = table.apply(obs(status(JobState.PROCESSING, 2, FilterState.PROCESSING), 1))
    changes = change.record.timeline[-1].changes
    assert Change(ChangeField.JOB_STATE, "Pending", "Processing") in changes
    assert Change(ChangeField.IMAGES_RECEIVED, "1", "2") in changes
    assert Change(ChangeField.FILTER, "Pending", "Processing", ns.FILTER_FILESHARE) in changes
    assert len(changes) == 3  # the e-mail filter and the reasons did not change
    first = change.record.timeline[0].changes
    assert first == (
        Change(ChangeField.JOB_STATE, None, "Pending"),
        Change(ChangeField.IMAGES_RECEIVED, None, "1"),
    )


def test_filter_summary_and_duration_edge_cases() -> None:
    st = status(JobState.COMPLETED, 1, FilterState.COMPLETED_SUCCESSFULLY, FilterState.COMPLETED_WITH_ERRORS)
    assert filter_summary(st.filter_statuses) == (2, 2, 1)
    table = JobTable()
    rec = table.apply(
        obs(dataclasses.replace(st, job_completed_time=datetime(2026, 11, 23, 17, 0)), 0)
    ).record
    assert rec.duration_s is None  # naive "server local" vs aware: not comparable


def test_seen_message_ids_stay_bounded() -> None:
    table = JobTable(max_seen_per_device=10)
    for i in range(50):
        table.apply(obs(status(JobState.PENDING, i), i, f"m{i}"))
    assert len(table._seen_messages[DEV]) <= 10


def test_a_long_timeline_keeps_the_first_and_the_latest_observations_and_counts_the_rest() -> None:
    from wsdmon.core.jobs import MAX_TIMELINE

    table = JobTable()
    total = MAX_TIMELINE + 37
    for i in range(total):
        record = table.apply(obs(status(JobState.PROCESSING, i), i, f"m{i}")).record
    assert len(record.timeline) == MAX_TIMELINE
    assert record.timeline_dropped == total - MAX_TIMELINE
    assert record.observations == total
    assert record.timeline[0].message_id == "m0"  # how the job began stays visible
    assert [e.message_id for e in record.timeline[1:3]] == ["m38", "m39"]
    assert record.timeline[-1].message_id == f"m{total - 1}"
    assert record.status.images_received == total - 1
    # A stale observation is recorded in the timeline too, and trims alike.
    stale = table.apply(obs(status(JobState.PENDING, 0), total, "late")).record
    assert (len(stale.timeline), stale.timeline_dropped) == (MAX_TIMELINE, total - MAX_TIMELINE + 1)
    assert stale.timeline[-1].stale


def test_a_job_the_server_no_longer_reports_is_lost_until_heard_of_again() -> None:
    table = JobTable()
    table.apply(obs(status(JobState.PROCESSING, 2), 0, "m1"))
    done = dataclasses.replace(status(JobState.COMPLETED, 3), job_token="tok-done")
    table.apply(obs(done, 1, "m2"))
    other_dev = Observation(
        ObservationKind.STATUS_EVENT, "urn:uuid:other", status(JobState.PENDING, 0), T0, "m3"
    )
    table.apply(other_dev)
    fresh = dataclasses.replace(status(JobState.PENDING, 0), job_token="tok-fresh")
    table.apply(obs(fresh, 10, "m4"))  # heard of after the snapshot was asked for
    asked, answered = T0 + timedelta(seconds=5), T0 + timedelta(seconds=11)
    listed = dataclasses.replace(status(JobState.PENDING, 0), job_token="tok-listed")
    table.apply(obs(listed, 2, "m5"))

    changes = table.mark_lost(DEV, ["tok-listed"], asked, answered)

    assert [c.record.key.job_token for c in changes] == ["tok-1"]
    lost = table.jobs[JobKey(DEV, "tok-1")]
    assert lost.lost
    assert not lost.is_active
    assert lost.status == status(JobState.PROCESSING, 2)  # the last state it sent is kept
    assert lost.timeline[-1].kind is ObservationKind.SNAPSHOT
    assert lost.timeline[-1].arrival == answered
    assert lost.timeline[-1].changes == (Change(ChangeField.LOST),)
    assert lost.last_update == T0  # last heard of: unchanged
    for token in ("tok-done", "tok-fresh", "tok-listed"):
        assert not table.jobs[JobKey(DEV, token)].lost
    assert not table.jobs[JobKey("urn:uuid:other", "tok-1")].lost  # another server's job
    assert table.mark_lost(DEV, ["tok-listed"], asked, answered) == []  # already lost

    stale = table.apply(obs(status(JobState.PENDING, 1), 12, "m6"))  # older progress: still lost
    assert not stale.accepted
    assert stale.record.lost
    found = table.apply(obs(status(JobState.PROCESSING, 3), 13, "m7"))
    assert found.accepted
    assert not found.record.lost
    assert found.record.is_active


def test_a_job_key_hashes_as_its_fields_and_survives_a_copy_and_a_pickle() -> None:
    import copy
    import dataclasses
    import pickle

    from wsdmon.core import JobKey

    key = JobKey("urn:uuid:dev", "job-7", 2, "branch")
    assert hash(key) == hash(("urn:uuid:dev", "job-7", 2, "branch"))
    for other in (copy.copy(key), copy.deepcopy(key), pickle.loads(pickle.dumps(key))):  # noqa: S301 - our own bytes
        assert other == key
        assert hash(other) == hash(key)
    moved = dataclasses.replace(key, job_token="job-8")
    assert hash(moved) == hash(JobKey("urn:uuid:dev", "job-8", 2, "branch"))
    assert moved != key
    assert {key: 1}[JobKey("urn:uuid:dev", "job-7", 2, "branch")] == 1
    assert "_hash" not in repr(key)
