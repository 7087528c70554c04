"""MS-BDSRR (Distributed Scan Management) scan-repository messages: job status and its events.

JobStatus (§2.2.4.21) is the heart of wsdmon: every one of its seven children is parsed into a typed
field in one pass over the element's children (the hot path of the notification sink). Enumerated
values are Enum members when well-known and plain strings when they are vendor extensions (§1.8);
vendor extension elements (xs:any ##other) are kept as canonical XML.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Self

from . import namespaces as ns
from ._part import Field, Part, enum_reader, field, list_field, put_time, raw_text
from ._xml import (
    Element,
    append_extensions,
    canonical,
    check_string,
    check_token,
    enum_or_text,
    format_datetime,
    local_name,
    parse_datetime,
    parse_int,
    qn,
    read_reasons,
    remote,
    sub,
    write_reasons,
)
from .envelope import Headers, Message, body_child
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "TERMINAL_JOB_STATES",
    "FilterState",
    "FilterStateReason",
    "FilterStatus",
    "JobState",
    "JobStateReason",
    "JobStatus",
    "PostScanJobEndState",
    "PostScanJobEndStateEvent",
    "PostScanJobStatusEvent",
    "RepositoryState",
    "RepositoryStateReason",
    "check_description",
    "check_images_received",
    "check_job_progress",
    "check_job_token",
    "read_filter_statuses",
    "write_filter_statuses",
]


def _d(local: str) -> str:
    return qn(ns.DSC, local)


# --- enumerations (§2.2.5) ---------------------------------------------------------------------


class JobState(StrEnum):
    """dsc:JobStateWKVType (§2.2.5.12)."""

    ABORTED = "Aborted"
    CANCELED = "Canceled"
    COMPLETED = "Completed"
    CREATING = "Creating"
    PENDING = "Pending"
    PENDING_HELD = "Pending-Held"
    PROCESSING = "Processing"
    STARTED = "Started"
    TERMINATING = "Terminating"


TERMINAL_JOB_STATES = frozenset({JobState.ABORTED, JobState.CANCELED, JobState.COMPLETED})


class JobStateReason(StrEnum):
    """dsc:JobStateReasonWKVType (§2.2.5.11). SEND_IMANGE_FAILED is the §6.2.1 appendix's typo,
    accepted because some implementations copied the schema."""

    NONE = "None"
    POST_SCAN_JOB_TIMED_OUT = "PostScanJobTimedOut"
    NO_VALID_POST_SCAN_INSTRUCTIONS_FOUND = "NoValidPostScanInstructionsFound"
    CREATE_POST_SCAN_JOB_FAILED = "CreatePostScanJobFailed"
    SEND_IMAGE_FAILED = "SendImageFailed"
    SEND_IMANGE_FAILED = "SendImangeFailed"
    POST_SCAN_JOB_CANCELED = "PostScanJobCanceled"
    POST_SCAN_JOB_PROCESSING_FAILED = "PostScanJobProcessingFailed"
    POST_SCAN_JOB_COMPLETED_SUCCESSFULLY = "PostScanJobCompletedSuccessfully"
    POST_SCAN_JOB_COMPLETED_WITH_ERRORS = "PostScanJobCompletedWithErrors"
    POST_SCAN_JOB_COMPLETED_WITH_WARNINGS = "PostScanJobCompletedWithWarnings"


class FilterState(StrEnum):
    """dsc:FilterStateWKVType (§2.2.5.6)."""

    PENDING = "Pending"
    PROCESSING = "Processing"
    CANCELED = "Canceled"
    COMPLETED_SUCCESSFULLY = "CompletedSuccessfully"
    COMPLETED_WITH_ERRORS = "CompletedWithErrors"
    COMPLETED_WITH_WARNINGS = "CompletedWithWarnings"


class FilterStateReason(StrEnum):
    """dsc:FilterStateReasonWKVType (§2.2.5.5)."""

    INVALID_ARGS = "InvalidArgs"
    OUT_OF_DISK_SPACE = "OutOfDiskSpace"
    SERVER_OUT_OF_MEMORY = "ServerOutOfMemory"
    UNKNOWN_ERROR = "UnknownError"
    FILE_SHARE_ACCESS_DENIED = "FileShareAccessDenied"
    FILE_SHARE_OUT_OF_DISK_SPACE = "FileShareOutOfDiskSpace"
    SHARE_POINT_ACCESS_DENIED = "SharePointAccessDenied"
    SHARE_POINT_OUT_OF_DISK_SPACE = "SharePointOutOfDiskSpace"
    INVALID_SMTP_SERVER = "InvalidSMTPServer"
    UNABLE_TO_SEND_EMAIL = "UnableToSendEmail"


class RepositoryState(StrEnum):
    """dsc:RepositoryStateWKVType (§2.2.5.18)."""

    IDLE = "Idle"
    PROCESSING = "Processing"
    STOPPED = "Stopped"


class RepositoryStateReason(StrEnum):
    """dsc:RepositoryStateReasonWKVType (§2.2.5.17)."""

    NONE = "None"


# --- FilterStatus (§2.2.4.10) ------------------------------------------------------------------

_DIALECT = _d("Dialect")
_FILTER_STATE = _d("FilterState")
_FILTER_STATE_REASONS = _d("FilterStateReasons")
_FILTER_STATE_REASON = _d("FilterStateReason")
_FILTER_STATUS = _d("FilterStatus")


@dataclass(frozen=True, slots=True)
class FilterStatus:
    """One filter of a job: its dialect URI, state and optional reasons (no vendor children allowed)."""

    dialect: str
    state: FilterState | str
    reasons: tuple[FilterStateReason | str, ...] = ()

    def __post_init__(self) -> None:
        if not self.dialect:
            raise LocalProtocolError("FilterStatus needs a Dialect URI")
        check_token("FilterState", self.state)
        for reason in self.reasons:
            check_token("FilterStateReason", reason)

    def write(self, parent: Element) -> None:
        el = sub(parent, _FILTER_STATUS)
        sub(el, _DIALECT, self.dialect)
        sub(el, _FILTER_STATE, str(self.state))
        write_reasons(el, _FILTER_STATE_REASONS, _FILTER_STATE_REASON, self.reasons)

    @classmethod
    def read(cls, el: Element) -> Self:
        dialect = state = None
        reasons: tuple[str, ...] = ()
        for item in el:
            tag = item.tag
            if tag == _DIALECT:
                dialect = (item.text or "").strip()
            elif tag == _FILTER_STATE:
                state = enum_or_text(FilterState, (item.text or "").strip())
            elif tag == _FILTER_STATE_REASONS:
                reasons = read_reasons(item, _FILTER_STATE_REASON, FilterStateReason)
        if not dialect:
            raise RemoteProtocolError("FilterStatus lacks required Dialect")
        if not state:
            raise RemoteProtocolError("FilterStatus lacks required FilterState")
        return remote(cls, dialect, state, reasons)


def read_filter_statuses(el: Element) -> tuple[FilterStatus, ...]:
    """The FilterStatus children of a FilterStatuses-like list (at least one, §2.2.4.11)."""
    read = FilterStatus.read
    filters = tuple([read(f) for f in el if f.tag == _FILTER_STATUS])
    if not filters:
        raise RemoteProtocolError(f"{local_name(el.tag)} must hold at least one FilterStatus")
    return filters


def write_filter_statuses(parent: Element, tag: str, filters: tuple[FilterStatus, ...]) -> None:
    """Append a FilterStatuses-like list element `tag` holding these filters."""
    el = sub(parent, tag)
    for f in filters:
        f.write(el)


# --- JobStatus (§2.2.4.21) ---------------------------------------------------------------------

_JOB_TOKEN = _d("JobToken")
_JOB_STATE = _d("JobState")
_JOB_STATE_REASONS = _d("JobStateReasons")
_JOB_STATE_REASON = _d("JobStateReason")
_FILTER_STATUSES = _d("FilterStatuses")
_IMAGES_RECEIVED = _d("ImagesReceived")
_JOB_CREATED_TIME = _d("JobCreatedTime")
_JOB_COMPLETED_TIME = _d("JobCompletedTime")
_JOB_STATUS = _d("JobStatus")
_DSC_PREFIX = "{" + ns.DSC + "}"


def check_job_token(token: str) -> None:
    """LocalProtocolError unless token is a non-empty String255."""
    # §2.2.3.28: JobToken is a String255, opaque; an empty token identifies nothing.
    if not token:
        raise LocalProtocolError("JobToken must not be empty")
    check_string("JobToken", token)


def check_images_received(images: int) -> None:
    """LocalProtocolError unless images is an xs:int of at least 0 (§2.2.3.16)."""
    if not 0 <= images <= 0x7FFFFFFF:
        raise LocalProtocolError("ImagesReceived is an xs:int of at least 0 (§2.2.3.16)")


def check_job_progress(
    job_state: str, job_state_reasons: Iterable[str], filter_statuses: tuple[FilterStatus, ...], images: int
) -> None:
    """The checks JobStatus and JobSummary share: JobState and JobStateReasons are NMTOKENs, at
    least one FilterStatus (§2.2.4.11), ImagesReceived an xs:int ≥ 0."""
    check_token("JobState", job_state)
    for reason in job_state_reasons:
        check_token("JobStateReason", reason)
    if not filter_statuses:
        raise LocalProtocolError("FilterStatuses must hold at least one FilterStatus (§2.2.4.11)")
    check_images_received(images)


@dataclass(frozen=True, slots=True)
class JobStatus:
    """dsc:JobStatus: the full snapshot of one post-scan job (§3.2.4.8: never a delta)."""

    job_token: str
    job_state: JobState | str
    job_state_reasons: tuple[JobStateReason | str, ...]
    filter_statuses: tuple[FilterStatus, ...]
    images_received: int
    job_created_time: datetime | None = None
    job_completed_time: datetime | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_job_token(self.job_token)
        check_job_progress(self.job_state, self.job_state_reasons, self.filter_statuses, self.images_received)

    @property
    def is_terminal(self) -> bool:
        return self.job_state in TERMINAL_JOB_STATES

    def write(self, parent: Element, tag: str = _JOB_STATUS) -> None:
        el = sub(parent, tag)
        sub(el, _JOB_TOKEN, self.job_token)
        sub(el, _JOB_STATE, str(self.job_state))
        write_reasons(el, _JOB_STATE_REASONS, _JOB_STATE_REASON, self.job_state_reasons)
        write_filter_statuses(el, _FILTER_STATUSES, self.filter_statuses)
        sub(el, _IMAGES_RECEIVED, str(self.images_received))
        if self.job_created_time is not None:
            sub(el, _JOB_CREATED_TIME, format_datetime(self.job_created_time))
        if self.job_completed_time is not None:
            sub(el, _JOB_COMPLETED_TIME, format_datetime(self.job_completed_time))
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        token = state = None
        reasons: tuple[str, ...] = ()
        filters: tuple[FilterStatus, ...] = ()
        images = None
        created = completed = None
        extra: list[str] = []
        # One pass over the children: this is the sink's hot path (see bench/bench_parse.py).
        for item in el:
            tag = item.tag
            if tag == _JOB_TOKEN:
                token = item.text or ""  # whitespace preserved: the token is opaque (§2.2.3.28)
            elif tag == _JOB_STATE:
                state = enum_or_text(JobState, (item.text or "").strip())
            elif tag == _JOB_STATE_REASONS:
                reasons = read_reasons(item, _JOB_STATE_REASON, JobStateReason)
            elif tag == _FILTER_STATUSES:
                filters = read_filter_statuses(item)
            elif tag == _IMAGES_RECEIVED:
                images = parse_int(item, minimum=0)
            elif tag == _JOB_CREATED_TIME:
                created = parse_datetime(item)
            elif tag == _JOB_COMPLETED_TIME:
                completed = parse_datetime(item)
            elif isinstance(tag, str) and not tag.startswith(_DSC_PREFIX):
                extra.append(canonical(item))
        if token is None:
            raise RemoteProtocolError("JobStatus lacks required JobToken")
        if not state:
            raise RemoteProtocolError("JobStatus lacks required JobState")
        if not filters:
            raise RemoteProtocolError("JobStatus lacks required FilterStatuses")
        if images is None:
            raise RemoteProtocolError("JobStatus lacks required ImagesReceived")
        return remote(cls, token, state, reasons, filters, images, created, completed, tuple(extra))


@dataclass(frozen=True, slots=True)
class PostScanJobStatusEvent(Message):
    """Sent on every job status change with all current JobStatus values (§3.2.4.8)."""

    ACTION: ClassVar[str] = ns.DSC_POST_SCAN_JOB_STATUS_EVENT
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)
    header: Headers
    job_status: JobStatus
    extensions: tuple[str, ...] = ()

    def write_body(self, body: Element) -> None:
        event = sub(body, _d("PostScanJobStatusEvent"))
        self.job_status.write(event)
        append_extensions(event, self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        event = body_child(body, _d("PostScanJobStatusEvent"))
        status = None
        extra: list[str] = []
        for item in event:
            if item.tag == _JOB_STATUS:
                status = JobStatus.read(item)
            elif isinstance(item.tag, str) and not item.tag.startswith(_DSC_PREFIX):
                extra.append(canonical(item))
        if status is None:
            raise RemoteProtocolError("PostScanJobStatusEvent lacks required JobStatus")
        return cls(header, status, tuple(extra))


# --- PostScanJobEndStateEvent (§3.2.4.9) -------------------------------------------------------

# Fields shared by the job structures: PostScanJobEndState and JobSummary (repository.py) begin with
# the JobToken and the JobDescription fields (§3.2.1), JobDescription (repository_types.py) is the
# latter alone. Their text is kept as sent: the token is opaque (§2.2.3.28), the rest String255.
JOB_TOKEN_FIELD = field(_JOB_TOKEN, raw_text)
JOB_DESCRIPTION_FIELDS = (
    field(_d("PSP_Identifier"), raw_text),
    field(_d("PSP_DisplayName"), raw_text),
    field(_d("JobOriginatingUserName"), raw_text),
)
IMAGES_RECEIVED_FIELD = field(_IMAGES_RECEIVED, lambda el: parse_int(el, minimum=0))


def check_description(value: object) -> None:
    """LocalProtocolError unless value's JobDescription fields are String255."""
    for f in JOB_DESCRIPTION_FIELDS:
        check_string(f.attr, getattr(value, f.attr))


