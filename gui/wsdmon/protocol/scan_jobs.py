"""WS-Scan job lists: GetActiveJobs and GetJobHistory, the scanner's own account of its scan jobs.

A monitor asks for them after subscribing, so that its table is right before the next event and a
job the scanner forgot (a reboot) is told apart from one that ended (core.jobs rule 5). Kept apart
from scan.py (the events and GetScannerElements) so that each module stays small.

Source: the Windows driver docs, by page title. "GetActiveJobsRequest element" / "GetJobHistoryRequest
element": empty. "GetActiveJobsResponse element" holds ActiveJobs, "GetJobHistoryResponse element"
JobHistory; "ActiveJobs element" lists Job or JobSummary children, "JobHistory element" JobSummary.
"JobSummary element": JobId, JobName, JobOriginatingUserName, JobState, JobStateReasons,
ScansCompleted (written in that order). A Job child (JobStatus, ScanTicket, Documents) is read as the
JobSummary it implies: its JobStatus, and the names of its ScanTicket's JobDescription.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from . import namespaces as ns
from ._job_list import JobListRequest, JobListResponse
from ._part import Field, Part, enum_reader, field, list_field, put_text, raw_text
from ._xml import (
    Element,
    canonical,
    check_string,
    check_token,
    child,
    parse_int,
    qn,
    remote,
)
from .envelope import Message
from .errors import LocalProtocolError, RemoteProtocolError
from .scan import MAX_COUNT, MAX_ID, TERMINAL_JOB_STATES, JobState, JobStateReason, JobStatus

__all__ = [
    "GetActiveJobsRequest",
    "GetActiveJobsResponse",
    "GetJobHistoryRequest",
    "GetJobHistoryResponse",
    "JobSummary",
]


def _w(local: str) -> str:
    return qn(ns.WSCN, local)


def _put_optional(parent: Element, tag: str, value: str | None) -> None:
    if value is not None:
        put_text(parent, tag, value)


@dataclass(frozen=True, slots=True)
class JobSummary(Part):
    """wscn:JobSummary: one scan job as GetActiveJobs / GetJobHistory list it. The page does not say
    which children are required: JobId, JobState and ScansCompleted are (a row without them says
    nothing), the names and reasons may be absent."""

    TAG: ClassVar[str] = _w("JobSummary")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        field(_w("JobId"), parse_int),
        field(_w("JobName"), raw_text, _put_optional, required=False),
        field(_w("JobOriginatingUserName"), raw_text, _put_optional, required=False),
        field(_w("JobState"), enum_reader(JobState)),
        list_field(
            _w("JobStateReasons"), _w("JobStateReason"), JobStateReason, required=False, allow_empty=True
        ),
        field(_w("ScansCompleted"), parse_int),
    )
    job_id: int
    job_name: str | None
    job_originating_user_name: str | None
    job_state: JobState | str
    job_state_reasons: tuple[JobStateReason | str, ...]
    scans_completed: int
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.job_id <= MAX_ID:  # "JobId element": 1 through 2147483648
            raise LocalProtocolError(f"JobId {self.job_id} is outside 1..{MAX_ID} (driver docs)")
        for value in (self.job_name, self.job_originating_user_name):
            if value is not None:
                check_string("JobName/JobOriginatingUserName", value)
        check_token("JobState", self.job_state)
        for reason in self.job_state_reasons:
            check_token("JobStateReason", reason)
        if not 0 <= self.scans_completed <= MAX_COUNT:  # as scan.py: a job starts with none
            raise LocalProtocolError(f"ScansCompleted {self.scans_completed} is outside 0..{MAX_COUNT}")

    @property
    def is_terminal(self) -> bool:
        return self.job_state in TERMINAL_JOB_STATES


_JOB = _w("Job")
_SCAN_TICKET = _w("ScanTicket")
_JOB_DESCRIPTION = _w("JobDescription")


def _summary_of_job(el: Element) -> JobSummary:
    """An ActiveJobs/Job child as the JobSummary it implies (its JobStatus is required)."""
    status_el = child(el, JobStatus.TAG)
    if status_el is None:
        raise RemoteProtocolError("Job lacks required JobStatus")
    status = JobStatus.read(status_el)
    name = user = None
    ticket = child(el, _SCAN_TICKET)
    description = child(ticket, _JOB_DESCRIPTION) if ticket is not None else None
    if description is not None:
        name_el, user_el = child(description, _w("JobName")), child(description, _w("JobOriginatingUserName"))
        name = None if name_el is None else raw_text(name_el)
        user = None if user_el is None else raw_text(user_el)
    extra = tuple(canonical(e) for e in el if isinstance(e.tag, str) and not e.tag.startswith("{" + ns.WSCN))
    return remote(
        JobSummary,
        status.job_id,
        name,
        user,
        status.job_state,
        status.job_state_reasons,
        status.scans_completed,
        status.extensions + extra,
    )


class _JobListRequest(JobListRequest):
    __slots__ = ()
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSCN,)


class _JobListResponse(JobListResponse[JobSummary]):
    __slots__ = ()
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSCN,)

    @classmethod
    def read_rows(cls, listing: Element) -> Iterable[JobSummary]:
        """JobSummary rows, and Job rows read as the summary they imply."""
        for el in listing:
            if el.tag == JobSummary.TAG:
                yield JobSummary.read(el)
            elif el.tag == _JOB:
                yield _summary_of_job(el)


@dataclass(frozen=True, slots=True)
class GetActiveJobsRequest(_JobListRequest):
    """List the scanner's active scan jobs ("GetActiveJobsRequest element")."""

    ACTION: ClassVar[str] = ns.WSCN_GET_ACTIVE_JOBS
    _TAG: ClassVar[str] = _w("GetActiveJobsRequest")


@dataclass(frozen=True, slots=True)
class GetActiveJobsResponse(_JobListResponse):
    """Every job that has not completed processing ("ActiveJobs element"); empty when none."""

    ACTION: ClassVar[str] = ns.WSCN_GET_ACTIVE_JOBS_RESPONSE
    _TAG: ClassVar[str] = _w("GetActiveJobsResponse")
    _LIST_TAG: ClassVar[str] = _w("ActiveJobs")


@dataclass(frozen=True, slots=True)
class GetJobHistoryRequest(_JobListRequest):
    """List the scan jobs the scanner recently completed ("GetJobHistoryRequest element")."""

    ACTION: ClassVar[str] = ns.WSCN_GET_JOB_HISTORY
    _TAG: ClassVar[str] = _w("GetJobHistoryRequest")


@dataclass(frozen=True, slots=True)
class GetJobHistoryResponse(_JobListResponse):
    """The recently completed scan jobs the scanner kept ("JobHistory element")."""

    ACTION: ClassVar[str] = ns.WSCN_GET_JOB_HISTORY_RESPONSE
    _TAG: ClassVar[str] = _w("GetJobHistoryResponse")
    _LIST_TAG: ClassVar[str] = _w("JobHistory")


MESSAGES: tuple[type[Message], ...] = (
    GetActiveJobsRequest,
    GetActiveJobsResponse,
    GetJobHistoryRequest,
    GetJobHistoryResponse,
)
