"""A small monitor built on wsdmon.protocol, run inside the peer network namespace by
test_sim_cli_netns.py: it listens for WS-Discovery multicast (it sends none), fetches the metadata
of each device that says Hello, subscribes to its hosted service (NotifyTo and EndTo on its own
aiohttp server) and reports what arrives. One JSON object per line on stdout:
  ready / hello / subscribed / notification / subscription-end / bye
Usage: sim_observer.py INTERFACE ADDRESS; reads `quit` from stdin.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web

from wsdmon.protocol import EndpointReference, Headers, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.discovery import Bye, Hello
from wsdmon.protocol.eventing import Subscribe, SubscribeResponse, SubscriptionEnd
from wsdmon.protocol.metadata import GetMetadataResponse, TransferGet

IDENTIFIER = "urn:uuid:0b5e77e2-0000-4000-8000-000000000001"


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


class Listener(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[bytes]) -> None:
        self.queue = queue

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait(data)


def multicast_socket(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((ns.MULTICAST_IPV4, ns.DISCOVERY_PORT))
    mreq = struct.pack("4s4s", socket.inet_aton(ns.MULTICAST_IPV4), socket.inet_aton(address))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    sock.setblocking(False)
    return sock


async def sink(request: web.Request) -> web.Response:
    message = decode(await request.read())
    if isinstance(message, SubscriptionEnd):
        say(
            event="subscription-end",
            status=str(message.status),
            manager=message.subscription_manager.identifier,
        )
    else:
        say(event="notification", action=message.action, identifier=message.header.identifier)
    return web.Response(status=202)


async def subscribe(http: aiohttp.ClientSession, hello: Hello, notify: str) -> None:
    get = TransferGet.to_device(hello.address)
    async with http.post(hello.xaddrs[0], data=encode(get)) as response:
        meta = decode(await response.read())
    assert isinstance(meta, GetMetadataResponse), meta
    service = meta.hosted[0].address
    ref = EndpointReference(notify, IDENTIFIER)
    request = Subscribe(Headers.request(service), ref, timedelta(minutes=5), end_to=ref)
    async with http.post(service, data=encode(request)) as response:
        answer = decode(await response.read())
    assert isinstance(answer, SubscribeResponse), answer
    say(event="subscribed", device=hello.address, manager=answer.subscription_manager.identifier)


async def main(address: str) -> None:
    loop = asyncio.get_running_loop()
    app = web.Application()
    app.router.add_post("/sink", sink)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, address, 0)
    await site.start()
    port = runner.addresses[0][1]
    notify = f"http://{address}:{port}/sink"
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: Listener(queue), sock=multicast_socket(address)
    )
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    quit_task = loop.create_task(stdin.readline())
    say(event="ready")
    seen: set[str] = set()
    tasks: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession() as http:
        while not quit_task.done():
            get = loop.create_task(queue.get())
            done, _ = await asyncio.wait({get, quit_task}, return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                break
            message = decode(get.result())
            if isinstance(message, Hello) and message.header.message_id not in seen:
                seen.add(message.header.message_id or "")
                say(event="hello", device=message.address, xaddrs=list(message.xaddrs))
                task = loop.create_task(subscribe(http, message, notify))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            elif isinstance(message, Bye) and message.header.message_id not in seen:
                seen.add(message.header.message_id or "")
                say(event="bye", device=message.address)
        await asyncio.gather(*tasks)
    transport.close()
    await runner.cleanup()
    say(event="stopped")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
