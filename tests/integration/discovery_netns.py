"""Test support for discovery: network namespaces joined by veth pairs, a WS-Discovery peer built on
wsdmon.protocol over plain sockets, and the leak checks every discovery test module uses.

Namespaces: the test thread enters the monitor namespace with setns(2), so every socket and thread
the code under test creates lives there (threads inherit the creating thread's namespace; a socket
keeps the namespace it was created in). The peer's sockets are created inside the device namespace.
Only addresses inside these namespaces are ever targeted.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import itertools
import os
import select
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from wsdmon.protocol import AppSequence, Message, RemoteProtocolError, decode, encode, new_message_id
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName
from wsdmon.protocol.discovery import (
    Bye,
    Hello,
    Probe,
    ProbeMatch,
    ProbeMatches,
    Resolve,
    ResolveMatch,
    ResolveMatches,
    match_headers,
    multicast_headers,
)

T = TypeVar("T")

_CLONE_NEWNET = 0x40000000
_counter = itertools.count()
WSDP_DEVICE = QName(ns.WSDP, "Device")
SCAN_DEVICE = QName(ns.WSCN, "ScanDeviceType")
SCAN_TYPES = (WSDP_DEVICE, SCAN_DEVICE)


# --- namespaces --------------------------------------------------------------------------------


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def inside(netns: str) -> Iterator[None]:
    """Run the calling thread inside a named network namespace, then return to where it was."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)


