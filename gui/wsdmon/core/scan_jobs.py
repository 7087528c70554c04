"""A scanner's (WS-Scan) job messages as observations of scan jobs, for the one reducer (jobs.py).

JobStatus, JobEndState and the JobSummary rows of GetActiveJobs / GetJobHistory are converted into
the fields post-scan jobs use (job_kinds.ScanJobStatus): JobId → token (decimal text), JobState,
JobStateReasons (JobCompletedStateReasons at the end), ScansCompleted → images, JobCreatedTime,
JobCompletedTime; JobName and JobOriginatingUserName ride on the observation. Values stay as sent.
"""

from __future__ import annotations

from datetime import datetime

from wsdmon.protocol.scan import DeviceCondition, JobEndState, JobStatus
from wsdmon.protocol.scan_jobs import JobSummary

from .changes import Change, ChangeField
from .job_kinds import JobKind, ScanJobStatus
from .jobs import Observation, ObservationKind

__all__ = [
    "condition_cleared",
    "condition_raised",
    "scan_end_observation",
    "scan_status_observation",
    "scan_summary_observation",
]


def scan_status_observation(
    device: str,
    status: JobStatus,
    arrival: datetime,
    message_id: str | None = None,
    journal_id: int | None = None,
    *,
    instance: int | None = None,
) -> Observation:
    """A JobStatusEvent as an observation of the scan job it names."""
    shared = ScanJobStatus(
        str(status.job_id),
        status.job_state,
        status.job_state_reasons,
        (),
        status.scans_completed,
        status.job_created_time,
        status.job_completed_time,
        status.extensions,
    )
    return Observation(
        ObservationKind.STATUS_EVENT,
        device,
        shared,
        arrival,
        message_id,
        journal_id,
        instance=instance,
        job_kind=JobKind.SCAN,
    )


def scan_end_observation(
    device: str,
    end: JobEndState,
    arrival: datetime,
    message_id: str | None = None,
    journal_id: int | None = None,
    *,
    instance: int | None = None,
) -> Observation:
    """A JobEndStateEvent as the scan job's final values; it has no JobCreatedTime."""
    shared = ScanJobStatus(
        str(end.job_id),
        end.job_completed_state,
        end.job_completed_state_reasons,
        (),
        end.scans_completed,
        None,
        end.job_completed_time,
        end.extensions,
    )
    return Observation(
        ObservationKind.END_STATE_EVENT,
        device,
        shared,
        arrival,
        message_id,
        journal_id,
        job_originating_user_name=end.job_originating_user_name or None,
        instance=instance,
        job_kind=JobKind.SCAN,
        job_name=end.job_name or None,
    )


def scan_summary_observation(
    device: str, summary: JobSummary, arrival: datetime, instance: int | None, asked: datetime
) -> Observation:
    """A GetActiveJobs / GetJobHistory row (no times) as a snapshot observation."""
    shared = ScanJobStatus(
        str(summary.job_id),
        summary.job_state,
        summary.job_state_reasons,
        (),
        summary.scans_completed,
        extensions=summary.extensions,
    )
    return Observation(
        ObservationKind.SNAPSHOT,
        device,
        shared,
        arrival,
        job_originating_user_name=summary.job_originating_user_name or None,
        instance=instance,
        asked=asked,
        job_kind=JobKind.SCAN,
        job_name=summary.job_name or None,
    )


def condition_raised(condition: DeviceCondition) -> Change:
    """A ScannerStatusConditionEvent as a timeline line (Id, Name, Component, Severity as sent)."""
    return Change(
        ChangeField.CONDITION_RAISED,
        new=str(condition.name),
        subject=str(condition.condition_id),
        details=(str(condition.component), str(condition.severity)),
    )


def condition_cleared(condition_id: int, name: str | None) -> Change:
    """A ScannerStatusConditionClearedEvent as a timeline line; `name` if the condition was known."""
    return Change(ChangeField.CONDITION_CLEARED, new=name, subject=str(condition_id))
