"""WS-Scan (wscn) device events a monitor shows: scan job status and end state, the scanner's status
summary, and device conditions raised and cleared.

Source: the Windows driver docs "WSD Scan Service Event Elements" and the element pages they link,
cited by page title. They give names, allowed values and one example per event but no schema: we write
in the examples' order and read in any order. (The examples' 2006/01 namespace is a draft; devices use
2006/08.) The WS-Scan job is the device's scan job, keyed by JobId (an int); not dsm.py's post-scan job.

For a monitor: well-known values are StrEnum members, vendor values plain str ("You can both extend
and subset the allowed values"); children outside wscn are kept as canonical XML. The Distributed Scan
Management docs' "<Event> Example" pages wrap the same bodies in dsd: elements: read, never written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Self

from . import namespaces as ns
from ._part import Field, Part, Reader, Writer, enum_reader, field, list_field, put_text, put_time, raw_text
from ._xml import (
    Element,
    QName,
    append_extensions,
    canonical,
    check_qnames,
    check_string,
    check_token,
    int_value,
    local_name,
    parse_datetime,
    parse_int,
    qn,
    remote,
    required,
    sub,
)
from .envelope import Headers, Message, body_child
from .errors import LocalProtocolError, RemoteProtocolError
from .repository_types import (
    check_requested_names,
    read_element_data,
    read_requested_names,
    write_element_data,
    write_requested_names,
)

__all__ = [
    "COMPLETED_STATES",
    "SCANNER_STATUS",
    "TERMINAL_JOB_STATES",
    "Component",
    "ConditionName",
    "DeviceCondition",
    "DeviceConditionCleared",
    "GetScannerElementsRequest",
    "GetScannerElementsResponse",
    "JobEndState",
    "JobEndStateEvent",
    "JobState",
    "JobStateReason",
    "JobStatus",
    "JobStatusEvent",
    "ScannerElementData",
    "ScannerState",
    "ScannerStateReason",
    "ScannerStatus",
    "ScannerStatusConditionClearedEvent",
    "ScannerStatusConditionEvent",
    "ScannerStatusSummaryEvent",
    "Severity",
    "StatusSummary",
]


def _w(local: str) -> str:
    return qn(ns.WSCN, local)


_WSCN_PREFIX = "{" + ns.WSCN + "}"


# --- enumerations ------------------------------------------------------------------------------


class JobState(StrEnum):
    """wscn JobState ("JobState element"). WS-Scan says Held where MS-BDSRR says Pending-Held."""

    ABORTED = "Aborted"
    CANCELED = "Canceled"
    COMPLETED = "Completed"
    CREATING = "Creating"
    HELD = "Held"
    PENDING = "Pending"
    PROCESSING = "Processing"
    STARTED = "Started"
    TERMINATING = "Terminating"


TERMINAL_JOB_STATES = frozenset({JobState.ABORTED, JobState.CANCELED, JobState.COMPLETED})
# "JobCompletedState element": "One of the following values from the JobState element".
COMPLETED_STATES = frozenset({*TERMINAL_JOB_STATES, JobState.TERMINATING})


class JobStateReason(StrEnum):
    """wscn JobStateReason ("JobStateReason element"); the docs list no JobCompletedSuccessfully."""

    INVALID_SCAN_TICKET = "InvalidScanTicket"
    DOCUMENT_FORMAT_ERROR = "DocumentFormatError"
    IMAGE_TRANSFER_ERROR = "ImageTransferError"
    JOB_CANCELED_AT_DEVICE = "JobCanceledAtDevice"
    JOB_COMPLETED_WITH_ERRORS = "JobCompletedWithErrors"
    JOB_COMPLETED_WITH_WARNINGS = "JobCompletedWithWarnings"
    JOB_SCANNING = "JobScanning"
    JOB_SCANNING_AND_TRANSFERRING = "JobScanningAndTransferring"
    JOB_TIMED_OUT = "JobTimedOut"
    JOB_TRANSFERRING = "JobTransferring"
    NONE = "None"
    SCANNER_STOPPED = "ScannerStopped"


class ScannerState(StrEnum):
    """wscn ScannerState ("ScannerState element")."""

    IDLE = "Idle"
    PROCESSING = "Processing"
    STOPPED = "Stopped"


class ScannerStateReason(StrEnum):
    """wscn ScannerStateReason ("ScannerStateReason element")."""

    ATTENTION_REQUIRED = "AttentionRequired"
    CALIBRATING = "Calibrating"
    COVER_OPEN = "CoverOpen"
    INTERLOCK_OPEN = "InterlockOpen"
    INTERNAL_STORAGE_FULL = "InternalStorageFull"
    LAMP_ERROR = "LampError"
    LAMP_WARMING = "LampWarming"
    MEDIA_JAM = "MediaJam"
    MULTIPLE_FEED_ERROR = "MultipleFeedError"
    NONE = "None"
    PAUSED = "Paused"


class ConditionName(StrEnum):
    """wscn Name of a DeviceCondition ("Name Element for DeviceCondition and ConditionHistoryEntry")."""

    CALIBRATING = "Calibrating"
    COVER_OPEN = "CoverOpen"
    INPUT_TRAY_EMPTY = "InputTrayEmpty"
    INTERLOCK_OPEN = "InterlockOpen"
    INTERNAL_STORAGE_FULL = "InternalStorageFull"
    LAMP_ERROR = "LampError"
    LAMP_WARMING = "LampWarming"
    MEDIA_JAM = "MediaJam"
    MULTIPLE_FEED_ERROR = "MultipleFeedError"


class Component(StrEnum):
    """wscn Component of a DeviceCondition ("Component element")."""

    ADF = "ADF"
    FILM = "Film"
    MEDIA_PATH = "MediaPath"
    PLATEN = "Platen"


class Severity(StrEnum):
    """wscn Severity of a DeviceCondition ("Severity element")."""

    INFORMATIONAL = "Informational"
    WARNING = "Warning"
    CRITICAL = "Critical"


# --- value checks ------------------------------------------------------------------------------

# "JobId element" and "DeviceCondition element" (Id): "An integer value from 1 through 2147483648"
# (one past xs:int's maximum; taken as the docs say).
MAX_ID = 2147483648
MAX_COUNT = 0x7FFFFFFF  # xs:int


def _check_id(what: str, value: int, low: int = 1, high: int = MAX_ID) -> None:
    if not low <= value <= high:
        raise LocalProtocolError(f"{what} {value} is outside {low}..{high} (driver docs)")


def _check_count(value: int) -> None:
    # "ScansCompleted element" says 1..2147483648, but it counts scans as they happen and a job
    # starts with none: 0 is accepted (like dsc ImagesReceived), up to xs:int.
    _check_id("ScansCompleted", value, 0, MAX_COUNT)


def _is_extension(tag: object) -> bool:
    return isinstance(tag, str) and not tag.startswith(_WSCN_PREFIX)


def _field(local: str, read: Reader, write: Writer = put_text, *, required: bool = True) -> Field:
    return field(_w(local), read, write, required=required)


def _list_field(local: str, item: str, enum: type[StrEnum], *, required: bool) -> Field:
    # "JobCompletedStateReasons element": "zero or more JobStateReason elements"; the other list
    # pages give no count: empty is accepted.
    return list_field(_w(local), _w(item), enum, required=required, allow_empty=True)


_JOB_ID = _field("JobId", parse_int)
_SCANS_COMPLETED = _field("ScansCompleted", parse_int)
_JOB_COMPLETED_TIME = _field("JobCompletedTime", parse_datetime, put_time, required=False)


@dataclass(frozen=True, slots=True)
class JobStatus(Part):
    """wscn:JobStatus: all of a scan job's current status ("JobStatus element": the service should
    send a JobStatusEvent for every change of it). Written in the "JobStatusEvent element" example's order."""

    TAG: ClassVar[str] = _w("JobStatus")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        _JOB_ID,
        _field("JobState", enum_reader(JobState)),
        _list_field("JobStateReasons", "JobStateReason", JobStateReason, required=False),
        _SCANS_COMPLETED,
        _field("JobCreatedTime", parse_datetime, put_time, required=False),
        _JOB_COMPLETED_TIME,
    )
    job_id: int
    job_state: JobState | str
    job_state_reasons: tuple[JobStateReason | str, ...]
    scans_completed: int
    job_created_time: datetime | None = None
    job_completed_time: datetime | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_id("JobId", self.job_id)
        check_token("JobState", self.job_state)
        for reason in self.job_state_reasons:
            check_token("JobStateReason", reason)
        _check_count(self.scans_completed)

    @property
    def is_terminal(self) -> bool:
        return self.job_state in TERMINAL_JOB_STATES


