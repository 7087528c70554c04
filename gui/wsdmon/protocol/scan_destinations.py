"""WS-Scan scan destinations: what a client registers when it subscribes to ScanAvailableEvent, and
the token per destination the scanner answers with ("ScanDestinations element", "DestinationResponses
element"). They travel as extension children of wse:Subscribe and wse:SubscribeResponse (eventing.py
keeps those as canonical XML); these functions turn that XML into typed values and back.

A scanner "must" answer each ScanDestination with a DestinationResponse holding the client's
ClientContext and a DestinationToken, which a ScanAvailableEvent then names and CreateScanJob echoes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from . import namespaces as ns
from ._xml import canonical, check_string, check_token, parse_raw, qn, required, sub, text_of
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "DestinationResponse",
    "ScanDestination",
    "read_destination_responses",
    "read_scan_destinations",
    "write_destination_responses",
    "write_scan_destinations",
]


def _w(local: str) -> str:
    return qn(ns.WSCN, local)


_DESTINATIONS = _w("ScanDestinations")
_DESTINATION = _w("ScanDestination")
_RESPONSES = _w("DestinationResponses")
_RESPONSE = _w("DestinationResponse")
_CONTEXT = _w("ClientContext")


@dataclass(frozen=True, slots=True)
class ScanDestination:
    """A place a person can pick at the scanner's panel: its name there and the client's context."""

    client_display_name: str
    client_context: str

    def __post_init__(self) -> None:
        check_string("ClientDisplayName", self.client_display_name)
        check_string("ClientContext", self.client_context)


@dataclass(frozen=True, slots=True)
class DestinationResponse:
    """The scanner's answer for one destination: the client's context and the token it issued."""

    client_context: str
    destination_token: str

    def __post_init__(self) -> None:
        check_string("ClientContext", self.client_context)
        check_token("DestinationToken", self.destination_token)


def _one(extensions: Iterable[str], tag: str) -> etree._Element | None:
    for raw in extensions:
        for el in parse_raw(raw):
            if el.tag == tag:
                return el
    return None


def _text(el: etree._Element, tag: str) -> str:
    return text_of(required(el, tag), strip=False)


def read_scan_destinations(extensions: Iterable[str]) -> tuple[ScanDestination, ...]:
    """The ScanDestinations among a Subscribe's extension children (none: ())."""
    el = _one(extensions, _DESTINATIONS)
    if el is None:
        return ()
    try:
        return tuple(
            ScanDestination(_text(d, _w("ClientDisplayName")), _text(d, _CONTEXT))
            for d in el
            if d.tag == _DESTINATION
        )
    except LocalProtocolError as exc:
        raise RemoteProtocolError(f"ScanDestination: {exc}") from None


def read_destination_responses(extensions: Iterable[str]) -> tuple[DestinationResponse, ...]:
    """The DestinationResponses among a SubscribeResponse's extension children (none: ())."""
    el = _one(extensions, _RESPONSES)
    if el is None:
        return ()
    try:
        return tuple(
            DestinationResponse(_text(r, _CONTEXT), text_of(required(r, _w("DestinationToken"))))
            for r in el
            if r.tag == _RESPONSE
        )
    except LocalProtocolError as exc:
        raise RemoteProtocolError(f"DestinationResponse: {exc}") from None


def _raw(root: etree._Element) -> str:
    return canonical(root)


def write_scan_destinations(destinations: Iterable[ScanDestination]) -> str:
    """wscn:ScanDestinations as an extension child of wse:Subscribe."""
    root = etree.Element(_DESTINATIONS, nsmap={"wscn": ns.WSCN})
    for d in destinations:
        el = sub(root, _DESTINATION)
        sub(el, _w("ClientDisplayName"), d.client_display_name)
        sub(el, _CONTEXT, d.client_context)
    return _raw(root)


def write_destination_responses(responses: Iterable[DestinationResponse]) -> str:
    """wscn:DestinationResponses as an extension child of wse:SubscribeResponse."""
    root = etree.Element(_RESPONSES, nsmap={"wscn": ns.WSCN})
    for r in responses:
        el = sub(root, _RESPONSE)
        sub(el, _CONTEXT, r.client_context)
        sub(el, _w("DestinationToken"), r.destination_token)
    return _raw(root)
