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
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from lxml import etree

from .errors import LocalProtocolError, RemoteProtocolError
from .namespaces import PREFIX_OF

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MAX_STRING",
    "Element",
    "QName",
    "append_extensions",
    "append_raw",
    "canonical",
    "check_qnames",
    "check_string",
    "check_token",
    "check_uris",
    "child",
    "children",
    "enum_or_text",
    "extensions",
    "format_datetime",
    "format_duration",
    "graft",
    "int_value",
    "is_extension",
    "local_name",
    "namespace_of",
    "parse_bytes",
    "parse_datetime",
    "parse_duration",
    "parse_int",
    "parse_qnames",
    "parse_raw",
    "qn",
    "qname_attribute",
    "raw_children",
    "read_reasons",
    "remote",
    "required",
    "single_qname",
    "sub",
    "sub_qname_attribute",
    "sub_qnames",
    "text_of",
    "to_bytes",
    "write_reasons",
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


# xs:integer lexical form (XML Schema Part 2 §3.3.13; xs:int restricts it), whiteSpace "collapse": an
# optional sign and ASCII digits. int() alone would also take "1_000" and non-ASCII digits ("١٢").
_XS_INTEGER = re.compile(r"[ \t\r\n]*([+-]?[0-9]+)[ \t\r\n]*")


def int_value(raw: str, what: str) -> int:
    """An xs:integer lexical value (text or attribute) as int, or RemoteProtocolError naming `what`."""
    match = _XS_INTEGER.fullmatch(raw)
    if match is None:
        raise RemoteProtocolError(f"{what}: {raw.strip()!r} is not an integer")
    try:
        return int(match[1])
    except ValueError:  # more digits than int() converts (sys.int_info.default_max_str_digits)
        raise RemoteProtocolError(f"{what}: an integer of {len(match[1])} digits is out of range") from None


def parse_int(el: Element, *, minimum: int | None = None) -> int:
    """The element's xs:int/xs:integer text as int (at least `minimum`), or RemoteProtocolError."""
    raw = el.text or ""
    if raw.isdigit() and raw.isascii() and len(raw) < 19:  # the common case, on the sink's hot path
        value = int(raw)
    else:
        value = int_value(raw, local_name(el.tag))
    if minimum is not None and value < minimum:
        raise RemoteProtocolError(f"{local_name(el.tag)}: {value} is below {minimum}")
    return value


# --- QNames (resolved by namespace URI, never by prefix) ----------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class QName:
    """A qualified name resolved by namespace URI (the prefix a peer used is irrelevant)."""

    namespace: str
    local: str

    def __str__(self) -> str:
        return qn(self.namespace, self.local)


def _resolve(nsmap: dict[str | None, str], token: str, what: str) -> QName:
    prefix, sep, local = token.rpartition(":")
    namespace = nsmap.get(prefix if sep else None)
    if namespace is None or not local:
        raise RemoteProtocolError(f"{what}: prefix of {token!r} is not declared")
    return QName(namespace, local)


def parse_qnames(el: Element) -> tuple[QName, ...]:
    """A space-separated list of prefixed QNames (wsd:Types, dsc:Name), resolved in el's scope."""
    nsmap = el.nsmap
    what = local_name(el.tag)
    return tuple([_resolve(nsmap, token, what) for token in text_of(el).split()])


def single_qname(el: Element) -> QName:
    """The one xs:QName in el's text, resolved by namespace URI."""
    names = parse_qnames(el)
    if len(names) != 1:
        raise RemoteProtocolError(f"{local_name(el.tag)} must hold exactly one QName")
    return names[0]


def qname_attribute(el: Element, *attributes: str) -> QName | None:
    """The QName value of the first of these attributes el has, resolved in el's scope; None if none."""
    for attribute in attributes:
        raw = el.get(attribute)
        if raw is not None:
            return _resolve(el.nsmap, raw.strip(), f"{local_name(el.tag)} {local_name(attribute)}")
    return None


_NO_SPACE = re.compile(r"\S+")


def check_uris(what: str, values: Iterable[str]) -> None:
    """LocalProtocolError unless every value is a URI we can write in a space-separated list."""
    for value in values:
        if not _NO_SPACE.fullmatch(value):
            raise LocalProtocolError(f"{what} {value!r} is not a URI without whitespace")


def check_qnames(what: str, names: Iterable[QName]) -> None:
    """LocalProtocolError unless every name has a namespace and a local part we can write as one token."""
    for name in names:
        if not name.namespace or not _NO_SPACE.fullmatch(name.local) or ":" in name.local:
            raise LocalProtocolError(f"{what} {name!s} is not a namespace-qualified QName")


