"""WS-Eventing 2004/08 (member submission, as profiled by DPWS 2006/02 and used by Windows WSDAPI).

Subscribe / SubscribeResponse go to the hosted service; Renew, GetStatus and Unsubscribe go to the
SubscriptionManager address and carry its wse:Identifier as a SOAP header (envelope.Headers), so
their bodies hold only Expires. Expires is an xs:dateTime or a non-negative xs:duration, modelled as
`timedelta | datetime` (xs:duration is parsed and written by _xml, re-exported here); sans-IO, no
clock: `expires_at` takes `now`. Vendor children (wscn:ScanDestinations in a Subscribe…) are kept as
canonical XML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Self, TypeAlias

from . import namespaces as ns
from ._xml import (
    Element,
    QName,
    append_extensions,
    canonical,
    enum_or_text,
    extensions,
    format_datetime,
    format_duration,
    parse_datetime,
    parse_duration,
    qn,
    remote,
    sub,
)
from .envelope import EndpointReference, Fault, Headers, Message, body_child
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "Expires",
    "Filter",
    "GetStatus",
    "GetStatusResponse",
    "Reason",
    "Renew",
    "RenewResponse",
    "Subscribe",
    "SubscribeResponse",
    "SubscriptionEnd",
    "SubscriptionEndStatus",
    "Unsubscribe",
    "UnsubscribeResponse",
    "WseFault",
    "expires_at",
    "fault_delivery_mode_unavailable",
    "fault_event_source_unable_to_process",
    "fault_filter_action_not_supported",
    "fault_filtering_unavailable",
    "fault_invalid_expiration_time",
    "fault_invalid_message",
    "fault_unable_to_renew",
    "fault_unsupported_expiration_type",
    "format_duration",
    "parse_duration",
]


_WSE_PREFIX = "{" + ns.WSE + "}"  # Clark prefix of every wse tag
_SUBSCRIBE = _WSE_PREFIX + "Subscribe"
_END_TO = _WSE_PREFIX + "EndTo"
_DELIVERY = _WSE_PREFIX + "Delivery"
_NOTIFY_TO = _WSE_PREFIX + "NotifyTo"
_EXPIRES = _WSE_PREFIX + "Expires"
_FILTER = _WSE_PREFIX + "Filter"
_SUBSCRIBE_RESPONSE = _WSE_PREFIX + "SubscribeResponse"
_SUBSCRIPTION_MANAGER = _WSE_PREFIX + "SubscriptionManager"
_SUBSCRIPTION_END = _WSE_PREFIX + "SubscriptionEnd"
_STATUS = _WSE_PREFIX + "Status"
_REASON = _WSE_PREFIX + "Reason"
_XML_LANG = qn(ns.XML, "lang")

# --- Expires: xs:dateTime | non-negative xs:duration (schema ExpirationType) -------------------

Expires: TypeAlias = timedelta | datetime


def _read_expires(el: Element) -> Expires:
    raw = (el.text or "").strip()
    if raw.startswith(("P", "-P")):
        return parse_duration(raw)
    return parse_datetime(el)


def _check_expires(value: Expires | None) -> None:
    if isinstance(value, timedelta) and value < timedelta(0):
        raise LocalProtocolError("Expires must not be a negative duration (NonNegativeDurationType)")


def expires_at(expires: Expires, now: datetime) -> datetime:
    """When a subscription with this Expires ends: now + duration, or the dateTime itself. `now`
    must be timezone-aware; an offset-less dateTime is read in now's zone (best reading: the spec
    leaves it open, and such peers are on the monitor's LAN)."""
    if now.tzinfo is None:
        raise LocalProtocolError("expires_at needs a timezone-aware now")
    if isinstance(expires, timedelta):
        return now + expires
    return expires if expires.tzinfo is not None else expires.replace(tzinfo=now.tzinfo)


def _write_expires(parent: Element, value: Expires | None) -> None:
    if isinstance(value, timedelta):
        sub(parent, _EXPIRES, format_duration(value))
    elif value is not None:
        sub(parent, _EXPIRES, format_datetime(value))


def _foreign(el: Element) -> bool:
    """A child element outside the wse namespace (xs:any ##other): kept as a vendor extension."""
    return isinstance(el.tag, str) and not el.tag.startswith(_WSE_PREFIX)


class _WseMessage(Message):
    """Every eventing message: its body uses the wse prefix."""

    __slots__ = ()
    NAMESPACES: ClassVar[tuple[str, ...]] = (ns.WSE,)


