"""The one hardened XML parser of wsdmon, and the small helpers every message module shares.

Every byte string that comes from the network is parsed here and nowhere else. The parser is built
once (one copy per thread: lxml parsers must not be shared between threads at the same time) with
no DTD, no network, no entity resolution and libxml2's default tree limits; the byte cap is checked
before any parsing. No lxml exception leaves this module: they become RemoteProtocolError.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from lxml import etree

from .errors import LocalProtocolError, RemoteProtocolError
from .namespaces import PREFIX_OF

__all__ = [
    "MAX_MESSAGE_BYTES",
    "Element",
    "QName",
    "child",
    "children",
    "extensions",
    "format_datetime",
    "parse_bytes",
    "parse_datetime",
    "parse_int",
    "parse_qnames",
    "qn",
    "required",
    "sub",
    "text_of",
    "to_bytes",
]

Element = etree._Element
_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")

# A notification is ~2 KiB and a metadata response ~4 KiB; 1 MiB leaves room for vendor bloat while
# keeping a hostile peer from making us parse arbitrarily large documents.
MAX_MESSAGE_BYTES = 1024 * 1024

_local = threading.local()


def _new_parser() -> etree.XMLParser:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        # Whitespace between elements carries nothing in SOAP; dropping it makes the tree
        # smaller. Whitespace-only leaf content (an opaque token) is kept by libxml2.
        remove_blank_text=True,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    _local.parser = parser
    return parser


def parse_bytes(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Element:
    """Parse untrusted bytes into an element tree root, or raise RemoteProtocolError."""
    if type(data) is not bytes:
        if not isinstance(data, bytearray | memoryview):
            raise LocalProtocolError(f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
    if len(data) > max_bytes:
        raise RemoteProtocolError(f"message of {len(data)} bytes exceeds the {max_bytes}-byte cap")
    if not data:
        raise RemoteProtocolError("empty message")
    # A DTD is never legitimate in SOAP (SOAP 1.2 Part 1 §5: "MUST NOT contain a DTD"). This scan
    # catches it in every ASCII-compatible encoding before libxml2 sees it; documents in UTF-16/32
    # (first byte not ASCII-compatible) get the docinfo check after parsing as well.
    if b"<!DOCTYPE" in data:
        raise RemoteProtocolError("document type declarations are not allowed")
    parser = getattr(_local, "parser", None) or _new_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise RemoteProtocolError(f"not well-formed XML: {exc}") from None
    except (etree.LxmlError, ValueError) as exc:
        raise RemoteProtocolError(f"unparseable XML: {exc}") from None
    if root is None:
        raise RemoteProtocolError("no document element")
    if data[0] not in _ASCII_STARTS and root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise RemoteProtocolError("document type declarations are not allowed")
    return root


# First bytes of a document in an ASCII-compatible encoding: "<", XML whitespace, UTF-8 BOM.
_ASCII_STARTS = frozenset(b"< \t\r\n\xef")


def to_bytes(root: Element) -> bytes:
    """Serialize an element we built, with an XML declaration, as UTF-8."""
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def qn(namespace: str, local: str) -> str:
    """Clark notation `{namespace}local`, the form lxml tags use."""
    return f"{{{namespace}}}{local}"


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def namespace_of(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def child(parent: Element, tag: str) -> Element | None:
    """The first child with this Clark tag, or None."""
    for el in parent:
        if el.tag == tag:
            return el
    return None


def children(parent: Element, tag: str) -> Iterator[Element]:
    """Every child with this Clark tag, in document order."""
    for el in parent:
        if el.tag == tag:
            yield el


def required(parent: Element, tag: str) -> Element:
    """The first child with this tag; RemoteProtocolError naming what is missing otherwise."""
    el = child(parent, tag)
    if el is None:
        raise RemoteProtocolError(f"{local_name(parent.tag)} lacks required {local_name(tag)}")
    return el


def text_of(el: Element, *, strip: bool = True) -> str:
    """The element's text content (None → ""), stripped unless whitespace is significant."""
    value = el.text or ""
    return value.strip() if strip else value