@dataclass(frozen=True, slots=True)
class JobEndState(Part):
    """wscn:JobEndState: a scan job's final values, sent once. Its reasons are still JobStateReason
    elements; it has no JobCreatedTime. Every child is "required" on its element page except
    JobCompletedTime ("optional"). Written in the order of the "JobEndStateEvent element" example
    (the DSM "JobEndStateEvent Example" agrees), which puts the state before JobName."""

    TAG: ClassVar[str] = _w("JobEndState")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        _JOB_ID,
        _field("JobCompletedState", enum_reader(JobState)),
        _list_field("JobCompletedStateReasons", "JobStateReason", JobStateReason, required=True),
        _field("JobName", raw_text),
        _field("JobOriginatingUserName", raw_text),
        _SCANS_COMPLETED,
        _JOB_COMPLETED_TIME,
    )
    job_id: int
    job_name: str
    job_originating_user_name: str
    job_completed_state: JobState | str
    job_completed_state_reasons: tuple[JobStateReason | str, ...]
    scans_completed: int
    job_completed_time: datetime | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_id("JobId", self.job_id)
        # wscn:String255ExtType (WDPScan.xsd subset)
        check_string("job_name", self.job_name)
        check_string("job_originating_user_name", self.job_originating_user_name)
        check_token("JobCompletedState", self.job_completed_state)
        if (
            isinstance(self.job_completed_state, JobState)
            and self.job_completed_state not in COMPLETED_STATES
        ):
            # "JobCompletedState element": Aborted, Canceled, Completed or Terminating.
            raise LocalProtocolError(f"JobCompletedState {self.job_completed_state} is not a final state")
        for reason in self.job_completed_state_reasons:
            check_token("JobStateReason", reason)
        _check_count(self.scans_completed)


