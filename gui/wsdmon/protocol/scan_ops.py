"""WS-Scan (wscn) operations a scan client calls: ValidateScanTicket, CreateScanJob, RetrieveImage,
CancelJob, GetJobElements, GetActiveJobs and GetJobHistory, and the wscn faults they answer with.

Sources: the Windows driver docs' operation element pages ("CreateScanJobRequest element",
"RetrieveImageResponse element"…), cited by title; child order follows their examples. RetrieveImage's
answer carries the image as an MTOM/XOP attachment: the message here holds only the xop:Include's
Content-ID; mtom.py packs and unpacks the multipart body.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self

from . import namespaces as ns
from ._part import Field, Part, field, raw_text
from ._xml import (
    Element,
    QName,
    check_qnames,
    check_string,
    check_token,
    child,
    parse_int,
    qn,
    remote,
    required,
    sub,
    text_of,
)
from .envelope import Fault, Headers, Message, body_child
from .errors import LocalProtocolError, RemoteProtocolError
from .repository_types import (
    check_requested_names,
    read_element_data,
    read_requested_names,
    write_element_data,
    write_requested_names,
)
from .scan import MAX_ID, JobStatus
from .scan_jobs import (
    GetActiveJobsRequest,
    GetActiveJobsResponse,
    GetJobHistoryRequest,
    GetJobHistoryResponse,
    JobSummary,
)
from .scan_ticket import DocumentFinalParameters, ImageInformation, ScanTicket

__all__ = [
    "JOB_STATUS",
    "SCAN_TICKET",
    "CancelJobRequest",
    "CancelJobResponse",
    "CreateScanJobRequest",
    "CreateScanJobResponse",
    "GetActiveJobsRequest",
    "GetActiveJobsResponse",
    "GetJobElementsRequest",
    "GetJobElementsResponse",
    "GetJobHistoryRequest",
    "GetJobHistoryResponse",
    "JobElementData",
    "JobSummary",
    "RetrieveImageRequest",
    "RetrieveImageResponse",
    "ScanFault",
    "ValidateScanTicketRequest",
    "ValidateScanTicketResponse",
    "scan_fault",
]


def _w(local: str) -> str:
    return qn(ns.WSCN, local)


def _action(name: str) -> str:
    return f"{ns.WSCN}/{name}"


class ScanFault(StrEnum):
    """wscn fault subcodes of the operations ("Common WSD Scan Service operation error codes" and the
    operation pages). Sender faults except the Receiver ones in _RECEIVER."""

    INVALID_ARGS = "InvalidArgs"  # common: a missing, extra or mistyped argument (a bad ticket)
    OPERATION_FAILED = "OperationFailed"  # common: the scanner's state prevents it
    INVALID_DESTINATION_TOKEN = "ClientErrorInvalidDestinationToken"
    INVALID_JOB_TOKEN = "ClientErrorInvalidJobToken"
    JOB_CANCELLED = "ClientErrorJobCancelled"
    JOB_ID_NOT_FOUND = "ClientErrorJobIdNotFound"
    NO_IMAGES_AVAILABLE = "ClientErrorNoImagesAvailable"
    NOT_ACCEPTING_JOBS = "ServerErrorNotAcceptingJobs"


_RECEIVER = frozenset({ScanFault.OPERATION_FAILED, ScanFault.NOT_ACCEPTING_JOBS})


def scan_fault(kind: ScanFault, relates_to: str | None, reason: str, detail: str | None = None) -> Fault:
    """The soap:Fault with wscn subcode `kind` a scanner answers an operation with."""
    code = "Receiver" if kind in _RECEIVER else "Sender"
    return Fault(Headers.reply(relates_to), code, QName(ns.WSCN, kind.value), reason, detail)


def _check_job_id(value: int) -> None:
    # "JobId element": an integer from 1 through 2147483648.
    if not 1 <= value <= MAX_ID:
        raise LocalProtocolError(f"JobId {value} is outside 1..{MAX_ID}")


class _Body(Message):
    """An operation whose body is one wscn element holding simple children: FIELDS as in _part,
    read in any order, written in order. Subclasses set BODY and FIELDS."""

    __slots__ = ()
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSCN,)
    BODY: ClassVar[str]
    FIELDS: ClassVar[tuple[Field, ...]] = ()

    def write_body(self, body: Element) -> None:
        el = sub(body, self.BODY)
        for f in self.FIELDS:
            f.write(el, f.tag, getattr(self, f.attr))

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        el = body_child(body, cls.BODY)
        values: dict[str, object] = {}
        for f in cls.FIELDS:
            item = child(el, f.tag)
            if item is None:
                if f.required:
                    raise RemoteProtocolError(
                        f"{cls.BODY.rpartition('}')[2]} lacks {f.tag.rpartition('}')[2]}"
                    )
                values[f.attr] = f.default
            else:
                values[f.attr] = f.read(item)
        return remote(cls, header, **values)


def _put_part(parent: Element, _tag: str, value: Part | None) -> None:
    if value is not None:
        value.write(parent)


def _part(cls: type[Part], attr: str, *, required: bool = True) -> Field:
    return Field(cls.TAG, attr, cls.read, _put_part, required)


_JOB_ID = field(_w("JobId"), parse_int)
_JOB_TOKEN = field(_w("JobToken"), raw_text)
_TICKET = _part(ScanTicket, "ticket")


def _put_optional(parent: Element, tag: str, value: object) -> None:
    if value is not None:
        sub(parent, tag, str(value))


# --- ValidateScanTicket ("ValidateScanTicketRequest/Response element") ----------------------------


@dataclass(frozen=True, slots=True)
class ValidateScanTicketRequest(_Body):
    """Would this ticket work? Nothing is scanned."""

    ACTION: ClassVar[str] = _action("ValidateScanTicket")
    BODY: ClassVar[str] = _w("ValidateScanTicketRequest")
    FIELDS: ClassVar[tuple[Field, ...]] = (_TICKET,)
    header: Headers
    ticket: ScanTicket


def _read_validation(el: Element) -> tuple[bool, ImageInformation | None, DocumentFinalParameters | None]:
    valid = text_of(required(el, _w("ValidTicket"))) in ("true", "1")
    info = child(el, ImageInformation.TAG)
    final = child(el, DocumentFinalParameters.TAG)
    return (
        valid,
        ImageInformation.read(info) if info is not None else None,
        DocumentFinalParameters.read(final) if final is not None else None,
    )


@dataclass(frozen=True, slots=True)
class ValidateScanTicketResponse(Message):
    """wscn:ValidationInfo: ValidTicket, and for a valid ticket what the image and the final
    parameters would be."""

    ACTION: ClassVar[str] = _action("ValidateScanTicketResponse")
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSCN,)
    header: Headers
    valid: bool
    image_information: ImageInformation | None = None
    final_parameters: DocumentFinalParameters | None = None

    def write_body(self, body: Element) -> None:
        info = sub(sub(body, _w("ValidateScanTicketResponse")), _w("ValidationInfo"))
        sub(info, _w("ValidTicket"), "true" if self.valid else "false")
        _put_part(info, "", self.image_information)
        _put_part(info, "", self.final_parameters)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        info = required(body_child(body, _w("ValidateScanTicketResponse")), _w("ValidationInfo"))
        return remote(cls, header, *_read_validation(info))


# --- CreateScanJob ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateScanJobRequest(_Body):
    """Scan with this ticket ("CreateScanJobRequest element"); a scan started at the device passes
    the ScanIdentifier and DestinationToken of its ScanAvailableEvent."""

    ACTION: ClassVar[str] = _action("CreateScanJob")
    BODY: ClassVar[str] = _w("CreateScanJobRequest")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        field(_w("ScanIdentifier"), raw_text, _put_optional, required=False),
        field(_w("DestinationToken"), raw_text, _put_optional, required=False),
        _TICKET,
    )
    header: Headers
    scan_identifier: str | None
    destination_token: str | None
    ticket: ScanTicket


@dataclass(frozen=True, slots=True)
class CreateScanJobResponse(_Body):
    """The new job: JobId and JobToken (both needed to retrieve its images), what its image will be
    and the parameters really used."""

    ACTION: ClassVar[str] = _action("CreateScanJobResponse")
    BODY: ClassVar[str] = _w("CreateScanJobResponse")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        _JOB_ID,
        _JOB_TOKEN,
        _part(ImageInformation, "image_information"),
        _part(DocumentFinalParameters, "final_parameters"),
    )
    header: Headers
    job_id: int
    job_token: str
    image_information: ImageInformation
    final_parameters: DocumentFinalParameters

    def __post_init__(self) -> None:
        _check_job_id(self.job_id)
        check_token("JobToken", self.job_token)


# --- RetrieveImage ---------------------------------------------------------------------------------


def _put_document_name(parent: Element, tag: str, value: str) -> None:
    sub(sub(parent, tag), _w("DocumentName"), value)


@dataclass(frozen=True, slots=True)
class RetrieveImageRequest(_Body):
    """The next image of a job; the JobToken proves the caller created it."""

    ACTION: ClassVar[str] = _action("RetrieveImage")
    BODY: ClassVar[str] = _w("RetrieveImageRequest")
    FIELDS: ClassVar[tuple[Field, ...]] = (
        _JOB_ID,
        _JOB_TOKEN,
        Field(
            _w("DocumentDescription"),
            "document_name",
            lambda el: text_of(required(el, _w("DocumentName"))),
            _put_document_name,
        ),
    )
    header: Headers
    job_id: int
    job_token: str
    document_name: str

    def __post_init__(self) -> None:
        _check_job_id(self.job_id)
        check_string("DocumentName", self.document_name)


_SCAN_DATA = _w("ScanData")
_INCLUDE = qn(ns.XOP, "Include")


@dataclass(frozen=True, slots=True)
class RetrieveImageResponse(Message):
    """wscn:ScanData holding an xop:Include of the attachment with `content_id` (the image)."""

    ACTION: ClassVar[str] = _action("RetrieveImageResponse")
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSCN, ns.XOP)
    header: Headers
    content_id: str

    def __post_init__(self) -> None:
        check_token("Content-ID", self.content_id)

    def write_body(self, body: Element) -> None:
        data = sub(sub(body, _w("RetrieveImageResponse")), _SCAN_DATA)
        sub(data, _INCLUDE).set("href", f"cid:{self.content_id}")

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        data = required(body_child(body, _w("RetrieveImageResponse")), _SCAN_DATA)
        href = required(data, _INCLUDE).get("href", "")
        if not href.startswith("cid:"):
            raise RemoteProtocolError(f"xop:Include href {href!r} is not a cid: URL (XOP §5)")
        return remote(cls, header, href.removeprefix("cid:").strip())


# --- CancelJob -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CancelJobRequest(_Body):
    """Cancel a job ("CancelJobRequest element": JobId only)."""

    ACTION: ClassVar[str] = _action("CancelJob")
    BODY: ClassVar[str] = _w("CancelJobRequest")
    FIELDS: ClassVar[tuple[Field, ...]] = (_JOB_ID,)
    header: Headers
    job_id: int


@dataclass(frozen=True, slots=True)
class CancelJobResponse(_Body):
    """The job was canceled (an empty element)."""

    ACTION: ClassVar[str] = _action("CancelJobResponse")
    BODY: ClassVar[str] = _w("CancelJobResponse")
    header: Headers


# --- job summaries and elements --------------------------------------------------------------------


# GetActiveJobs / GetJobHistory and their JobSummary live in scan_jobs.py (the monitor asks them
# too); they are re-exported here for the simulator's scan service.


JOB_STATUS = QName(ns.WSCN, "JobStatus")
SCAN_TICKET = QName(ns.WSCN, "ScanTicket")


@dataclass(frozen=True, slots=True)
class JobElementData:
    """One answer of GetJobElements: a JobStatus, a ScanTicket, raw XML (Documents, vendor) or None."""

    name: QName
    valid: bool
    content: JobStatus | ScanTicket | str | None = None

    def __post_init__(self) -> None:
        check_qnames("ElementData Name", [self.name])

    def write(self, parent: Element) -> None:
        write_element_data(parent, self.name, self.valid, self.content, ns.WSCN)

    @classmethod
    def read(cls, el: Element) -> Self:
        readers = {JobStatus.TAG: JobStatus.read, ScanTicket.TAG: ScanTicket.read}
        return remote(cls, *read_element_data(el, readers, ns.WSCN))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class GetJobElementsRequest(Message):
    """Ask for a job's elements by name (wscn:JobStatus, wscn:ScanTicket, wscn:Documents)."""

    ACTION: ClassVar[str] = _action("GetJobElements")
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSCN,)
    header: Headers
    job_id: int
    requested: tuple[QName, ...]

    def __post_init__(self) -> None:
        _check_job_id(self.job_id)
        check_requested_names(self.requested, '"GetJobElementsRequest element"')

    def write_body(self, body: Element) -> None:
        el = sub(body, _w("GetJobElementsRequest"))
        sub(el, _w("JobId"), str(self.job_id))
        write_requested_names(el, self.requested, ns.WSCN)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        el = body_child(body, _w("GetJobElementsRequest"))
        return remote(cls, header, parse_int(required(el, _w("JobId"))), read_requested_names(el, ns.WSCN))


@dataclass(frozen=True, slots=True)
class GetJobElementsResponse(Message):
    """One ElementData per requested name, under wscn:JobElements."""

    ACTION: ClassVar[str] = _action("GetJobElementsResponse")
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSCN,)
    header: Headers
    elements: tuple[JobElementData, ...]

    def write_body(self, body: Element) -> None:
        holder = sub(sub(body, _w("GetJobElementsResponse")), _w("JobElements"))
        for element in self.elements:
            element.write(holder)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        holder = required(body_child(body, _w("GetJobElementsResponse")), _w("JobElements"))
        items = tuple(JobElementData.read(e) for e in holder if e.tag == _w("ElementData"))
        return remote(cls, header, items)


MESSAGES: tuple[type[Message], ...] = (
    ValidateScanTicketRequest,
    ValidateScanTicketResponse,
    CreateScanJobRequest,
    CreateScanJobResponse,
    RetrieveImageRequest,
    RetrieveImageResponse,
    CancelJobRequest,
    CancelJobResponse,
    GetJobElementsRequest,
    GetJobElementsResponse,
)
