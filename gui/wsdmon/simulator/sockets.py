"""Every socket the simulator opens, and every socket option and platform quirk, in one place.

- Which address to use: an explicit --host, else the --interface's address (IPv4, or with --ipv6
  its link-local one, which needs the interface's scope id), else the first non-loopback interface,
  or loopback when multicast is off.
- WS-Discovery (UDP): a *unicast* socket bound to host:port answers directed Probes and sends every
  reply and multicast announcement (IP_MULTICAST_IF on the chosen interface, TTL/hops 1, loop on so
  peers on the same host see it); with multicast on, a second socket bound to the group address
  receives only multicast, so the two paths are told apart without IP_PKTINFO (the WS-Discovery
  delay applies to multicast only). Windows cannot bind a group address: there one socket bound to
  the wildcard address does both, and every request is treated as multicast.
- HTTP (TCP): one listening socket per device, handed to aiohttp.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct
import sys
from dataclasses import dataclass

import ifaddr

from wsdmon.protocol import namespaces as ns

__all__ = ["Binding", "DiscoverySockets", "choose_binding", "open_discovery_sockets", "tcp_listener"]

_BIND_GROUP = sys.platform != "win32"  # Windows refuses to bind a multicast group address
_LISTEN_BACKLOG = 128
_MULTICAST_TTL = 1  # SOAP-over-UDP: link-local scope; WS-Discovery multicast never leaves the link


@dataclass(frozen=True, slots=True)
class Binding:
    """The address the simulator binds and advertises: IPv6 addresses without a zone, plus the
    interface they belong to (ifindex 0 = unknown, fine for IPv4 and global IPv6)."""

    family: socket.AddressFamily
    address: str
    interface: str | None = None
    ifindex: int = 0

    @property
    def is_ipv6(self) -> bool:
        return self.family == socket.AF_INET6

    @property
    def link_local(self) -> bool:
        return self.is_ipv6 and ipaddress.IPv6Address(self.address).is_link_local

    @property
    def url_host(self) -> str:
        """The host part of an advertised URL (no zone: peers add their own, as with WSDAPI)."""
        return f"[{self.address}]" if self.is_ipv6 else self.address

    def sockaddr(self, port: int) -> tuple[str, int] | tuple[str, int, int, int]:
        if self.is_ipv6:
            return (self.address, port, 0, self.ifindex if self.link_local else 0)
        return (self.address, port)

    def group(self, port: int) -> tuple[str, int] | tuple[str, int, int, int]:
        """The WS-Discovery multicast group (§2.4) as a socket address on this interface."""
        if self.is_ipv6:
            return (ns.MULTICAST_IPV6, port, 0, self.ifindex)
        return (ns.MULTICAST_IPV4, port)


def _adapters() -> list[ifaddr.Adapter]:
    return sorted(ifaddr.get_adapters(), key=lambda a: a.index or 0)


def _addresses(adapter: ifaddr.Adapter, ipv6: bool) -> list[str]:
    out: list[str] = []
    for ip in adapter.ips:
        if ip.is_IPv4 and not ipv6 and isinstance(ip.ip, str):
            out.append(ip.ip)
        elif ip.is_IPv6 and ipv6 and isinstance(ip.ip, tuple):
            out.append(ip.ip[0].partition("%")[0])
    if ipv6:  # link-local first: WSD peers reach each other on the link (fe80::/10)
        out.sort(key=lambda a: not ipaddress.IPv6Address(a).is_link_local)
    return out


def choose_binding(*, host: str | None, interface: str | None, ipv6: bool, multicast: bool) -> Binding:
    """The address to use for a run; ValueError saying what to pass when there is none."""
    adapters = _adapters()
    if host is not None:
        literal, _, zone = host.partition("%")
        try:
            addr = ipaddress.ip_address(literal)
        except ValueError:
            raise ValueError(f"--host {host!r} is not an IP address literal") from None
        v6 = addr.version == 6
        owner = next((a for a in adapters if str(addr) in _addresses(a, v6)), None)
        if interface is not None or zone:
            owner = next((a for a in adapters if a.name in (interface, zone)), owner)
        family = socket.AF_INET6 if v6 else socket.AF_INET
        return Binding(family, str(addr), owner.name if owner else None, (owner.index or 0) if owner else 0)
    family = socket.AF_INET6 if ipv6 else socket.AF_INET
    if interface is not None:
        adapter = next((a for a in adapters if a.name == interface), None)
        if adapter is None:
            names = ", ".join(a.name for a in adapters)
            raise ValueError(f"no interface {interface!r} (have: {names})")
        found = _addresses(adapter, ipv6)
        if not found:
            kind = "IPv6" if ipv6 else "IPv4"
            raise ValueError(f"interface {interface!r} has no {kind} address: configure one or use --host")
        return Binding(family, found[0], adapter.name, adapter.index or 0)
    if not multicast:
        loopback = "::1" if ipv6 else "127.0.0.1"
        owner = next((a for a in adapters if loopback in _addresses(a, ipv6)), None)
        return Binding(family, loopback, owner.name if owner else None, (owner.index or 0) if owner else 0)
    for adapter in adapters:
        usable = [a for a in _addresses(adapter, ipv6) if not ipaddress.ip_address(a).is_loopback]
        if usable:
            return Binding(family, usable[0], adapter.name, adapter.index or 0)
    raise ValueError("no non-loopback interface with an address: pass --interface, or --no-discovery")


def _explain(exc: OSError, what: str, binding: Binding, port: int, hint: str) -> OSError:
    if exc.errno == errno.EADDRINUSE:
        return OSError(exc.errno, f"{what} port {port} on {binding.address} is in use: {hint}")
    if exc.errno == errno.EADDRNOTAVAIL:
        return OSError(exc.errno, f"{binding.address} is not an address of this machine: check --host")
    return OSError(exc.errno, f"cannot open {what} socket on {binding.address}:{port}: {exc.strerror}")


_WSD_HINT = "is another WSD stack running (wsdd, Windows' Function Discovery)? Or choose --wsd-port"
_HTTP_HINT = "choose another --http-port (0 = ephemeral ports)"


def _udp(binding: Binding) -> socket.socket:
    sock = socket.socket(binding.family, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT") and sys.platform == "darwin":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # BSD multicast port sharing
    if binding.is_ipv6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.setblocking(False)
    return sock


def _multicast_send_options(sock: socket.socket, binding: Binding) -> None:
    if binding.is_ipv6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, binding.ifindex)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, _MULTICAST_TTL)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 1)
    else:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(binding.address))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, _MULTICAST_TTL)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)


def _join(sock: socket.socket, binding: Binding) -> None:
    if binding.is_ipv6:
        group = socket.inet_pton(socket.AF_INET6, ns.MULTICAST_IPV6)
        sock.setsockopt(
            socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, struct.pack("16sI", group, binding.ifindex)
        )
    else:
        mreq = struct.pack("4s4s", socket.inet_aton(ns.MULTICAST_IPV4), socket.inet_aton(binding.address))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)


@dataclass(slots=True)
class DiscoverySockets:
    """The WS-Discovery sockets of a run: `unicast` sends everything; `multicast` (when present)
    receives only multicast; `unicast_sees_multicast` where one socket has to do both."""

    unicast: socket.socket
    multicast: socket.socket | None
    unicast_sees_multicast: bool

    @property
    def port(self) -> int:
        return int(self.unicast.getsockname()[1])

    def close(self) -> None:
        for sock in (self.unicast, self.multicast):
            if sock is not None:
                sock.close()


def open_discovery_sockets(binding: Binding, port: int, *, multicast: bool) -> DiscoverySockets:
    """Open and configure the WS-Discovery sockets (port 0 = ephemeral, for multicast-free tests)."""
    if multicast and binding.is_ipv6 and not binding.ifindex:
        raise ValueError(f"IPv6 multicast needs an interface for {binding.address}: pass --interface")
    shared = multicast and not _BIND_GROUP
    uni = _udp(binding)
    try:
        if shared:
            wildcard = "::" if binding.is_ipv6 else ""
            uni.bind((wildcard, port, 0, 0) if binding.is_ipv6 else (wildcard, port))
        else:
            uni.bind(binding.sockaddr(port))
        if multicast:
            _multicast_send_options(uni, binding)
            if shared:
                _join(uni, binding)
    except OSError as exc:
        uni.close()
        raise _explain(exc, "WS-Discovery UDP", binding, port, _WSD_HINT) from None
    if not multicast or shared:
        return DiscoverySockets(uni, None, shared)
    group = _udp(binding)
    try:
        group.bind(binding.group(int(uni.getsockname()[1])))
        _join(group, binding)
    except OSError as exc:
        group.close()
        uni.close()
        raise _explain(exc, "WS-Discovery multicast", binding, port, _WSD_HINT) from None
    return DiscoverySockets(uni, group, False)


def tcp_listener(binding: Binding, port: int) -> socket.socket:
    """A listening TCP socket for a device's HTTP endpoint (port 0 = ephemeral)."""
    sock = socket.socket(binding.family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if binding.is_ipv6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(binding.sockaddr(port))
        sock.listen(_LISTEN_BACKLOG)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise _explain(exc, "HTTP", binding, port, _HTTP_HINT) from None
    return sock
