"""Our own unicast WS-Discovery endpoint: an asyncio datagram endpoint for directed Probe/Resolve.

The wsdiscovery library sends unicast from a socket it never reads (defect a), so directed exchanges
use `loop.create_datagram_endpoint` on a socket from _sockets; replies go to the same handler as
everything the library's threads receive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

from ._sockets import numeric_address, unicast_socket

__all__ = ["address_of", "peer_address", "unicast_endpoint"]

log = logging.getLogger(__name__)

Deliver = Callable[[bytes, tuple[Any, ...]], None]
SendTo = Callable[[bytes, tuple[Any, ...]], None]


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self._deliver(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("directed discovery: %s", exc)  # ICMP port unreachable and the like


@contextlib.asynccontextmanager
async def unicast_endpoint(
    loop: asyncio.AbstractEventLoop, family: int, deliver: Deliver
) -> AsyncIterator[SendTo]:
    """An unconnected UDP endpoint for one exchange; yields its sendto, closes it on exit."""
    sock = unicast_socket(family)
    try:
        transport, _ = await loop.create_datagram_endpoint(lambda: _Receiver(deliver), sock=sock)
    except BaseException:
        sock.close()
        raise
    try:
        yield transport.sendto
    finally:
        transport.close()


async def address_of(loop: asyncio.AbstractEventLoop, host: str, port: int) -> tuple[int, tuple[Any, ...]]:
    """(family, sockaddr) for an IP literal at once, for a name through the loop's resolver."""
    numeric = numeric_address(host, port)
    if numeric is not None:
        return numeric
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    family, _, _, _, sockaddr = infos[0]  # getaddrinfo raises rather than return nothing
    return int(family), tuple(sockaddr)


def peer_address(addr: tuple[Any, ...]) -> tuple[str, int]:
    """A datagram's source as (host, port); an IPv6 scope is kept (`fe80::1%2`) so replies work."""
    host = str(addr[0])
    if len(addr) == 4 and addr[3] and "%" not in host:
        host = f"{host}%{addr[3]}"
    return host, int(addr[1])
