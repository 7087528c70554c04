"""The network self-check (issue 13, items 2 and 3): which interfaces discovery uses, whether UDP 3702
can be shared and its IPv4 group joined, whether the notify port can be bound (and which process
holds a port when not, where the OS tells), directed probes with their probe→match latency, and
metadata reads of devices given by URL. Results are core.selfcheck values; no words here.

Socket checks bind and close at once; they send nothing (joining the group makes the kernel send an
IGMP report on the chosen interfaces only: name `lo` to stay on this computer).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import ifaddr

from wsdmon.core.device_status import DeviceError, DeviceErrorKind
from wsdmon.core.health import DeviceHealth
from wsdmon.core.health_evaluate import PROBE_LATE_S
from wsdmon.core.selfcheck import CheckId, CheckResult, Finding, Holder, InterfaceInfo, PortEvidence, Verdict
from wsdmon.protocol import Headers, RemoteProtocolError
from wsdmon.protocol.metadata import GetMetadataResponse, TransferGet

from ._sockets import (
    DISCOVERY_PORT,
    IPV4_GROUP,
    IPV6_GROUP,
    DiscoverySocketError,
    multicast_listener,
    select_addresses,
)
from .discovery import MATCH_TIMEOUT_S, DiscoveryService
from .engine import Engine, EngineConfig
from .http import RequestError, SoapClient, device_error
from .journal_port import JournalPort
from .wiring import Discovery, parse_probe_target

__all__ = [
    "DEFAULT_WAIT_S",
    "LATE_MATCH_S",
    "NamedHealth",
    "SelfCheckOptions",
    "find_holders",
    "run_device_health",
    "run_selfcheck",
]

# How long a directed probe waits for its match and a metadata read for its answer (--duration).
DEFAULT_WAIT_S = MATCH_TIMEOUT_S
# A match later than this is a warning: the health checks' limit (core.health_evaluate), one number.
LATE_MATCH_S = PROBE_LATE_S
_PROC = Path("/proc")
_LINUX = sys.platform.startswith("linux")
_LISTEN = "0A"  # /proc/net/tcp state of a listening socket


@dataclass(frozen=True, slots=True)
class SelfCheckOptions:
    notify_port: int
    probes: tuple[str, ...] = ()  # HOST, HOST:PORT, [V6]:PORT
    devices: tuple[str, ...] = ()  # metadata URLs
    interfaces: tuple[str, ...] = ()  # names or addresses; empty: all but loopback
    wait_s: float = DEFAULT_WAIT_S
    listen: bool = True  # listen wait_s for multicast from other hosts (the multicast check)


# --- who holds a port (Linux: /proc) -----------------------------------------------------------


def _socket_inodes(transport: str, port: int) -> set[str]:
    """Inodes of the sockets bound to local `port` (TCP: listening ones) in /proc/net/<transport>[6]."""
    inodes: set[str] = set()
    for name in (transport, f"{transport}6"):
        try:
            lines = (_PROC / "net" / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local, state, inode = fields[1], fields[3], fields[9]
            if int(local.rpartition(":")[2], 16) != port or inode == "0":
                continue
            if transport == "tcp" and state != _LISTEN:
                continue
            inodes.add(inode)
    return inodes


def find_holders(transport: str, port: int) -> tuple[tuple[Holder, ...] | None, int]:
    """The processes with a socket on `port` and how many such sockets no process was found for
    (other users' processes cannot be looked into); (None, 0) where the OS does not tell."""
    if not _LINUX or not (_PROC / "net").is_dir():
        return None, 0
    inodes = _socket_inodes(transport, port)
    if not inodes:
        return (), 0
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    found: dict[int, Holder] = {}
    seen: set[str] = set()
    for proc in _PROC.iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:  # another user's process, or gone
            continue
        for fd in fds:
            try:
                inode = wanted.get(os.readlink(fd))
            except OSError:
                continue
            if inode is not None:
                seen.add(inode)
                pid = int(proc.name)
                if pid not in found:
                    try:
                        name = (proc / "comm").read_text().strip()
                    except OSError:
                        name = ""
                    found[pid] = Holder(pid, name)
    return tuple(sorted(found.values(), key=lambda h: h.pid)), len(inodes - seen)


def _port_failed(check: CheckId, exc: OSError, port: int, transport: str) -> CheckResult:
    holders, unattributed = find_holders(transport, port)
    evidence = PortEvidence(
        port, transport, exc.errno, exc.strerror or str(exc), holders=holders, unattributed=unattributed
    )
    if exc.errno == errno.EADDRINUSE:
        finding = Finding.PORT_HELD
    elif exc.errno in (errno.EACCES, errno.EPERM):
        finding = Finding.PORT_DENIED
    else:
        finding = Finding.PORT_ERROR
    return CheckResult(check, Verdict.PROBLEM, finding, target=f"{transport.upper()} {port}", port=evidence)


# --- the checks ----------------------------------------------------------------------------------


def check_interfaces(choice: Sequence[str]) -> CheckResult:
    """The interfaces discovery would use (all but loopback, or those chosen) and their addresses."""
    try:
        adapters = ifaddr.get_adapters()
        v4 = select_addresses(adapters, choice or None, socket.AF_INET)
        v6 = select_addresses(adapters, choice or None, socket.AF_INET6)
    except (OSError, ValueError) as exc:
        return CheckResult(
            CheckId.INTERFACES, Verdict.UNKNOWN, Finding.INTERFACES_UNREADABLE, os_message=str(exc)
        )
    by_name: dict[str, list[str]] = {}
    for item in v4:
        by_name.setdefault(item.interface, []).append(str(item.address))
    # IPv6: select_addresses keeps one per interface (the one joins use); show them all, a zone
    # (the interface's name) only on link-local ones.
    used_v6 = {item.interface for item in v6}
    for adapter in adapters:
        if adapter.name in used_v6:
            for ip in adapter.ips:
                if isinstance(ip.ip, tuple):
                    host = ip.ip[0]
                    text = f"{host}%{adapter.name}" if host.lower().startswith("fe80") else host
                    by_name.setdefault(adapter.name, []).append(text)
    infos = tuple(InterfaceInfo(name, tuple(addresses)) for name, addresses in by_name.items())
    if not infos:
        return CheckResult(
            CheckId.INTERFACES, Verdict.PROBLEM, Finding.NO_INTERFACE, target=", ".join(choice)
        )
    return CheckResult(CheckId.INTERFACES, Verdict.OK, Finding.INTERFACES_UP, interfaces=infos)


def _join_ipv4(choice: Sequence[str], sock: socket.socket) -> tuple[list[str], list[tuple[str, str]]]:
    joined: list[str] = []
    failed: list[tuple[str, str]] = []
    for item in select_addresses(ifaddr.get_adapters(), choice or None, socket.AF_INET):
        mreq = socket.inet_aton(IPV4_GROUP) + socket.inet_aton(str(item.address))
        try:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        except OSError as exc:
            failed.append((str(item.address), exc.strerror or str(exc)))
        else:
            joined.append(str(item.address))
    return joined, failed


def _join_ipv6(choice: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Join ff02::c on each chosen interface with IPv6 (link-scoped: one join per interface). An OS
    without IPv6 joins nothing and fails nothing: IPv4 alone is a working set-up."""
    joined: list[str] = []
    failed: list[tuple[str, str]] = []
    try:
        items = select_addresses(ifaddr.get_adapters(), choice or None, socket.AF_INET6)
    except (OSError, ValueError):
        return joined, failed
    if not items:
        return joined, failed
    try:
        sock = multicast_listener(socket.AF_INET6)
    except DiscoverySocketError as exc:
        return joined, [(f"{item.interface} (IPv6)", exc.strerror or str(exc)) for item in items]
    try:
        for item in items:
            host = str(item.address).partition("%")[0]
            shown = f"{host}%{item.interface}" if host.lower().startswith("fe80") else host
            try:
                index = item.index or socket.if_nametoindex(item.interface)
                mreq = socket.inet_pton(socket.AF_INET6, IPV6_GROUP) + struct.pack("@I", index)
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
            except OSError as exc:
                failed.append((shown, exc.strerror or str(exc)))
            else:
                joined.append(shown)
    finally:
        sock.close()
    return joined, failed


def check_discovery_port(choice: Sequence[str]) -> CheckResult:
    """Bind UDP 3702 as WS-Discovery listeners do (shared) and join the groups on each chosen
    interface: 239.255.255.250 on its IPv4 address, ff02::c on the interface where it has IPv6."""
    target = f"UDP {DISCOVERY_PORT}"
    try:
        sock = multicast_listener(socket.AF_INET)
    except DiscoverySocketError as exc:
        return _port_failed(CheckId.DISCOVERY_PORT, exc, DISCOVERY_PORT, "udp")
    try:
        joined, failed = _join_ipv4(choice, sock)
    finally:
        sock.close()
    joined6, failed6 = _join_ipv6(choice)
    joined += joined6
    failed += failed6
    holders, unattributed = find_holders("udp", DISCOVERY_PORT)
    evidence = PortEvidence(
        DISCOVERY_PORT,
        "udp",
        holders=holders,
        unattributed=unattributed,
        joined=tuple(joined),
        not_joined=tuple(failed),
    )
    if not joined:
        verdict, finding = Verdict.PROBLEM, Finding.GROUP_NOT_JOINED
    elif failed:
        verdict, finding = Verdict.WARNING, Finding.GROUP_PARTLY_JOINED
    else:
        verdict, finding = Verdict.OK, Finding.PORT_FREE
    return CheckResult(CheckId.DISCOVERY_PORT, verdict, finding, target=target, port=evidence)


def check_notify_port(port: int) -> CheckResult:
    """Bind the notify port for TCP on all addresses, as the event sink does (SO_REUSEADDR)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", port))  # noqa: S104 - the sink listens on all addresses
        sock.listen()
    except OSError as exc:
        return _port_failed(CheckId.NOTIFY_PORT, exc, port, "tcp")
    finally:
        sock.close()
    return CheckResult(
        CheckId.NOTIFY_PORT,
        Verdict.OK,
        Finding.PORT_FREE,
        target=f"TCP {port}",
        port=PortEvidence(port, "tcp"),
    )


class _Count(asyncio.DatagramProtocol):
    """Counts datagrams from addresses other than this computer's own."""

    def __init__(self, own: set[str]) -> None:
        self.own = own
        self.messages = 0
        self.senders: dict[str, None] = {}

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        sender = str(addr[0]).partition("%")[0]
        if sender not in self.own:
            self.messages += 1
            self.senders.setdefault(sender)


def _own_addresses() -> set[str]:
    own = {"127.0.0.1", "::1"}
    with contextlib.suppress(OSError):
        for adapter in ifaddr.get_adapters():
            for ip in adapter.ips:
                own.add(ip.ip[0] if isinstance(ip.ip, tuple) else str(ip.ip))
    return own


async def check_multicast(choice: Sequence[str], wait_s: float) -> CheckResult:
    """Listen on UDP 3702 in the IPv4 WS-Discovery group for `wait_s` and count what other hosts send
    (Hello, Bye, other monitors' Probes). Silence is not a verdict on its own: a quiet network and a
    blocked one look the same, so it is "not known", with what to try."""
    loop = asyncio.get_running_loop()
    own = await asyncio.to_thread(_own_addresses)
    counter = _Count(own)
    try:
        sock = multicast_listener(socket.AF_INET)
    except DiscoverySocketError as exc:
        return CheckResult(
            CheckId.MULTICAST, Verdict.UNKNOWN, Finding.MULTICAST_SILENT, os_message=exc.strerror or str(exc)
        )
    joined, _ = _join_ipv4(choice, sock)
    transport, _ = await loop.create_datagram_endpoint(lambda: counter, sock=sock)
    try:
        await asyncio.sleep(wait_s)
    finally:
        transport.close()
    target = ", ".join(joined)
    if counter.messages:
        return CheckResult(
            CheckId.MULTICAST,
            Verdict.OK,
            Finding.MULTICAST_HEARD,
            target=target,
            listened_s=wait_s,
            messages=counter.messages,
            senders=tuple(counter.senders),
        )
    return CheckResult(
        CheckId.MULTICAST,
        Verdict.UNKNOWN,
        Finding.MULTICAST_SILENT,
        target=target,
        listened_s=wait_s,
        messages=0,
    )


async def check_probe(service: DiscoveryService, target: str, wait_s: float) -> CheckResult:
    """One directed Probe: who answered and how long the first match took."""
    loop = asyncio.get_running_loop()
    host, port = parse_probe_target(target)
    started = loop.time()
    try:
        seen = await service.directed_probe(host, port, timeout_s=wait_s)
    except (OSError, ValueError) as exc:
        message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return CheckResult(
            CheckId.PROBE, Verdict.PROBLEM, Finding.PROBE_NOT_SENT, target=target, os_message=message
        )
    latency_ms = (loop.time() - started) * 1000
    if not seen:
        return CheckResult(CheckId.PROBE, Verdict.PROBLEM, Finding.PROBE_NO_ANSWER, target=target)
    late = latency_ms > LATE_MATCH_S * 1000
    return CheckResult(
        CheckId.PROBE,
        Verdict.WARNING if late else Verdict.OK,
        Finding.PROBE_LATE if late else Finding.PROBE_ANSWERED,
        target=target,
        latency_ms=round(latency_ms, 1),
        endpoints=tuple(dict.fromkeys(s.endpoint for s in seen)),
    )


async def check_device(client: SoapClient, url: str) -> CheckResult:
    """WS-Transfer Get of one device's metadata by its URL (as `--device` adds it)."""
    try:
        answer = await client.call(url, TransferGet(Headers.request(url)))
    except (RequestError, RemoteProtocolError) as exc:
        error = device_error(url, exc)
        return CheckResult(CheckId.DEVICE, Verdict.PROBLEM, Finding.DEVICE_ERROR, target=url, error=error)
    if not isinstance(answer, GetMetadataResponse):
        error = DeviceError(DeviceErrorKind.BAD_ANSWER, url, reason=answer.action)
        return CheckResult(CheckId.DEVICE, Verdict.PROBLEM, Finding.DEVICE_ERROR, target=url, error=error)
    names = answer.this_device.friendly_names if answer.this_device is not None else ()
    endpoint = answer.host.address if answer.host is not None else ""
    return CheckResult(
        CheckId.DEVICE,
        Verdict.OK,
        Finding.DEVICE_READ,
        target=url,
        endpoints=(endpoint,) if endpoint else (),
        device_name=names[0].text if names else None,
    )


async def run_selfcheck(options: SelfCheckOptions) -> list[CheckResult]:
    """Every check, in report order. The socket checks run off the loop (they read /proc)."""
    results = [
        await asyncio.to_thread(check_interfaces, options.interfaces),
        await asyncio.to_thread(check_discovery_port, options.interfaces),
        await asyncio.to_thread(check_notify_port, options.notify_port),
    ]
    listening = (
        asyncio.ensure_future(check_multicast(options.interfaces, options.wait_s)) if options.listen else None
    )
    if options.probes:
        loop = asyncio.get_running_loop()
        service = DiscoveryService(
            loop, on_event=lambda _event: None, multicast=False, reprobe_interval_s=None
        )
        await service.start()
        try:
            results += await asyncio.gather(
                *(check_probe(service, t, options.wait_s) for t in options.probes)
            )
        finally:
            await service.stop()
    if options.devices:
        async with aiohttp.ClientSession() as session:
            client = SoapClient(session, timeout_s=options.wait_s)
            results += await asyncio.gather(*(check_device(client, url) for url in options.devices))
    if listening is not None:
        results.insert(3, await listening)  # after the ports: heard while the probes and reads ran
    return results


NamedHealth = tuple[DeviceHealth, str | None]  # a device's health and its friendly name, if read
ENGINE_REQUEST_TIMEOUT_S = 10.0  # the engine's own (EngineConfig.request_timeout_s); --duration caps it


async def run_device_health(options: SelfCheckOptions, journal: JournalPort) -> list[NamedHealth]:
    """Run the monitor's engine for `options.wait_s` seconds, as `wsdmon watch` would (multicast
    discovery on the chosen interfaces, the directed probes, the devices by URL), on `journal` (a
    temporary one: the user's is never touched), and judge the health of every device it met."""
    config = EngineConfig(
        notify_port=options.notify_port,
        notify_port_fallback=True,
        device_urls=options.devices,
        request_timeout_s=min(ENGINE_REQUEST_TIMEOUT_S, options.wait_s),
        snapshot_history=True,
    )
    engine = Engine(config, journal)
    await engine.start()
    discovery = Discovery(engine, interfaces=options.interfaces)
    try:
        await discovery.start()
        for target in options.probes:
            engine.spawn(_probe_quietly(discovery, target))
        await asyncio.sleep(options.wait_s)
        names = {d.endpoint: d.friendly_name or d.model_name for d in engine.devices}
        return [(h, names.get(h.endpoint)) for h in engine.health_all()]
    finally:
        await discovery.stop()
        await engine.stop()


async def _probe_quietly(discovery: Discovery, target: str) -> None:
    """A directed probe whose failure the PROBE check above already reports."""
    with contextlib.suppress(OSError, ValueError):
        await discovery.probe_host(target)