# --- Subscribe (§3.1) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filter:
    """wse:Filter. With the DPWS Action dialect (DPWS 2006/02 §6.2.2) its text is a space-separated
    list of action URIs; any other dialect's text is kept in `expression` for the source to fault
    (wse:FilteringRequestedUnavailable). Element content is kept in `extensions`."""

    actions: tuple[str, ...] = ()
    dialect: str = ns.WSDP_ACTION_FILTER
    expression: str | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.dialect:
            raise LocalProtocolError("a Filter needs a Dialect URI")
        if self.dialect == ns.WSDP_ACTION_FILTER:
            if self.expression is not None:
                raise LocalProtocolError("the Action dialect takes a list of actions, not an expression")
        elif self.actions:
            raise LocalProtocolError(f"filter actions need the Action dialect, not {self.dialect!r}")
        for action in self.actions:
            if not action or any(c.isspace() for c in action):
                raise LocalProtocolError(f"filter action {action!r} is not a URI without spaces")

    def write(self, parent: Element) -> None:
        el = sub(parent, _FILTER, " ".join(self.actions) if self.actions else self.expression)
        el.set("Dialect", self.dialect)
        append_extensions(el, self.extensions)

    @classmethod
    def read(cls, el: Element) -> Self:
        # §3.1: a missing Dialect implies XPath 1.0 (not the DPWS Action dialect).
        dialect = el.get("Dialect", ns.WSE_XPATH_DIALECT).strip()
        text = el.text or ""
        extra = tuple(canonical(c) for c in el if isinstance(c.tag, str))
        if dialect == ns.WSDP_ACTION_FILTER:
            return remote(cls, tuple(text.split()), dialect, None, extra)
        return remote(cls, (), dialect, text.strip() or None, extra)


