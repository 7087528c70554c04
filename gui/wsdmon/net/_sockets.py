"""UDP sockets and interface choice for WS-Discovery: every socket option and platform quirk in one place.

Used by the wsdiscovery adapter (its listening sockets) and by our own unicast endpoint. No asyncio.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from wsdmon.protocol import namespaces as ns

__all__ = [
    "DISCOVERY_PORT",
    "IPV4_GROUP",
    "IPV6_GROUP",
    "DiscoverySocketError",
    "IPAddress",
    "InterfaceAddress",
    "multicast_listener",
    "numeric_address",
    "parse_interface_choice",
    "select_addresses",
    "unicast_socket",
]

# WS-Discovery 2005/04 §2.4: the discovery groups and port.
DISCOVERY_PORT = ns.DISCOVERY_PORT
IPV4_GROUP = "239.255.255.250"
IPV6_GROUP = "ff02::c"

# Linux <linux/in.h> / <linux/in6.h>; Python's socket module has no names for them. With the default
# (1) a socket bound to the port receives every group joined by ANY socket on the host, on any
# interface, so an interface choice would not hold.
_LINUX_IP_MULTICAST_ALL = 49
_LINUX_IPV6_MULTICAST_ALL = 29
_LINUX = sys.platform.startswith("linux")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DiscoverySocketError(OSError):
    """A discovery socket could not be set up; the message says what to do."""


def _explain(exc: OSError, what: str) -> DiscoverySocketError:
    if exc.errno == errno.EADDRINUSE:
        hint = f"UDP port {DISCOVERY_PORT} is in use: is another WSD stack running without SO_REUSEADDR?"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        hint = "permission denied: a firewall or sandbox blocks UDP sockets"
    elif exc.errno in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):
        hint = "this address family is not available on this host"
    else:
        hint = "check the network configuration"
    return DiscoverySocketError(exc.errno, f"{what}: {exc.strerror or exc} ({hint})")


def multicast_listener(family: int) -> socket.socket:
    """The socket that receives multicast Hello/Bye (and, off Linux, unicast to port 3702 too)."""
    sock = socket.socket(family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        # Several WSD stacks share port 3702 on one host (WSDAPI, wsdd, our simulator).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if sys.platform == "darwin" or "bsd" in sys.platform:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            # A dual-stack socket would also receive every IPv4 datagram the IPv4 thread gets.
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if _LINUX:
            level, opt = (
                (socket.IPPROTO_IP, _LINUX_IP_MULTICAST_ALL)
                if family == socket.AF_INET
                else (socket.IPPROTO_IPV6, _LINUX_IPV6_MULTICAST_ALL)
            )
            with contextlib.suppress(OSError):  # IPV6_MULTICAST_ALL needs Linux 4.20
                sock.setsockopt(level, opt, 0)
        # Linux: bound to the group address, the socket gets only datagrams sent to the group, so it
        # never steals a unicast directed Probe meant for another responder on this host (with
        # SO_REUSEADDR the kernel hands a unicast datagram to one socket only). Windows cannot bind
        # to a group address; IPv6 would need one socket per interface (ff02::c is link-scoped).
        host = (IPV4_GROUP if _LINUX else "") if family == socket.AF_INET else "::"
        sock.bind((host, DISCOVERY_PORT))
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise _explain(exc, f"cannot listen on UDP {DISCOVERY_PORT}") from exc
    return sock


def unicast_socket(family: int) -> socket.socket:
    """An unconnected UDP socket on an ephemeral port, for directed Probe/Resolve and their replies.

    Unconnected on purpose: some devices answer from a different source port than 3702.
    """
    sock = socket.socket(family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        # any local address, an ephemeral port: replies come back to whatever source the route picks
        sock.bind(("0.0.0.0" if family == socket.AF_INET else "::", 0))  # noqa: S104
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise _explain(exc, "cannot open a UDP socket for a directed probe") from exc
    return sock


def numeric_address(host: str, port: int) -> tuple[int, tuple[Any, ...]] | None:
    """(family, sockaddr) for an IP literal (IPv6 may carry %scope), or None for a host name.

    AI_NUMERICHOST never touches DNS, so this is safe on the event loop.
    """
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_DGRAM, flags=socket.AI_NUMERICHOST
        )
    except (socket.gaierror, UnicodeError):
        return None
    family, _, _, _, sockaddr = infos[0]
    return int(family), tuple(sockaddr)


# --- interface choice --------------------------------------------------------------------------


class _IP(Protocol):
    ip: str | tuple[str, int, int]


class _Adapter(Protocol):
    """The part of ifaddr.Adapter we read (a protocol, so tests can pass plain objects)."""

    name: str
    nice_name: str
    index: int | None

    @property
    def ips(self) -> Sequence[_IP]: ...


@dataclass(frozen=True, slots=True)
class InterfaceAddress:
    """One local address discovery may use: its interface name and index, and the address (IPv6
    always carries its interface index as scope, also for global addresses)."""

    interface: str
    index: int | None
    address: IPAddress


def parse_interface_choice(choice: Sequence[str] | None) -> tuple[frozenset[str], frozenset[IPAddress]]:
    """Split a user's interface list into names and addresses; ValueError for an empty entry."""
    names: set[str] = set()
    addresses: set[IPAddress] = set()
    for entry in choice or ():
        text = entry.strip()
        if not text:
            raise ValueError("an interface entry is empty")
        try:
            addresses.add(ipaddress.ip_address(text.split("%", 1)[0].strip("[]")))
        except ValueError:
            names.add(text)
    return frozenset(names), frozenset(addresses)