def _prefixes(
    parent: Element, names: Iterable[QName], hints: Iterable[Element] = ()
) -> tuple[list[str], dict[str, str]]:
    """`prefix:local` for each name, and the declarations a new child of parent needs for them: a
    prefix already in scope, else one a hint element declares, ours (PREFIX_OF), or ns0, ns1…"""
    scope = parent.nsmap
    declare: dict[str, str] = {}
    tokens = []
    for name in names:
        uri = name.namespace
        prefix = next((p for p, u in (*scope.items(), *declare.items()) if u == uri and p), None)
        if prefix is None:
            candidates = [p for h in hints for p, u in h.nsmap.items() if u == uri and p]
            candidates.append(PREFIX_OF.get(uri) or "ns0")
            prefix = next((p for p in candidates if p not in scope and p not in declare), None)
            n = 0
            while prefix is None or prefix in scope or prefix in declare:
                prefix, n = f"ns{n}", n + 1
            declare[prefix] = uri
        tokens.append(f"{prefix}:{name.local}")
    return tokens, declare


def sub(parent: Element, tag: str, text: str | None = None) -> Element:
    """Append a child element with optional text."""
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def sub_qnames(parent: Element, tag: str, names: Iterable[QName]) -> Element:
    """Append an element whose text is a QName list, declaring any namespace not yet in scope."""
    tokens, nsmap = _prefixes(parent, names)
    el = etree.SubElement(parent, tag, nsmap=nsmap or None)
    el.text = " ".join(tokens)
    return el


def sub_qname_attribute(
    parent: Element, tag: str, attribute: str, name: QName, hints: Iterable[Element] = ()
) -> Element:
    """Append an element with a QName-valued attribute (dsc:Name), declaring its namespace on the
    element if needed, under the prefix `hints` (content moved in later) declare when they do."""
    tokens, nsmap = _prefixes(parent, [name], hints)
    el = etree.SubElement(parent, tag, nsmap=nsmap or None)
    el.set(attribute, tokens[0])
    return el


# --- kept elements: vendor extensions and xs:any content, as canonical XML text ----------------


def extensions(parent: Element, own_namespace: str) -> tuple[str, ...]:
    """Children outside our namespace (vendor extensions), kept as canonical XML strings."""
    own = "{" + own_namespace + "}"
    return tuple([canonical(el) for el in parent if isinstance(el.tag, str) and not el.tag.startswith(own)])


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


def raw_children(el: Element) -> str:
    """The element children of el (xs:any content) as one string of canonical XML ("" if none)."""
    return "".join([canonical(c) for c in el if isinstance(c.tag, str)])


def _parse_kept(text: str, what: str) -> Element:
    try:
        return parse_bytes(text.encode("utf-8"))
    except (RemoteProtocolError, UnicodeError) as exc:
        raise LocalProtocolError(f"{what} is not XML: {exc}") from None


def parse_raw(raw: str) -> list[Element]:
    """The elements kept by `raw_children` (LocalProtocolError unless raw is elements only)."""
    if not raw:
        return []
    holder = _parse_kept(f"<raw>{raw}</raw>", "raw content")
    if (holder.text or "").strip() or any((c.tail or "").strip() for c in holder):
        raise LocalProtocolError("raw content must be elements only (xs:any), not text")
    return list(holder)


def graft(parent: Element, el: Element) -> Element:
    """Append a copy of el (from another tree) to parent, keeping every prefix el's scope declares."""
    # append() would re-point el's declarations at any ancestor's prefix for the same URI, leaving
    # a QName in text (acme:Value) with an undeclared prefix. SubElement declares each prefix the
    # parent's scope does not bind to the same URI.
    nsmap = el.nsmap
    if el.tag[0] != "{" and None not in nsmap and parent.nsmap.get(None):
        nsmap[None] = ""  # an unqualified element under a default namespace: undeclare it
    # (lxml-stubs type nsmap without the None key of a default namespace, which lxml accepts.)
    copy = etree.SubElement(parent, el.tag, dict(el.attrib.items()), nsmap)  # type: ignore[arg-type]
    copy.text, copy.tail = el.text, el.tail
    for item in el:
        if isinstance(item.tag, str):
            graft(copy, item)
    return copy


def append_raw(parent: Element, raw: str) -> None:
    """Re-attach xs:any content kept by `raw_children`."""
    for el in parse_raw(raw):
        graft(parent, el)


def append_extensions(parent: Element, raw: Iterable[str]) -> None:
    """Re-attach vendor extension elements kept by `extensions`, each with the prefixes it uses."""
    for text in raw:
        graft(parent, _parse_kept(text, "extension element"))


# --- String255 and NMTOKEN values, reason lists (MS-BDSRR §2.2.3, §2.2.5; WS-Scan ExtTypes) -------