@dataclass(frozen=True, slots=True)
class Subscribe(_WseMessage):
    """wse:Subscribe, POSTed to the hosted service. `notify_to` carries the subscriber's own
    wse:Identifier, echoed as a header on every notification. A delivery mode other than Push is
    kept (not rejected) so the source can answer wse:DeliveryModeRequestedUnavailable."""

    ACTION: ClassVar[str] = ns.WSE_SUBSCRIBE
    header: Headers
    notify_to: EndpointReference | None
    expires: Expires | None = None
    filter: Filter | None = None
    end_to: EndpointReference | None = None
    delivery_mode: str = ns.WSE_DELIVERY_PUSH
    extensions: tuple[str, ...] = ()  # vendor children of wse:Subscribe (wscn:ScanDestinations…)
    delivery_extensions: tuple[str, ...] = ()  # other children of wse:Delivery

    def __post_init__(self) -> None:
        if not self.delivery_mode:
            raise LocalProtocolError("Delivery Mode must be a URI")
        # §3.1: push delivery sends notifications to Delivery/NotifyTo, so push needs one.
        if self.is_push and self.notify_to is None:
            raise LocalProtocolError("push delivery needs a NotifyTo endpoint (§3.1)")
        _check_expires(self.expires)

    @property
    def is_push(self) -> bool:
        return self.delivery_mode == ns.WSE_DELIVERY_PUSH

    def write_body(self, body: Element) -> None:
        el = sub(body, _SUBSCRIBE)
        if self.end_to is not None:
            self.end_to.write(el, _END_TO)
        delivery = sub(el, _DELIVERY)
        delivery.set("Mode", self.delivery_mode)
        if self.notify_to is not None:
            self.notify_to.write(delivery, _NOTIFY_TO)
        append_extensions(delivery, self.delivery_extensions)
        _write_expires(el, self.expires)
        if self.filter is not None:
            self.filter.write(el)
        append_extensions(el, self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        el = body_child(body, _SUBSCRIBE)
        end_to = notify_to = expires = filter_ = mode = None
        delivery_extra: list[str] = []
        extra: list[str] = []
        for item in el:
            tag = item.tag
            if tag == _DELIVERY:
                # §3.1: Mode is optional and defaults to Push.
                mode = item.get("Mode", ns.WSE_DELIVERY_PUSH).strip()
                for d in item:
                    if d.tag == _NOTIFY_TO and notify_to is None:
                        notify_to = EndpointReference.read(d)
                    elif isinstance(d.tag, str):
                        delivery_extra.append(canonical(d))
            elif tag == _END_TO:
                end_to = EndpointReference.read(item)
            elif tag == _EXPIRES:
                expires = _read_expires(item)
            elif tag == _FILTER:
                filter_ = Filter.read(item)
            elif _foreign(item):
                extra.append(canonical(item))
        if mode is None:
            raise RemoteProtocolError("Subscribe lacks required Delivery")
        return remote(
            cls, header, notify_to, expires, filter_, end_to, mode, tuple(extra), tuple(delivery_extra)
        )


@dataclass(frozen=True, slots=True)
class SubscribeResponse(_WseMessage):
    """wse:SubscribeResponse: the SubscriptionManager EPR (its wse:Identifier is the server's id for
    Renew/GetStatus/Unsubscribe headers) and the granted Expires (required in 2004/08)."""

    ACTION: ClassVar[str] = ns.WSE_SUBSCRIBE_RESPONSE
    header: Headers
    subscription_manager: EndpointReference
    expires: Expires
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_expires(self.expires)

    def write_body(self, body: Element) -> None:
        el = sub(body, _SUBSCRIBE_RESPONSE)
        self.subscription_manager.write(el, _SUBSCRIPTION_MANAGER)
        _write_expires(el, self.expires)
        append_extensions(el, self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        el = body_child(body, _SUBSCRIBE_RESPONSE)
        manager = expires = None
        extra: list[str] = []
        for item in el:
            if item.tag == _SUBSCRIPTION_MANAGER:
                manager = EndpointReference.read(item)
            elif item.tag == _EXPIRES:
                expires = _read_expires(item)
            elif _foreign(item):
                extra.append(canonical(item))
        if manager is None:
            raise RemoteProtocolError("SubscribeResponse lacks required SubscriptionManager")
        if expires is None:
            raise RemoteProtocolError("SubscribeResponse lacks required Expires")
        return remote(cls, header, manager, expires, tuple(extra))


# --- Renew / GetStatus / Unsubscribe (§3.2-§3.4): bodies with an optional Expires ---------------


@dataclass(frozen=True, slots=True)
class _ExpiresBody(_WseMessage):
    TAG: ClassVar[str]
    header: Headers
    expires: Expires | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_expires(self.expires)

    def write_body(self, body: Element) -> None:
        el = sub(body, self.TAG)
        _write_expires(el, self.expires)
        append_extensions(el, self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        el = body_child(body, cls.TAG)
        expires = None
        extra: list[str] = []
        for item in el:
            if item.tag == _EXPIRES:
                expires = _read_expires(item)
            elif _foreign(item):
                extra.append(canonical(item))
        return remote(cls, header, expires, tuple(extra))


@dataclass(frozen=True, slots=True)
class Renew(_ExpiresBody):
    """wse:Renew (§3.2): requested new Expires, or none to let the source choose."""

    ACTION: ClassVar[str] = ns.WSE_RENEW
    TAG: ClassVar[str] = _WSE_PREFIX + "Renew"


@dataclass(frozen=True, slots=True)
class RenewResponse(_ExpiresBody):
    """wse:RenewResponse (§3.2): the newly granted Expires (schema-optional)."""

    ACTION: ClassVar[str] = ns.WSE_RENEW_RESPONSE
    TAG: ClassVar[str] = _WSE_PREFIX + "RenewResponse"


@dataclass(frozen=True, slots=True)
class GetStatusResponse(_ExpiresBody):
    """wse:GetStatusResponse (§3.3): the subscription's current Expires (schema-optional)."""

    ACTION: ClassVar[str] = ns.WSE_GET_STATUS_RESPONSE
    TAG: ClassVar[str] = _WSE_PREFIX + "GetStatusResponse"


@dataclass(frozen=True, slots=True)
class _EmptyRequest(_WseMessage):
    TAG: ClassVar[str]
    header: Headers
    extensions: tuple[str, ...] = ()

    def write_body(self, body: Element) -> None:
        append_extensions(sub(body, self.TAG), self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        return cls(header, extensions(body_child(body, cls.TAG), ns.WSE))


@dataclass(frozen=True, slots=True)
class GetStatus(_EmptyRequest):
    """wse:GetStatus (§3.3), sent to the SubscriptionManager with its Identifier header."""

    ACTION: ClassVar[str] = ns.WSE_GET_STATUS
    TAG: ClassVar[str] = _WSE_PREFIX + "GetStatus"


@dataclass(frozen=True, slots=True)
class Unsubscribe(_EmptyRequest):
    """wse:Unsubscribe (§3.4), sent to the SubscriptionManager with its Identifier header."""

    ACTION: ClassVar[str] = ns.WSE_UNSUBSCRIBE
    TAG: ClassVar[str] = _WSE_PREFIX + "Unsubscribe"


@dataclass(frozen=True, slots=True)
class UnsubscribeResponse(Message):
    """UnsubscribeResponse (§3.4): an empty soap:Body. Any body content a peer adds is ignored."""

    ACTION: ClassVar[str] = ns.WSE_UNSUBSCRIBE_RESPONSE
    header: Headers

    def write_body(self, body: Element) -> None:
        pass

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        return cls(header)


# --- SubscriptionEnd (§3.5) --------------------------------------------------------------------


class SubscriptionEndStatus(StrEnum):
    """wse:Status of a SubscriptionEnd (schema SubscriptionEndCodeType; open: other URIs kept)."""

    DELIVERY_FAILURE = ns.WSE_STATUS_DELIVERY_FAILURE
    SOURCE_SHUTTING_DOWN = ns.WSE_STATUS_SOURCE_SHUTTING_DOWN
    SOURCE_CANCELLING = ns.WSE_STATUS_SOURCE_CANCELLING


@dataclass(frozen=True, slots=True)
class Reason:
    """One wse:Reason text with its optional xml:lang (the schema allows one per language)."""

    text: str
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionEnd(_WseMessage):
    """wse:SubscriptionEnd, sent to EndTo (only if the Subscribe had one) when the source ends a
    subscription: the manager EPR it concerns, a status URI and optional human-readable reasons."""

    ACTION: ClassVar[str] = ns.WSE_SUBSCRIPTION_END
    header: Headers
    subscription_manager: EndpointReference
    status: SubscriptionEndStatus | str
    reasons: tuple[Reason, ...] = ()
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.status or any(c.isspace() for c in self.status):
            raise LocalProtocolError(f"SubscriptionEnd Status {self.status!r} is not a URI")

    @property
    def reason(self) -> str | None:
        return self.reasons[0].text if self.reasons else None

    def write_body(self, body: Element) -> None:
        el = sub(body, _SUBSCRIPTION_END)
        self.subscription_manager.write(el, _SUBSCRIPTION_MANAGER)
        sub(el, _STATUS, str(self.status))
        for reason in self.reasons:
            r = sub(el, _REASON, reason.text)
            if reason.lang is not None:
                r.set(_XML_LANG, reason.lang)
        append_extensions(el, self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        el = body_child(body, _SUBSCRIPTION_END)
        manager = status = None
        reasons: list[Reason] = []
        extra: list[str] = []
        for item in el:
            tag = item.tag
            if tag == _SUBSCRIPTION_MANAGER:
                manager = EndpointReference.read(item)
            elif tag == _STATUS:
                status = enum_or_text(SubscriptionEndStatus, (item.text or "").strip())
            elif tag == _REASON:
                reasons.append(Reason(item.text or "", item.get(_XML_LANG)))
            elif _foreign(item):
                extra.append(canonical(item))
        if manager is None:
            raise RemoteProtocolError("SubscriptionEnd lacks required SubscriptionManager")
        if status is None:
            raise RemoteProtocolError("SubscriptionEnd lacks required Status")
        return remote(cls, header, manager, status, tuple(reasons), tuple(extra))


# --- Faults (§4) -------------------------------------------------------------------------------
# Sure (WS-Eventing 2004/08 §4; Action = the wsa fault action): the subcode names and their Codes in
# _FAULTS. Best reading: the Reason texts (the spec's suggestions, paraphrased), and DPWS 2006/02's
# wsdp:FilterActionNotSupported as Sender. FilteringNotSupported has no helper: a DPWS source MUST
# filter by action. Not sent: the spec's element Detail (wse:SupportedDeliveryMode/SupportedDialect):
# envelope.Fault carries text Detail only.


class WseFault(StrEnum):
    """Subcode local names of the WS-Eventing 2004/08 faults (§4); clients match on these."""

    DELIVERY_MODE_REQUESTED_UNAVAILABLE = "DeliveryModeRequestedUnavailable"
    INVALID_EXPIRATION_TIME = "InvalidExpirationTime"
    UNSUPPORTED_EXPIRATION_TYPE = "UnsupportedExpirationType"
    FILTERING_NOT_SUPPORTED = "FilteringNotSupported"
    FILTERING_REQUESTED_UNAVAILABLE = "FilteringRequestedUnavailable"
    EVENT_SOURCE_UNABLE_TO_PROCESS = "EventSourceUnableToProcess"
    UNABLE_TO_RENEW = "UnableToRenew"
    INVALID_MESSAGE = "InvalidMessage"


_FILTER_ACTION_NOT_SUPPORTED = QName(ns.WSDP, "FilterActionNotSupported")
# subcode → (Code, the Reason text the spec suggests)
_FAULTS: dict[str, tuple[str, str]] = {
    WseFault.DELIVERY_MODE_REQUESTED_UNAVAILABLE: ("Sender", "The requested delivery mode is not supported."),
    WseFault.INVALID_EXPIRATION_TIME: ("Sender", "The expiration time requested is invalid."),
    WseFault.UNSUPPORTED_EXPIRATION_TYPE: ("Sender", "Only expiration durations are supported."),
    WseFault.FILTERING_REQUESTED_UNAVAILABLE: ("Sender", "The requested filter dialect is not supported."),
    WseFault.EVENT_SOURCE_UNABLE_TO_PROCESS: (
        "Receiver",
        "The event source cannot process the subscription.",
    ),
    WseFault.UNABLE_TO_RENEW: ("Receiver", "The subscription could not be renewed."),
    WseFault.INVALID_MESSAGE: ("Sender", "The message is not valid and cannot be processed."),
    _FILTER_ACTION_NOT_SUPPORTED.local: ("Sender", "No notifications match the supplied filter."),
}


def _fault(local: str, relates_to: str | None, reason: str | None, namespace: str = ns.WSE) -> Fault:
    code, suggested = _FAULTS[local]
    return Fault(Headers.reply(relates_to), code, QName(namespace, local), reason or suggested)


# Each answers the request whose MessageID is `relates_to`; `reason` replaces the suggested text.


def fault_delivery_mode_unavailable(relates_to: str | None, reason: str | None = None) -> Fault:
    """§4.1: the Subscribe asked for a delivery mode other than Push."""
    return _fault(WseFault.DELIVERY_MODE_REQUESTED_UNAVAILABLE, relates_to, reason)


def fault_invalid_expiration_time(relates_to: str | None, reason: str | None = None) -> Fault:
    """§4.2: a requested Expires is malformed or already past."""
    return _fault(WseFault.INVALID_EXPIRATION_TIME, relates_to, reason)


def fault_unsupported_expiration_type(relates_to: str | None, reason: str | None = None) -> Fault:
    """§4.3: the source takes only durations and was sent an xs:dateTime Expires."""
    return _fault(WseFault.UNSUPPORTED_EXPIRATION_TYPE, relates_to, reason)


def fault_filtering_unavailable(relates_to: str | None, reason: str | None = None) -> Fault:
    """§4.5: the Filter's Dialect is not one the source supports (DPWS: only the Action dialect)."""
    return _fault(WseFault.FILTERING_REQUESTED_UNAVAILABLE, relates_to, reason)


def fault_event_source_unable_to_process(relates_to: str | None, reason: str | None = None) -> Fault:
    """§4.6: the source cannot take the subscription for a reason of its own (e.g. too many)."""
    return _fault(WseFault.EVENT_SOURCE_UNABLE_TO_PROCESS, relates_to, reason)


def fault_unable_to_renew(relates_to: str | None, reason: str | None = None) -> Fault:
    """§4.7: the source will not renew this subscription."""
    return _fault(WseFault.UNABLE_TO_RENEW, relates_to, reason)


def fault_invalid_message(relates_to: str | None, reason: str | None = None) -> Fault:
    """§4.8: the request is malformed, or names an unknown or expired subscription."""
    return _fault(WseFault.INVALID_MESSAGE, relates_to, reason)


def fault_filter_action_not_supported(relates_to: str | None, reason: str | None = None) -> Fault:
    """DPWS 2006/02 (best reading): an Action filter names only actions the service never sends."""
    return _fault(_FILTER_ACTION_NOT_SUPPORTED.local, relates_to, reason, ns.WSDP)


MESSAGES: tuple[type[Message], ...] = (
    Subscribe,
    SubscribeResponse,
    Renew,
    RenewResponse,
    GetStatus,
    GetStatusResponse,
    Unsubscribe,
    UnsubscribeResponse,
    SubscriptionEnd,
)