def _adapter_addresses(adapter: _Adapter) -> Iterable[InterfaceAddress]:
    for ip in adapter.ips:
        if isinstance(ip.ip, str):
            yield InterfaceAddress(adapter.name, adapter.index, ipaddress.IPv4Address(ip.ip))
        else:
            host, _flow, scope = ip.ip
            # ifaddr gives scope 0 for global IPv6 addresses; multicast joins and IPV6_MULTICAST_IF need
            # the interface index, else the kernel picks the default interface.
            index = adapter.index if adapter.index is not None else scope
            yield InterfaceAddress(adapter.name, adapter.index, ipaddress.IPv6Address(f"{host}%{index}"))


def select_addresses(
    adapters: Iterable[_Adapter], choice: Sequence[str] | None, family: int
) -> list[InterfaceAddress]:
    """The local addresses of `family` to run discovery on.

    No choice: every interface except loopback, link-local addresses included (IPv6's FF02::C is
    link-scoped, so a network with only link-local addresses is the common case). A choice names
    interfaces (`eth0`) or addresses (`192.168.1.5`, `fe80::1%eth0`); loopback only when chosen.
    IPv6 keeps one address per interface (joins and sends go by interface index), preferring the
    link-local one.
    """
    names, addresses = parse_interface_choice(choice)
    want_v4 = family == socket.AF_INET
    out: list[InterfaceAddress] = []
    v6_by_index: dict[int | None, InterfaceAddress] = {}
    for adapter in adapters:
        for item in _adapter_addresses(adapter):
            addr = item.address
            if (addr.version == 4) != want_v4:
                continue
            bare = ipaddress.ip_address(str(addr).split("%", 1)[0])
            if choice:
                if adapter.name not in names and adapter.nice_name not in names and bare not in addresses:
                    continue
            elif bare.is_loopback:
                continue
            if want_v4:
                out.append(item)
            else:
                kept = v6_by_index.get(item.index)
                if kept is None or (bare.is_link_local and not _bare(kept.address).is_link_local):
                    v6_by_index[item.index] = item
    return out if want_v4 else list(v6_by_index.values())


def _bare(addr: IPAddress) -> IPAddress:
    return ipaddress.ip_address(str(addr).split("%", 1)[0])
