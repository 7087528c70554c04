"""MS-BDSRR scan-repository operations and repository events (§3.2.4.1-§3.2.4.7), and dsc faults.

The requests a monitoring client sends to the scan server (GetRepositoryElements, CancelPostScanJob,
GetPostScanJobElements, GetActiveJobs, GetJobHistory), their responses, the two repository events
(RepositoryStatusSummaryEvent, RepositoryElementsChangeEvent) and the dsc SOAP fault subcodes (§10
of the protocol reference). The job events themselves live in dsm.py, the data types these messages
carry in repository_types.py, except JobSummary (the rows of GetActiveJobs / GetJobHistory), here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from . import namespaces as ns
from ._job_list import JobListRequest, JobListResponse
from ._part import Field, Part, enum_reader, field, list_field
from ._xml import (
    Element,
    QName,
    append_extensions,
    check_token,
    extensions,
    qn,
    remote,
    required,
    sub,
)
from .dsm import (
    IMAGES_RECEIVED_FIELD,
    JOB_DESCRIPTION_FIELDS,
    JOB_TOKEN_FIELD,
    TERMINAL_JOB_STATES,
    FilterStatus,
    JobState,
    JobStateReason,
    RepositoryState,
    RepositoryStateReason,
    check_description,
    check_job_progress,
    check_job_token,
    read_filter_statuses,
    write_filter_statuses,
)
from .envelope import Fault, Headers, Message, body_child
from .errors import LocalProtocolError
from .repository_types import (
    JobElementData,
    RepositoryConfiguration,
    RepositoryElementData,
    RepositoryStatus,
    check_requested_names,
    read_requested_names,
    write_requested_names,
)

__all__ = [
    "CancelPostScanJobRequest",
    "CancelPostScanJobResponse",
    "DscFault",
    "GetActiveJobsRequest",
    "GetActiveJobsResponse",
    "GetJobHistoryRequest",
    "GetJobHistoryResponse",
    "GetPostScanJobElementsRequest",
    "GetPostScanJobElementsResponse",
    "GetRepositoryElementsRequest",
    "GetRepositoryElementsResponse",
    "JobSummary",
    "RepositoryElementsChangeEvent",
    "RepositoryStatusSummaryEvent",
    "dsc_fault",
    "dsc_fault_kind",
]


def _d(local: str) -> str:
    return qn(ns.DSC, local)


_JOB_TOKEN = _d("JobToken")
_REQUESTED_ELEMENTS = _d("RequestedElements")
_NAME = _d("Name")
_ELEMENT_DATA = _d("ElementData")
_REPOSITORY_CONFIGURATION = _d("RepositoryConfiguration")


# --- GetRepositoryElements (§3.2.4.1) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetRepositoryElementsRequest(Message):
    """Ask for repository elements by name (predefined: REPOSITORY_CONFIGURATION, REPOSITORY_STATUS)."""

    ACTION: ClassVar[str] = ns.DSC_GET_REPOSITORY_ELEMENTS
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)
    header: Headers
    requested: tuple[QName, ...]

    def __post_init__(self) -> None:
        check_requested_names(self.requested)

    def write_body(self, body: Element) -> None:
        write_requested_names(sub(body, _d("GetRepositoryElementsRequest")), self.requested)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        request = body_child(body, _d("GetRepositoryElementsRequest"))
        return remote(cls, header, read_requested_names(request))


@dataclass(frozen=True, slots=True)
class GetRepositoryElementsResponse(Message):
    """One ElementData per requested name, in request order (§3.2.4.1; the caller can check that)."""

    ACTION: ClassVar[str] = ns.DSC_GET_REPOSITORY_ELEMENTS_RESPONSE
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)
    header: Headers
    elements: tuple[RepositoryElementData, ...]

    def __post_init__(self) -> None:
        if not self.elements:
            raise LocalProtocolError("RepositoryElements must hold at least one ElementData (§3.2.4.1)")

    def write_body(self, body: Element) -> None:
        elements = sub(sub(body, _d("GetRepositoryElementsResponse")), _d("RepositoryElements"))
        for element in self.elements:
            element.write(elements)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        response = body_child(body, _d("GetRepositoryElementsResponse"))
        elements = required(response, _d("RepositoryElements"))
        read = RepositoryElementData.read
        return remote(cls, header, tuple([read(e) for e in elements if e.tag == _ELEMENT_DATA]))


# --- CancelPostScanJob (§3.2.4.2) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CancelPostScanJobRequest(Message):
    """Cancel a processing job; the outcome arrives as a PostScanJobEndStateEvent (best effort)."""

    ACTION: ClassVar[str] = ns.DSC_CANCEL_POST_SCAN_JOB
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)
    header: Headers
    job_token: str

    def __post_init__(self) -> None:
        check_job_token(self.job_token)

    def write_body(self, body: Element) -> None:
        sub(sub(body, _d("CancelPostScanJobRequest")), _JOB_TOKEN, self.job_token)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        request = body_child(body, _d("CancelPostScanJobRequest"))
        # The token is opaque: whitespace preserved (§2.2.3.28).
        return remote(cls, header, required(request, _JOB_TOKEN).text or "")


@dataclass(frozen=True, slots=True)
class CancelPostScanJobResponse(Message):
    """The cancel request was accepted (empty body element; vendor children allowed)."""

    ACTION: ClassVar[str] = ns.DSC_CANCEL_POST_SCAN_JOB_RESPONSE
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)
    header: Headers
    extensions: tuple[str, ...] = ()

    def write_body(self, body: Element) -> None:
        append_extensions(sub(body, _d("CancelPostScanJobResponse")), self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        return cls(header, extensions(body_child(body, _d("CancelPostScanJobResponse")), ns.DSC))


# --- GetPostScanJobElements (§3.2.4.3) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetPostScanJobElementsRequest(Message):
    """Ask for elements of one job (predefined: JOB_STATUS, JOB_DESCRIPTION, DOCUMENTS)."""

    ACTION: ClassVar[str] = ns.DSC_GET_POST_SCAN_JOB_ELEMENTS
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)
    header: Headers
    job_token: str
    requested: tuple[QName, ...]

    def __post_init__(self) -> None:
        check_job_token(self.job_token)
        check_requested_names(self.requested)

    def write_body(self, body: Element) -> None:
        request = sub(body, _d("GetPostScanJobElementsRequest"))
        sub(request, _JOB_TOKEN, self.job_token)
        write_requested_names(request, self.requested)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        request = body_child(body, _d("GetPostScanJobElementsRequest"))
        token = required(request, _JOB_TOKEN).text or ""
        return remote(cls, header, token, read_requested_names(request))


@dataclass(frozen=True, slots=True)
class GetPostScanJobElementsResponse(Message):
    """One ElementData per requested name, in request order (§3.2.4.3)."""

    ACTION: ClassVar[str] = ns.DSC_GET_POST_SCAN_JOB_ELEMENTS_RESPONSE
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)
    header: Headers
    elements: tuple[JobElementData, ...]

    def __post_init__(self) -> None:
        if not self.elements:
            raise LocalProtocolError("JobElements must hold at least one ElementData (§3.2.4.3)")

    def write_body(self, body: Element) -> None:
        elements = sub(sub(body, _d("GetPostScanJobElementsResponse")), _d("JobElements"))
        for element in self.elements:
            element.write(elements)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        response = body_child(body, _d("GetPostScanJobElementsResponse"))
        elements = required(response, _d("JobElements"))
        read = JobElementData.read
        return remote(cls, header, tuple([read(e) for e in elements if e.tag == _ELEMENT_DATA]))


# --- JobSummary (dsc:JobSummaryType): one row of GetActiveJobs / GetJobHistory ------------------


@dataclass(frozen=True, slots=True)
class JobSummary(Part):
    """A job as listed by GetActiveJobs / GetJobHistory: JobStatus without times, plus the
    JobDescription fields (§3.2.4.4: all fields filled)."""

    TAG: ClassVar[str] = _d("JobSummary")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        JOB_TOKEN_FIELD,
        *JOB_DESCRIPTION_FIELDS,
        field(_d("JobState"), enum_reader(JobState)),
        list_field(_d("JobStateReasons"), _d("JobStateReason"), JobStateReason, required=False),
        field(_d("FilterStatuses"), read_filter_statuses, write_filter_statuses),
        IMAGES_RECEIVED_FIELD,
    )
    job_token: str
    psp_identifier: str
    psp_display_name: str
    job_originating_user_name: str
    job_state: JobState | str
    job_state_reasons: tuple[JobStateReason | str, ...]
    filter_statuses: tuple[FilterStatus, ...]
    images_received: int
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_job_token(self.job_token)
        check_description(self)
        check_job_progress(self.job_state, self.job_state_reasons, self.filter_statuses, self.images_received)

    @property
    def is_terminal(self) -> bool:
        return self.job_state in TERMINAL_JOB_STATES


# --- GetActiveJobs (§3.2.4.4) and GetJobHistory (§3.2.4.5) -------------------------------------


class _JobListRequest(JobListRequest):
    __slots__ = ()
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)


class _JobListResponse(JobListResponse[JobSummary]):
    __slots__ = ()
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)

    @classmethod
    def read_rows(cls, listing: Element) -> Iterable[JobSummary]:
        return (JobSummary.read(j) for j in listing if j.tag == JobSummary.TAG)


@dataclass(frozen=True, slots=True)
class GetActiveJobsRequest(_JobListRequest):
    """List the jobs the repository is currently processing."""

    ACTION: ClassVar[str] = ns.DSC_GET_ACTIVE_JOBS
    _TAG: ClassVar[str] = _d("GetActiveJobsRequest")


@dataclass(frozen=True, slots=True)
class GetActiveJobsResponse(_JobListResponse):
    """One JobSummary per currently processing job, all fields filled (§3.2.4.4)."""

    ACTION: ClassVar[str] = ns.DSC_GET_ACTIVE_JOBS_RESPONSE
    _TAG: ClassVar[str] = _d("GetActiveJobsResponse")
    _LIST_TAG: ClassVar[str] = _d("ActiveJobs")


@dataclass(frozen=True, slots=True)
class GetJobHistoryRequest(_JobListRequest):
    """List the completed jobs the repository kept (depth is implementation-defined)."""

    ACTION: ClassVar[str] = ns.DSC_GET_JOB_HISTORY
    _TAG: ClassVar[str] = _d("GetJobHistoryRequest")


@dataclass(frozen=True, slots=True)
class GetJobHistoryResponse(_JobListResponse):
    """One JobSummary per completed job the repository kept (§3.2.4.5)."""

    ACTION: ClassVar[str] = ns.DSC_GET_JOB_HISTORY_RESPONSE
    _TAG: ClassVar[str] = _d("GetJobHistoryResponse")
    _LIST_TAG: ClassVar[str] = _d("JobHistory")


# --- Repository events (§3.2.4.6, §3.2.4.7) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepositoryStatusSummaryEvent(Message):
    """Sent on every repository status change (§3.2.4.7). `extensions` are vendor children of
    StatusSummary, `event_extensions` those of the event element itself."""

    ACTION: ClassVar[str] = ns.DSC_REPOSITORY_STATUS_SUMMARY_EVENT
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)
    header: Headers
    state: RepositoryState | str
    reasons: tuple[RepositoryStateReason | str, ...] = ()
    extensions: tuple[str, ...] = ()
    event_extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_token("RepositoryState", self.state)
        for reason in self.reasons:
            check_token("RepositoryStateReason", reason)

    @property
    def status(self) -> RepositoryStatus:
        """The summary as the RepositoryStatus GetRepositoryElements would return."""
        return RepositoryStatus(self.state, self.reasons, self.extensions)

    def write_body(self, body: Element) -> None:
        event = sub(body, _d("RepositoryStatusSummaryEvent"))
        self.status.write(event, _d("StatusSummary"))
        append_extensions(event, self.event_extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        event = body_child(body, _d("RepositoryStatusSummaryEvent"))
        status = RepositoryStatus.read(required(event, _d("StatusSummary")))
        return cls(header, status.state, status.reasons, status.extensions, extensions(event, ns.DSC))


@dataclass(frozen=True, slots=True)
class RepositoryElementsChangeEvent(Message):
    """The repository configuration changed (§3.2.4.6; Windows servers never send it, §7 <17>).
    `extensions` are vendor children of ElementChanges (other changed elements), `event_extensions`
    those of the event element itself."""

    ACTION: ClassVar[str] = ns.DSC_REPOSITORY_ELEMENTS_CHANGE_EVENT
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)
    header: Headers
    configuration: RepositoryConfiguration | None = None
    extensions: tuple[str, ...] = ()
    event_extensions: tuple[str, ...] = ()

    def write_body(self, body: Element) -> None:
        event = sub(body, _d("RepositoryElementsChangeEvent"))
        changes = sub(event, _d("ElementChanges"))
        if self.configuration is not None:
            self.configuration.write(changes)
        append_extensions(changes, self.extensions)
        append_extensions(event, self.event_extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        event = body_child(body, _d("RepositoryElementsChangeEvent"))
        changes = required(event, _d("ElementChanges"))
        configuration = None
        for item in changes:
            if item.tag == _REPOSITORY_CONFIGURATION:
                configuration = RepositoryConfiguration.read(item)
        return cls(header, configuration, extensions(changes, ns.DSC), extensions(event, ns.DSC))


# --- dsc SOAP faults (§2.2.2.1, §3.1.4.1) -------------------------------------------------------


class DscFault(StrEnum):
    """Local names of the dsc fault subcodes (dsc:FaultSubcodeValuesType)."""

    INVALID_ARGS = "InvalidArgs"
    OPERATION_FAILED = "OperationFailed"
    CLIENT_ERROR_CURRENT_USER_NOT_SCAN_ADMIN = "ClientErrorCurrentUserNotScanAdmin"
    CLIENT_ERROR_JOB_TOKEN_NOT_FOUND = "ClientErrorJobTokenNotFound"
    SERVER_ERROR_INTERNAL_ERROR = "ServerErrorInternalError"
    SERVER_ERROR_TEMPORARY_ERROR = "ServerErrorTemporaryError"
    SERVER_ERROR_POST_SCAN_JOB_CANCELED = "ServerErrorPostScanJobCanceled"


def dsc_fault(
    subcode: DscFault,
    relates_to: str | None,
    reason: str,
    detail: str | None = None,
    message_id: str | None = None,
) -> Fault:
    """A dsc fault answering the request `relates_to`: soap:Sender for InvalidArgs and ClientError*
    (§3.1.4.1; ClientErrorJobTokenNotFound per §3.1.4.1.6, not the §4.2 example), Receiver otherwise."""
    try:
        kind = DscFault(subcode)
    except ValueError:
        raise LocalProtocolError(f"{subcode!r} is not a dsc fault subcode") from None
    sender = kind is DscFault.INVALID_ARGS or kind.startswith("ClientError")
    code = "Sender" if sender else "Receiver"
    return Fault(Headers.reply(relates_to, message_id=message_id), code, QName(ns.DSC, kind), reason, detail)


def dsc_fault_kind(fault: Fault) -> DscFault | None:
    """The dsc subcode of a fault, matched on the Subcode local name in any namespace and under
    either Code (the protocol reference's §10 client rule); None for other faults."""
    if fault.subcode is None:
        return None
    try:
        return DscFault(fault.subcode.local)
    except ValueError:
        return None


MESSAGES: tuple[type[Message], ...] = (
    GetRepositoryElementsRequest,
    GetRepositoryElementsResponse,
    CancelPostScanJobRequest,
    CancelPostScanJobResponse,
    GetPostScanJobElementsRequest,
    GetPostScanJobElementsResponse,
    GetActiveJobsRequest,
    GetActiveJobsResponse,
    GetJobHistoryRequest,
    GetJobHistoryResponse,
    RepositoryStatusSummaryEvent,
    RepositoryElementsChangeEvent,
)