def parse_int(el: Element, *, minimum: int | None = None) -> int:
    raw = text_of(el)
    try:
        value = int(raw)
    except ValueError:
        raise RemoteProtocolError(f"{local_name(el.tag)}: {raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise RemoteProtocolError(f"{local_name(el.tag)}: {value} is below {minimum}")
    return value


@dataclass(frozen=True, slots=True, order=True)
class QName:
    """A qualified name resolved by namespace URI (the prefix a peer used is irrelevant)."""

    namespace: str
    local: str

    def __str__(self) -> str:
        return qn(self.namespace, self.local)


def parse_qnames(el: Element) -> tuple[QName, ...]:
    """A space-separated list of prefixed QNames (wsd:Types, dsc:Name), resolved in el's scope."""
    nsmap = el.nsmap
    out = []
    for token in text_of(el).split():
        prefix, sep, local = token.rpartition(":")
        ns = nsmap.get(prefix if sep else None)
        if ns is None or not local:
            raise RemoteProtocolError(f"{local_name(el.tag)}: prefix of {token!r} is not declared")
        out.append(QName(ns, local))
    return tuple(out)


def _prefix_for(parent: Element | None, namespace: str, used: dict[str, str]) -> str:
    if parent is not None:
        for prefix, uri in parent.nsmap.items():
            if uri == namespace and prefix:
                return prefix
    prefix = PREFIX_OF.get(namespace)
    if prefix is None:
        prefix = f"ns{len(used)}"
    used[prefix] = namespace
    return prefix


def sub(parent: Element, tag: str, text: str | None = None) -> Element:
    """Append a child element with optional text."""
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def sub_qnames(parent: Element, tag: str, names: Iterable[QName]) -> Element:
    """Append an element whose text is a QName list, declaring any namespace not yet in scope."""
    names = tuple(names)
    used: dict[str, str] = {}
    tokens = []
    for name in names:
        prefix = _prefix_for(parent, name.namespace, used)
        tokens.append(f"{prefix}:{name.local}")
    nsmap = {p: u for p, u in used.items() if parent.nsmap.get(p) != u}
    el = etree.SubElement(parent, tag, nsmap=nsmap or None)
    el.text = " ".join(tokens)
    return el


def extensions(parent: Element, own_namespace: str) -> tuple[str, ...]:
    """Children outside our namespace (vendor extensions), kept as canonical XML strings."""
    out = []
    for el in parent:
        if isinstance(el.tag, str) and not el.tag.startswith("{" + own_namespace + "}"):
            out.append(canonical(el))
    return tuple(out)


# A prefixed name inside text or attribute values (xsi:type="x:T", wsd:Types): exclusive C14N would
# drop the declaration such a prefix needs, so canonical() keeps those prefixes explicitly.
_QNAME_TOKEN = re.compile(r"([A-Za-z_][\w.\-]*):[A-Za-z_][\w.\-]*")


def canonical(el: Element) -> str:
    """A kept element (vendor extension, unknown body) as exclusive C14N 1.0 text: stable and
    re-parseable wherever its namespaces were declared (often on the envelope, an ancestor)."""
    used: set[str] = set()
    for node in el.iter():
        chunks = [node.text or "", *node.attrib.values()]
        if node is not el:
            chunks.append(node.tail or "")
        for chunk in chunks:
            for token in chunk.split():
                match = _QNAME_TOKEN.fullmatch(token)
                if match:
                    used.add(match[1])
    used.discard("xml")
    try:
        return etree.tostring(
            el, method="c14n", exclusive=True, inclusive_ns_prefixes=sorted(used) or None
        ).decode("utf-8")
    except (etree.LxmlError, ValueError):  # C14N rejects relative namespace URIs: keep plain XML
        return etree.tostring(el, encoding="unicode", with_tail=False)


def append_extensions(parent: Element, raw: Iterable[str]) -> None:
    """Re-attach vendor extension elements kept by `extensions`."""
    for text in raw:
        try:
            parent.append(
                etree.fromstring(text.encode("utf-8"), getattr(_local, "parser", None) or _new_parser())
            )
        except etree.XMLSyntaxError as exc:
            raise LocalProtocolError(f"extension element is not XML: {exc}") from None


# --- xs:dateTime and xs:duration ----------------------------------------------------------------


# xs:dateTime lexical form (XML Schema Part 2 §3.2.7): the shape check keeps fromisoformat from
# accepting ISO 8601 forms that are not xs:dateTime (basic format, date only, week dates).
_XS_DATETIME = re.compile(r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)?")


# Every status event of a job repeats its JobCreatedTime: a small cache of parsed values (datetimes
# are immutable) saves the regex and fromisoformat on the sink's hot path.
_DATETIME_CACHE_SIZE = 512
_datetime_cache: dict[str, datetime] = {}


def parse_datetime(el: Element) -> datetime:
    """xs:dateTime with `Z`, `±hh:mm` or no offset (MS-BDSRR §2.2.4.1 says servers SHOULD use
    local time, so offset-less values are kept naive: "server local")."""
    raw = (el.text or "").strip()
    cached = _datetime_cache.get(raw)
    if cached is not None:
        return cached
    if _XS_DATETIME.fullmatch(raw):
        try:
            # Python 3.11's fromisoformat takes Z and any number of fraction digits.
            value = datetime.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if len(_datetime_cache) >= _DATETIME_CACHE_SIZE:
                _datetime_cache.clear()
            _datetime_cache[raw] = value
            return value
    raise RemoteProtocolError(f"{local_name(el.tag)}: {raw!r} is not an xs:dateTime")


def format_datetime(value: datetime) -> str:
    """xs:dateTime text: UTC as `Z`, other offsets as `±hh:mm`, naive values without offset."""
    text = value.isoformat()
    if value.utcoffset() == timedelta(0) and value.tzinfo is not None:
        text = text.removesuffix("+00:00") + "Z"
    return text


# --- enumerations with vendor extensions (MS-BDSRR §1.8) ----------------------------------------


def enum_or_text(enum: type[_E], raw: str) -> _E | str:
    """A well-known value as its Enum member; any other value (vendor extension such as
    `acme:Quarantined`) kept verbatim as a plain str. Never rejects: the UI badges extensions."""
    # _value2member_map_ is Enum's own value index: a dict hit instead of Enum.__call__ (hot path).
    member: _E | None = enum._value2member_map_.get(raw)  # type: ignore[assignment]
    return raw if member is None else member


def is_extension(value: str) -> bool:
    """True for a value that is not a member of the spec's enumeration (shown as given)."""
    return not isinstance(value, StrEnum)


def remote(factory: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Construct a value from a peer's data: the constructor's LocalProtocolError (a MUST the value
    breaks) is the peer's fault here, so it becomes RemoteProtocolError."""
    try:
        return factory(*args, **kwargs)
    except LocalProtocolError as exc:
        raise RemoteProtocolError(str(exc)) from None
