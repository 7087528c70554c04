"""MS-BDSRR scan-repository data carried by the operations and events of repository.py.

RepositoryConfiguration and RepositoryStatus (GetRepositoryElements, §3.2.4.1), JobDescription and
Documents (GetPostScanJobElements, §3.2.4.3) and the ElementData wrappers of both operations; the
JobSummary rows of GetActiveJobs / GetJobHistory live with those messages in repository.py. Same
style as dsm.py: frozen slotted dataclasses validated in __post_init__, read() in one pass over the
children, well-known values as Enum members and vendor values as plain str (§1.8), vendor elements
kept as canonical XML.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, Self, TypeVar

from lxml import etree

from . import namespaces as ns
from ._xml import (
    Element,
    QName,
    append_extensions,
    canonical,
    enum_or_text,
    local_name,
    parse_bytes,
    parse_int,
    parse_qnames,
    qn,
    remote,
    sub,
    sub_qnames,
)
from .dsm import (
    JobStatus,
    RepositoryState,
    RepositoryStateReason,
    _check_string,
    _check_token,
    _read_reasons,
    _write_reasons,
)
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


def _canonical(el: Element) -> str:
    """_xml.canonical of a standalone copy: C14N 2.0 of a subtree fails (ValueError) when a
    namespace it uses is declared only on an ancestor, as peers commonly do on the Envelope."""
    return canonical(copy.deepcopy(el))


def _raw_children(el: Element) -> str:
    """The element children of el as one string of canonical XML ("" when there are none)."""
    return "".join([_canonical(c) for c in el if isinstance(c.tag, str)])


def _parse_raw(raw: str) -> list[Element]:
    """The elements kept by `_raw_children` (LocalProtocolError unless raw is elements only)."""
    if not raw:
        return []
    try:
        holder = parse_bytes(b"<raw>" + raw.encode("utf-8") + b"</raw>")
    except RemoteProtocolError as exc:
        raise LocalProtocolError(f"raw content is not XML: {exc}") from None
    if (holder.text or "").strip() or any((c.tail or "").strip() for c in holder):
        raise LocalProtocolError("raw content must be elements only (xs:any), not text")
    return list(holder)


def _append_raw(parent: Element, raw: str) -> None:
    parent.extend(_parse_raw(raw))


def _single_qname(el: Element) -> QName:
    """The one xs:QName in el's text, resolved by namespace URI."""
    names = parse_qnames(el)
    if len(names) != 1:
        raise RemoteProtocolError(f"{local_name(el.tag)} must hold exactly one QName")
    return names[0]


def _check_qname(what: str, name: QName) -> None:
    if not name.namespace or not name.local:
        raise LocalProtocolError(f"{what} must be a namespace-qualified name")


def _string255(item: Element) -> str:
    return item.text or ""  # String255ExtType: whitespace preserved


# --- ElementData attributes: dsc:Name and dsc:Valid are form="qualified" (§6.2.1) ---------------

_NAME_ATTR = _d("Name")
_VALID_ATTR = _d("Valid")
_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}


class _Writable(Protocol):
    def write(self, parent: Element) -> None: ...


def _write_element_data(parent: Element, name: QName, valid: bool, content: _Writable | str | None) -> None:
    raw = _parse_raw(content) if isinstance(content, str) else []
    # The attribute value is a QName: its prefix must be declared on or above ElementData. Reuse
    # the prefix the raw content declares for it, so that content keeps its prefix when moved in.
    prefix = next((p for p, uri in parent.nsmap.items() if uri == name.namespace and p), None)
    nsmap = None
    if prefix is None:
        own = [p for el in raw for p, uri in el.nsmap.items() if uri == name.namespace and p]
        prefix = own[0] if own else ns.PREFIX_OF.get(name.namespace, "ns0")
        n = 0
        while parent.nsmap.get(prefix) not in (None, name.namespace):
            prefix, n = f"ns{n}", n + 1
        nsmap = {prefix: name.namespace}
    el = etree.SubElement(parent, _d("ElementData"), nsmap=nsmap)
    el.set(_NAME_ATTR, f"{prefix}:{name.local}")
    el.set(_VALID_ATTR, "true" if valid else "false")
    if raw:
        el.extend(raw)
    elif content is not None and not isinstance(content, str):
        content.write(el)