def _ip(*args: str, netns: str | None = None) -> None:
    cmd = ["ip", *(["-n", netns] if netns else []), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {result.stderr.strip()}")


def netns_unavailable() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    if shutil.which("ip") is None:
        return "the `ip` tool (iproute2) is not installed"
    probe = f"wsdm-probe-{os.getpid()}"
    try:
        _ip("netns", "add", probe)
        _ip("netns", "del", probe)
    except RuntimeError as exc:
        return f"cannot create a network namespace: {exc}"
    return None


@dataclass
class Link:
    """One veth pair: `mon_if` in the monitor namespace, `dev_if` in the device namespace."""

    mon_if: str
    dev_if: str
    mon_v4: str | None
    dev_v4: str | None
    mon_v6: str | None  # a ULA address, or None for a link-local-only link
    dev_v6: str | None
    dev_index: int = 0
    dev_link_local: str = ""


@dataclass
class Lan:
    """Two namespaces (monitor, device) and the links between them."""

    mon: str
    dev: str
    links: list[Link] = field(default_factory=list)

    def monitor(self) -> contextlib.AbstractContextManager[None]:
        return inside(self.mon)

    def device(self) -> contextlib.AbstractContextManager[None]:
        return inside(self.dev)


def _settle_ipv6(netns: str, deadline_s: float = 5.0) -> None:
    # DAD is off, but link-local addresses appear only once the link is up: wait for them.
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        out = subprocess.run(
            ["ip", "-n", netns, "-6", "addr", "show", "tentative"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        has_ll = (
            "fe80"
            in subprocess.run(
                ["ip", "-n", netns, "-6", "addr", "show", "scope", "link"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
        )
        if not out.strip() and has_ll:
            return
        time.sleep(0.02)
    raise RuntimeError(f"IPv6 addresses in {netns} did not settle")


def make_lan(*, links: int = 1, ipv4: bool = True, ipv6_ula: bool = True) -> Lan:
    """Build the namespaces. Link i uses 10.77.i.0/24 and fd77:0:0:i::/64 (unless turned off)."""
    tag = f"wsdm{os.getpid()}x{next(_counter)}"
    lan = Lan(f"{tag}m", f"{tag}d")
    try:
        for netns in (lan.mon, lan.dev):
            _ip("netns", "add", netns)
            subprocess.run(
                [
                    "ip",
                    "netns",
                    "exec",
                    netns,
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.all.accept_dad=0",
                ],
                check=True,
            )
            _ip("link", "set", "lo", "up", netns=netns)
        for i in range(links):
            link = Link(
                f"m{i}",
                f"d{i}",
                f"10.77.{i}.1" if ipv4 else None,
                f"10.77.{i}.2" if ipv4 else None,
                f"fd77:0:0:{i}::1" if ipv6_ula else None,
                f"fd77:0:0:{i}::2" if ipv6_ula else None,
            )
            _ip(
                "link",
                "add",
                link.mon_if,
                "netns",
                lan.mon,
                "type",
                "veth",
                "peer",
                "name",
                link.dev_if,
                "netns",
                lan.dev,
            )
            for netns, ifname, v4, v6 in (
                (lan.mon, link.mon_if, link.mon_v4, link.mon_v6),
                (lan.dev, link.dev_if, link.dev_v4, link.dev_v6),
            ):
                if v4:
                    _ip("addr", "add", f"{v4}/24", "dev", ifname, netns=netns)
                if v6:
                    _ip("addr", "add", f"{v6}/64", "dev", ifname, "nodad", netns=netns)
                _ip("link", "set", ifname, "up", netns=netns)
            lan.links.append(link)
        for netns in (lan.mon, lan.dev):
            _settle_ipv6(netns)
        with lan.device():
            for link in lan.links:
                link.dev_index = socket.if_nametoindex(link.dev_if)
                link.dev_link_local = _link_local(link.dev_if)
    except BaseException:
        destroy_lan(lan)
        raise
    return lan


def _link_local(ifname: str) -> str:
    import ifaddr

    for adapter in ifaddr.get_adapters():
        if adapter.name == ifname:
            for ip in adapter.ips:
                if isinstance(ip.ip, tuple) and ip.ip[0].startswith("fe80"):
                    return ip.ip[0]
    raise RuntimeError(f"{ifname} has no link-local address")


def destroy_lan(lan: Lan) -> None:
    for netns in (lan.mon, lan.dev):
        subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)


@contextlib.contextmanager
def lans() -> Iterator[Callable[..., Lan]]:
    """Make namespaces (skipped, with the reason printed, where that is impossible); the test thread
    moves into the monitor namespace of each one made, and back out at the end."""
    reason = netns_unavailable()
    if reason is not None:
        print(f"SKIP discovery netns tests: {reason}")
        pytest.skip(reason)
    made: list[Lan] = []
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: [destroy_lan(lan) for lan in made])

        def factory(**kwargs: Any) -> Lan:
            lan = make_lan(**kwargs)
            made.append(lan)
            stack.enter_context(lan.monitor())
            return lan

        yield factory


PeerFactory = Callable[..., "tuple[Lan, Peer]"]


@contextlib.contextmanager
def peer_network() -> Iterator[PeerFactory]:
    """`make(target=None, lan_kwargs=None, **peer_kwargs) -> (lan, peer)`; all torn down at exit."""
    peers: list[Peer] = []
    with lans() as make_lan_here:

        def make(
            target: Target | None = None, *, lan_kwargs: dict[str, Any] | None = None, **kw: Any
        ) -> tuple[Lan, Peer]:
            lan = make_lan_here(**(lan_kwargs or {}))
            peer = Peer(lan, target or Target(), **kw)
            peers.append(peer)
            return lan, peer

        try:
            yield make
        finally:
            for peer in peers:
                peer.close()


# --- the peer: a WS-Discovery target built on wsdmon.protocol ----------------------------------


@dataclass
class Target:
    endpoint: str = field(default_factory=new_message_id)
    types: tuple[QName, ...] = SCAN_TYPES
    scopes: tuple[str, ...] = ()
    xaddrs: tuple[str, ...] = ("http://10.77.0.2:5357/device/",)
    metadata_version: int = 1
    instance_id: int = 1000
    message_number: int = 0

    def next_sequence(self) -> AppSequence:
        self.message_number += 1
        return AppSequence(self.instance_id, self.message_number)

    def hello(self, *, xaddrs: bool = True) -> Hello:
        return Hello(
            multicast_headers(self.next_sequence()),
            self.endpoint,
            self.metadata_version,
            self.types,
            self.scopes,
            self.xaddrs if xaddrs else (),
        )

    def bye(self) -> Bye:
        return Bye(multicast_headers(self.next_sequence()), self.endpoint)


class Peer:
    """A device in the device namespace: answers Probe/Resolve (unicast or multicast) and sends
    Hello/Bye, on a thread of its own; every message it receives is kept in `received`."""

    def __init__(
        self, lan: Lan, target: Target, *, xaddrs_in_match: bool = True, answer: bool = True
    ) -> None:
        self.lan = lan
        self.target = target
        self.xaddrs_in_match = xaddrs_in_match
        self.answer = answer
        self.received: list[tuple[Message, tuple[Any, ...]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socks: list[socket.socket] = []
        with lan.device():
            if lan.links[0].dev_v4 is not None:
                s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s4.bind(("", 3702))
                for link in lan.links:
                    assert link.dev_v4 is not None
                    mreq = struct.pack(
                        "4s4s", socket.inet_aton("239.255.255.250"), socket.inet_aton(link.dev_v4)
                    )
                    s4.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
                self._socks.append(s4)
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s6.bind(("::", 3702))
            for link in lan.links:
                mreq6 = struct.pack("16si", socket.inet_pton(socket.AF_INET6, "ff02::c"), link.dev_index)
                s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq6)
            self._socks.append(s6)
        self._thread = threading.Thread(target=self._run, name="test-peer", daemon=True)
        self._thread.start()

    # sending

    def multicast(self, message: Message | bytes, *, family: int = socket.AF_INET, link: int = 0) -> None:
        data = message if isinstance(message, bytes) else encode(message)
        ln = self.lan.links[link]
        with self.lan.device():
            sock = socket.socket(family, socket.SOCK_DGRAM)
        with sock:
            if family == socket.AF_INET:
                assert ln.dev_v4 is not None
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ln.dev_v4))
                sock.sendto(data, ("239.255.255.250", 3702))
            else:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ln.dev_index)
                sock.sendto(data, ("ff02::c", 3702, 0, ln.dev_index))

    def messages(self, kind: type[T]) -> list[T]:
        with self._lock:
            return [m for m, _ in self.received if isinstance(m, kind)]

    # answering

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select(self._socks, [], [], 0.05)
            for sock in ready:
                try:
                    data, addr = sock.recvfrom(65535)
                    message = decode(data)
                except (OSError, RemoteProtocolError):
                    continue
                if not isinstance(message, Message):
                    continue
                with self._lock:
                    self.received.append((message, addr))
                reply = self._reply(message) if self.answer else None
                if reply is not None:
                    with contextlib.suppress(OSError):
                        sock.sendto(encode(reply), addr)

    def _reply(self, message: Message) -> Message | None:
        t = self.target
        if isinstance(message, Probe) and message.matches(t.types, t.scopes):
            match = ProbeMatch(
                t.endpoint, t.metadata_version, t.types, t.scopes, t.xaddrs if self.xaddrs_in_match else ()
            )
            return ProbeMatches(match_headers(message.header.message_id, t.next_sequence()), (match,))
        if isinstance(message, Resolve) and message.address == t.endpoint:
            resolved = ResolveMatch(t.endpoint, t.metadata_version, t.xaddrs, t.types, t.scopes)
            return ResolveMatches(match_headers(message.header.message_id, t.next_sequence()), resolved)
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self._socks:
            sock.close()


# --- checks every discovery test module applies ------------------------------------------------


@contextlib.contextmanager
def threads_checked(grace_s: float = 2.0) -> Iterator[None]:
    """Fail the test if it leaves a thread running (or a socket unclosed: gc makes it warn now)."""
    before = set(threading.enumerate())
    yield
    end = time.monotonic() + grace_s
    leaked: list[threading.Thread] = []
    while time.monotonic() < end:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked:
            break
        time.sleep(0.02)
    gc.collect()
    assert not leaked, f"threads leaked: {[t.name for t in leaked]}"


def run_loop(main: Callable[[], Awaitable[T]], *, debug: bool = True) -> T:
    """asyncio.run with unhandled loop exceptions failing the test."""
    errors: list[dict[str, Any]] = []

    async def wrapper() -> T:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
        return await main()

    with asyncio.Runner(debug=debug) as runner:
        result = runner.run(wrapper())
    assert not errors, f"unhandled loop exceptions: {errors}"
    return result


async def eventually(predicate: Callable[[], bool], timeout_s: float = 5.0, what: str = "condition") -> None:
    """Wait (on the loop) until `predicate()` holds; AssertionError after `timeout_s`."""
    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0, what: str = "condition") -> None:
    """The same, for code that is not on a loop (the raw library's blocking API)."""
    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
