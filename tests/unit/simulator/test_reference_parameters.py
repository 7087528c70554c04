"""The event source echoes every reference parameter of NotifyTo on each notification and of EndTo
on SubscriptionEnd (WS-Addressing 2004/08 §3.3), not only wse:Identifier: an EventSource driven
directly, delivering to a small aiohttp sink on loopback."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta

from aiohttp import web

from wsdmon.protocol import EndpointReference, Fault, Headers, decode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.eventing import Subscribe, SubscribeResponse, SubscriptionEnd
from wsdmon.protocol.scan import ScannerState, ScannerStatusSummaryEvent, StatusSummary
from wsdmon.simulator import Timers
from wsdmon.simulator.eventing import EventSource
from wsdmon.simulator.scanner import EVENT_ACTIONS

DESK = '<acme:Route xmlns:acme="urn:acme">desk 7</acme:Route>'
AUDIT = '<acme:Audit xmlns:acme="urn:acme" acme:level="2">on</acme:Audit>'
SERVICE = "http://127.0.0.1:1/scanner"


async def sink() -> tuple[web.AppRunner, str, asyncio.Queue[tuple[str, bytes]]]:
    """A NotifyTo/EndTo endpoint on loopback: (runner, base URL, queue of (path, body))."""
    received: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

    async def take(request: web.Request) -> web.Response:
        received.put_nowait((request.path, await request.read()))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/{tail:.*}", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}", received


def test_notify_to_and_end_to_parameters_are_echoed() -> None:
    async def body() -> None:
        runner, base, received = await sink()
        source = EventSource(SERVICE, EVENT_ACTIONS, Timers(), "t")
        try:
            notify = EndpointReference(f"{base}/notify", "urn:uuid:me", (DESK,))
            end_to = EndpointReference(f"{base}/end", "urn:uuid:me-end", (AUDIT, DESK))
            request = Subscribe(Headers.request(SERVICE), notify, timedelta(minutes=5), end_to=end_to)
            assert isinstance(source.subscribe(request), SubscribeResponse)

            summary = ScannerStatusSummaryEvent(Headers(), StatusSummary(ScannerState.IDLE))
            assert source.publish(summary) == 1
            path, data = await asyncio.wait_for(received.get(), 10)
            event = decode(data)
            assert path == "/notify"
            assert isinstance(event, ScannerStatusSummaryEvent)
            assert event.header.to == notify.address
            assert event.header.identifier == "urn:uuid:me"
            assert event.header.reference_parameters == (DESK,)

            await source.close()
            path, data = await asyncio.wait_for(received.get(), 10)
            end = decode(data)
            assert path == "/end"
            assert isinstance(end, SubscriptionEnd)
            assert end.header.identifier == "urn:uuid:me-end"
            assert end.header.reference_parameters == (AUDIT, DESK)
        finally:
            await source.close()
            await runner.cleanup()

    asyncio.run(body())


def test_parameters_that_cannot_be_echoed_are_refused_at_subscribe() -> None:
    async def body() -> None:
        source = EventSource(SERVICE, EVENT_ACTIONS, Timers(), "t")
        try:
            # A second wse:Identifier would be read back as the first one's header block.
            second = f'<wse:Identifier xmlns:wse="{ns.WSE}">urn:uuid:two</wse:Identifier>'
            notify = EndpointReference("http://127.0.0.1:9/sink", "urn:uuid:me", (second,))
            answer = source.subscribe(Subscribe(Headers.request(SERVICE), notify))
            assert isinstance(answer, Fault)
            assert answer.subcode is not None
            assert answer.subcode.local == "EventSourceUnableToProcess"
            assert source.subscriptions == ()
        finally:
            await source.close()

    asyncio.run(body())
