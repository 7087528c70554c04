"""Action URI → message class: the one table that turns bytes from a peer into a typed event."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from . import discovery, dsm, eventing, metadata, repository, scan, scan_jobs, scan_ops
from . import namespaces as ns
from ._xml import MAX_MESSAGE_BYTES, canonical, qn
from .envelope import Envelope, Fault, Headers, Message, parse_envelope

__all__ = ["MESSAGE_TYPES", "UnknownMessage", "decode", "decode_envelope"]

log = logging.getLogger(__name__)

MESSAGE_TYPES: tuple[type[Message], ...] = (
    Fault,
    *discovery.MESSAGES,
    *metadata.MESSAGES,
    *eventing.MESSAGES,
    *dsm.MESSAGES,
    *repository.MESSAGES,
    *scan.MESSAGES,
    *scan_jobs.MESSAGES,
    *scan_ops.MESSAGES,
)

_TABLE: dict[str, type[Message]] = {cls.ACTION: cls for cls in MESSAGE_TYPES}
if len(_TABLE) != len(MESSAGE_TYPES):  # pragma: no cover - guards against a copy-paste action
    raise RuntimeError("two message classes share one action URI")

_FAULT = qn(ns.SOAP, "Fault")


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A well-formed envelope whose action we do not handle: shown in the raw log, never dropped."""

    action: str
    header: Headers
    body_xml: str


def decode_envelope(envelope: Envelope) -> Message | UnknownMessage:
    """Dispatch a parsed envelope to its message class by action URI."""
    for el in envelope.body:
        if el.tag == _FAULT:
            # Faults arrive under several actions (wsa fault, WS-Eventing, vendor): the body decides.
            return Fault.read_body(envelope.header, envelope.body)
        break
    cls = _TABLE.get(envelope.action)
    if cls is None:
        log.debug("no parser for action %s", envelope.action)
        return UnknownMessage(envelope.action, envelope.header, canonical(envelope.body))
    return cls.read_body(envelope.header, envelope.body)


def decode(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Message | UnknownMessage:
    """Bytes from a peer → typed message; RemoteProtocolError for anything malformed."""
    return decode_envelope(parse_envelope(data, max_bytes=max_bytes))
