"""WS-Discovery for the engine: wsdiscovery's threads for multicast, an endpoint of our own for unicast.

Everything public here runs on the asyncio loop and never blocks it. The `wsdiscovery` threads
(patched in _discovery_wsd.py) only listen and multicast; each datagram they receive crosses into
the loop through `loop.call_soon_threadsafe`, is decoded by wsdmon.protocol and judged by the sans-IO
_discovery_tracker (own messages, duplicates, stale AppSequence, restarts, MetadataVersion). Directed
Probe and Resolve go through `loop.create_datagram_endpoint` on a socket of our own, because the
library never reads the socket its unicast replies arrive on.

Interfaces (`interfaces=`): names or addresses. The library's threads then join the discovery groups
and multicast only on those addresses (loopback only when named; IPv6 link-local included); on Linux
the listening sockets accept only the groups they joined themselves. They cannot bind a receive
socket to one interface, so on other systems a Hello arriving on another interface may still be
heard. Directed probes go wherever the routing table sends them (an IPv6 link-local target needs its
`%scope`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import logging
import random
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ifaddr

from wsdmon.protocol import Message, ProtocolError, QName, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.discovery import (
    Bye,
    Hello,
    Probe,
    ProbeMatches,
    Resolve,
    ResolveMatches,
    multicast_headers,
)

from ._discovery_tracker import (
    DeviceLeft,
    DeviceSeen,
    DiscoveryEvent,
    DiscoveryTracker,
    RefreshReason,
    Source,
    TrackerLimits,
)
from ._discovery_unicast import address_of, peer_address, unicast_endpoint
from ._discovery_wsd import UNICAST_SENDS, PatchedWSDiscovery
from ._sockets import (
    DISCOVERY_PORT,
    DiscoverySocketError,
    InterfaceAddress,
    parse_interface_choice,
    select_addresses,
)

__all__ = [
    "DEFAULT_PROBE_TYPES",
    "MATCH_TIMEOUT_S",
    "REPROBE_INTERVAL_S",
    "DeviceLeft",
    "DeviceSeen",
    "DiscoveryEvent",
    "DiscoveryService",
    "DiscoverySocketError",
    "DiscoveryState",
    "DiscoveryStats",
    "RefreshReason",
    "Source",
    "TrackerLimits",
]

log = logging.getLogger(__name__)

# How long a client waits for ProbeMatches/ResolveMatches. Targets answer within APP_MAX_DELAY
# (500 ms, WS-Discovery 2005/04 §2.4) plus SOAP-over-UDP repeats; WS-Discovery 1.1 Appendix I names
# MATCH_TIMEOUT 10 s, WSDAPI waits a few seconds. A directed probe ends soon after its first answer (below).
MATCH_TIMEOUT_S = 4.0
# A directed probe goes on listening this long after the first answer: one host may hold several
# devices that each answer with a ProbeMatches of their own (an MFP's scanner and printer, a scan
# server and a scanner, two devices of one simulator): the socket closed at the first answer lost
# the others. Targets answer a unicast Probe at once; APP_MAX_DELAY bounds a slow one.
DIRECTED_GATHER_S = 0.5
# Re-probe period (not from a spec: Hello/Bye can be lost, and some devices only answer probes),
# jittered by ±10 % so that monitors started together do not probe in step.
REPROBE_INTERVAL_S = 300.0
REPROBE_JITTER = 0.1
# SOAP-over-UDP 1.1 Appendix I: UDP_MIN_DELAY 50 ms .. UDP_MAX_DELAY 250 ms before a unicast repeat.
UDP_MIN_DELAY_S = 0.05
UDP_MAX_DELAY_S = 0.25

DEFAULT_PROBE_TYPES: tuple[QName, ...] = (
    QName(ns.WSDP, "Device"),
    QName(ns.WSCN, "ScanDeviceType"),
    QName(ns.DSC, "RepositoryConfigurationServiceType"),
)


class DiscoveryState(enum.Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"


@dataclass(slots=True)
class DiscoveryStats:
    """Counters for the status view and tests."""

    datagrams: int = 0
    malformed: int = 0  # RemoteProtocolError from wsdmon.protocol
    own: int = 0  # our own messages (a MessageID we sent, or our own endpoint)
    duplicates: int = 0  # a MessageID already accepted (SOAP-over-UDP repeats)
    stale: int = 0  # Hello/Bye older than the endpoint's last (AppSequence)
    unsolicited: int = 0  # matches relating to no Probe/Resolve of ours
    ignored: int = 0  # other clients' Probe/Resolve, unknown actions, faults
    callback_errors: int = 0  # on_event raised
    thread_errors: int = 0  # errors inside the wsdiscovery threads (they carry on)


@dataclass(slots=True)
class _Pending:
    source: Source
    future: asyncio.Future[list[DeviceSeen]]
    more: list[DeviceSeen] = dataclasses.field(default_factory=list)  # answers after the first


class _Hooks:
    """Called on the wsdiscovery threads: hand over to the loop, never raise, never block long."""

    def __init__(self, service: DiscoveryService, interfaces: Sequence[str] | None) -> None:
        self._loop = service.loop
        self._deliver = service._on_datagram
        self._count_error = service._count_thread_error
        self._interfaces = tuple(interfaces) if interfaces else None

    def datagram(self, data: bytes, peer: tuple[Any, ...], family: int) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: we are past stop()
            self._loop.call_soon_threadsafe(self._deliver, data, peer)

    def error(self, where: str, exc: BaseException) -> None:
        log.warning("wsdiscovery thread (%s): %r; it carries on", where, exc, exc_info=exc)
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._count_error)

    def addresses(self, family: int) -> list[InterfaceAddress]:
        return select_addresses(ifaddr.get_adapters(), self._interfaces, family)


async def _off_loop(loop: asyncio.AbstractEventLoop, fn: Callable[[], object], name: str) -> None:
    """Run a blocking call on a short-lived thread of its own (the default executor's threads would
    outlive us) and wait for it without blocking the loop; a cancelled caller still waits for it."""
    done: asyncio.Future[None] = loop.create_future()

    def finish(exc: BaseException | None) -> None:
        if not done.done():
            done.set_exception(exc) if exc is not None else done.set_result(None)

    def run() -> None:
        error: BaseException | None = None
        try:
            fn()
        except BaseException as exc:
            error = exc
        with contextlib.suppress(RuntimeError):  # loop closed
            loop.call_soon_threadsafe(finish, error)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        await asyncio.shield(done)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await done
        raise
    finally:
        thread.join()  # it has already signalled: returns at once


class DiscoveryService:
    """WS-Discovery client for the engine. Events go to `on_event` on the loop thread.

    Multicast (Hello/Bye listening, Probe, Resolve) runs on the `wsdiscovery` threads unless
    `multicast=False`; directed Probe/Resolve always use an endpoint of our own.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        on_event: Callable[[DiscoveryEvent], None],
        interfaces: Sequence[str] | None = None,
        probe_types: Sequence[QName] = DEFAULT_PROBE_TYPES,
        reprobe_interval_s: float | None = REPROBE_INTERVAL_S,
        match_timeout_s: float = MATCH_TIMEOUT_S,
        limits: TrackerLimits | None = None,
        multicast: bool = True,
        on_probe_sent: Callable[[], None] | None = None,
    ) -> None:
        parse_interface_choice(interfaces)  # ValueError now rather than on a library thread
        if reprobe_interval_s is not None and reprobe_interval_s <= 0:
            raise ValueError("reprobe_interval_s must be positive (or None for no re-probing)")
        self.loop = loop
        self.endpoint = uuid.uuid4().urn  # our own EPR: the library's uuid, filtered when echoed
        self._on_event = on_event
        self._interfaces = tuple(interfaces) if interfaces else None
        # A Probe's Types must ALL match (§5.1): one Probe per type finds targets having any of them.
        self._probe_sets: tuple[tuple[QName, ...], ...] = tuple((t,) for t in probe_types) or ((),)
        self._reprobe_interval_s = reprobe_interval_s
        self._match_timeout_s = match_timeout_s
        self._multicast = multicast
        self._on_probe_sent = on_probe_sent  # the health evidence: when our multicast Probes went out
        self._tracker = DiscoveryTracker(limits)
        self._stats = DiscoveryStats()
        self._state = DiscoveryState.STOPPED
        self._lifecycle = asyncio.Lock()
        self._wsd: PatchedWSDiscovery | None = None
        self._pending: dict[str, _Pending] = {}
        self._stopping = asyncio.Event()  # set by stop(): a directed probe stops gathering at once
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._handlers: dict[type[Message], Callable[[Any, tuple[str, int], float], None]] = {
            Hello: self._on_hello,
            Bye: self._on_bye,
            ProbeMatches: self._on_probe_matches,
            ResolveMatches: self._on_resolve_matches,
        }

    # --- state ---------------------------------------------------------------------------------

    @property
    def state(self) -> DiscoveryState:
        return self._state

    @property
    def stats(self) -> DiscoveryStats:
        """A snapshot of the counters."""
        return dataclasses.replace(self._stats)

    def memory_sizes(self) -> dict[str, int]:
        """Sizes of every id and endpoint store, ours and the library's (all bounded)."""
        sizes = self._tracker.sizes()
        if self._wsd is not None:
            sizes.update(self._wsd.id_store_sizes())
        return sizes

    def library_threads(self) -> list[threading.Thread]:
        return self._wsd.threads() if self._wsd is not None else []

    def _require_running(self) -> None:
        if self._state is not DiscoveryState.RUNNING:
            raise RuntimeError(f"discovery is {self._state.value}, not running")

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening and send the first Probe; DiscoverySocketError if multicast cannot start."""
        async with self._lifecycle:
            await self._start()

    async def _start(self) -> None:
        if self._state is not DiscoveryState.STOPPED:
            raise RuntimeError(f"discovery is {self._state.value}")
        self._state = DiscoveryState.STARTING
        self._stopping.clear()
        if self._multicast:
            wsd = PatchedWSDiscovery(_Hooks(self, self._interfaces), endpoint=self.endpoint)
            try:
                await _off_loop(self.loop, wsd.start, "wsdmon-discovery-start")
            except BaseException:
                await _off_loop(self.loop, wsd.stop, "wsdmon-discovery-stop")
                self._state = DiscoveryState.STOPPED
                raise
            self._wsd = wsd
        self._state = DiscoveryState.RUNNING
        if self._wsd is not None:
            await self.probe()
            if self._reprobe_interval_s is not None:
                self._spawn(self._reprobe_loop(self._reprobe_interval_s))

    async def stop(self) -> None:
        """Stop every thread and socket; pending directed probes and resolves return empty."""
        async with self._lifecycle:  # waits for a start() in progress
            await self._stop()

    async def _stop(self) -> None:
        if self._state is not DiscoveryState.RUNNING:
            return
        self._state = DiscoveryState.STOPPING
        self._stopping.set()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_result([])
        wsd, self._wsd = self._wsd, None
        try:
            if wsd is not None:
                await _off_loop(self.loop, wsd.stop, "wsdmon-discovery-stop")
        finally:
            self._state = DiscoveryState.STOPPED

    async def __aenter__(self) -> DiscoveryService:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("discovery task failed", exc_info=task.exception())

    def _count_thread_error(self) -> None:
        self._stats.thread_errors += 1

    # --- multicast -----------------------------------------------------------------------------

    async def probe(self) -> None:
        """Multicast one Probe per probe type; answers arrive as DeviceSeen events. Returns at once."""
        self._require_running()
        if self._wsd is None:
            return
        now = self.loop.time()
        for types in self._probe_sets:
            probe = Probe(multicast_headers(), types=types)
            message_id = self._sent(probe, now)
            self._wsd.send_multicast(encode(probe), message_id)
        if self._on_probe_sent is not None:
            try:
                self._on_probe_sent()
            except Exception:
                log.exception("on_probe_sent failed; discovery carries on")

    async def _reprobe_loop(self, interval_s: float) -> None:
        while True:
            spread = random.uniform(-REPROBE_JITTER, REPROBE_JITTER)  # noqa: S311 - jitter
            await asyncio.sleep(interval_s * (1 + spread))
            await self.probe()

    def _sent(self, message: Message, now: float) -> str:
        message_id = message.header.message_id
        assert message_id is not None  # multicast_headers always sets one
        self._tracker.note_sent(message_id, now)
        return message_id

    # --- unicast (directed) --------------------------------------------------------------------

    async def directed_probe(
        self,
        host: str,
        port: int = DISCOVERY_PORT,
        *,
        timeout_s: float | None = None,
        types: Sequence[QName] = (),
    ) -> list[DeviceSeen]:
        """Send a Probe to one host (multicast blocked, or a host typed in) and return its matches
        (source DIRECTED, or RESOLVE_MATCH where XAddrs had to be resolved); [] on timeout. Each is
        also passed to on_event."""
        self._require_running()
        timeout = self._match_timeout_s if timeout_s is None else timeout_s
        family, sockaddr = await address_of(self.loop, host, port)
        async with unicast_endpoint(self.loop, family, self._on_datagram) as sendto:
            probe = Probe(multicast_headers(), types=tuple(types))
            matches = await self._exchange(
                probe, Source.DIRECTED, timeout, lambda d: sendto(d, sockaddr), gather_s=DIRECTED_GATHER_S
            )
            results: list[DeviceSeen] = []
            for match in matches:
                resolved: list[DeviceSeen] = []
                if not match.xaddrs:
                    resolve = Resolve(multicast_headers(), match.endpoint)
                    resolved = await self._exchange(
                        resolve, Source.RESOLVE_MATCH, timeout, lambda d: sendto(d, sockaddr)
                    )
                results.append(resolved[0] if resolved else match)
        return results

    async def resolve(
        self,
        endpoint: str,
        *,
        host: str | None = None,
        port: int = DISCOVERY_PORT,
        timeout_s: float | None = None,
    ) -> DeviceSeen | None:
        """Ask for an endpoint's XAddrs (multicast, or unicast to `host`); None on timeout."""
        self._require_running()
        timeout = self._match_timeout_s if timeout_s is None else timeout_s
        message = Resolve(multicast_headers(), endpoint)
        if host is None:
            wsd, mid = self._wsd, message.header.message_id
            if wsd is None or mid is None:
                return None
            # the library repeats multicast itself
            found = await self._exchange(
                message, Source.RESOLVE_MATCH, timeout, lambda d: wsd.send_multicast(d, mid), repeats=1
            )
        else:
            family, sockaddr = await address_of(self.loop, host, port)
            async with unicast_endpoint(self.loop, family, self._on_datagram) as sendto:
                found = await self._exchange(
                    message, Source.RESOLVE_MATCH, timeout, lambda d: sendto(d, sockaddr)
                )
        return found[0] if found else None

    async def _exchange(
        self,
        message: Probe | Resolve,
        source: Source,
        timeout_s: float,
        send: Callable[[bytes], None],
        *,
        repeats: int = UNICAST_SENDS,
        gather_s: float = 0.0,
    ) -> list[DeviceSeen]:
        """Send `message` (repeated per SOAP-over-UDP) and wait for the first reply relating to it;
        with `gather_s`, also the replies of other targets that come within that long after it (each
        endpoint once; the whole exchange stays within `timeout_s`)."""
        if self._state is not DiscoveryState.RUNNING:
            return []
        message_id = self._sent(message, self.loop.time())
        future: asyncio.Future[list[DeviceSeen]] = self.loop.create_future()
        self._pending[message_id] = _Pending(source, future)
        data = encode(message)
        try:
            async with asyncio.timeout(timeout_s):
                for attempt in range(repeats):
                    send(data)
                    if attempt + 1 < repeats:
                        delay = random.uniform(UDP_MIN_DELAY_S, UDP_MAX_DELAY_S)  # noqa: S311 - jitter
                        await asyncio.wait({future}, timeout=delay)
                        if future.done():
                            break
                first = await future
                if gather_s > 0 and first and not self._stopping.is_set():
                    # Other targets' answers meanwhile (_on_matches: pending.more); stop() ends it.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), gather_s)
        except TimeoutError:
            if not future.done() or future.cancelled():  # no answer (awaiting it cancelled it)
                return []
            first = future.result()  # the gathering ran into the timeout: what came so far
        finally:
            pending = self._pending.pop(message_id, None)
        found = list(first)
        endpoints = {m.endpoint for m in found}
        for match in pending.more if pending is not None else ():
            if match.endpoint not in endpoints:  # a repeat of an answer (SOAP-over-UDP) or of a target
                endpoints.add(match.endpoint)
                found.append(match)
        return found

    # --- receiving (on the loop) ---------------------------------------------------------------

    def _on_datagram(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if self._state is not DiscoveryState.RUNNING:
            return
        stats = self._stats
        stats.datagrams += 1
        now = self.loop.time()
        try:
            message = decode(data)
        except ProtocolError as exc:
            stats.malformed += 1
            log.debug("discovery datagram from %s rejected: %s", addr[0], exc)
            return
        except Exception:  # a parser bug must not take discovery down: log it loudly, carry on
            stats.malformed += 1
            log.exception("decoding a discovery datagram from %s failed", addr[0])
            return
        message_id = message.header.message_id
        if self._tracker.sent_by_us(message_id, now):
            stats.own += 1
            return
        handler = self._handlers.get(type(message)) if isinstance(message, Message) else None
        if handler is None:
            stats.ignored += 1
            return
        if not self._tracker.first_delivery(message_id, now):
            stats.duplicates += 1
            return
        handler(message, peer_address(addr), now)

    def _on_hello(self, msg: Hello, peer: tuple[str, int], now: float) -> None:
        if msg.address == self.endpoint:
            self._stats.own += 1
            return
        event = self._tracker.hello(msg, now, peer)
        if event is None:
            self._stats.stale += 1
            return
        self._emit(event)
        if not event.xaddrs:
            self._resolve_later(event.endpoint)

    def _on_bye(self, msg: Bye, peer: tuple[str, int], now: float) -> None:
        if msg.address == self.endpoint:
            self._stats.own += 1
            return
        event = self._tracker.bye(msg, now, peer)
        if event is None:
            self._stats.stale += 1
            return
        task = self._resolving.pop(msg.address, None)
        if task is not None:
            task.cancel()
        self._emit(event)

    def _on_matches(
        self, relates_to: str | None, matches: Sequence[Any], msg: Message, peer: tuple[str, int], now: float
    ) -> None:
        pending = self._pending.get(relates_to) if relates_to is not None else None
        if pending is None and not self._tracker.sent_by_us(relates_to, now):
            self._stats.unsolicited += 1
            return
        default = Source.PROBE_MATCH if isinstance(msg, ProbeMatches) else Source.RESOLVE_MATCH
        source = pending.source if pending is not None else default
        seen = [self._tracker.match(m, msg.header.app_sequence, source, now, peer) for m in matches]
        for event in seen:
            self._emit(event)
        if pending is not None:
            if not pending.future.done():
                pending.future.set_result(seen)
            else:
                pending.more.extend(seen)  # another target's answer (a directed probe gathers them)
            return
        for event in seen:
            if not event.xaddrs:
                self._resolve_later(event.endpoint)

    def _on_probe_matches(self, msg: ProbeMatches, peer: tuple[str, int], now: float) -> None:
        self._on_matches(msg.header.relates_to, msg.matches, msg, peer, now)

    def _on_resolve_matches(self, msg: ResolveMatches, peer: tuple[str, int], now: float) -> None:
        matches = () if msg.match is None else (msg.match,)
        self._on_matches(msg.header.relates_to, matches, msg, peer, now)

    def _resolve_later(self, endpoint: str) -> None:
        """XAddrs missing from a Hello or ProbeMatch (§4.1, §5.3): multicast a Resolve, once at a time."""
        if self._wsd is None or endpoint in self._resolving:
            return

        async def run() -> None:
            try:
                await self.resolve(endpoint)
            finally:
                self._resolving.pop(endpoint, None)

        self._resolving[endpoint] = self._spawn(run())

    def _emit(self, event: DiscoveryEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            self._stats.callback_errors += 1
            log.exception("discovery event handler failed on %s; discovery carries on", event)