# Schema facets shared by every ExtType of dsc and wscn: String255 and NMTOKEN maxLength 255.
MAX_STRING = 255
_TOKEN = re.compile(r"\S{1,255}")


def check_string(what: str, value: str) -> None:
    """LocalProtocolError unless value fits a String255ExtType (at most 255 characters)."""
    if len(value) > MAX_STRING:
        raise LocalProtocolError(f"{what} exceeds {MAX_STRING} characters (String255ExtType)")


def check_token(what: str, value: str) -> None:
    """LocalProtocolError unless value is an enumeration member or a vendor NMTOKEN of at most 255
    characters (MS-BDSRR §2.2.5, wscn KeywordNsExtensionPatternType)."""
    # Well-known values are valid by construction; only vendor strings need the pattern.
    if not isinstance(value, StrEnum) and not _TOKEN.fullmatch(value):
        raise LocalProtocolError(f"{what} {value!r} is not an NMTOKEN of at most {MAX_STRING} characters")


def read_reasons(
    el: Element, item_tag: str, enum: type[StrEnum], *, allow_empty: bool = False
) -> tuple[str, ...]:
    """The item_tag children of a reasons list as enum members or vendor strings; RemoteProtocolError
    if there are none, unless allow_empty (dsc reason lists are minOccurs 1)."""
    known: dict[str, str] = enum._value2member_map_  # type: ignore[assignment]  # see enum_or_text
    reasons = tuple([known.get(v, v) for r in el if r.tag == item_tag for v in [(r.text or "").strip()]])
    if not reasons and not allow_empty:
        raise RemoteProtocolError(f"{local_name(el.tag)} must hold at least one reason")
    return reasons


def write_reasons(
    parent: Element, tag: str, item_tag: str, reasons: Iterable[str], *, always: bool = False
) -> None:
    """Append a reasons list element, unless it would be empty and not `always` written."""
    reasons = tuple(reasons)
    if reasons or always:
        el = sub(parent, tag)
        for reason in reasons:
            sub(el, item_tag, str(reason))


# --- xs:dateTime and xs:duration ----------------------------------------------------------------


# xs:dateTime lexical form (XML Schema Part 2 §3.2.7): the shape check keeps fromisoformat from
# accepting ISO 8601 forms that are not xs:dateTime (basic format, date only, week dates).
_XS_DATETIME = re.compile(
    r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


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


# xs:duration lexical form (XML Schema 1.1 Part 2 §3.3.6.2): at least one field, and a T only when
# a time field follows; seconds may be "1", "1.5", "1." or ".5". ASCII digits only.
_DURATION = re.compile(
    r"(-)?P(?!$)(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)D)?"
    r"(?:T(?=.)(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+(?:\.[0-9]*)?|\.[0-9]+)S)?)?"
)
_MICRO = Decimal(1_000_000)


def parse_duration(text: str) -> timedelta:
    """A non-negative xs:duration → timedelta; RemoteProtocolError if invalid, negative, or it has
    non-zero years/months (no fixed length: Windows and DPWS peers use PnDTnHnMnS forms)."""
    raw = text.strip()
    m = _DURATION.fullmatch(raw)
    if m is None:
        raise RemoteProtocolError(f"{raw!r} is not an xs:duration")
    negative, years, months, days, hours, minutes, seconds = m.groups()
    try:
        if int(years or 0) or int(months or 0):
            # A year or month has no fixed length; converting would invent a lifetime. P0Y0M… is fine.
            raise RemoteProtocolError(f"duration {raw!r} uses years or months, which have no fixed length")
        secs = Decimal(seconds or 0)
        whole = int(secs)
        micro = int(((secs - whole) * _MICRO).to_integral_value(ROUND_HALF_EVEN))
        value = timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0))
        value += timedelta(seconds=whole, microseconds=micro)
    except (ValueError, OverflowError, InvalidOperation):
        raise RemoteProtocolError(f"duration {raw!r} is out of range") from None
    if negative and value:
        # Schema NonNegativeDurationType (minInclusive P0Y0M0DT0H0M0S).
        raise RemoteProtocolError(f"duration {raw!r} is negative")
    return value


def format_duration(value: timedelta) -> str:
    """timedelta → xs:duration text (`PT1H`, `P1DT2H`, `PT0.5S`, `PT0S`)."""
    if value < timedelta(0):
        raise LocalProtocolError("an expiration duration must not be negative (NonNegativeDurationType)")
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or value.microseconds:
        fraction = f".{value.microseconds:06d}".rstrip("0") if value.microseconds else ""
        time += f"{seconds}{fraction}S"
    text = "P" + (f"{value.days}D" if value.days else "") + ("T" + time if time else "")
    return text if text != "P" else "PT0S"


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
