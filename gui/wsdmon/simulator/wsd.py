"""The WS-Discovery 2005/04 target side of the simulator, on the running asyncio loop.

One responder serves every device of the process through the sockets of sockets.py: multicast
Hello on start and Bye on clean stop (each repeated per SOAP-over-UDP), answers to Probe (type and
scope matching by the protocol's §5.1 rules) and Resolve, multicast ones after a random delay up to
APP_MAX_DELAY, directed (unicast) ones at once. Repeated requests are answered once (dedupe on
MessageID, SOAP-over-UDP Appendix II). Messages are built and parsed by wsdmon.protocol only.

The discovery faults (config.Fault) act here: directed-only (no Hello/Bye, multicast requests
unanswered), no-probe-match (no Probe answered at all), late-probe (Probes answered S seconds late)
and multicast-stop (after S seconds: no more Hello/Bye, multicast requests unanswered).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Coroutine, Sequence
from typing import Any, Protocol

from wsdmon.protocol import AppSequence, Message, ProtocolError, QName, decode, encode
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

from .config import Fault, Faults, Timers
from .sockets import Binding, DiscoverySockets, open_discovery_sockets

__all__ = ["DiscoveryResponder", "DiscoveryTarget"]

log = logging.getLogger(__name__)

_SEEN_MESSAGE_IDS = 512  # remembered request MessageIDs (repeats of one Probe are answered once)
_SockAddr = tuple[Any, ...]


class DiscoveryTarget(Protocol):
    """What the responder needs of a device (a WS-Discovery target service)."""

    @property
    def endpoint(self) -> str: ...
    @property
    def types(self) -> tuple[QName, ...]: ...
    @property
    def scopes(self) -> tuple[str, ...]: ...
    @property
    def xaddrs(self) -> tuple[str, ...]: ...
    @property
    def metadata_version(self) -> int: ...
    @property
    def friendly_name(self) -> str: ...
    def next_app_sequence(self) -> AppSequence: ...


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, owner: DiscoveryResponder, multicast: bool) -> None:
        self._owner = owner
        self._multicast = multicast

    def datagram_received(self, data: bytes, addr: _SockAddr) -> None:
        self._owner._received(data, addr, self._multicast)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable for a reply whose asker has gone: nothing to do.
        log.debug("WS-Discovery socket error: %s", exc)


class DiscoveryResponder:
    """Answers Probe/Resolve for `targets` and announces them (when `multicast`)."""

    def __init__(
        self,
        binding: Binding,
        port: int,
        targets: Sequence[DiscoveryTarget],
        *,
        multicast: bool,
        timers: Timers,
        rng: random.Random,
        faults: Faults | None = None,
    ) -> None:
        self.binding = binding
        self.multicast = multicast
        self._faults = faults or Faults()
        self._multicast_stopped = False  # multicast-stop fault: its time has come
        self._stop_timer: asyncio.TimerHandle | None = None
        self._requested_port = port
        self._targets = list(targets)
        self._timers = timers
        self._rng = rng
        self._sockets: DiscoverySockets | None = None
        self._transports: list[asyncio.DatagramTransport] = []
        self._sender: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._seen: deque[str] = deque(maxlen=_SEEN_MESSAGE_IDS)
        self._seen_set: set[str] = set()

    @property
    def port(self) -> int:
        """The bound UDP port (useful with port 0)."""
        if self._sockets is None:
            raise RuntimeError("the responder is not started")
        return self._sockets.port

    async def start(self) -> None:
        """Open the sockets and, with multicast, announce every target with Hello."""
        loop = asyncio.get_running_loop()
        self._sockets = sockets = open_discovery_sockets(
            self.binding, self._requested_port, multicast=self.multicast
        )
        sources = [(sockets.unicast, sockets.unicast_sees_multicast)]
        if sockets.multicast is not None:
            sources.append((sockets.multicast, True))
        for sock, is_multicast in sources:
            transport, _ = await loop.create_datagram_endpoint(
                lambda m=is_multicast: _Receiver(self, m),  # type: ignore[misc]
                sock=sock,
            )
            self._transports.append(transport)
        self._sender = self._transports[0]
        where = f"{self.binding.address} ({self.binding.interface or '?'}) UDP {self.port}"
        if self.multicast:
            log.info("WS-Discovery on %s, multicast group joined", where)
            for target in self._targets:
                self.hello(target)
        else:
            log.info("WS-Discovery on %s, directed Probes only (no multicast)", where)
        if self.multicast and self._faults.multicast_stop_s is not None:
            self._stop_timer = loop.call_later(self._faults.multicast_stop_s, self._stop_multicast)

    @property
    def _sends_multicast(self) -> bool:
        return self.multicast and not self._faults.directed_only and not self._multicast_stopped

    def _stop_multicast(self) -> None:
        self._multicast_stopped = True
        log.info("fault multicast-stop: no more multicast (Hello, Bye, multicast answers); HTTP answers on")

    def hello(self, target: DiscoveryTarget) -> None:
        """Multicast a Hello for `target` (start, restart, metadata change); no-op without multicast."""
        if not self._sends_multicast:
            if self.multicast:
                log.info("Hello for %s not sent (fault)", target.friendly_name)
            return
        message = Hello(
            multicast_headers(target.next_app_sequence()),
            target.endpoint,
            target.metadata_version,
            target.types,
            target.scopes,
            target.xaddrs,
        )
        log.info("Hello: %s %s at %s", target.friendly_name, target.endpoint, " ".join(target.xaddrs))
        self._spawn(self._multicast(message))

    async def bye(self, target: DiscoveryTarget) -> None:
        """Multicast a Bye for `target` and wait until its repeats are out (no-op without multicast)."""
        if not self._sends_multicast or self._sender is None:
            return
        bye = Bye(multicast_headers(target.next_app_sequence()), target.endpoint)
        log.info("Bye: %s %s", target.friendly_name, target.endpoint)
        await self._multicast(bye)

    async def bye_all(self) -> None:
        """Multicast a Bye for every target and wait until its repeats are out."""
        await asyncio.gather(*(self.bye(target) for target in self._targets))

    async def close(self) -> None:
        """Stop answering: cancel pending replies and close the sockets."""
        if self._stop_timer is not None:
            self._stop_timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for transport in self._transports:
            transport.close()
        self._transports.clear()
        self._sender = None
        await asyncio.sleep(0)  # let the transports' connection_lost run

    # --- sending -----------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _sendto(self, data: bytes, addr: _SockAddr) -> None:
        if self._sender is not None and not self._sender.is_closing():
            self._sender.sendto(data, addr)

    async def _repeat(self, data: bytes, addr: _SockAddr, repeats: int) -> None:
        # SOAP-over-UDP Appendix I: send, then repeat after a random delay that doubles up to a cap.
        t = self._timers
        self._sendto(data, addr)
        delay = self._rng.uniform(t.udp_min_delay_s, t.udp_max_delay_s)
        for _ in range(repeats):
            await asyncio.sleep(delay)
            self._sendto(data, addr)
            delay = min(delay * 2, t.udp_upper_delay_s)

    async def _multicast(self, message: Message) -> None:
        await self._repeat(encode(message), self.binding.group(self.port), self._timers.multicast_udp_repeat)

    async def _reply(
        self, delay_s: float, target: DiscoveryTarget, request: Probe | Resolve, addr: _SockAddr
    ) -> None:
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        headers = match_headers(request.header.message_id, target.next_app_sequence())
        reply: Message
        if isinstance(request, Probe):
            match = ProbeMatch(
                target.endpoint, target.metadata_version, target.types, target.scopes, target.xaddrs
            )
            reply = ProbeMatches(headers, (match,))
        else:
            resolved = ResolveMatch(
                target.endpoint, target.metadata_version, target.xaddrs, target.types, target.scopes
            )
            reply = ResolveMatches(headers, resolved)
        await self._repeat(encode(reply), addr, self._timers.unicast_udp_repeat)

    # --- receiving ---------------------------------------------------------------------------

    def _is_repeat(self, message_id: str | None) -> bool:
        if not message_id:
            return False
        if message_id in self._seen_set:
            return True
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(message_id)
        self._seen_set.add(message_id)
        return False

    def _received(self, data: bytes, addr: _SockAddr, multicast: bool) -> None:
        try:
            message = decode(data)
        except ProtocolError as exc:
            log.debug("ignored a malformed datagram from %s: %s", addr[0], exc)
            return
        if not isinstance(message, Probe | Resolve) or self._is_repeat(message.header.message_id):
            return  # Hello/Bye/matches of other peers (and our own, looped back) are not for a target
        if isinstance(message, Probe):
            matching = [t for t in self._targets if message.matches(t.types, t.scopes)]
            kind = "Probe"
        else:
            matching = [t for t in self._targets if t.endpoint.lower() == message.address.lower()]
            kind = "Resolve"
        how = "multicast" if multicast else "directed"
        if not matching:
            log.debug("%s %s from %s: no match", how, kind, addr[0])
            return
        refused = self._refused(message, multicast)
        if refused is not None:
            log.info("%s %s from %s:%s: not answered (fault %s)", how, kind, addr[0], addr[1], refused)
            return
        late = self._faults.late_probe_s if isinstance(message, Probe) else None
        names = ", ".join(t.friendly_name for t in matching)
        log.info(
            "%s %s from %s:%s: answering for %s%s",
            how,
            kind,
            addr[0],
            addr[1],
            names,
            f" after {late:g} s (fault late-probe)" if late else "",
        )
        for target in matching:
            # WS-Discovery §5.2/§6.1: a multicast request is answered after a random delay so that
            # many targets do not answer at once; a directed one at once.
            delay = self._rng.uniform(0, self._timers.app_max_delay_s) if multicast else 0.0
            self._spawn(self._reply(delay + (late or 0.0), target, message, addr))

    def _refused(self, message: Probe | Resolve, multicast: bool) -> Fault | None:
        """The fault that keeps this request unanswered, if one does."""
        f = self._faults
        if f.no_probe_match and isinstance(message, Probe):
            return Fault.NO_PROBE_MATCH
        if f.directed_only and (multicast or isinstance(message, Resolve)):
            return Fault.DIRECTED_ONLY  # only directed Probes get an answer
        if multicast and self._multicast_stopped:
            return Fault.MULTICAST_STOP
        return None