@dataclass(frozen=True, slots=True)
class StatusSummary(Part):
    """wscn:StatusSummary: the scanner's state and the reasons for it ("StatusSummary element")."""

    TAG: ClassVar[str] = _w("StatusSummary")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        _field("ScannerState", enum_reader(ScannerState)),
        _list_field("ScannerStateReasons", "ScannerStateReason", ScannerStateReason, required=False),
    )
    scanner_state: ScannerState | str
    scanner_state_reasons: tuple[ScannerStateReason | str, ...] = ()
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_token("ScannerState", self.scanner_state)
        for reason in self.scanner_state_reasons:
            check_token("ScannerStateReason", reason)


# "DeviceCondition element": its usage line shows both `wscn:Id` and `Id`; its example writes
# wscn:Id="1543", the DSM "ScannerStatusConditionEvent Example" Id="1543". Both are read; we write
# the unqualified attribute of the attribute table.
_ID_ATTRIBUTES = ("Id", _w("Id"))


@dataclass(frozen=True, slots=True)
class DeviceCondition(Part):
    """wscn:DeviceCondition: one active condition of the scanner. Clients track conditions by Id
    and Time ("DeviceCondition element"); a later ConditionId names the one cleared. Written in the
    "ScannerStatusConditionEvent element" example's order."""

    TAG: ClassVar[str] = _w("DeviceCondition")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        _field("Time", parse_datetime, put_time),
        _field("Name", enum_reader(ConditionName)),
        _field("Component", enum_reader(Component)),
        _field("Severity", enum_reader(Severity)),
    )
    condition_id: int
    time: datetime
    name: ConditionName | str
    component: Component | str
    severity: Severity | str
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_id("DeviceCondition Id", self.condition_id)
        check_token("Name", self.name)
        check_token("Component", self.component)
        check_token("Severity", self.severity)

    def _attributes(self) -> dict[str, str]:
        return {"Id": str(self.condition_id)}

    @staticmethod
    def _read_attributes(el: Element) -> dict[str, object]:
        for attribute in _ID_ATTRIBUTES:
            raw = el.get(attribute)
            if raw is not None:
                return {"condition_id": int_value(raw, "DeviceCondition Id")}
        raise RemoteProtocolError("DeviceCondition lacks required Id attribute")


