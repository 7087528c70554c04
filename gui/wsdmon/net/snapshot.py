"""What the engine asks of a device's jobs: the snapshot taken after subscribing (issue 4.5):
GetActiveJobs (+ GetJobHistory) of a scan server (dsc) or a scanner (wscn), as observations, so that
the table is right before the next event; and CancelPostScanJob, as a typed outcome.

The requests and how each answer becomes observations are tables by role and answer type (issue 14,
item 5: no isinstance chain in the engine).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wsdmon.core import CancelOutcome, CancelResult, JobKey, JobKind, Observation, ObservationKind, Role
from wsdmon.core.scan_jobs import scan_summary_observation
from wsdmon.protocol import Headers, Message, RemoteProtocolError, UnknownMessage
from wsdmon.protocol.dsm import JobStatus
from wsdmon.protocol.repository import (
    CancelPostScanJobRequest,
    CancelPostScanJobResponse,
    GetActiveJobsRequest,
    GetActiveJobsResponse,
    GetJobHistoryRequest,
    GetJobHistoryResponse,
    JobSummary,
)
from wsdmon.protocol.scan_jobs import GetActiveJobsRequest as ScanGetActiveJobsRequest
from wsdmon.protocol.scan_jobs import GetActiveJobsResponse as ScanGetActiveJobsResponse
from wsdmon.protocol.scan_jobs import GetJobHistoryRequest as ScanGetJobHistoryRequest
from wsdmon.protocol.scan_jobs import GetJobHistoryResponse as ScanGetJobHistoryResponse

from .http import SoapClient, SoapFaultError, TransportError, UntrustedCertificateError, device_error

__all__ = ["KIND_OF_ROLE", "Snapshot", "cancel_post_scan_job", "take_snapshot"]

# The job lists a snapshot asks for, by role: (active jobs, history) request and response types.
_JobList = tuple[Callable[[Headers], Message], type[Message]]  # request factory, answer type
_JOB_LISTS: dict[Role, tuple[_JobList, _JobList]] = {
    Role.SCAN_SERVER: (
        (GetActiveJobsRequest, GetActiveJobsResponse),
        (GetJobHistoryRequest, GetJobHistoryResponse),
    ),
    Role.SCAN_DEVICE: (
        (ScanGetActiveJobsRequest, ScanGetActiveJobsResponse),
        (ScanGetJobHistoryRequest, ScanGetJobHistoryResponse),
    ),
}
KIND_OF_ROLE = {Role.SCAN_SERVER: JobKind.POST_SCAN, Role.SCAN_DEVICE: JobKind.SCAN}

# (a job row of the answer, device, now, InstanceId, when asked) → (its job id, its observation)
_Row = Callable[[Any, str, datetime, int | None, datetime], tuple[str, Observation]]


def _status_of_summary(summary: JobSummary) -> JobStatus:
    return JobStatus(
        summary.job_token,
        summary.job_state,
        summary.job_state_reasons,
        summary.filter_statuses,
        summary.images_received,
        extensions=summary.extensions,
    )


def _dsm_row(
    summary: JobSummary, endpoint: str, now: datetime, instance: int | None, asked: datetime
) -> tuple[str, Observation]:
    obs = Observation(
        ObservationKind.SNAPSHOT,
        endpoint,
        _status_of_summary(summary),
        now,
        psp_identifier=summary.psp_identifier,
        psp_display_name=summary.psp_display_name,
        job_originating_user_name=summary.job_originating_user_name,
        instance=instance,
        asked=asked,
    )
    return summary.job_token, obs


def _scan_row(
    row: Any, endpoint: str, now: datetime, instance: int | None, asked: datetime
) -> tuple[str, Observation]:
    return str(row.job_id), scan_summary_observation(endpoint, row, now, instance, asked)


_ROWS: dict[type[Message], _Row] = {
    GetActiveJobsResponse: _dsm_row,
    GetJobHistoryResponse: _dsm_row,
    ScanGetActiveJobsResponse: _scan_row,
    ScanGetJobHistoryResponse: _scan_row,
}

Ask = Callable[[str, str, Message], Awaitable[Message | UnknownMessage | None]]


@dataclass
class Snapshot:
    """What the device's job lists said: the job ids reported and how many lists answered."""

    kind: JobKind
    asked: datetime
    lists: int
    reported: set[str] = field(default_factory=set)
    answered: int = 0

    @property
    def complete(self) -> bool:
        """Both lists answered: an active job neither lists is lost (without the history, a job
        that ended is not told from a lost one)."""
        return self.answered == 2


async def take_snapshot(
    ask: Ask,
    endpoint: str,
    service: str,
    role: Role,
    *,
    history: bool,
    instance: int | None,
    clock: Callable[[], datetime],
    fold: Callable[[Observation], None],
) -> Snapshot:
    """Ask the job lists one by one and `fold` each answer's observations as it arrives (before the
    next is asked). `instance` is the device's InstanceId (core.jobs rule 6)."""
    lists = _JOB_LISTS[role] if history else _JOB_LISTS[role][:1]
    snap = Snapshot(KIND_OF_ROLE[role], clock(), len(lists))
    for request, expected in lists:
        answer = await ask(endpoint, service, request(Headers.request(service)))
        if not isinstance(answer, expected):
            continue
        snap.answered += 1
        now = clock()
        row_of = _ROWS[expected]
        for row in answer.jobs:  # type: ignore[attr-defined]  # every expected type has .jobs
            job_id, obs = row_of(row, endpoint, now, instance, snap.asked)
            snap.reported.add(job_id)
            fold(obs)
    return snap


async def cancel_post_scan_job(
    client: SoapClient, service: str, key: JobKey, asked: datetime
) -> CancelOutcome:
    """CancelPostScanJob of `key` on the scan server at `service`: what became of it, typed."""
    request = CancelPostScanJobRequest(Headers.request(service), key.job_token)
    try:
        answer = await client.call(service, request, device=key.device)
    except SoapFaultError as exc:
        sub = exc.fault.subcode.local if exc.fault.subcode else exc.fault.code
        return CancelOutcome(CancelResult.REFUSED, asked, code=sub, reason=exc.fault.reason)
    except (TransportError, UntrustedCertificateError, RemoteProtocolError) as exc:
        return CancelOutcome(CancelResult.FAILED, asked, error=device_error(service, exc))
    if isinstance(answer, CancelPostScanJobResponse):
        return CancelOutcome(CancelResult.ACCEPTED, asked)
    return CancelOutcome(CancelResult.UNEXPECTED, asked, code=answer.action)
