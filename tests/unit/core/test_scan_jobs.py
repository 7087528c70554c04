"""Scanner (WS-Scan) jobs in the one reducer: JobStatusEvent, JobEndStateEvent and job-list rows fold
into scan job records by the same rules as post-scan jobs (stale, end state final, generations, lost,
unknown), conditions raised meanwhile go on the job's timeline, and the journal codec keeps them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wsdmon.core import ChangeField, JobKey, JobKind, JobTable, ObservationKind, ScanJobStatus
from wsdmon.core.scan_jobs import (
    condition_cleared,
    condition_raised,
    scan_end_observation,
    scan_status_observation,
    scan_summary_observation,
)
from wsdmon.protocol.scan import (
    Component,
    ConditionName,
    DeviceCondition,
    JobEndState,
    JobState,
    JobStateReason,
    JobStatus,
    Severity,
)
from wsdmon.protocol.scan_jobs import JobSummary
from wsdmon.store.codec import decode_job_record, dumps, encode_job_record, loads

DEV = "urn:uuid:8a9f4c6e-2b1d-4e3f-9a8b-7c6d5e4f3a2b"
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
C1 = datetime(2026, 11, 23, 16, 59, 58, tzinfo=UTC)
C2 = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def status(state: str, scans: int, reasons: tuple[str, ...] = (), created: datetime | None = C1) -> JobStatus:
    return JobStatus(1, state, reasons, scans, created)


def test_status_event_makes_a_scan_job_in_the_shared_fields() -> None:
    table = JobTable()
    st = status(JobState.PROCESSING, 2, (JobStateReason.JOB_SCANNING,))
    change = table.apply(scan_status_observation(DEV, st, at(0), "m1", 7, instance=5))
    record = change.record
    assert change.added
    assert record.key == JobKey(DEV, "1")
    assert record.kind is JobKind.SCAN
    assert isinstance(record.status, ScanJobStatus)
    assert record.status.job_state is JobState.PROCESSING  # WS-Scan's own value, as sent
    assert record.status.images_received == 2  # ScansCompleted
    assert record.status.job_created_time == C1
    assert record.status.filter_statuses == ()
    assert record.is_active


def test_end_state_is_final_and_brings_name_and_user() -> None:
    table = JobTable()
    table.apply(scan_status_observation(DEV, status(JobState.PROCESSING, 2), at(0), "m1"))
    end = JobEndState(
        1, "Invoice", "Pat", JobState.COMPLETED, (JobStateReason.JOB_COMPLETED_WITH_ERRORS,), 3, C2
    )
    record = table.apply(scan_end_observation(DEV, end, at(1), "m2")).record
    assert (record.job_name, record.job_originating_user_name) == ("Invoice", "Pat")
    assert record.ended
    assert record.is_failed  # JobCompletedWithErrors
    assert record.status.job_created_time == C1  # kept: the end state has none (rule 4)
    # a late status event (reordered delivery) changes nothing after the end state (rule 2)
    late = table.apply(scan_status_observation(DEV, status(JobState.PROCESSING, 2), at(2), "m3"))
    assert not late.accepted
    assert late.record.status.job_state is JobState.COMPLETED


def test_going_back_in_wscn_states_is_stale_and_held_ranks_as_pending() -> None:
    table = JobTable()
    table.apply(scan_status_observation(DEV, status(JobState.STARTED, 0), at(0), "m1"))
    stale = table.apply(scan_status_observation(DEV, status(JobState.HELD, 0), at(1), "m2"))
    assert not stale.accepted
    assert stale.record.status.job_state is JobState.STARTED
    fewer = table.apply(scan_status_observation(DEV, status(JobState.PROCESSING, 3), at(2), "m3"))
    assert fewer.accepted
    assert not table.apply(scan_status_observation(DEV, status(JobState.PROCESSING, 1), at(3), "m4")).accepted


def test_a_rebooted_scanner_restarting_its_job_ids_makes_new_jobs() -> None:
    table = JobTable()
    table.apply(scan_status_observation(DEV, status(JobState.PROCESSING, 1), at(0), "m1", instance=1))
    end = JobEndState(1, "Old", "Pat", JobState.COMPLETED, (), 1, at(1))
    table.apply(scan_end_observation(DEV, end, at(1), "m2", instance=1))
    # after the reboot JobId 1 again, with no JobCreatedTime: the new InstanceId and going back tell
    fresh = status(JobState.PENDING, 0, created=None)
    new = table.apply(scan_status_observation(DEV, fresh, at(10), "m3", instance=2))
    assert new.added
    assert new.record.key == JobKey(DEV, "1", 1)
    old = table.jobs[JobKey(DEV, "1", 0)]
    assert old.ended
    assert old.job_name == "Old"
    assert old.status.job_state is JobState.COMPLETED
    assert table.latest(DEV, "1") is new.record


def test_snapshot_rows_fold_and_an_unlisted_job_is_lost() -> None:
    table = JobTable()
    table.apply(scan_status_observation(DEV, status(JobState.PROCESSING, 1), at(0), "m1"))
    table.apply(scan_status_observation(DEV, JobStatus(2, JobState.PROCESSING, (), 0, C1), at(0), "m2"))
    row = JobSummary(2, "Scan", "Kim", JobState.PROCESSING, (JobStateReason.JOB_SCANNING,), 1)
    folded = table.apply(scan_summary_observation(DEV, row, at(6), None, at(5))).record
    assert folded.job_name == "Scan"
    assert folded.status.images_received == 1
    lost = table.mark_lost(DEV, {"2"}, at(5), at(6), JobKind.SCAN)
    assert [c.record.key.job_token for c in lost] == ["1"]
    assert lost[0].record.lost
    assert not lost[0].record.is_active


def test_a_condition_raised_while_a_scan_job_runs_is_on_its_timeline() -> None:
    table = JobTable()
    table.apply(scan_status_observation(DEV, status(JobState.PROCESSING, 1), at(0), "m1"))
    done = JobStatus(2, JobState.COMPLETED, (), 1, C1, C1)
    table.apply(scan_status_observation(DEV, done, at(0), "m2"))
    jam = DeviceCondition(1543, at(1), ConditionName.MEDIA_JAM, Component.ADF, Severity.CRITICAL)
    changes = table.note_condition(DEV, condition_raised(jam), at(1), 9)
    assert [c.record.key.job_token for c in changes] == ["1"]  # not the ended job
    entry = changes[0].record.timeline[-1]
    assert entry.kind is ObservationKind.DEVICE_CONDITION
    assert entry.changes[0].field is ChangeField.CONDITION_RAISED
    assert (entry.changes[0].new, entry.changes[0].subject) == ("MediaJam", "1543")
    assert entry.changes[0].details == ("ADF", "Critical")
    assert changes[0].record.status.job_state is JobState.PROCESSING  # nothing else changed
    cleared = table.note_condition(DEV, condition_cleared(1543, "MediaJam"), at(2))
    assert cleared[0].record.timeline[-1].changes[0].field is ChangeField.CONDITION_CLEARED


def test_scan_job_record_round_trips_through_the_journal_codec() -> None:
    table = JobTable()
    table.apply(scan_status_observation(DEV, status(JobState.PROCESSING, 1, ("acme:Warm",)), at(0), "m1"))
    end = JobEndState(1, "Invoice", "Pat", "acme:Filed", (JobStateReason.NONE,), 3, C2)
    record = table.apply(scan_end_observation(DEV, end, at(1), "m2")).record
    jam = DeviceCondition(7, at(1), "acme:Smudge", Component.PLATEN, Severity.WARNING)
    table.apply(scan_status_observation(DEV, JobStatus(5, JobState.PROCESSING, (), 0), at(2), "m3"))
    noted = table.note_condition(DEV, condition_raised(jam), at(2))[0].record
    for value in (record, noted):
        back = decode_job_record(loads(dumps(encode_job_record(value))))
        assert back == value
        assert back.kind is JobKind.SCAN
        assert isinstance(back.status, ScanJobStatus)
