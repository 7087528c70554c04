"""The adapter without sockets: interface choice, address parsing, the patched library's routing of
unicast sends (defect b) and its bounded id sets (f), and the loop side of DiscoveryService fed
datagrams directly (dispatch, own-message filter, unsolicited replies, guarded callbacks)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from wsdmon.net._discovery_wsd import Outgoing, PatchedWSDiscovery
from wsdmon.net._sockets import InterfaceAddress, numeric_address, parse_interface_choice, select_addresses
from wsdmon.net.discovery import DeviceLeft, DeviceSeen, DiscoveryEvent, DiscoveryService, Source
from wsdmon.protocol import AppSequence, encode, new_message_id
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName
from wsdmon.protocol.discovery import (
    Bye,
    Hello,
    Probe,
    ProbeMatch,
    ProbeMatches,
    ResolveMatch,
    ResolveMatches,
    match_headers,
    multicast_headers,
)


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    assert {t for t in threading.enumerate() if t not in before and t.is_alive()} == set()


# --- interface choice (g) ----------------------------------------------------------------------


@dataclass
class IP:
    ip: str | tuple[str, int, int]


@dataclass
class Adapter:
    name: str
    index: int
    ips: list[IP] = field(default_factory=list)

    @property
    def nice_name(self) -> str:
        return self.name


ADAPTERS = [
    Adapter("lo", 1, [IP("127.0.0.1"), IP(("::1", 0, 0))]),
    Adapter(
        "eth0", 2, [IP("192.168.1.5"), IP("169.254.7.7"), IP(("2001:db8::5", 0, 0)), IP(("fe80::5", 0, 2))]
    ),
    Adapter("wg0", 3, [IP("10.9.0.1"), IP(("fd00::1", 0, 0))]),
]


def addrs(items: list[InterfaceAddress]) -> list[str]:
    return [str(i.address) for i in items]


def test_default_choice_includes_link_local_and_skips_loopback() -> None:
    assert addrs(select_addresses(ADAPTERS, None, socket.AF_INET)) == [
        "192.168.1.5",
        "169.254.7.7",
        "10.9.0.1",
    ]
    # one IPv6 address per interface, link-local preferred, always scoped by interface index
    assert addrs(select_addresses(ADAPTERS, None, socket.AF_INET6)) == ["fe80::5%2", "fd00::1%3"]


def test_choice_by_name_or_address_and_loopback_on_request() -> None:
    assert addrs(select_addresses(ADAPTERS, ["wg0"], socket.AF_INET)) == ["10.9.0.1"]
    assert addrs(select_addresses(ADAPTERS, ["192.168.1.5"], socket.AF_INET)) == ["192.168.1.5"]
    assert addrs(select_addresses(ADAPTERS, ["192.168.1.5"], socket.AF_INET6)) == []
    assert addrs(select_addresses(ADAPTERS, ["fe80::5%eth0"], socket.AF_INET6)) == ["fe80::5%2"]
    assert addrs(select_addresses(ADAPTERS, ["lo"], socket.AF_INET)) == ["127.0.0.1"]
    assert addrs(select_addresses(ADAPTERS, ["lo", "eth0"], socket.AF_INET6)) == ["::1%1", "fe80::5%2"]
    assert select_addresses(ADAPTERS, ["nosuch0"], socket.AF_INET) == []


def test_parse_interface_choice() -> None:
    names, found = parse_interface_choice(["eth0", " 10.0.0.1 ", "[fe80::1%eth0]"])
    assert names == {"eth0"}
    assert found == {ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("fe80::1")}
    assert parse_interface_choice(None) == (frozenset(), frozenset())
    with pytest.raises(ValueError, match="empty"):
        parse_interface_choice([""])


def test_numeric_address_never_resolves_names() -> None:
    assert numeric_address("10.0.0.2", 3702) == (socket.AF_INET, ("10.0.0.2", 3702))
    family, sockaddr = numeric_address("[::1]", 3702) or (0, ())
    assert family == socket.AF_INET6
    assert sockaddr[:2] == ("::1", 3702)
    assert numeric_address("printer.example", 3702) is None


# --- the patched library, threads not started --------------------------------------------------


class FakeThread:
    def __init__(self) -> None:
        self.unicast: list[tuple[str, int]] = []
        self.multicast: list[tuple[Any, str]] = []
        self._knownMessageIds: set[str] = set()
        self._iidMap: dict[str, Any] = {}

    def addUnicastMessage(self, env: Any, host: str, port: int, delay: int, num: int) -> None:
        self.unicast.append((host, port))

    def addMulticastMessage(self, env: Any, group: str, port: int, delay: int, num: int) -> None:
        self.multicast.append((env, group))


class NoHooks:
    def datagram(self, data: bytes, peer: tuple[Any, ...], family: int) -> None: ...
    def error(self, where: str, exc: BaseException) -> None: ...
    def addresses(self, family: int) -> list[InterfaceAddress]:
        return []


def patched() -> tuple[PatchedWSDiscovery, FakeThread, FakeThread]:
    wsd = PatchedWSDiscovery(NoHooks(), endpoint="urn:uuid:me")
    v4, v6 = FakeThread(), FakeThread()
    wsd._networkingThread_v4, wsd._networkingThread_v6 = v4, v6
    return wsd, v4, v6


def test_b_unicast_goes_to_the_matching_family_only() -> None:
    wsd, v4, v6 = patched()
    wsd.sendUnicastMessage(object(), "10.0.0.2", 3702)
    wsd.sendUnicastMessage(object(), "fe80::2%eth0", 3702)
    assert v4.unicast == [("10.0.0.2", 3702)]
    assert v6.unicast == [("fe80::2%eth0", 3702)]
    wsd._networkingThread_v6 = None  # IPv6 unavailable: dropped with a warning, no crash
    wsd.sendUnicastMessage(object(), "::1", 3702)


def test_multicast_goes_to_both_groups_with_our_bytes() -> None:
    wsd, v4, v6 = patched()
    wsd.send_multicast(b"<probe/>", "urn:uuid:m1")
    assert [(env, group) for env, group in v4.multicast] == [
        (Outgoing(b"<probe/>", "urn:uuid:m1"), "239.255.255.250")
    ]
    assert v6.multicast[0][1] == "FF02::C"
    assert v4.multicast[0][0].getMessageId() == "urn:uuid:m1"
    assert wsd.id_store_sizes() == dict.fromkeys(
        ["ipv4_known_message_ids", "ipv4_iid_map", "ipv6_known_message_ids", "ipv6_iid_map"], 0
    )


# --- the loop side, fed datagrams directly (multicast off: no threads, no sockets) --------------

TYPES = (QName(ns.WSDP, "Device"),)
PEER = ("10.0.0.2", 3702)


def feed(*datagrams: bytes | Any, on_event: Any = None) -> tuple[list[DiscoveryEvent], DiscoveryService]:
    events: list[DiscoveryEvent] = []

    async def main() -> DiscoveryService:
        service = DiscoveryService(
            asyncio.get_running_loop(), on_event=on_event or events.append, multicast=False
        )
        await service.start()
        for item in datagrams:
            data = item(service) if callable(item) else item
            service._on_datagram(data, PEER)
        await service.stop()
        service._on_datagram(
            datagrams[0] if isinstance(datagrams[0], bytes) else b"", PEER
        )  # after stop: ignored
        return service

    service = asyncio.run(main())
    return events, service


def hello(endpoint: str = "urn:uuid:dev", xaddrs: tuple[str, ...] = ("http://x/",)) -> bytes:
    return encode(Hello(multicast_headers(AppSequence(1, 1)), endpoint, 1, TYPES, (), xaddrs))


def test_hello_bye_and_repeats() -> None:
    repeat = hello()
    events, service = feed(repeat, repeat, encode(Bye(multicast_headers(AppSequence(1, 2)), "urn:uuid:dev")))
    assert [type(e) for e in events] == [DeviceSeen, DeviceLeft]
    assert service.stats.duplicates == 1
    assert service.stats.datagrams == 3


def test_own_messages_and_other_clients_are_dropped() -> None:
    probe = encode(Probe(multicast_headers(), types=TYPES))  # another client's Probe
    events, service = feed(
        lambda s: hello(endpoint=s.endpoint),  # a Hello for our own endpoint
        probe,
        b"garbage",
    )
    assert events == []
    assert (service.stats.own, service.stats.ignored, service.stats.malformed) == (1, 1, 1)


def test_matches_must_relate_to_our_messages() -> None:
    match = ProbeMatch("urn:uuid:dev", 1, TYPES, xaddrs=("http://x/",))
    stranger = encode(ProbeMatches(match_headers(new_message_id(), AppSequence(1, 1)), (match,)))
    resolve = ResolveMatches(
        match_headers(new_message_id(), AppSequence(1, 1)), ResolveMatch("urn:uuid:dev", 1, ("http://x/",))
    )
    events, service = feed(stranger, encode(resolve))
    assert events == []
    assert service.stats.unsolicited == 2


def test_multicast_probe_match_is_reported() -> None:
    def reply(service: DiscoveryService) -> bytes:
        ours = Probe(multicast_headers())
        service._sent(ours, service.loop.time())  # as probe() does
        match = ProbeMatch("urn:uuid:dev", 2, TYPES, xaddrs=("http://x/",))
        return encode(ProbeMatches(match_headers(ours.header.message_id, AppSequence(9, 1)), (match,)))

    events, _ = feed(reply)
    (seen,) = events
    assert isinstance(seen, DeviceSeen)
    assert seen.source is Source.PROBE_MATCH
    assert seen.peer == PEER
    assert seen.metadata_version == 2
    assert seen.app_sequence == AppSequence(9, 1)


def test_callback_errors_are_counted() -> None:
    def boom(event: DiscoveryEvent) -> None:
        raise RuntimeError("bug")

    _events, service = feed(hello("urn:uuid:a"), hello("urn:uuid:b"), on_event=boom)
    assert service.stats.callback_errors == 2
