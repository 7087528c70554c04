"""WS-Discovery 2005/04 messages (Hello, Bye, Probe, ProbeMatches, Resolve, ResolveMatches) and the
§5.1 Probe matching rules, sans-IO: the monitor parses what the simulator builds.

What we build keeps the spec's MUSTs; what we read is lenient where real devices are known to deviate:
- wsd:AppSequence is REQUIRED on Hello, Bye, ProbeMatches and ResolveMatches (§7). Building one
  without `header.app_sequence` is a LocalProtocolError; a parsed one may lack it (some devices omit
  it), so callers must treat `header.app_sequence is None` as "no ordering information".
- Required elements are required on both sides (EndpointReference/Address everywhere, MetadataVersion
  in Hello/ProbeMatch/ResolveMatch, XAddrs in ResolveMatch): missing → RemoteProtocolError.
- Element order, whitespace and unknown child elements (kept as canonical XML in `extensions`) are
  not checked. wsd:Types QNames are resolved by namespace URI, never by prefix.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Self
from urllib.parse import unquote, urlsplit

from . import namespaces as ns
from ._xml import (
    Element,
    QName,
    append_extensions,
    canonical,
    check_qnames,
    check_uris,
    local_name,
    parse_int,
    parse_qnames,
    qn,
    remote,
    sub,
    sub_qnames,
    text_of,
)
from .envelope import AppSequence, EndpointReference, Headers, Message, body_child, new_message_id
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "Bye",
    "Hello",
    "Probe",
    "ProbeMatch",
    "ProbeMatches",
    "Resolve",
    "ResolveMatch",
    "ResolveMatches",
    "match_headers",
    "matches_probe",
    "multicast_headers",
]

_EPR = qn(ns.WSA, "EndpointReference")
_TYPES = qn(ns.WSD, "Types")
_SCOPES = qn(ns.WSD, "Scopes")
_XADDRS = qn(ns.WSD, "XAddrs")
_METADATA_VERSION = qn(ns.WSD, "MetadataVersion")
_TARGET_TAGS = frozenset({_EPR, _TYPES, _SCOPES, _XADDRS, _METADATA_VERSION})
_PROBE_TAGS = frozenset({_TYPES, _SCOPES})
_EPR_TAGS = frozenset({_EPR})
_MAX_UNSIGNED_INT = 0xFFFFFFFF
_URI = re.compile(r"\S+")
# Declared on the envelope as in the shared examples (WSDAPI does the same): the Types QNames then need
# no local declarations, which some embedded parsers resolve only against the envelope.
_TYPES_NAMESPACES = (ns.WSD, ns.WSDP, ns.WSCN, ns.DSC)


def multicast_headers(app_sequence: AppSequence | None = None, *, message_id: str | None = None) -> Headers:
    """Headers for a multicast Hello, Bye, Probe or Resolve: wsa:To is the discovery URN (§2.4)."""
    return Headers(message_id=message_id or new_message_id(), to=ns.WSD_URN, app_sequence=app_sequence)


def match_headers(
    relates_to: str | None, app_sequence: AppSequence | None, *, message_id: str | None = None
) -> Headers:
    """Headers for a unicast ProbeMatches/ResolveMatches answering the message `relates_to` (§5.3, §6.2)."""
    return Headers(
        message_id=message_id or new_message_id(),
        to=ns.WSA_ANONYMOUS,
        relates_to=relates_to,
        app_sequence=app_sequence,
    )


# --- shared field handling ---------------------------------------------------------------------


def _read_fields(el: Element, known: frozenset[str]) -> dict[str, Any]:
    """The children of a discovery body element in one pass, as constructor keyword arguments;
    children not in `known` (vendor extensions) are kept as canonical XML."""
    kw: dict[str, Any] = {}
    extra: list[str] = []
    for item in el:
        tag = item.tag
        if tag not in known:
            if isinstance(tag, str):
                extra.append(canonical(item))
        elif tag == _EPR:
            kw["address"] = EndpointReference.read(item).address
        elif tag == _TYPES:
            kw["types"] = parse_qnames(item)
        elif tag == _SCOPES:
            kw["scopes"] = tuple(text_of(item).split())
            kw["match_by"] = (item.get("MatchBy") or "").strip() or None
        elif tag == _XADDRS:
            kw["xaddrs"] = tuple(text_of(item).split())
        else:  # MetadataVersion
            kw["metadata_version"] = parse_int(item, minimum=0)
    if _EPR in known and "address" not in kw:
        raise RemoteProtocolError(f"{local_name(el.tag)} lacks required EndpointReference")
    kw["extensions"] = tuple(extra)
    return kw


def _write_fields(
    el: Element,
    *,
    address: str | None = None,
    types: tuple[QName, ...] = (),
    scopes: tuple[str, ...] = (),
    match_by: str | None = None,
    xaddrs: tuple[str, ...] = (),
    metadata_version: int | None = None,
    extensions: tuple[str, ...] = (),
) -> None:
    # Schema order (§4.1, §5.2): EndpointReference, Types, Scopes, XAddrs, MetadataVersion, any.
    if address is not None:
        EndpointReference(address).write(el, _EPR)
    if types:
        sub_qnames(el, _TYPES, types)
    if scopes or match_by is not None:
        scopes_el = sub(el, _SCOPES, " ".join(scopes))
        if match_by is not None:
            scopes_el.set("MatchBy", match_by)
    if xaddrs:
        sub(el, _XADDRS, " ".join(xaddrs))
    if metadata_version is not None:
        sub(el, _METADATA_VERSION, str(metadata_version))
    append_extensions(el, extensions)


def _require_app_sequence(message: Message) -> None:
    # §7: Hello, Bye, ProbeMatches and ResolveMatches MUST carry wsd:AppSequence. Checked when we
    # build only: real devices sometimes omit it and the monitor still wants their announcements.
    if message.header.app_sequence is None:
        raise LocalProtocolError(f"{type(message).__name__} must carry a wsd:AppSequence header (§7)")


class _Target:
    """What Hello, Bye, ProbeMatch and ResolveMatch share: fields, validation, reading, writing."""

    __slots__ = ()
    # (field, element) pairs that must be present when parsing, beyond the EndpointReference
    _REQUIRED: ClassVar[tuple[tuple[str, str], ...]] = (("metadata_version", "MetadataVersion"),)
    address: str
    metadata_version: int | None
    types: tuple[QName, ...]
    scopes: tuple[str, ...]
    xaddrs: tuple[str, ...]
    extensions: tuple[str, ...]

    def __post_init__(self) -> None:
        what = type(self).__name__
        if not _URI.fullmatch(self.address):
            raise LocalProtocolError(f"{what}: the EndpointReference Address must be a URI (§4.1)")
        check_qnames(f"{what} Types", self.types)  # §4.1: xs:QName list
        # XAddrs and Scopes are space-separated lists of xs:anyURI (§4.1): a value may not hold a space.
        check_uris(f"{what} Scope", self.scopes)
        check_uris(f"{what} XAddr", self.xaddrs)
        version = self.metadata_version
        if version is not None and not 0 <= version <= _MAX_UNSIGNED_INT:
            raise LocalProtocolError(f"{what}: MetadataVersion {version} is not an xs:unsignedInt (§4.1)")

    @classmethod
    def _read(cls, el: Element, *header: Headers) -> Self:
        kw = _read_fields(el, _TARGET_TAGS)
        kw.pop("match_by", None)  # MatchBy only means something in a Probe
        for name, element in cls._REQUIRED:
            if name not in kw:
                raise RemoteProtocolError(f"{local_name(el.tag)} lacks required {element}")
        return remote(cls, *header, **kw)

    def _write_target(self, el: Element) -> None:
        _write_fields(
            el,
            address=self.address,
            types=self.types,
            scopes=self.scopes,
            xaddrs=self.xaddrs,
            metadata_version=self.metadata_version,
            extensions=self.extensions,
        )


# --- Hello and Bye (§4) ------------------------------------------------------------------------


class _Announcement(_Target, Message):
    """Hello and Bye: the body is one target element, _TAG."""

    __slots__ = ()
    NAMESPACES: ClassVar[tuple[str, ...]] = _TYPES_NAMESPACES
    _TAG: ClassVar[str]

    def write_body(self, body: Element) -> None:
        _require_app_sequence(self)
        self._write_target(sub(body, self._TAG))

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        return cls._read(body_child(body, cls._TAG), header)


@dataclass(frozen=True, slots=True)
class Hello(_Announcement):
    """wsd:Hello (§4.1): a target service joins the network; XAddrs may be absent (then Resolve)."""

    ACTION: ClassVar[str] = ns.WSD_HELLO
    _TAG: ClassVar[str] = qn(ns.WSD, "Hello")
    header: Headers
    address: str
    metadata_version: int
    types: tuple[QName, ...] = ()
    scopes: tuple[str, ...] = ()
    xaddrs: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Bye(_Announcement):
    """wsd:Bye (§4.2): a target service leaves; only the EndpointReference is required."""

    ACTION: ClassVar[str] = ns.WSD_BYE
    _TAG: ClassVar[str] = qn(ns.WSD, "Bye")
    _REQUIRED: ClassVar[tuple[tuple[str, str], ...]] = ()
    header: Headers
    address: str
    metadata_version: int | None = None
    types: tuple[QName, ...] = ()
    scopes: tuple[str, ...] = ()
    xaddrs: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()


# --- Probe and ProbeMatches (§5) ---------------------------------------------------------------

_PROBE = qn(ns.WSD, "Probe")
_PROBE_MATCHES = qn(ns.WSD, "ProbeMatches")
_PROBE_MATCH = qn(ns.WSD, "ProbeMatch")


@dataclass(frozen=True, slots=True)
class Probe(Message):
    """wsd:Probe (§5.2): find targets having all `types` and matching all `scopes` under `match_by`
    (None = the default rfc2396 prefix rule, §5.1)."""

    ACTION: ClassVar[str] = ns.WSD_PROBE
    NAMESPACES: ClassVar[tuple[str, ...]] = _TYPES_NAMESPACES
    header: Headers
    types: tuple[QName, ...] = ()
    scopes: tuple[str, ...] = ()
    match_by: str | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_qnames("Probe Types", self.types)
        check_uris("Probe Scope", self.scopes)
        if self.match_by is not None:
            check_uris("Probe MatchBy", (self.match_by,))

    def matches(self, types: Iterable[QName], scopes: Iterable[str]) -> bool:
        """True if a target with these Types and Scopes matches this Probe (§5.1)."""
        return matches_probe(self.types, self.scopes, self.match_by, types, scopes)

    def write_body(self, body: Element) -> None:
        _write_fields(
            sub(body, _PROBE),
            types=self.types,
            scopes=self.scopes,
            match_by=self.match_by,
            extensions=self.extensions,
        )

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        return remote(cls, header, **_read_fields(body_child(body, _PROBE), _PROBE_TAGS))


@dataclass(frozen=True, slots=True)
class ProbeMatch(_Target):
    """One wsd:ProbeMatch (§5.3): a target matching the Probe; XAddrs may be absent (then Resolve)."""

    address: str
    metadata_version: int
    types: tuple[QName, ...] = ()
    scopes: tuple[str, ...] = ()
    xaddrs: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProbeMatches(Message):
    """wsd:ProbeMatches (§5.3): the unicast answer to a Probe; zero matches is valid."""

    ACTION: ClassVar[str] = ns.WSD_PROBE_MATCHES
    NAMESPACES: ClassVar[tuple[str, ...]] = _TYPES_NAMESPACES
    header: Headers
    matches: tuple[ProbeMatch, ...] = ()
    extensions: tuple[str, ...] = ()

    def write_body(self, body: Element) -> None:
        _require_app_sequence(self)
        el = sub(body, _PROBE_MATCHES)
        for match in self.matches:
            match._write_target(sub(el, _PROBE_MATCH))
        append_extensions(el, self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        matches: list[ProbeMatch] = []
        extra: list[str] = []
        for item in body_child(body, _PROBE_MATCHES):
            if item.tag == _PROBE_MATCH:
                matches.append(ProbeMatch._read(item))
            elif isinstance(item.tag, str):
                extra.append(canonical(item))
        return cls(header, tuple(matches), tuple(extra))


# --- Resolve and ResolveMatches (§6) -----------------------------------------------------------

_RESOLVE = qn(ns.WSD, "Resolve")
_RESOLVE_MATCHES = qn(ns.WSD, "ResolveMatches")
_RESOLVE_MATCH = qn(ns.WSD, "ResolveMatch")


@dataclass(frozen=True, slots=True)
class Resolve(Message):
    """wsd:Resolve (§6.1): ask the target with this EndpointReference address for its XAddrs."""

    ACTION: ClassVar[str] = ns.WSD_RESOLVE
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSD,)
    header: Headers
    address: str
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _URI.fullmatch(self.address):
            raise LocalProtocolError("Resolve: the EndpointReference Address must be a URI (§6.1)")

    def write_body(self, body: Element) -> None:
        _write_fields(sub(body, _RESOLVE), address=self.address, extensions=self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        return remote(cls, header, **_read_fields(body_child(body, _RESOLVE), _EPR_TAGS))


@dataclass(frozen=True, slots=True)
class ResolveMatch(_Target):
    """wsd:ResolveMatch (§6.2): unlike Hello and ProbeMatch, XAddrs is required here (2005/04)."""

    _REQUIRED: ClassVar[tuple[tuple[str, str], ...]] = (
        ("metadata_version", "MetadataVersion"),
        ("xaddrs", "XAddrs"),
    )
    address: str
    metadata_version: int
    xaddrs: tuple[str, ...]
    types: tuple[QName, ...] = ()
    scopes: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.xaddrs:
            raise LocalProtocolError("ResolveMatch must carry at least one XAddr (§6.2)")
        _Target.__post_init__(self)


@dataclass(frozen=True, slots=True)
class ResolveMatches(Message):
    """wsd:ResolveMatches (§6.2): the unicast answer to a Resolve, with at most one match."""

    ACTION: ClassVar[str] = ns.WSD_RESOLVE_MATCHES
    NAMESPACES: ClassVar[tuple[str, ...]] = _TYPES_NAMESPACES
    header: Headers
    match: ResolveMatch | None = None
    extensions: tuple[str, ...] = ()

    def write_body(self, body: Element) -> None:
        _require_app_sequence(self)
        el = sub(body, _RESOLVE_MATCHES)
        if self.match is not None:
            self.match._write_target(sub(el, _RESOLVE_MATCH))
        append_extensions(el, self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        match = None
        extra: list[str] = []
        for item in body_child(body, _RESOLVE_MATCHES):
            if item.tag == _RESOLVE_MATCH and match is None:
                match = ResolveMatch._read(item)
            elif isinstance(item.tag, str):
                extra.append(canonical(item))
        return cls(header, match, tuple(extra))


# --- matching (§5.1) ---------------------------------------------------------------------------


def _segments(path: str) -> list[str] | None:
    parts = [unquote(s) for s in path.split("/")]
    while parts and not parts[-1]:  # "/a/b/" and "/a/b" name the same segments; "" and "/" none
        parts.pop()
    return None if "." in parts or ".." in parts else parts


def _match_rfc2396(probe: str, target: str) -> bool:
    # §5.1 rfc2396: scheme and authority equal ignoring case, the Probe's path segments a
    # segment-wise (not string) prefix of the target's, no "." or ".." segment, after unescaping;
    # query and fragment are not compared.
    try:
        p, t = urlsplit(probe), urlsplit(target)
    except ValueError:
        return False
    if p.scheme.lower() != t.scheme.lower() or p.netloc.lower() != t.netloc.lower():
        return False
    ps, ts = _segments(p.path), _segments(t.path)
    return ps is not None and ts is not None and ts[: len(ps)] == ps


def _uuid_of(scope: str) -> uuid.UUID | None:
    scheme, sep, rest = scope.partition(":")
    if not sep or scheme.lower() != "uuid":
        return None
    try:
        return uuid.UUID(rest)
    except ValueError:
        return None


def _match_uuid(probe: str, target: str) -> bool:
    # §5.1 uuid: both use the "uuid" scheme (case-insensitive) and name the same 128-bit value.
    a = _uuid_of(probe)
    return a is not None and a == _uuid_of(target)


def _match_strcmp0(probe: str, target: str) -> bool:
    return probe == target  # §5.1 strcmp0: case-sensitive string equality


# The ldap rule (RFC 2253 DN prefix) is not implemented: like any unknown rule, it matches no scope.
_RULES: dict[str, Callable[[str, str], bool]] = {
    ns.WSD_MATCH_RFC2396: _match_rfc2396,
    ns.WSD_MATCH_RFC3986: _match_rfc2396,
    ns.WSD_MATCH_UUID: _match_uuid,
    ns.WSD_MATCH_STRCMP0: _match_strcmp0,
}


def matches_probe(
    probe_types: Iterable[QName],
    probe_scopes: Iterable[str],
    match_by: str | None,
    target_types: Iterable[QName],
    target_scopes: Iterable[str],
) -> bool:
    """True if every Probe type is among the target's (by namespace URI and local name) and every
    Probe scope matches some target scope under `match_by` (None → rfc2396), per §5.1."""
    have = set(target_types)
    if not all(t in have for t in probe_types):
        return False
    scopes = tuple(probe_scopes)
    if not scopes:
        return True  # no Scopes in the Probe: any target scope set matches, whatever the rule
    rule = _RULES.get(match_by or ns.WSD_MATCH_RFC2396)
    if rule is None:
        return False  # an unsupported matching rule matches nothing
    targets = tuple(target_scopes)
    return all(any(rule(s, t) for t in targets) for s in scopes)


MESSAGES: tuple[type[Message], ...] = (Hello, Bye, Probe, ProbeMatches, Resolve, ResolveMatches)