def _read_element_data(
    el: Element, readers: dict[str, Callable[[Element], _T]]
) -> tuple[QName, bool, _T | str | None]:
    """Name, Valid and content of an ElementData: the known child its reader gives, anything else
    (vendor elements) as raw XML, no child as None."""
    # Unqualified Name/Valid are schema-invalid, but accepted: they cannot mean anything else.
    raw_name = el.get(_NAME_ATTR, el.get("Name"))
    raw_valid = el.get(_VALID_ATTR, el.get("Valid"))
    if raw_name is None or raw_valid is None:
        raise RemoteProtocolError("ElementData lacks required dsc:Name or dsc:Valid")
    prefix, sep, local = raw_name.strip().rpartition(":")
    namespace = el.nsmap.get(prefix if sep else None)
    if namespace is None or not local:
        raise RemoteProtocolError(f"ElementData Name {raw_name!r}: prefix is not declared")
    valid = _BOOLEAN.get(raw_valid.strip())
    if valid is None:
        raise RemoteProtocolError(f"ElementData Valid {raw_valid!r} is not an xs:boolean")
    first = next((c for c in el if isinstance(c.tag, str)), None)
    content: _T | str | None = None
    if first is not None:
        reader = readers.get(first.tag)
        content = _raw_children(el) if reader is None else reader(first)
    return QName(namespace, local), valid, content


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
        _check_qname("Filter Dialect", self.dialect)

    def write(self, parent: Element) -> None:
        el = sub(parent, _FILTER)
        sub_qnames(el, _DIALECT, [self.dialect])
        _append_raw(sub(el, _FILTER_CONFIG), self.filter_config)
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        dialect = config = None
        extra: list[str] = []
        for item in el:
            if item.tag == _DIALECT:
                dialect = _single_qname(item)
            elif item.tag == _FILTER_CONFIG:
                config = _raw_children(item)
            elif _vendor(item):
                extra.append(_canonical(item))
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
                extra.append(_canonical(item))
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
        _check_token("RepositoryState", self.state)
        for reason in self.reasons:
            _check_token("RepositoryStateReason", reason)

    def write(self, parent: Element, tag: str = _REPOSITORY_STATUS) -> None:
        el = sub(parent, tag)
        sub(el, _REPOSITORY_STATE, str(self.state))
        _write_reasons(el, _REPOSITORY_STATE_REASONS, _REPOSITORY_STATE_REASON, self.reasons)
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
                reasons = _read_reasons(item, _REPOSITORY_STATE_REASON, RepositoryStateReason)
            elif _vendor(item):
                extra.append(_canonical(item))
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
        _check_qname("ElementData Name", self.name)

    def write(self, parent: Element) -> None:
        _write_element_data(parent, self.name, self.valid, self.content)

    @classmethod
    def read(cls, el: Element) -> Self:
        readers: dict[str, Callable[[Element], RepositoryConfiguration | RepositoryStatus]] = {
            _REPOSITORY_CONFIGURATION: RepositoryConfiguration.read,
            _REPOSITORY_STATUS: RepositoryStatus.read,
        }
        return remote(cls, *_read_element_data(el, readers))


# --- JobDescription, Documents and ElementData of GetPostScanJobElements (§3.2.4.3) -------------

_PSP_IDENTIFIER = _d("PSP_Identifier")
_PSP_DISPLAY_NAME = _d("PSP_DisplayName")
_JOB_ORIGINATING_USER_NAME = _d("JobOriginatingUserName")
_JOB_DESCRIPTION = _d("JobDescription")
_DESCRIPTION_FIELDS = (_PSP_IDENTIFIER, _PSP_DISPLAY_NAME, _JOB_ORIGINATING_USER_NAME)


def _check_description(value: JobDescription) -> None:
    for what in ("psp_identifier", "psp_display_name", "job_originating_user_name"):
        _check_string(what, getattr(value, what))


@dataclass(frozen=True, slots=True)
class JobDescription:
    """Which PostScan Process a job runs and who started it (§3.2.1 "Job Description")."""

    psp_identifier: str
    psp_display_name: str
    job_originating_user_name: str
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_description(self)

    def write(self, parent: Element) -> None:
        el = sub(parent, _JOB_DESCRIPTION)
        sub(el, _PSP_IDENTIFIER, self.psp_identifier)
        sub(el, _PSP_DISPLAY_NAME, self.psp_display_name)
        sub(el, _JOB_ORIGINATING_USER_NAME, self.job_originating_user_name)
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        values: dict[str, str] = {}
        extra: list[str] = []
        for item in el:
            if item.tag in _DESCRIPTION_FIELDS:
                values[item.tag] = _string255(item)
            elif _vendor(item):
                extra.append(_canonical(item))
        for tag in _DESCRIPTION_FIELDS:
            if tag not in values:
                raise RemoteProtocolError(f"JobDescription lacks required {local_name(tag)}")
        return remote(cls, *[values[t] for t in _DESCRIPTION_FIELDS], tuple(extra))


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
        _check_token("Format", self.format)

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
                extra.append(_canonical(item))
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
                desc_extra.append(_canonical(item))
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
        extra = tuple([_canonical(item) for item in el if _vendor(item)])
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
        _check_qname("ElementData Name", self.name)

    def write(self, parent: Element) -> None:
        _write_element_data(parent, self.name, self.valid, self.content)

    @classmethod
    def read(cls, el: Element) -> Self:
        readers: dict[str, Callable[[Element], JobStatus | JobDescription | Documents]] = {
            _JOB_STATUS: JobStatus.read,
            _JOB_DESCRIPTION: JobDescription.read,
            _DOCUMENTS: Documents.read,
        }
        return remote(cls, *_read_element_data(el, readers))
