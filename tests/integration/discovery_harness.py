"""One face over two discoverers, so each defect test can run against our adapter and against the
unpatched wsdiscovery 2.1.2 (where it is expected to fail: xfail strict).

Both are driven from a coroutine on the test's loop (the loop thread is the test thread). The raw
library is used the way its README shows: ThreadedWSDiscovery, callbacks, searchServices.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from wsdiscovery.actions import constructProbe
from wsdiscovery.discovery import ThreadedWSDiscovery
from wsdiscovery.qname import QName as WsdQName

from wsdmon.net.discovery import DeviceLeft, DeviceSeen, DiscoveryEvent, DiscoveryService, TrackerLimits

# Small bounds so that "bounded" is observable with a few dozen datagrams.
SMALL_LIMITS = TrackerLimits(max_message_ids=16, message_id_max_age_s=60.0, max_endpoints=8)
MATCH_TIMEOUT_S = 1.5


@dataclass(frozen=True)
class Sighting:
    endpoint: str
    metadata_version: int | None
    instance_id: int | None
    scopes: tuple[str, ...]
    types: frozenset[tuple[str, str]]
    xaddrs: tuple[str, ...]
    thread: int


class Harness(Protocol):
    own_endpoint: str
    sightings: list[Sighting]
    left: list[str]
    fail_next_callback: bool

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def directed(self, host: str, port: int = 3702) -> list[str]: ...
    async def probe(self) -> None: ...
    def library_unicast(self, host: str, port: int = 3702) -> None: ...
    def queues_empty(self) -> bool: ...
    def id_store_sizes(self) -> dict[str, int]: ...


class AdapterHarness:
    def __init__(self, **kwargs: Any) -> None:
        self.sightings: list[Sighting] = []
        self.left: list[str] = []
        self.fail_next_callback = False
        self._kwargs = kwargs
        self.service: DiscoveryService | None = None

    @property
    def own_endpoint(self) -> str:
        assert self.service is not None
        return self.service.endpoint

    def _on_event(self, event: DiscoveryEvent) -> None:
        if self.fail_next_callback:
            self.fail_next_callback = False
            raise RuntimeError("application callback bug")
        if isinstance(event, DeviceLeft):
            self.left.append(event.endpoint)
            return
        assert isinstance(event, DeviceSeen)
        self.sightings.append(
            Sighting(
                event.endpoint,
                event.metadata_version,
                event.app_sequence.instance_id if event.app_sequence else None,
                event.scopes,
                frozenset((t.namespace, t.local) for t in event.types),
                event.xaddrs,
                threading.get_ident(),
            )
        )

    async def start(self) -> None:
        kwargs = {"reprobe_interval_s": None, "match_timeout_s": MATCH_TIMEOUT_S, **self._kwargs}
        self.service = DiscoveryService(asyncio.get_running_loop(), on_event=self._on_event, **kwargs)
        await self.service.start()

    async def stop(self) -> None:
        if self.service is not None:
            await self.service.stop()

    async def directed(self, host: str, port: int = 3702) -> list[str]:
        assert self.service is not None
        return [m.endpoint for m in await self.service.directed_probe(host, port)]

    async def probe(self) -> None:
        assert self.service is not None
        await self.service.probe()

    def library_unicast(self, host: str, port: int = 3702) -> None:
        # The library's own unicast path (our directed probes never use it): patched to one family.
        assert self.service is not None
        assert self.service._wsd is not None
        self.service._wsd.sendUnicastMessage(constructProbe([], []), host, port)

    def queues_empty(self) -> bool:
        assert self.service is not None
        assert self.service._wsd is not None
        return all(not getattr(t, "_queue", ()) for t in self.service.library_threads())

    def id_store_sizes(self) -> dict[str, int]:
        assert self.service is not None
        return self.service.memory_sizes()


class RawHarness:
    """The unpatched library; exceptions its threads die of are recorded in `thread_errors`."""

    def __init__(self, thread_errors: list[BaseException]) -> None:
        self.sightings: list[Sighting] = []
        self.left: list[str] = []
        self.fail_next_callback = False
        self.thread_errors = thread_errors
        self.wsd = ThreadedWSDiscovery()
        self.own_endpoint: str = self.wsd.uuid
        self.wsd.setRemoteServiceHelloCallback(self._on_hello)
        self.wsd.setRemoteServiceByeCallback(self._on_bye)

    def _on_hello(self, service: Any) -> None:
        if self.fail_next_callback:
            self.fail_next_callback = False
            raise RuntimeError("application callback bug")
        self.sightings.append(
            Sighting(
                service.getEPR(),
                int(service.getMetadataVersion()),
                int(service.getInstanceId()),
                tuple(s.getValue() for s in service.getScopes()),
                frozenset((t.getNamespace(), t.getLocalname()) for t in service.getTypes()),
                tuple(service.getXAddrs()),
                threading.get_ident(),
            )
        )

    def _on_bye(self, epr: str) -> None:
        self.left.append(epr)

    async def start(self) -> None:
        self.wsd.start()

    async def stop(self) -> None:
        self.wsd.stop()

    async def directed(self, host: str, port: int = 3702) -> list[str]:
        found = self.wsd.searchServices(address=host, port=port, timeout=MATCH_TIMEOUT_S)
        return [s.getEPR() for s in found]

    async def probe(self) -> None:
        types = [WsdQName("http://schemas.xmlsoap.org/ws/2006/02/devprof", "Device", "wsdp")]
        self.wsd.searchServices(types=types, timeout=0.3)

    def library_unicast(self, host: str, port: int = 3702) -> None:
        self.wsd.sendUnicastMessage(constructProbe([], []), host, port)

    def queues_empty(self) -> bool:
        threads = (self.wsd._networkingThread_v4, self.wsd._networkingThread_v6)
        return all(not t._queue for t in threads if t is not None)

    def id_store_sizes(self) -> dict[str, int]:
        sizes = {}
        for name, t in (("ipv4", self.wsd._networkingThread_v4), ("ipv6", self.wsd._networkingThread_v6)):
            if t is not None:
                sizes[f"{name}_known_message_ids"] = len(t._knownMessageIds)
                sizes[f"{name}_iid_map"] = len(t._iidMap)
        return sizes


def raw_thread(harness: RawHarness, family: int) -> threading.Thread:
    thread = (
        harness.wsd._networkingThread_v4 if family == socket.AF_INET else harness.wsd._networkingThread_v6
    )
    assert thread is not None
    return thread  # type: ignore[no-any-return]