@dataclass(frozen=True, slots=True)
class DeviceConditionCleared(Part):
    """wscn:DeviceConditionCleared: which reported condition ended (ConditionId = its Id) and when.
    Written in the "ScannerStatusConditionClearedEvent element" example's order."""

    TAG: ClassVar[str] = _w("DeviceConditionCleared")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        _field("ConditionId", parse_int),
        _field("ConditionClearTime", parse_datetime, put_time),
    )
    condition_id: int
    condition_clear_time: datetime
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_id("ConditionId", self.condition_id)


# --- the events --------------------------------------------------------------------------------


class _Event(Message):
    """An event body: wscn:<class name> holding one PART (in attribute FIELD) and vendor siblings.
    The DSM docs' dsd:<event>/dsd:<part> wrappers are read too (see the module docstring)."""

    __slots__ = ()
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSCN,)
    PART: ClassVar[type[Part]]
    FIELD: ClassVar[str]
    extensions: tuple[str, ...]

    def write_body(self, body: Element) -> None:
        event = sub(body, _w(type(self).__name__))
        getattr(self, self.FIELD).write(event)
        append_extensions(event, self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        name = cls.__name__
        el = next((e for e in body if isinstance(e.tag, str)), None)
        if el is None:
            raise RemoteProtocolError(f"Body lacks {name}")
        if el.tag not in (_w(name), qn(ns.DSD, name)):
            raise RemoteProtocolError(f"expected {name} in Body, found {el.tag!r}")
        part_tags = (cls.PART.TAG, qn(ns.DSD, local_name(cls.PART.TAG)))
        part = None
        extra: list[str] = []
        for item in el:
            if item.tag in part_tags:
                part = cls.PART.read(item) if part is None else part
            elif _is_extension(item.tag):
                extra.append(canonical(item))
        if part is None:
            raise RemoteProtocolError(f"{name} lacks required {local_name(cls.PART.TAG)}")
        return remote(cls, header, part, tuple(extra))


@dataclass(frozen=True, slots=True)
class JobStatusEvent(_Event):
    """A scan job's status changed ("JobStatusEvent element"); the first one usually says Started."""

    ACTION: ClassVar[str] = ns.WSCN_JOB_STATUS_EVENT
    PART: ClassVar[type[Part]] = JobStatus
    FIELD: ClassVar[str] = "job_status"
    header: Headers
    job_status: JobStatus
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class JobEndStateEvent(_Event):
    """The scanner finished a job; its final values ("JobEndStateEvent element")."""

    ACTION: ClassVar[str] = ns.WSCN_JOB_END_STATE_EVENT
    PART: ClassVar[type[Part]] = JobEndState
    FIELD: ClassVar[str] = "end_state"
    header: Headers
    end_state: JobEndState
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScannerStatusSummaryEvent(_Event):
    """The scanner's status changed ("ScannerStatusSummaryEvent element": must hold StatusSummary)."""

    ACTION: ClassVar[str] = ns.WSCN_SCANNER_STATUS_SUMMARY_EVENT
    PART: ClassVar[type[Part]] = StatusSummary
    FIELD: ClassVar[str] = "summary"
    header: Headers
    summary: StatusSummary
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScannerStatusConditionEvent(_Event):
    """A DeviceCondition was added to or changed in ActiveConditions ("ScannerStatusConditionEvent")."""

    ACTION: ClassVar[str] = ns.WSCN_SCANNER_STATUS_CONDITION_EVENT
    PART: ClassVar[type[Part]] = DeviceCondition
    FIELD: ClassVar[str] = "condition"
    header: Headers
    condition: DeviceCondition
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScannerStatusConditionClearedEvent(_Event):
    """A reported DeviceCondition was cleared ("ScannerStatusConditionClearedEvent element")."""

    ACTION: ClassVar[str] = ns.WSCN_SCANNER_STATUS_CONDITION_CLEARED_EVENT
    PART: ClassVar[type[Part]] = DeviceConditionCleared
    FIELD: ClassVar[str] = "cleared"
    header: Headers
    cleared: DeviceConditionCleared
    extensions: tuple[str, ...] = ()


# --- GetScannerElements: the scanner's status now ("GetScannerElements" operation) ----------------

SCANNER_STATUS = QName(ns.WSCN, "ScannerStatus")
_REQUEST = _w("GetScannerElementsRequest")
_RESPONSE = _w("GetScannerElementsResponse")
_SCANNER_ELEMENTS = _w("ScannerElements")
_ELEMENT_DATA = _w("ElementData")
_ACTIVE_CONDITIONS = _w("ActiveConditions")


def _read_conditions(el: Element) -> tuple[DeviceCondition, ...]:
    return tuple([DeviceCondition.read(c) for c in el if c.tag == DeviceCondition.TAG])


def _write_conditions(parent: Element, tag: str, conditions: tuple[DeviceCondition, ...]) -> None:
    el = sub(parent, tag)  # written even when empty: "no conditions" is news to a monitor
    for condition in conditions:
        condition.write(el)


@dataclass(frozen=True, slots=True)
class ScannerStatus(Part):
    """wscn:ScannerStatus ("ScannerStatus element"): the scanner's state and reasons, and its
    ActiveConditions. ConditionHistory is not read (a monitor shows what is wrong now)."""

    TAG: ClassVar[str] = _w("ScannerStatus")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        _field("ScannerCurrentTime", parse_datetime, put_time, required=False),
        _field("ScannerState", enum_reader(ScannerState)),
        _list_field("ScannerStateReasons", "ScannerStateReason", ScannerStateReason, required=False),
        Field(_ACTIVE_CONDITIONS, "active_conditions", _read_conditions, _write_conditions, False, ()),
    )
    scanner_current_time: datetime | None
    scanner_state: ScannerState | str
    scanner_state_reasons: tuple[ScannerStateReason | str, ...] = ()
    active_conditions: tuple[DeviceCondition, ...] = ()
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_token("ScannerState", self.scanner_state)
        for reason in self.scanner_state_reasons:
            check_token("ScannerStateReason", reason)


