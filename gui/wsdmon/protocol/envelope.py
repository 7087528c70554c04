"""SOAP 1.2 envelopes with WS-Addressing 2004/08 headers, the Message base class, and SOAP faults.

A message class describes its body only; this module writes and reads everything around it. Header
blocks outside wsa that we do not know are kept as reference parameters (see Headers); they are
never processed (SOAP 1.2 Part 1 §2.7: only mustUnderstand blocks would have to fault, and no peer
of ours sets it on blocks we could not process).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Self

from lxml import etree

from . import namespaces as ns
from ._xml import (
    MAX_MESSAGE_BYTES,
    Element,
    QName,
    append_extensions,
    canonical,
    child,
    int_value,
    local_name,
    parse_bytes,
    parse_qnames,
    qn,
    required,
    single_qname,
    sub,
    sub_qnames,
    text_of,
    to_bytes,
)
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "AppSequence",
    "EndpointReference",
    "Envelope",
    "Fault",
    "Headers",
    "Message",
    "encode",
    "new_message_id",
    "parse_envelope",
]

_S_ENVELOPE = qn(ns.SOAP, "Envelope")
_S_HEADER = qn(ns.SOAP, "Header")
_S_BODY = qn(ns.SOAP, "Body")
_S_FAULT = qn(ns.SOAP, "Fault")
_A_TO = qn(ns.WSA, "To")
_A_ACTION = qn(ns.WSA, "Action")
_A_MESSAGE_ID = qn(ns.WSA, "MessageID")
_A_RELATES_TO = qn(ns.WSA, "RelatesTo")
_A_REPLY_TO = qn(ns.WSA, "ReplyTo")
_A_ADDRESS = qn(ns.WSA, "Address")
_A_REFERENCE_PARAMETERS = qn(ns.WSA, "ReferenceParameters")
_A_REFERENCE_PROPERTIES = qn(ns.WSA, "ReferenceProperties")
_E_IDENTIFIER = qn(ns.WSE, "Identifier")
_D_APP_SEQUENCE = qn(ns.WSD, "AppSequence")


def new_message_id() -> str:
    """A fresh `urn:uuid:` message identifier (WS-Addressing 2004/08 §3: MessageID MUST be unique)."""
    return uuid.uuid4().urn


@dataclass(frozen=True, slots=True)
class AppSequence:
    """wsd:AppSequence (WS-Discovery 2005/04 §7): InstanceId grows on restart, MessageNumber per message."""

    instance_id: int
    message_number: int
    sequence_id: str | None = None

    def __post_init__(self) -> None:
        # WS-Discovery §7: both are xs:unsignedInt.
        for name in ("instance_id", "message_number"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFFFFFFFF:
                raise LocalProtocolError(f"AppSequence {name} {value} is not an unsignedInt")


@dataclass(frozen=True, slots=True)
class EndpointReference:
    """wsa:EndpointReference: an address and, for WS-Eventing, the wse:Identifier reference parameter."""

    address: str
    identifier: str | None = None
    extra_parameters: tuple[str, ...] = ()  # other reference parameters, canonical XML

    def __post_init__(self) -> None:
        if not self.address:
            raise LocalProtocolError("an endpoint reference needs an address")

    def write(self, parent: Element, tag: str) -> Element:
        el = sub(parent, tag)
        sub(el, _A_ADDRESS, self.address)
        if self.identifier is not None or self.extra_parameters:
            params = sub(el, _A_REFERENCE_PARAMETERS)
            if self.identifier is not None:
                sub(params, _E_IDENTIFIER, self.identifier)
            append_extensions(params, self.extra_parameters)
        return el

    @classmethod
    def read(cls, el: Element) -> Self:
        address = text_of(required(el, _A_ADDRESS))
        if not address:
            raise RemoteProtocolError(f"{local_name(el.tag)} has an empty Address")
        identifier = None
        extra: list[str] = []
        # 2004/08 allows ReferenceProperties too; some stacks put the Identifier there.
        for params_tag in (_A_REFERENCE_PARAMETERS, _A_REFERENCE_PROPERTIES):
            params = child(el, params_tag)
            if params is None:
                continue
            for param in params:
                if param.tag == _E_IDENTIFIER and identifier is None:
                    identifier = text_of(param)
                elif isinstance(param.tag, str):
                    extra.append(canonical(param))
        return cls(address, identifier, tuple(extra))


@dataclass(frozen=True, slots=True)
class Headers:
    """The WS-Addressing header blocks of one message (its Action is the message class's).

    A message sent to an endpoint reference carries each of its reference parameters as a header
    block (WS-Addressing 2004/08 §3.3): wse:Identifier in `identifier`, any other in
    `reference_parameters` as canonical XML. 2004/08 does not mark echoed parameters, so a parsed
    message keeps there every header block outside wsa that is not one of ours (wsa:From,
    wsa:FaultTo… are dropped)."""

    message_id: str | None = None
    to: str | None = None
    relates_to: str | None = None
    reply_to: str | None = None
    identifier: str | None = None  # wse:Identifier echoed from a reference parameter
    app_sequence: AppSequence | None = None
    reference_parameters: tuple[str, ...] = ()  # other header blocks, canonical XML

    @classmethod
    def request(cls, to: str, *, identifier: str | None = None, message_id: str | None = None) -> Self:
        """Headers for a request answered on the HTTP response (ReplyTo anonymous, §4 of the ref)."""
        return cls(message_id or new_message_id(), to, None, ns.WSA_ANONYMOUS, identifier)

    @classmethod
    def reply(cls, relates_to: str | None, *, message_id: str | None = None) -> Self:
        """Headers for a response to the request with message id `relates_to`."""
        return cls(message_id or new_message_id(), ns.WSA_ANONYMOUS, relates_to)


class Message(ABC):
    """A SOAP message with a fixed Action. Subclasses are frozen, slotted dataclasses."""

    __slots__ = ()
    ACTION: ClassVar[str]
    # Namespaces declared on the envelope (prefixes from namespaces.PREFIXES).
    NAMESPACES: ClassVar[tuple[str, ...]] = ()
    header: Headers

    @property
    def action(self) -> str:
        return self.ACTION

    @abstractmethod
    def write_body(self, body: Element) -> None:
        """Append this message's body content to soap:Body."""

    @classmethod
    @abstractmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        """Build the message from soap:Body; RemoteProtocolError on anything the spec forbids."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed envelope before dispatch: action, headers and the soap:Body element."""

    action: str
    header: Headers
    body: Element


def encode(message: Message) -> bytes:
    """Serialize a message into a complete SOAP 1.2 envelope (UTF-8, with XML declaration)."""
    nsmap = {"soap": ns.SOAP, "wsa": ns.WSA}
    for uri in message.NAMESPACES:
        nsmap[ns.PREFIX_OF[uri]] = uri
    h = message.header
    if h.identifier is not None:
        nsmap["wse"] = ns.WSE
    if h.app_sequence is not None:
        nsmap["wsd"] = ns.WSD
    root = etree.Element(_S_ENVELOPE, nsmap=nsmap)
    header = sub(root, _S_HEADER)
    if h.to is not None:
        sub(header, _A_TO, h.to)
    sub(header, _A_ACTION, message.action)
    if h.message_id is not None:
        sub(header, _A_MESSAGE_ID, h.message_id)
    if h.relates_to is not None:
        sub(header, _A_RELATES_TO, h.relates_to)
    if h.reply_to is not None:
        sub(sub(header, _A_REPLY_TO), _A_ADDRESS, h.reply_to)
    if h.identifier is not None:
        sub(header, _E_IDENTIFIER, h.identifier)
    if h.app_sequence is not None:
        seq = sub(header, _D_APP_SEQUENCE)
        seq.set("InstanceId", str(h.app_sequence.instance_id))
        if h.app_sequence.sequence_id is not None:
            seq.set("SequenceId", h.app_sequence.sequence_id)
        seq.set("MessageNumber", str(h.app_sequence.message_number))
    if h.reference_parameters:
        check_reference_parameters(h.reference_parameters)
        append_extensions(header, h.reference_parameters)
    message.write_body(sub(root, _S_BODY))
    return to_bytes(root)


_WSA_PREFIX = "{" + ns.WSA + "}"
_KNOWN_BLOCKS = frozenset({_E_IDENTIFIER, _D_APP_SEQUENCE})


def _is_reference_parameter(tag: object) -> bool:
    """A header block parse_envelope keeps in reference_parameters: not wsa, not one we model."""
    return isinstance(tag, str) and not tag.startswith(_WSA_PREFIX) and tag not in _KNOWN_BLOCKS


def check_reference_parameters(parameters: Iterable[str]) -> None:
    """LocalProtocolError unless each parameter is one element that parse_envelope reads back as a
    reference parameter (not wsa, wse:Identifier or wsd:AppSequence: it would be read as that)."""
    holder = etree.Element("holder")
    append_extensions(holder, parameters)
    for el in holder:
        if not _is_reference_parameter(el.tag):
            raise LocalProtocolError(f"reference parameter {el.tag} is a header block of its own")


def _read_app_sequence(el: Element) -> AppSequence:
    try:
        instance = int_value(el.get("InstanceId", ""), "InstanceId")
        number = int_value(el.get("MessageNumber", ""), "MessageNumber")
        return AppSequence(instance, number, el.get("SequenceId"))
    except (RemoteProtocolError, LocalProtocolError):
        raise RemoteProtocolError("AppSequence needs unsignedInt InstanceId and MessageNumber") from None


def parse_envelope(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Envelope:
    """Parse bytes into action, headers and body; RemoteProtocolError if it is not a SOAP 1.2 envelope."""
    root = parse_bytes(data, max_bytes=max_bytes)
    if root.tag != _S_ENVELOPE:
        raise RemoteProtocolError(f"not a SOAP 1.2 envelope: root element is {root.tag!r}")
    header_el = body = None
    for el in root:
        if el.tag == _S_HEADER:
            header_el = el
        elif el.tag == _S_BODY:
            body = el
    if body is None:
        raise RemoteProtocolError("SOAP envelope has no Body")
    action = to = message_id = relates_to = reply_to = identifier = None
    app_sequence = None
    parameters: list[str] = []
    if header_el is not None:
        # One pass over the header blocks, matched by Clark tag (namespace URI, not prefix).
        for el in header_el:
            tag = el.tag
            if tag == _A_ACTION:
                action = (el.text or "").strip()
            elif tag == _A_MESSAGE_ID:
                message_id = (el.text or "").strip()
            elif tag == _A_TO:
                to = (el.text or "").strip()
            elif tag == _A_RELATES_TO:
                relates_to = (el.text or "").strip()
            elif tag == _E_IDENTIFIER:
                identifier = (el.text or "").strip()
            elif tag == _A_REPLY_TO:
                addr = child(el, _A_ADDRESS)
                reply_to = text_of(addr) if addr is not None else None
            elif tag == _D_APP_SEQUENCE:
                app_sequence = _read_app_sequence(el)
            elif _is_reference_parameter(tag):
                parameters.append(canonical(el))
    headers = Headers(message_id, to, relates_to, reply_to, identifier, app_sequence, tuple(parameters))
    if not action:
        if child(body, _S_FAULT) is not None:
            action = ns.WSA_FAULT_ACTION
        else:
            raise RemoteProtocolError("message has no wsa:Action header")
    return Envelope(action, headers, body)


def body_child(body: Element, tag: str) -> Element:
    """The single expected element in soap:Body, by Clark tag."""
    for el in body:
        if isinstance(el.tag, str):
            if el.tag != tag:
                raise RemoteProtocolError(f"expected {local_name(tag)} in Body, found {el.tag!r}")
            return el
    raise RemoteProtocolError(f"Body lacks {local_name(tag)}")


# --- SOAP 1.2 faults (SOAP 1.2 Part 1 §5.4; MS-BDSRR §2.2.2.1) ---------------------------------

_S_CODE = qn(ns.SOAP, "Code")
_S_VALUE = qn(ns.SOAP, "Value")
_S_SUBCODE = qn(ns.SOAP, "Subcode")
_S_REASON = qn(ns.SOAP, "Reason")
_S_TEXT = qn(ns.SOAP, "Text")
_S_DETAIL = qn(ns.SOAP, "Detail")
_XML_LANG = qn(ns.XML, "lang")
FAULT_CODES = ("VersionMismatch", "MustUnderstand", "DataEncodingUnknown", "Sender", "Receiver")


@dataclass(frozen=True, slots=True)
class Fault(Message):
    """soap:Fault. `code` is the local name of soap:Code/Value (Sender, Receiver…); `subcode` the
    QName of the first Subcode (dsc:InvalidArgs, wse:…): clients match on its local name."""

    ACTION: ClassVar[str] = ns.WSA_FAULT_ACTION
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.DSC, ns.WSE)
    header: Headers
    code: str
    subcode: QName | None
    reason: str
    detail: str | None = None  # text of soap:Detail (MS-BDSRR puts the JobToken or operation there)
    lang: str = "en"

    def __post_init__(self) -> None:
        if self.code not in FAULT_CODES:
            raise LocalProtocolError(f"SOAP 1.2 §5.4.6: {self.code!r} is not a fault code")

    def write_body(self, body: Element) -> None:
        fault = sub(body, _S_FAULT)
        code = sub(fault, _S_CODE)
        sub(code, _S_VALUE, f"soap:{self.code}")
        if self.subcode is not None:
            sub_qnames(sub(code, _S_SUBCODE), _S_VALUE, [self.subcode])
        text = sub(sub(fault, _S_REASON), _S_TEXT, self.reason)
        text.set(_XML_LANG, self.lang)
        if self.detail is not None:
            sub(fault, _S_DETAIL, self.detail)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        fault = body_child(body, _S_FAULT)
        code_el = required(fault, _S_CODE)
        value = parse_qnames(required(code_el, _S_VALUE))
        if len(value) != 1 or value[0].namespace != ns.SOAP:
            raise RemoteProtocolError("fault Code/Value must be one SOAP 1.2 code")
        subcode = None
        sub_el = child(code_el, _S_SUBCODE)
        if sub_el is not None:
            subcode = single_qname(required(sub_el, _S_VALUE))
        reason = ""
        lang = "en"
        reason_el = child(fault, _S_REASON)
        if reason_el is not None:
            text = child(reason_el, _S_TEXT)
            if text is not None:
                reason = text_of(text)
                lang = text.get(_XML_LANG, "en")
        detail_el = child(fault, _S_DETAIL)
        detail = None
        if detail_el is not None:
            detail = "".join(str(t) for t in detail_el.itertext()).strip()
        try:
            return cls(header, value[0].local, subcode, reason, detail, lang)
        except LocalProtocolError as exc:
            raise RemoteProtocolError(str(exc)) from None
