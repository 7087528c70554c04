"""wsdmon.protocol: sans-IO WSD / DSM messages. Bytes in → typed events out, events in → bytes out.

No asyncio, no sockets, no Qt, no clock: callers pass time in. Every message module builds and parses
(the monitor parses what the simulator builds), so `decode(encode(m)) == m` for every message.
"""

from __future__ import annotations

from ._xml import QName
from .dispatch import MESSAGE_TYPES, UnknownMessage, decode, decode_envelope
from .envelope import (
    AppSequence,
    EndpointReference,
    Envelope,
    Fault,
    Headers,
    Message,
    encode,
    new_message_id,
    parse_envelope,
)
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError

__all__ = [
    "MESSAGE_TYPES",
    "AppSequence",
    "EndpointReference",
    "Envelope",
    "Fault",
    "Headers",
    "LocalProtocolError",
    "Message",
    "ProtocolError",
    "QName",
    "RemoteProtocolError",
    "UnknownMessage",
    "decode",
    "decode_envelope",
    "encode",
    "new_message_id",
    "parse_envelope",
]
