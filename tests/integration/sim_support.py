"""Shared helpers of the simulator's integration tests: running async test bodies, a plain aiohttp
test subscriber (NotifyTo / EndTo sink), a SOAP client call, and the dsc schema validator."""

from __future__ import annotations

import asyncio
import functools
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from lxml import etree

from wsdmon.protocol import Message, UnknownMessage, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.simulator.plans import VENDOR_NS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT.parent / "shared" / "protocol" / "schema"
DSC_XSD = SCHEMA_DIR / "WDPRepositoryConfig.xsd"
SOAP_CT = "application/soap+xml; charset=utf-8"
XS = "http://www.w3.org/2001/XMLSchema"
VENDOR_XSD = Path(__file__).resolve().parent / "simulator_vendor.xsd"


def run(body: Callable[[], Awaitable[None]], *, timeout: float = 60.0) -> None:
    """Run an async test body on a fresh loop; an unhandled loop exception fails the test."""
    errors: list[dict[str, Any]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
        await asyncio.wait_for(body(), timeout)

    asyncio.run(main())
    assert not errors, f"unhandled exceptions on the loop: {errors}"


@dataclass
class Received:
    """One POST the sink took: the raw bytes and what wsdmon.protocol made of them."""

    path: str
    data: bytes
    message: Message | UnknownMessage | None  # None: it did not parse
    error: str | None = None


class Sink:
    """A plain aiohttp server standing in for a monitor's NotifyTo/EndTo endpoint."""

    def __init__(self, host: str = "127.0.0.1", *, status: int = 202, delay: float = 0.0) -> None:
        self.host = host
        self.status = status
        self.delay = delay
        self.statuses: dict[str, int] = {}  # path → HTTP status, for paths that answer differently
        self.delays: dict[str, float] = {}  # path → seconds before answering
        self.received: list[Received] = []
        self._queue: asyncio.Queue[Received] = asyncio.Queue()
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str = "/sink") -> str:
        return f"http://{self.host}:{self.port}{path}"

    async def start(self) -> Sink:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        sock.listen(64)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        data = await request.read()
        try:
            item = Received(request.path, data, decode(data))
        except Exception as exc:
            item = Received(request.path, data, None, f"{type(exc).__name__}: {exc}")
        self.received.append(item)
        self._queue.put_nowait(item)
        delay = self.delays.get(request.path, self.delay)
        if delay:
            await asyncio.sleep(delay)
        return web.Response(status=self.statuses.get(request.path, self.status))

    async def next(self, timeout: float = 5.0) -> Received:
        """The next POST that arrives (in order)."""
        return await asyncio.wait_for(self._queue.get(), timeout)

    async def until(self, predicate: Callable[[Received], bool], timeout: float = 10.0) -> Received:
        """Skip POSTs until one satisfies `predicate`."""

        async def scan() -> Received:
            while True:
                item = await self._queue.get()
                if predicate(item):
                    return item

        return await asyncio.wait_for(scan(), timeout)


async def call(session: aiohttp.ClientSession, url: str, message: Message | bytes) -> tuple[int, Any]:
    """POST a request; the HTTP status and the decoded answer."""
    data = message if isinstance(message, bytes) else encode(message)
    async with session.post(url, data=data, headers={"Content-Type": SOAP_CT}) as response:
        return response.status, decode(await response.read())


@functools.cache
def dsc_schema() -> etree.XMLSchema:
    """WDPRepositoryConfig.xsd (MS-BDSRR §6.2.1) plus a stand-in schema for the simulator's vendor
    namespace; skips the test when the shared protocol folder is not beside the repository."""
    if not DSC_XSD.exists():
        reason = f"dsc schema not found at {DSC_XSD}: the shared protocol folder is not beside the repository"
        print(reason)
        pytest.skip(reason)
    imports = (
        f'<xs:import namespace="{ns.DSC}" schemaLocation="{DSC_XSD.as_uri()}"/>'
        f'<xs:import namespace="{VENDOR_NS}" schemaLocation="{VENDOR_XSD.as_uri()}"/>'
    )
    return etree.XMLSchema(etree.fromstring(f'<xs:schema xmlns:xs="{XS}">{imports}</xs:schema>'))


def dsc_errors(data: bytes) -> str | None:
    """Schema errors of the dsc Body child of an envelope ("" when valid), None if it is not dsc."""
    return dsc_body_errors(dsc_schema(), data)


def dsc_body_errors(schema: etree.XMLSchema, data: bytes) -> str | None:
    """Schema errors of the dsc Body child of an envelope ("" when valid), None if it is not dsc."""
    root = etree.fromstring(data)
    body = root.find(f"{{{ns.SOAP}}}Body")
    assert body is not None
    first = next((el for el in body if isinstance(el.tag, str)), None)
    if first is None or not first.tag.startswith("{" + ns.DSC + "}"):
        return None
    return "" if schema.validate(etree.ElementTree(first)) else str(schema.error_log)
