"""Discovery → engine: WS-Discovery sightings become metadata reads and subscriptions; Bye marks a
device offline; directed probes (`--probe HOST[:PORT]`) add devices when multicast is blocked."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from wsdmon.core.device_evidence import FoundBy
from wsdmon.protocol import namespaces as ns

from ._discovery_tracker import DeviceLeft, DeviceSeen, DiscoveryEvent, Source
from ._sockets import DiscoverySocketError
from .discovery import DiscoveryService
from .engine import Engine

__all__ = ["Discovery", "parse_probe_target"]

log = logging.getLogger(__name__)


def parse_probe_target(text: str) -> tuple[str, int]:
    """`HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address → (host, port)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else ns.DISCOVERY_PORT
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, int(port)
    return text, ns.DISCOVERY_PORT


class Discovery:
    """Owns the DiscoveryService for an engine: multicast discovery (unless off), periodic
    re-probe, directed probes, and the hand-over of every sighting to the engine."""

    def __init__(self, engine: Engine, *, interfaces: Sequence[str] = (), multicast: bool = True) -> None:
        self._engine = engine
        self._interfaces = tuple(interfaces)
        self._multicast = multicast
        self.service: DiscoveryService | None = None
        self.error: str | None = None

    async def start(self) -> None:
        """Start listening; if multicast cannot be had (port 3702 taken), keep directed probes."""
        loop = asyncio.get_running_loop()
        service = DiscoveryService(
            loop,
            on_event=self._on_event,
            interfaces=self._interfaces or None,
            multicast=self._multicast,
            on_probe_sent=self._engine.health_monitor.collector.multicast_probe_sent,
        )
        try:
            await service.start()
        except DiscoverySocketError as exc:
            if not self._multicast:
                raise
            self.error = str(exc)
            log.warning("multicast discovery unavailable (%s); directed probes and --device still work", exc)
            service = DiscoveryService(loop, on_event=self._on_event, multicast=False)
            await service.start()
        self.service = service  # its start() has sent the first multicast Probes

    async def stop(self) -> None:
        if self.service is not None:
            await self.service.stop()
            self.service = None

    async def reprobe(self) -> None:
        """F5: probe the network again."""
        if self.service is not None and self._multicast and self.error is None:
            await self.service.probe()

    async def probe_host(self, target: str) -> int:
        """Directed probe of one host; returns how many devices answered."""
        if self.service is None:
            raise RuntimeError("discovery is not started")
        host, port = parse_probe_target(target)
        self._engine.health_monitor.collector.directed_probe_sent(host)
        seen = await self.service.directed_probe(host, port)  # each match also reaches _on_event
        if not seen:
            log.warning("no WS-Discovery answer from %s:%d", host, port)
        return len(seen)

    def _on_event(self, event: DiscoveryEvent) -> None:
        self._note(event)
        if isinstance(event, DeviceSeen):
            if not event.xaddrs:
                return  # the service resolves it and reports it again with XAddrs
            instance = event.app_sequence.instance_id if event.app_sequence is not None else None
            self._engine.spawn(
                self._engine.sighting(
                    event.endpoint,
                    event.xaddrs,
                    event.metadata_version,
                    instance,
                    refresh=event.needs_refresh,
                )
            )
        elif isinstance(event, DeviceLeft):
            self._engine.device_left(event.endpoint)

    def _note(self, event: DiscoveryEvent) -> None:
        """Tell the health evidence how the device was seen."""
        collector = self._engine.health_monitor.collector
        peer = event.peer[0] if event.peer is not None else ""
        if isinstance(event, DeviceLeft):
            collector.left(event.endpoint)
            return
        collector.discovered(
            event.endpoint,
            _FOUND_BY[event.source],
            peer=peer,
            xaddrs=event.xaddrs,
            instance_id=event.app_sequence.instance_id if event.app_sequence is not None else None,
            types=event.types,
        )


_FOUND_BY = {
    Source.HELLO: FoundBy.HELLO,
    Source.PROBE_MATCH: FoundBy.PROBE_MATCH,
    Source.RESOLVE_MATCH: FoundBy.RESOLVE_MATCH,
    Source.DIRECTED: FoundBy.DIRECTED,
}