@dataclass(frozen=True, slots=True)
class ScannerElementData:
    """One answer of GetScannerElements: the requested name, whether the scanner knows it, and its
    content: a ScannerStatus, raw XML for any other element (configuration, vendor), or None."""

    name: QName
    valid: bool
    content: ScannerStatus | str | None = None

    def __post_init__(self) -> None:
        check_qnames("ElementData Name", [self.name])

    def write(self, parent: Element) -> None:
        write_element_data(parent, self.name, self.valid, self.content, ns.WSCN)

    @classmethod
    def read(cls, el: Element) -> Self:
        return remote(cls, *read_element_data(el, {ScannerStatus.TAG: ScannerStatus.read}, ns.WSCN))


@dataclass(frozen=True, slots=True)
class GetScannerElementsRequest(Message):
    """Ask a scanner for elements by name (wscn:ScannerStatus, wscn:ScannerConfiguration…)."""

    ACTION: ClassVar[str] = ns.WSCN_GET_SCANNER_ELEMENTS
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSCN,)
    header: Headers
    requested: tuple[QName, ...]

    def __post_init__(self) -> None:
        check_requested_names(self.requested, '"GetScannerElementsRequest element"')

    def write_body(self, body: Element) -> None:
        write_requested_names(sub(body, _REQUEST), self.requested, ns.WSCN)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        return remote(cls, header, read_requested_names(body_child(body, _REQUEST), ns.WSCN))


@dataclass(frozen=True, slots=True)
class GetScannerElementsResponse(Message):
    """One ElementData per requested name."""

    ACTION: ClassVar[str] = ns.WSCN_GET_SCANNER_ELEMENTS_RESPONSE
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSCN,)
    header: Headers
    elements: tuple[ScannerElementData, ...]

    def __post_init__(self) -> None:
        if not self.elements:
            raise LocalProtocolError("ScannerElements must hold at least one ElementData")

    def write_body(self, body: Element) -> None:
        elements = sub(sub(body, _RESPONSE), _SCANNER_ELEMENTS)
        for element in self.elements:
            element.write(elements)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        elements = required(body_child(body, _RESPONSE), _SCANNER_ELEMENTS)
        read = ScannerElementData.read
        return remote(cls, header, tuple([read(e) for e in elements if e.tag == _ELEMENT_DATA]))

    def status(self) -> ScannerStatus | None:
        """The ScannerStatus it carries, if the scanner sent a valid one."""
        for element in self.elements:
            if element.valid and isinstance(element.content, ScannerStatus):
                return element.content
        return None


MESSAGES: tuple[type[Message], ...] = (
    GetScannerElementsRequest,
    GetScannerElementsResponse,
    JobStatusEvent,
    JobEndStateEvent,
    ScannerStatusSummaryEvent,
    ScannerStatusConditionEvent,
    ScannerStatusConditionClearedEvent,
)
