"""WS-Transfer 2004/09 Get and the DPWS 2006/02 device metadata it returns, sans-IO.

TransferGet is POSTed to a device XAddr with wsa:To = the device's urn:uuid address and an empty Body;
GetMetadataResponse carries wsx:Metadata with ThisModel, ThisDevice and the host Relationship (the
Hosted services' EPR addresses are where operations and Subscribe go). We build the shape of the
shared example 04 (what Windows expects); we read many vendors' variants leniently:
- sections are recognised by their child element (wsdp:ThisModel, wsdp:ThisDevice, wsdp:Relationship),
  not by the Dialect string; any other section (wsdl, xs, MetadataReference, a second ThisModel…) is
  kept as canonical XML in `other_sections`, never rejected;
- a missing section is None; missing required children (Manufacturer, ModelName, FriendlyName,
  ServiceId, Hosted Types) are accepted on parse and enforced only when we build (LocalProtocolError);
- localised strings (DPWS allows several Manufacturer/ModelName/FriendlyName with xml:lang) are all
  kept in order as LocalizedText; the `manufacturer`/`model_name`/`friendly_name` properties give the
  first one and `pick_localized` chooses by language;
- an EndpointReference without an Address (in Host or Hosted), or a Hosted with no EndpointReference,
  is a RemoteProtocolError: such a relationship cannot be used or trusted. A Relationship without a Host
  is accepted (the device address is known from the Get anyway); several host Relationship sections
  are merged in document order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Self

from lxml import etree

from . import namespaces as ns
from ._xml import (
    Element,
    QName,
    append_extensions,
    canonical,
    check_qnames,
    check_uris,
    local_name,
    parse_qnames,
    qn,
    remote,
    sub,
    sub_qnames,
    text_of,
)
from .envelope import EndpointReference, Headers, Message, body_child
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "GetMetadataResponse",
    "HostService",
    "HostedService",
    "LocalizedText",
    "Relationship",
    "ThisDevice",
    "ThisModel",
    "TransferGet",
    "pick_localized",
]

_XML_LANG = qn(ns.XML, "lang")
_EPR = qn(ns.WSA, "EndpointReference")
_TOKEN = re.compile(r"\S+")


def _p(local: str) -> str:
    return qn(ns.WSDP, local)


def _opt_text(el: Element) -> str | None:
    return text_of(el) or None


def _check_text(what: str, value: str | None) -> None:
    # Values are read stripped (whitespace around them is layout), so only such values round-trip.
    if value is not None and (not value or value != value.strip()):
        raise LocalProtocolError(f"{what} must be None or non-blank text without surrounding spaces")


@dataclass(frozen=True, slots=True)
class LocalizedText:
    """A DPWS LocalizedStringType value: text with an optional xml:lang tag."""

    text: str
    lang: str | None = None

    def __post_init__(self) -> None:
        _check_text("a localized name", self.text)


def pick_localized(values: Iterable[LocalizedText], lang: str | None = None) -> str | None:
    """The text tagged `lang` (exactly, else same primary language), else the first; None if none."""
    values = tuple(values)
    if not values:
        return None
    if lang:
        want = lang.lower()
        primary = want.partition("-")[0]
        for v in values:
            if v.lang and v.lang.lower() == want:
                return v.text
        for v in values:
            if v.lang and v.lang.lower().partition("-")[0] == primary:
                return v.text
    return values[0].text


def _read_localized(el: Element) -> LocalizedText | None:
    text = text_of(el)
    return LocalizedText(text, el.get(_XML_LANG) or None) if text else None


def _write_localized(parent: Element, tag: str, values: tuple[LocalizedText, ...]) -> None:
    for value in values:
        el = sub(parent, tag, value.text)
        if value.lang:
            el.set(_XML_LANG, value.lang)


def _write_optional(parent: Element, tag: str, value: str | None) -> None:
    if value is not None:
        sub(parent, tag, value)


# --- ThisModel and ThisDevice (DPWS §5.1) ------------------------------------------------------

_THIS_MODEL = _p("ThisModel")
_MANUFACTURER = _p("Manufacturer")
_MANUFACTURER_URL = _p("ManufacturerUrl")
_MODEL_NAME = _p("ModelName")
_MODEL_NUMBER = _p("ModelNumber")
_MODEL_URL = _p("ModelUrl")
_PRESENTATION_URL = _p("PresentationUrl")
_DEVICE_CATEGORY = qn(ns.PNPX, "DeviceCategory")
_THIS_DEVICE = _p("ThisDevice")
_FRIENDLY_NAME = _p("FriendlyName")
_FIRMWARE_VERSION = _p("FirmwareVersion")
_SERIAL_NUMBER = _p("SerialNumber")


@dataclass(frozen=True, slots=True)
class ThisModel:
    """wsdp:ThisModel: the device model, plus PnP-X DeviceCategory (e.g. ("Scanners",) or
    ("Printers", "Scanners")) that Windows classifies devices by."""

    manufacturer_names: tuple[LocalizedText, ...] = ()
    manufacturer_url: str | None = None
    model_names: tuple[LocalizedText, ...] = ()
    model_number: str | None = None
    model_url: str | None = None
    presentation_url: str | None = None
    device_category: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what in ("manufacturer_url", "model_number", "model_url", "presentation_url"):
            _check_text(f"ThisModel {what}", getattr(self, what))
        for category in self.device_category:
            if not _TOKEN.fullmatch(category):
                raise LocalProtocolError(f"DeviceCategory {category!r} is not a space-free token")

    @property
    def manufacturer(self) -> str | None:
        return pick_localized(self.manufacturer_names)

    @property
    def model_name(self) -> str | None:
        return pick_localized(self.model_names)

    def write(self, parent: Element) -> None:
        if not self.manufacturer_names or not self.model_names:
            raise LocalProtocolError(
                "ThisModel needs at least one Manufacturer and one ModelName (DPWS §5.1)"
            )
        el = sub(parent, _THIS_MODEL)
        _write_localized(el, _MANUFACTURER, self.manufacturer_names)
        _write_optional(el, _MANUFACTURER_URL, self.manufacturer_url)
        _write_localized(el, _MODEL_NAME, self.model_names)
        _write_optional(el, _MODEL_NUMBER, self.model_number)
        _write_optional(el, _MODEL_URL, self.model_url)
        _write_optional(el, _PRESENTATION_URL, self.presentation_url)
        if self.device_category:
            # Declared here rather than on the envelope: only device metadata uses PnP-X.
            category = etree.SubElement(el, _DEVICE_CATEGORY, nsmap={"pnpx": ns.PNPX})
            category.text = " ".join(self.device_category)
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        manufacturers: list[LocalizedText] = []
        models: list[LocalizedText] = []
        values: dict[str, str | None] = {}
        categories: list[str] = []
        extra: list[str] = []
        for item in el:
            tag = item.tag
            if tag in (_MANUFACTURER, _MODEL_NAME):
                name = _read_localized(item)
                if name is not None:
                    (manufacturers if tag == _MANUFACTURER else models).append(name)
            elif tag in (_MANUFACTURER_URL, _MODEL_NUMBER, _MODEL_URL, _PRESENTATION_URL):
                values.setdefault(tag, _opt_text(item))
            elif tag == _DEVICE_CATEGORY:
                categories.extend(text_of(item).split())
            elif isinstance(tag, str):
                extra.append(canonical(item))
        return remote(
            cls,
            tuple(manufacturers),
            values.get(_MANUFACTURER_URL),
            tuple(models),
            values.get(_MODEL_NUMBER),
            values.get(_MODEL_URL),
            values.get(_PRESENTATION_URL),
            tuple(categories),
            tuple(extra),
        )


@dataclass(frozen=True, slots=True)
class ThisDevice:
    """wsdp:ThisDevice: this particular device (its user-given name, firmware, serial number)."""

    friendly_names: tuple[LocalizedText, ...] = ()
    firmware_version: str | None = None
    serial_number: str | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_text("ThisDevice firmware_version", self.firmware_version)
        _check_text("ThisDevice serial_number", self.serial_number)

    @property
    def friendly_name(self) -> str | None:
        return pick_localized(self.friendly_names)

    def write(self, parent: Element) -> None:
        if not self.friendly_names:
            raise LocalProtocolError("ThisDevice needs at least one FriendlyName (DPWS §5.1)")
        el = sub(parent, _THIS_DEVICE)
        _write_localized(el, _FRIENDLY_NAME, self.friendly_names)
        _write_optional(el, _FIRMWARE_VERSION, self.firmware_version)
        _write_optional(el, _SERIAL_NUMBER, self.serial_number)
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        names: list[LocalizedText] = []
        values: dict[str, str | None] = {}
        extra: list[str] = []
        for item in el:
            tag = item.tag
            if tag == _FRIENDLY_NAME:
                name = _read_localized(item)
                if name is not None:
                    names.append(name)
            elif tag in (_FIRMWARE_VERSION, _SERIAL_NUMBER):
                values.setdefault(tag, _opt_text(item))
            elif isinstance(tag, str):
                extra.append(canonical(item))
        return remote(
            cls, tuple(names), values.get(_FIRMWARE_VERSION), values.get(_SERIAL_NUMBER), tuple(extra)
        )


# --- Relationship: Host and Hosted (DPWS §5.2) -------------------------------------------------

_RELATIONSHIP = _p("Relationship")
_HOST = _p("Host")
_HOSTED = _p("Hosted")
_TYPES = _p("Types")
_SERVICE_ID = _p("ServiceId")


def _check_service(what: str, addresses: tuple[str, ...], types: tuple[QName, ...], sid: str | None) -> None:
    check_uris(f"{what} EndpointReference Address", addresses)
    check_qnames(f"{what} Types", types)
    _check_text(f"{what} service_id", sid)


@dataclass(slots=True)
class _Service:
    addresses: list[str]
    types: tuple[QName, ...]
    service_id: str | None
    extensions: tuple[str, ...]


def _read_service(el: Element) -> _Service:
    out = _Service([], (), None, ())
    extra: list[str] = []
    for item in el:
        tag = item.tag
        if tag == _EPR:
            out.addresses.append(EndpointReference.read(item).address)
        elif tag == _TYPES:
            out.types = parse_qnames(item)
        elif tag == _SERVICE_ID:
            out.service_id = _opt_text(item)
        elif isinstance(tag, str):
            extra.append(canonical(item))
    if not out.addresses:
        raise RemoteProtocolError(f"{local_name(el.tag)} lacks required EndpointReference")
    out.extensions = tuple(extra)
    return out


def _write_service(
    el: Element,
    addresses: Iterable[str],
    types: tuple[QName, ...],
    sid: str | None,
    extensions: tuple[str, ...],
) -> None:
    for address in addresses:
        EndpointReference(address).write(el, _EPR)
    if types:
        sub_qnames(el, _TYPES, types)
    _write_optional(el, _SERVICE_ID, sid)
    append_extensions(el, extensions)


@dataclass(frozen=True, slots=True)
class HostService:
    """wsdp:Host: the device itself (its urn:uuid address, device Types, ServiceId)."""

    address: str
    types: tuple[QName, ...] = ()
    service_id: str | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_service("Host", (self.address,), self.types, self.service_id)

    def write(self, parent: Element) -> None:
        if self.service_id is None:
            raise LocalProtocolError("Host needs a ServiceId (DPWS §5.2)")
        _write_service(sub(parent, _HOST), (self.address,), self.types, self.service_id, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        s = _read_service(el)
        # A Host has one EndpointReference; extra ones (never seen) are ignored, not fatal.
        return remote(cls, s.addresses[0], s.types, s.service_id, s.extensions)


@dataclass(frozen=True, slots=True)
class HostedService:
    """wsdp:Hosted: a service of the device; its EPR addresses are where to POST and Subscribe."""

    addresses: tuple[str, ...]
    types: tuple[QName, ...] = ()
    service_id: str | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.addresses:
            raise LocalProtocolError("a Hosted service needs at least one EndpointReference (DPWS §5.2)")
        _check_service("Hosted", self.addresses, self.types, self.service_id)

    @property
    def address(self) -> str:
        """The first endpoint address (most services have exactly one)."""
        return self.addresses[0]

    def write(self, parent: Element) -> None:
        if not self.types or self.service_id is None:
            raise LocalProtocolError("a Hosted service needs Types and a ServiceId (DPWS §5.2)")
        _write_service(sub(parent, _HOSTED), self.addresses, self.types, self.service_id, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        s = _read_service(el)
        return remote(cls, tuple(s.addresses), s.types, s.service_id, s.extensions)


@dataclass(frozen=True, slots=True)
class Relationship:
    """The host wsdp:Relationship: the device (Host) and its services (Hosted)."""

    host: HostService | None = None
    hosted: tuple[HostedService, ...] = ()
    extensions: tuple[str, ...] = ()

    def write(self, parent: Element) -> None:
        el = sub(parent, _RELATIONSHIP)
        el.set("Type", ns.WSDP_HOST_RELATIONSHIP)
        if self.host is not None:
            self.host.write(el)
        for hosted in self.hosted:
            hosted.write(el)
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element, merge_into: Relationship | None = None) -> Self:
        host = merge_into.host if merge_into is not None else None
        hosted = list(merge_into.hosted) if merge_into is not None else []
        extra = list(merge_into.extensions) if merge_into is not None else []
        for item in el:
            if item.tag == _HOST and host is None:
                host = HostService.read(item)
            elif item.tag == _HOSTED:
                hosted.append(HostedService.read(item))
            elif isinstance(item.tag, str):
                extra.append(canonical(item))
        return cls(host, tuple(hosted), tuple(extra))


def _is_host_relationship(el: Element) -> bool:
    kind = (el.get("Type") or "").strip()
    return kind in ("", ns.WSDP_HOST_RELATIONSHIP)  # an untyped Relationship is read as host


# --- the messages (WS-Transfer 2004/09 §3.1 Get; DPWS §5 metadata) -----------------------------

_METADATA = qn(ns.WSX, "Metadata")
_SECTION = qn(ns.WSX, "MetadataSection")


@dataclass(frozen=True, slots=True)
class TransferGet(Message):
    """WS-Transfer Get of a device's metadata: empty Body, wsa:To = the device's address."""

    ACTION: ClassVar[str] = ns.WXF_GET
    header: Headers
    extensions: tuple[str, ...] = ()  # Body content: none per DPWS, kept if a peer sends some

    @classmethod
    def to_device(cls, address: str, *, message_id: str | None = None) -> Self:
        """A Get for the device with this EndpointReference address (ReplyTo anonymous)."""
        return cls(Headers.request(address, message_id=message_id))

    def write_body(self, body: Element) -> None:
        if not self.header.to:
            raise LocalProtocolError("a metadata Get must be addressed (wsa:To) to the device (DPWS §5)")
        append_extensions(body, self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        return cls(header, tuple(canonical(el) for el in body if isinstance(el.tag, str)))


@dataclass(frozen=True, slots=True)
class GetMetadataResponse(Message):
    """WS-Transfer GetResponse carrying the DPWS device metadata (wsx:Metadata)."""

    ACTION: ClassVar[str] = ns.WXF_GET_RESPONSE
    # The example 04 shape: wscn (and dsc for a scan server) declared on the envelope for the Types.
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSX, ns.WSDP, ns.WSCN, ns.DSC)
    header: Headers
    this_model: ThisModel | None = None
    this_device: ThisDevice | None = None
    relationship: Relationship | None = None
    other_sections: tuple[str, ...] = ()  # wsx:Metadata children we do not interpret, canonical XML

    @property
    def host(self) -> HostService | None:
        return self.relationship.host if self.relationship is not None else None

    @property
    def hosted(self) -> tuple[HostedService, ...]:
        return self.relationship.hosted if self.relationship is not None else ()

    def hosted_services_of_type(self, service_type: QName) -> tuple[HostedService, ...]:
        """The Hosted services whose Types include `service_type` (compared by namespace URI)."""
        return tuple(h for h in self.hosted if service_type in h.types)

    def write_body(self, body: Element) -> None:
        metadata = sub(body, _METADATA)
        for dialect, part in (
            (ns.WSDP_THIS_MODEL, self.this_model),
            (ns.WSDP_THIS_DEVICE, self.this_device),
            (ns.WSDP_RELATIONSHIP, self.relationship),
        ):
            if part is not None:
                section = sub(metadata, _SECTION)
                section.set("Dialect", dialect)
                part.write(section)
        append_extensions(metadata, self.other_sections)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        this_model = this_device = relationship = None
        other: list[str] = []
        for section in body_child(body, _METADATA):
            if not isinstance(section.tag, str):
                continue
            content = None
            if section.tag == _SECTION:
                content = next((c for c in section if isinstance(c.tag, str)), None)
            tag = content.tag if content is not None else None
            if content is not None and tag == _THIS_MODEL and this_model is None:
                this_model = ThisModel.read(content)
            elif content is not None and tag == _THIS_DEVICE and this_device is None:
                this_device = ThisDevice.read(content)
            elif content is not None and tag == _RELATIONSHIP and _is_host_relationship(content):
                relationship = Relationship.read(content, relationship)
            else:
                other.append(canonical(section))
        return cls(header, this_model, this_device, relationship, tuple(other))


MESSAGES: tuple[type[Message], ...] = (TransferGet, GetMetadataResponse)
