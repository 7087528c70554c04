"""wsdmon.protocol: sans-IO WSD / DSM messages. Bytes in → typed events out, events in → bytes out.

No asyncio, no sockets, no Qt, no clock: callers pass time in. Every message module builds and parses
(the monitor parses what the simulator builds), so `decode(encode(m)) == m` for every message.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# The names above load on first use (PEP 562): `from wsdmon.protocol.dsm import JobStatus`, as the
# window's models do, then costs dsm and what it imports, not the dispatch table of every message
# module (the window shows before the parsers load: issue 11, cold start).
_LAZY = {
    "QName": "._xml",
    **dict.fromkeys(("MESSAGE_TYPES", "UnknownMessage", "decode", "decode_envelope"), ".dispatch"),
    **dict.fromkeys(
        (
            "AppSequence",
            "EndpointReference",
            "Envelope",
            "Fault",
            "Headers",
            "Message",
            "encode",
            "new_message_id",
            "parse_envelope",
        ),
        ".envelope",
    ),
    **dict.fromkeys(("LocalProtocolError", "ProtocolError", "RemoteProtocolError"), ".errors"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


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
