"""MS-BDSRR scan-repository data carried by the operations and events of repository.py.

RepositoryConfiguration and RepositoryStatus (GetRepositoryElements, §3.2.4.1), JobDescription and
Documents (GetPostScanJobElements, §3.2.4.3) and the ElementData wrappers of both operations; the
JobSummary rows of GetActiveJobs / GetJobHistory live with those messages in repository.py. Same
style as dsm.py: frozen slotted dataclasses validated in __post_init__, read() in one pass over the
children, well-known values as Enum members and vendor values as plain str (§1.8), vendor elements
kept as canonical XML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Protocol, Self, TypeVar

from . import namespaces as ns
from ._part import Field, Part
from ._xml import (
    Element,
    QName,
    append_extensions,
    append_raw,
    canonical,
    check_qnames,
    check_token,
    enum_or_text,
    graft,
    local_name,
    parse_int,
    parse_raw,
    qn,
    qname_attribute,
    raw_children,
    read_reasons,
    remote,
    required,
    single_qname,
    sub,
    sub_qname_attribute,
    sub_qnames,
    write_reasons,
)
from .dsm import JOB_DESCRIPTION_FIELDS, JobStatus, RepositoryState, RepositoryStateReason, check_description
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "DOCUMENTS",
    "JOB_DESCRIPTION",
    "JOB_STATUS",
    "REPOSITORY_CONFIGURATION",
    "REPOSITORY_STATUS",
    "Document",
    "DocumentFormat",
    "Documents",
    "Filter",
    "JobDescription",
    "JobElementData",
    "RepositoryConfiguration",
    "RepositoryElementData",
    "RepositoryStatus",
    "check_requested_names",
    "read_element_data",
    "read_requested_names",
    "write_element_data",
    "write_requested_names",
]


_T = TypeVar("_T")


def _d(local: str) -> str:
    return qn(ns.DSC, local)


_DSC_PREFIX = "{" + ns.DSC + "}"

# Predefined element names of GetRepositoryElements (§3.2.4.1) and GetPostScanJobElements (§3.2.4.3).
REPOSITORY_CONFIGURATION = QName(ns.DSC, "RepositoryConfiguration")
REPOSITORY_STATUS = QName(ns.DSC, "RepositoryStatus")
JOB_STATUS = QName(ns.DSC, "JobStatus")
JOB_DESCRIPTION = QName(ns.DSC, "JobDescription")
DOCUMENTS = QName(ns.DSC, "Documents")


class DocumentFormat(StrEnum):
    """dsc:DocumentFormatWKVType; vendors may add MIME-like values (MimeExtensionPatternType, §1.8)."""

    DIB = "dib"
    EXIF = "exif"
    JBIG = "jbig"
    JFIF = "jfif"
    JPEG2K = "jpeg2k"
    PDF_A = "pdf-a"
    PNG = "png"
    TIFF_SINGLE_UNCOMPRESSED = "tiff-single-uncompressed"
    TIFF_SINGLE_G4 = "tiff-single-g4"
    TIFF_SINGLE_G3MH = "tiff-single-g3mh"
    TIFF_SINGLE_JPEG_TN2 = "tiff-single-jpeg-tn2"
    TIFF_MULTI_UNCOMPRESSED = "tiff-multi-uncompressed"
    TIFF_MULTI_G4 = "tiff-multi-g4"
    TIFF_MULTI_G3MH = "tiff-multi-g3mh"
    TIFF_MULTI_JPEG_TN2 = "tiff-multi-jpeg-tn2"
    XPS = "xps"


# --- shared helpers -----------------------------------------------------------------------------


def _vendor(item: Element) -> bool:
    """An element outside dsc (xs:any namespace="##other"): kept, never rejected."""
    return isinstance(item.tag, str) and not item.tag.startswith(_DSC_PREFIX)


# --- ElementData: dsc:Name and dsc:Valid are form="qualified" (§6.2.1); WS-Scan's ElementData of
# GetScannerElementsResponse is the same shape in wscn ("GetScannerElementsResponse element" example)

_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}


class _Writable(Protocol):
    def write(self, parent: Element) -> None: ...


def write_requested_names(parent: Element, names: tuple[QName, ...], namespace: str = ns.DSC) -> None:
    """Append RequestedElements of `namespace` with one Name (a QName) per requested element."""
    requested = sub(parent, qn(namespace, "RequestedElements"))
    for name in names:
        sub_qnames(requested, qn(namespace, "Name"), [name])


def read_requested_names(parent: Element, namespace: str = ns.DSC) -> tuple[QName, ...]:
    """The Names of the RequestedElements child of `parent`."""
    requested = required(parent, qn(namespace, "RequestedElements"))
    name_tag = qn(namespace, "Name")
    return tuple([single_qname(n) for n in requested if n.tag == name_tag])


def check_requested_names(names: tuple[QName, ...], source: str = "§3.2.4.1, §3.2.4.3") -> None:
    """LocalProtocolError unless there is at least one Name and each is a valid QName."""
    if not names:
        # RequestedRepositoryElementsType / RequestedJobElementsType: Name maxOccurs unbounded, min 1;
        # WS-Scan's RequestedElements likewise.
        raise LocalProtocolError(f"RequestedElements must hold at least one Name ({source})")
    check_qnames("RequestedElements Name", names)


def write_element_data(
    parent: Element, name: QName, valid: bool, content: _Writable | str | None, namespace: str = ns.DSC
) -> None:
    """Append an ElementData of `namespace` with qualified Name and Valid attributes and content:
    a known structure, raw XML (vendor elements), or None."""
    raw = parse_raw(content) if isinstance(content, str) else []
    # The Name value is a QName: its prefix is declared on or above ElementData, preferably the one
    # the raw content declares for it, so that content keeps its prefix when moved in.
    el = sub_qname_attribute(parent, qn(namespace, "ElementData"), qn(namespace, "Name"), name, raw)
    el.set(qn(namespace, "Valid"), "true" if valid else "false")
    for item in raw:
        graft(el, item)
    if content is not None and not isinstance(content, str):
        content.write(el)


def read_element_data(
    el: Element, readers: dict[str, Callable[[Element], _T]], namespace: str = ns.DSC
) -> tuple[QName, bool, _T | str | None]:
    """Name, Valid and content of an ElementData: the known child its reader gives, anything else
    (vendor elements) as raw XML, no child as None."""
    # Unqualified Name/Valid are schema-invalid, but accepted: they cannot mean anything else.
    name = qname_attribute(el, qn(namespace, "Name"), "Name")
    raw_valid = el.get(qn(namespace, "Valid"), el.get("Valid"))
    if name is None or raw_valid is None:
        raise RemoteProtocolError(f"ElementData lacks required {ns.PREFIX_OF[namespace]}:Name or Valid")
    valid = _BOOLEAN.get(raw_valid.strip())
    if valid is None:
        raise RemoteProtocolError(f"ElementData Valid {raw_valid!r} is not an xs:boolean")
    first = next((c for c in el if isinstance(c.tag, str)), None)
    content: _T | str | None = None
    if first is not None:
        reader = readers.get(first.tag)
        content = raw_children(el) if reader is None else reader(first)
    return name, valid, content


# --- RepositoryConfiguration (dsc:RepositoryConfigurationType) ----------------------------------

_DIALECT = _d("Dialect")
_FILTER = _d("Filter")
_FILTER_CONFIG = _d("FilterConfig")
_FILTERS = _d("Filters")
_REPOSITORY_CONFIGURATION = _d("RepositoryConfiguration")


@dataclass(frozen=True, slots=True)
class Filter:
    """A filter the repository offers: dialect QName (e.g. ftr:fileshare) and its configuration,
    kept as raw XML (the canonical XML of FilterConfig's children, "" when empty)."""

    dialect: QName
    filter_config: str = ""
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_qnames("Filter Dialect", [self.dialect])

    def write(self, parent: Element) -> None:
        el = sub(parent, _FILTER)
        sub_qnames(el, _DIALECT, [self.dialect])
        append_raw(sub(el, _FILTER_CONFIG), self.filter_config)
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        dialect = config = None
        extra: list[str] = []
        for item in el:
            if item.tag == _DIALECT:
                dialect = single_qname(item)
            elif item.tag == _FILTER_CONFIG:
                config = raw_children(item)
            elif _vendor(item):
                extra.append(canonical(item))
        if dialect is None:
            raise RemoteProtocolError("Filter lacks required Dialect")
        if config is None:
            raise RemoteProtocolError("Filter lacks required FilterConfig")
        return remote(cls, dialect, config, tuple(extra))


@dataclass(frozen=True, slots=True)
class RepositoryConfiguration:
    """The filters of the repository (Filters is optional; when present it holds at least one)."""

    filters: tuple[Filter, ...] = ()
    extensions: tuple[str, ...] = ()

    def write(self, parent: Element, tag: str = _REPOSITORY_CONFIGURATION) -> None:
        el = sub(parent, tag)
        if self.filters:
            filters = sub(el, _FILTERS)
            for f in self.filters:
                f.write(filters)
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        filters: tuple[Filter, ...] = ()
        extra: list[str] = []
        for item in el:
            if item.tag == _FILTERS:
                # An empty Filters is schema-invalid but harmless: read as "no filters".
                filters = tuple([Filter.read(f) for f in item if f.tag == _FILTER])
            elif _vendor(item):
                extra.append(canonical(item))
        return cls(filters, tuple(extra))


# --- RepositoryStatus (dsc:RepositoryStatusType; also the event's dsc:StatusSummaryType) --------

_REPOSITORY_STATE = _d("RepositoryState")
_REPOSITORY_STATE_REASONS = _d("RepositoryStateReasons")
_REPOSITORY_STATE_REASON = _d("RepositoryStateReason")
_REPOSITORY_STATUS = _d("RepositoryStatus")


@dataclass(frozen=True, slots=True)
class RepositoryStatus:
    """Repository state and reasons; RepositoryStateReasons is written only when reasons exist
    (§3.2.4.7: it MUST be present if any reason exists)."""

    state: RepositoryState | str
    reasons: tuple[RepositoryStateReason | str, ...] = ()
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_token("RepositoryState", self.state)
        for reason in self.reasons:
            check_token("RepositoryStateReason", reason)

    def write(self, parent: Element, tag: str = _REPOSITORY_STATUS) -> None:
        el = sub(parent, tag)
        sub(el, _REPOSITORY_STATE, str(self.state))
        write_reasons(el, _REPOSITORY_STATE_REASONS, _REPOSITORY_STATE_REASON, self.reasons)
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        state = None
        reasons: tuple[str, ...] = ()
        extra: list[str] = []
        for item in el:
            if item.tag == _REPOSITORY_STATE:
                state = enum_or_text(RepositoryState, (item.text or "").strip())
            elif item.tag == _REPOSITORY_STATE_REASONS:
                reasons = read_reasons(item, _REPOSITORY_STATE_REASON, RepositoryStateReason)
            elif _vendor(item):
                extra.append(canonical(item))
        if not state:
            raise RemoteProtocolError(f"{local_name(el.tag)} lacks required RepositoryState")
        return remote(cls, state, reasons, tuple(extra))


@dataclass(frozen=True, slots=True)
class RepositoryElementData:
    """One answer of GetRepositoryElements (§3.2.4.1): the requested name, whether the server knows
    it, and its content: a RepositoryConfiguration, a RepositoryStatus, raw XML for a vendor element
    (canonical XML of the children), or None (Valid=false, or no content)."""

    name: QName
    valid: bool
    content: RepositoryConfiguration | RepositoryStatus | str | None = None

    def __post_init__(self) -> None:
        check_qnames("ElementData Name", [self.name])

    def write(self, parent: Element) -> None:
        write_element_data(parent, self.name, self.valid, self.content)

    @classmethod
    def read(cls, el: Element) -> Self:
        readers: dict[str, Callable[[Element], RepositoryConfiguration | RepositoryStatus]] = {
            _REPOSITORY_CONFIGURATION: RepositoryConfiguration.read,
            _REPOSITORY_STATUS: RepositoryStatus.read,
        }
        return remote(cls, *read_element_data(el, readers))


# --- JobDescription, Documents and ElementData of GetPostScanJobElements (§3.2.4.3) -------------


@dataclass(frozen=True, slots=True)
class JobDescription(Part):
    """Which PostScan Process a job runs and who started it (§3.2.1 "Job Description")."""

    TAG: ClassVar[str] = _d("JobDescription")
    FIELDS: ClassVar[tuple[Field, ...]] = JOB_DESCRIPTION_FIELDS
    psp_identifier: str
    psp_display_name: str
    job_originating_user_name: str
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_description(self)


_DOCUMENT = _d("Document")
_DOCUMENT_DESCRIPTION = _d("DocumentDescription")
_DOCUMENT_ID = _d("DocumentId")
_FORMAT = _d("Format")
_DOCUMENTS = _d("Documents")


@dataclass(frozen=True, slots=True)
class Document:
    """One document of a job: id (xs:int ≥ 1, unique in the job, §3.2.1) and format.
    `extensions` are vendor children of Document, `description_extensions` of DocumentDescription."""

    document_id: int
    format: DocumentFormat | str
    extensions: tuple[str, ...] = ()
    description_extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.document_id <= 0x7FFFFFFF:
            raise LocalProtocolError("DocumentId is an xs:int of at least 1 (dsc:IntOneExtType)")
        check_token("Format", self.format)

    def write(self, parent: Element) -> None:
        el = sub(parent, _DOCUMENT)
        desc = sub(el, _DOCUMENT_DESCRIPTION)
        sub(desc, _DOCUMENT_ID, str(self.document_id))
        sub(desc, _FORMAT, str(self.format))
        append_extensions(desc, self.description_extensions)
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        desc = None
        extra: list[str] = []
        for item in el:
            if item.tag == _DOCUMENT_DESCRIPTION:
                desc = item
            elif _vendor(item):
                extra.append(canonical(item))
        if desc is None:
            raise RemoteProtocolError("Document lacks required DocumentDescription")
        doc_id = fmt = None
        desc_extra: list[str] = []
        for item in desc:
            if item.tag == _DOCUMENT_ID:
                doc_id = parse_int(item, minimum=1)
            elif item.tag == _FORMAT:
                fmt = enum_or_text(DocumentFormat, (item.text or "").strip())
            elif _vendor(item):
                desc_extra.append(canonical(item))
        if doc_id is None or not fmt:
            raise RemoteProtocolError("DocumentDescription lacks required DocumentId or Format")
        return remote(cls, doc_id, fmt, tuple(extra), tuple(desc_extra))


@dataclass(frozen=True, slots=True)
class Documents:
    """The documents a job received so far (possibly none)."""

    documents: tuple[Document, ...] = ()
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        ids = [d.document_id for d in self.documents]
        if len(set(ids)) != len(ids):
            raise LocalProtocolError("DocumentId must be unique within a job (§3.2.1)")

    def write(self, parent: Element) -> None:
        el = sub(parent, _DOCUMENTS)
        for document in self.documents:
            document.write(el)
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        docs = tuple([Document.read(d) for d in el if d.tag == _DOCUMENT])
        extra = tuple([canonical(item) for item in el if _vendor(item)])
        return remote(cls, docs, extra)


_JOB_STATUS = _d("JobStatus")


@dataclass(frozen=True, slots=True)
class JobElementData:
    """One answer of GetPostScanJobElements (§3.2.4.3): the requested name, whether the server knows
    it, and its content: JobStatus, JobDescription, Documents, raw XML (vendor) or None."""

    name: QName
    valid: bool
    content: JobStatus | JobDescription | Documents | str | None = None

    def __post_init__(self) -> None:
        check_qnames("ElementData Name", [self.name])

    def write(self, parent: Element) -> None:
        write_element_data(parent, self.name, self.valid, self.content)

    @classmethod
    def read(cls, el: Element) -> Self:
        readers: dict[str, Callable[[Element], JobStatus | JobDescription | Documents]] = {
            _JOB_STATUS: JobStatus.read,
            JobDescription.TAG: JobDescription.read,
            _DOCUMENTS: Documents.read,
        }
        return remote(cls, *read_element_data(el, readers))
