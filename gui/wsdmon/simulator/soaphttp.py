"""SOAP 1.2 over HTTP for a device: one aiohttp application, requests dispatched by path and class.

Every request is parsed by wsdmon.protocol; every answer is built by it. What a peer gets wrong is
answered, never crashed on, and logged with the reason (SOAP 1.2 Part 2 §7.5.1.2: Sender faults
with HTTP 400, Receiver faults with 500):
- not XML / not a SOAP 1.2 envelope → 400 with a Sender fault;
- a known action whose body is invalid → dsc:InvalidArgs (MS-BDSRR §3.2.4), wse:InvalidMessage
  (WS-Eventing §4.8), or a plain Sender fault;
- an action this endpoint does not serve → wsa:ActionNotSupported, naming the action in Detail.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from wsdmon.protocol import (
    Fault,
    Headers,
    Message,
    QName,
    RemoteProtocolError,
    UnknownMessage,
    decode_envelope,
    encode,
    parse_envelope,
)
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import MAX_MESSAGE_BYTES
from wsdmon.protocol.eventing import fault_invalid_message
from wsdmon.protocol.mtom import encode_mtom
from wsdmon.protocol.repository import DscFault, dsc_fault

from .eventing import SOAP_CONTENT_TYPE
from .scan_service import Multipart

Reply = Message | Multipart  # a Multipart goes out as MTOM multipart/related (RetrieveImage)

__all__ = ["Handler", "SoapEndpoint", "action_not_supported"]

log = logging.getLogger(__name__)

Handler = Callable[[Message], "Reply | Awaitable[Reply]"]
_ACTION_NOT_SUPPORTED = QName(ns.WSA, "ActionNotSupported")  # WS-Addressing 2004/08 §4.1


def action_not_supported(action: str, relates_to: str | None) -> Fault:
    """The wsa:ActionNotSupported fault for `action` (MS-BDSRR §2.2.2.1 names it too)."""
    reason = _reason(f"The endpoint does not support the action {action}.")
    return Fault(Headers.reply(relates_to), "Sender", _ACTION_NOT_SUPPORTED, reason, _reason(action))


def _reason(text: str) -> str:
    """Fault Reason text from an error message that may quote a peer's bytes: printable, bounded."""
    return "".join(c if c.isprintable() else "?" for c in text)[:300]


def _invalid(action: str, relates_to: str | None, error: RemoteProtocolError) -> Fault:
    reason = _reason(f"The message is not valid: {error}")
    if action.startswith(ns.DSC + "/"):
        return dsc_fault(DscFault.INVALID_ARGS, relates_to, reason)
    if action.startswith(ns.WSE + "/"):
        return fault_invalid_message(relates_to, reason)
    return Fault(Headers.reply(relates_to), "Sender", None, reason)


def _response(message: Reply) -> web.Response:
    if isinstance(message, Multipart):
        content_type, body = encode_mtom(message.message, message.attachments)
        return web.Response(body=body, status=200, headers={"Content-Type": content_type})
    status = 200
    if isinstance(message, Fault):
        status = 400 if message.code == "Sender" else 500
    return web.Response(body=encode(message), status=status, headers={"Content-Type": SOAP_CONTENT_TYPE})


class SoapEndpoint:
    """The HTTP side of one device: `routes` maps a path to the request classes served there."""

    def __init__(
        self,
        name: str,
        routes: Mapping[str, Mapping[type[Message], Handler]],
        *,
        delay: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.name = name
        self._routes = routes
        self._delay = delay

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_MESSAGE_BYTES)
        for path in self._routes:
            app.router.add_post(path, self._handle)
        return app

    async def serve(self, sock: socket.socket) -> web.AppRunner:
        """Serve on an already listening socket (sockets.tcp_listener)."""
        runner = web.AppRunner(self.application(), access_log=None, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        return runner

    async def answer(self, path: str, data: bytes) -> Reply:
        """The answer to a request POSTed to `path` (faults included)."""
        try:
            envelope = parse_envelope(data)
        except RemoteProtocolError as exc:
            log.warning(
                "%s: %s: rejected a request that is not a SOAP 1.2 envelope: %s", self.name, path, exc
            )
            return Fault(Headers.reply(None), "Sender", None, _reason(f"Not a SOAP 1.2 envelope: {exc}"))
        mid = envelope.header.message_id
        try:
            message = decode_envelope(envelope)
        except RemoteProtocolError as exc:
            log.warning("%s: %s: invalid %s: %s", self.name, path, envelope.action, exc)
            return _invalid(envelope.action, mid, exc)
        handler = (
            None if isinstance(message, UnknownMessage) else self._routes.get(path, {}).get(type(message))
        )
        if handler is None or isinstance(message, UnknownMessage):
            log.info("%s: %s: action not supported: %s", self.name, path, envelope.action)
            return action_not_supported(envelope.action, mid)
        result = handler(message)
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, Message | Multipart)
        return result

    async def _handle(self, request: web.Request) -> web.Response:
        data = await request.read()
        delay = self._delay()
        if delay > 0:
            await asyncio.sleep(delay)
        return _response(await self.answer(request.path, data))