@dataclass(frozen=True, slots=True)
class PostScanJobEndState(Part):
    """dsc:PostScanJobEndState (§3.2.4.9.3.1): the final values of a job, sent once at its end.
    Its children are named JobCompleted*, but the reasons inside are still JobStateReason and the
    filters FilterStatus; it has no JobCreatedTime."""

    TAG: ClassVar[str] = _d("PostScanJobEndState")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        JOB_TOKEN_FIELD,
        *JOB_DESCRIPTION_FIELDS,
        field(_d("JobCompletedState"), enum_reader(JobState)),
        list_field(_d("JobCompletedStateReasons"), _JOB_STATE_REASON, JobStateReason, required=True),
        field(_d("FilterCompletedStatuses"), read_filter_statuses, write_filter_statuses),
        IMAGES_RECEIVED_FIELD,
        field(_JOB_COMPLETED_TIME, parse_datetime, put_time, required=False),
    )
    job_token: str
    psp_identifier: str
    psp_display_name: str
    job_originating_user_name: str
    job_completed_state: JobState | str
    job_completed_state_reasons: tuple[JobStateReason | str, ...]
    filter_completed_statuses: tuple[FilterStatus, ...]
    images_received: int
    job_completed_time: datetime | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_job_token(self.job_token)
        check_description(self)
        check_token("JobCompletedState", self.job_completed_state)
        if not self.job_completed_state_reasons:
            # §3.2.4.9.3.1: JobCompletedStateReasons is required, and holds at least one reason.
            raise LocalProtocolError("JobCompletedStateReasons must hold at least one reason")
        for reason in self.job_completed_state_reasons:
            check_token("JobStateReason", reason)
        if not self.filter_completed_statuses:
            raise LocalProtocolError("FilterCompletedStatuses must hold at least one FilterStatus")
        check_images_received(self.images_received)


@dataclass(frozen=True, slots=True)
class PostScanJobEndStateEvent(Message):
    """Sent once per job when it ends, with its final values (§3.2.4.9)."""

    ACTION: ClassVar[str] = ns.DSC_POST_SCAN_JOB_END_STATE_EVENT
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC,)
    header: Headers
    end_state: PostScanJobEndState
    extensions: tuple[str, ...] = ()

    def write_body(self, body: Element) -> None:
        event = sub(body, _d("PostScanJobEndStateEvent"))
        self.end_state.write(event)
        append_extensions(event, self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        event = body_child(body, _d("PostScanJobEndStateEvent"))
        end_state = None
        extra: list[str] = []
        for item in event:
            if item.tag == PostScanJobEndState.TAG:
                end_state = PostScanJobEndState.read(item)
            elif isinstance(item.tag, str) and not item.tag.startswith(_DSC_PREFIX):
                extra.append(canonical(item))
        if end_state is None:
            raise RemoteProtocolError("PostScanJobEndStateEvent lacks required PostScanJobEndState")
        return cls(header, end_state, tuple(extra))


MESSAGES: tuple[type[Message], ...] = (PostScanJobStatusEvent, PostScanJobEndStateEvent)
