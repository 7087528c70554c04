"""DiscoveryService on real sockets between test-made network namespaces: multicast probing, Resolve
of missing XAddrs, directed probes (IPv4 and IPv6 link-local), AppSequence ordering over the wire,
re-probing, interface choice, filtering, and a clean stop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from wsdiscovery.actions import constructProbe

from tests.integration.discovery_netns import (
    PeerFactory,
    Target,
    eventually,
    peer_network,
    run_loop,
    threads_checked,
)
from wsdmon.net.discovery import (
    DEFAULT_PROBE_TYPES,
    DeviceLeft,
    DeviceSeen,
    DiscoveryEvent,
    DiscoveryService,
    DiscoverySocketError,
    DiscoveryState,
    RefreshReason,
    Source,
)
from wsdmon.protocol import AppSequence, encode, new_message_id
from wsdmon.protocol.discovery import (
    Hello,
    Probe,
    ProbeMatch,
    ProbeMatches,
    Resolve,
    match_headers,
    multicast_headers,
)

pytestmark = pytest.mark.netns

TIMEOUT_S = 1.5


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    with threads_checked():
        yield


@pytest.fixture
def peer_factory() -> Iterator[PeerFactory]:
    with peer_network() as make:
        yield make


class Events(list[DiscoveryEvent]):
    def seen(self, endpoint: str, source: Source | None = None) -> list[DeviceSeen]:
        return [
            e
            for e in self
            if isinstance(e, DeviceSeen) and e.endpoint == endpoint and (source is None or e.source is source)
        ]


def drive(body: Callable[[DiscoveryService, Events], Awaitable[None]], **kwargs: Any) -> None:
    events = Events()

    async def main() -> None:
        options = {"reprobe_interval_s": None, "match_timeout_s": TIMEOUT_S, **kwargs}
        service = DiscoveryService(asyncio.get_running_loop(), on_event=events.append, **options)
        async with service:
            assert service.state is DiscoveryState.RUNNING
            await body(service, events)
        assert service.state is DiscoveryState.STOPPED
        assert service.library_threads() == []

    run_loop(main)


def test_multicast_probe_one_type_per_probe_and_matches_reported(peer_factory: Any) -> None:
    lan, peer = peer_factory()

    async def body(service: DiscoveryService, events: Events) -> None:
        endpoint = peer.target.endpoint
        await eventually(lambda: bool(events.seen(endpoint, Source.PROBE_MATCH)), what="a ProbeMatch")
        first = events.seen(endpoint)[0]
        assert first.needs_refresh
        assert first.refresh_reason is RefreshReason.APPEARED
        assert first.xaddrs == peer.target.xaddrs
        assert first.peer is not None
        # The peer answers on both families; whichever match comes first is reported.
        link = lan.links[0]
        assert first.peer[0].partition("%")[0] in {link.dev_v4, link.dev_v6, link.dev_link_local}
        # §5.1: a Probe's Types must all match, so each default type goes in a Probe of its own
        # (the library's thread sends them 50 ms apart: the first match may come before the last Probe)
        expected = {(t,) for t in DEFAULT_PROBE_TYPES}
        await eventually(
            lambda: {tuple(p.types) for p in peer.messages(Probe)} == expected, what="all Probes"
        )
        assert all(len(p.types) == 1 for p in peer.messages(Probe))
        # our own multicast Probes come back to us (multicast loop) and are dropped as ours
        await eventually(lambda: service.stats.own >= 1, what="our own Probe echo")

    drive(body)


def test_hello_without_xaddrs_is_resolved(peer_factory: Any) -> None:
    _lan, peer = peer_factory()

    async def body(service: DiscoveryService, events: Events) -> None:
        target = peer.target
        peer.multicast(target.hello(xaddrs=False))
        await eventually(
            lambda: bool(events.seen(target.endpoint, Source.RESOLVE_MATCH)), what="ResolveMatches"
        )
        hello = events.seen(target.endpoint, Source.HELLO)
        assert hello
        assert hello[0].xaddrs == ()
        resolved = events.seen(target.endpoint, Source.RESOLVE_MATCH)[0]
        assert resolved.xaddrs == target.xaddrs
        assert [m.address for m in peer.messages(Resolve)] != []

    drive(body, probe_types=())  # the peer answers Probe too; with no Types it is one Probe


def test_directed_probe_resolves_missing_xaddrs(peer_factory: Any) -> None:
    lan, peer = peer_factory(xaddrs_in_match=False)

    async def body(service: DiscoveryService, events: Events) -> None:
        (found,) = await service.directed_probe(lan.links[0].dev_v4 or "")
        assert found.endpoint == peer.target.endpoint
        assert found.source is Source.RESOLVE_MATCH
        assert found.xaddrs == peer.target.xaddrs
        assert events.seen(found.endpoint, Source.DIRECTED), "the directed match is an event too"
        # the Probe went unicast, with no Types (any target answers)
        assert any(p.types == () for p in peer.messages(Probe))

    drive(body, multicast=False)


def test_directed_probe_over_ipv6_link_local(peer_factory: Any) -> None:
    lan, peer = peer_factory(lan_kwargs={"ipv4": False, "ipv6_ula": False})

    async def body(service: DiscoveryService, events: Events) -> None:
        host = f"{lan.links[0].dev_link_local}%{lan.links[0].mon_if}"
        found = await service.directed_probe(host)
        assert [f.endpoint for f in found] == [peer.target.endpoint]
        assert found[0].source is Source.DIRECTED

    drive(body, multicast=False)


def test_directed_probe_without_answer_returns_empty(peer_factory: Any) -> None:
    lan, peer = peer_factory(answer=False)

    async def body(service: DiscoveryService, events: Events) -> None:
        assert await service.directed_probe(lan.links[0].dev_v4 or "", timeout_s=0.4) == []
        assert peer.messages(Probe), "the Probe was sent (twice, SOAP-over-UDP unicast repeat)"

    drive(body, multicast=False)


def test_app_sequence_over_the_wire(peer_factory: Any) -> None:
    _lan, peer = peer_factory(answer=False)
    t = peer.target

    def hello(instance: int, number: int, version: int = 1) -> Hello:
        return Hello(
            multicast_headers(AppSequence(instance, number)), t.endpoint, version, t.types, (), t.xaddrs
        )

    async def body(service: DiscoveryService, events: Events) -> None:
        async def send(message: Hello | bytes, count: int) -> None:
            peer.multicast(message)
            await eventually(lambda: len(events) + service.stats.stale + service.stats.duplicates >= count)

        await send(hello(5, 1), 1)
        await send(hello(5, 2), 2)
        await send(hello(5, 1), 3)  # reordered (another MessageID, an older MessageNumber): stale
        again = encode(hello(5, 3))
        await send(again, 4)
        await send(again, 5)  # a SOAP-over-UDP repeat: same MessageID
        await send(hello(6, 1), 6)  # restart
        await send(hello(6, 2, version=2), 7)  # new metadata
        peer.multicast(t.bye())
        await eventually(lambda: any(isinstance(e, DeviceLeft) for e in events))
        reasons = [e.refresh_reason for e in events if isinstance(e, DeviceSeen)]
        assert reasons == [
            RefreshReason.APPEARED,
            None,
            None,
            RefreshReason.RESTARTED,
            RefreshReason.METADATA_CHANGED,
        ]
        assert service.stats.stale == 1
        assert service.stats.duplicates == 1

    drive(body)


def test_periodic_reprobe(peer_factory: Any) -> None:
    _lan, peer = peer_factory(answer=False)

    async def body(service: DiscoveryService, events: Events) -> None:
        def rounds() -> int:
            return len({p.header.message_id for p in peer.messages(Probe)})

        await eventually(lambda: rounds() >= 3, timeout_s=3.0, what="three Probe rounds")

    drive(body, reprobe_interval_s=0.3, probe_types=())


@pytest.mark.parametrize("choice", ["m1", "10.77.1.1"])
def test_interface_choice(peer_factory: Any, choice: str) -> None:
    _lan, peer = peer_factory(lan_kwargs={"links": 2}, answer=False)
    ignored, wanted = Target(), Target()

    async def body(service: DiscoveryService, events: Events) -> None:
        peer.multicast(ignored.hello(), link=0)
        peer.multicast(wanted.hello(), link=1)
        await eventually(lambda: bool(events.seen(wanted.endpoint)), what="the Hello on the chosen link")
        await asyncio.sleep(0.3)  # the other Hello went out first; give it time to (not) arrive
        assert not events.seen(ignored.endpoint)
        # the Probe left through the chosen interface only
        sources = {addr[0] for m, addr in peer.received if isinstance(m, Probe) and len(addr) == 2}
        assert sources == {"10.77.1.1"}

    drive(body, interfaces=[choice], probe_types=())


def test_garbage_and_unsolicited_replies_are_counted_not_reported(peer_factory: Any) -> None:
    _lan, peer = peer_factory(answer=False)
    t = peer.target

    async def body(service: DiscoveryService, events: Events) -> None:
        peer.multicast(b"<not-xml")
        match = ProbeMatch(t.endpoint, 1, t.types, xaddrs=t.xaddrs)
        peer.multicast(ProbeMatches(match_headers(new_message_id(), AppSequence(1, 1)), (match,)))
        await eventually(lambda: service.stats.malformed == 1 and service.stats.unsolicited == 1)
        assert not events

    drive(body)


def test_callback_errors_are_counted_and_discovery_goes_on(peer_factory: Any) -> None:
    _lan, peer = peer_factory(answer=False)
    calls: list[DiscoveryEvent] = []

    def on_event(event: DiscoveryEvent) -> None:
        calls.append(event)
        raise ValueError("bug in the application")

    async def main() -> None:
        service = DiscoveryService(asyncio.get_running_loop(), on_event=on_event, reprobe_interval_s=None)
        async with service:
            peer.multicast(Target().hello())
            peer.multicast(Target().hello())
            await eventually(lambda: len(calls) == 2)
            assert service.stats.callback_errors == 2

    run_loop(main)


def test_restart_after_stop_and_misuse(peer_factory: Any) -> None:
    peer_factory(answer=False)

    async def main() -> None:
        service = DiscoveryService(
            asyncio.get_running_loop(), on_event=lambda e: None, reprobe_interval_s=None
        )
        with pytest.raises(RuntimeError, match="not running"):
            await service.probe()
        for _ in range(2):
            await service.start()
            assert len(service.library_threads()) == 4  # net + address monitor, IPv4 and IPv6
            with pytest.raises(RuntimeError):
                await service.start()
            await service.stop()
            await service.stop()  # idempotent
            assert service.library_threads() == []
        await asyncio.gather(service.start(), service.stop())  # stop waits for the start in progress
        assert service.state is DiscoveryState.STOPPED
        assert service.library_threads() == []

    run_loop(main)


def test_invalid_options() -> None:
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ValueError, match="empty"):
            DiscoveryService(loop, on_event=lambda e: None, interfaces=[" "])
        with pytest.raises(ValueError, match="positive"):
            DiscoveryService(loop, on_event=lambda e: None, reprobe_interval_s=0)
    finally:
        loop.close()


def test_stop_while_a_directed_probe_waits(peer_factory: Any) -> None:
    lan, peer = peer_factory(answer=False)

    async def main() -> None:
        service = DiscoveryService(
            asyncio.get_running_loop(), on_event=lambda e: None, reprobe_interval_s=None
        )
        await service.start()
        task = asyncio.ensure_future(service.directed_probe(lan.links[0].dev_v4 or "", timeout_s=30))
        await eventually(lambda: bool(peer.messages(Probe)) and bool(service._pending))
        await service.stop()
        assert await asyncio.wait_for(task, 1.0) == []

    run_loop(main)


def test_host_names_are_resolved_off_the_loop(peer_factory: Any) -> None:
    _lan, _peer = peer_factory()

    async def body(service: DiscoveryService, events: Events) -> None:
        # "localhost" is not an IP literal: it goes through loop.getaddrinfo (an executor thread)
        found = await service.directed_probe("localhost", 9, timeout_s=0.3)
        assert found == []

    drive(body, multicast=False)


def test_ipv6_hello_and_probe(peer_factory: Any) -> None:
    lan, peer = peer_factory()
    target = Target()

    async def body(service: DiscoveryService, events: Events) -> None:
        peer.multicast(target.hello(), family=socket.AF_INET6)
        await eventually(lambda: bool(events.seen(target.endpoint)), what="an IPv6 Hello")
        (seen,) = events.seen(target.endpoint)
        assert seen.peer is not None
        host = seen.peer[0]
        assert host == f"{lan.links[0].dev_link_local}%{socket.if_nametoindex(lan.links[0].mon_if)}"
        # the scope is kept, so the peer address is usable for a unicast exchange
        assert [m.endpoint for m in await service.directed_probe(host)] == [peer.target.endpoint]

        # Probes went out on IPv6 too, from one address per interface (the link-local one)
        def v6_sources() -> set[str]:
            return {addr[0] for m, addr in peer.received if isinstance(m, Probe) and len(addr) == 4}

        await eventually(lambda: bool(v6_sources()), what="an IPv6 Probe")
        assert len(v6_sources()) == 1
        assert v6_sources().pop().startswith("fe80:")

    drive(body, probe_types=())


def test_port_in_use_gives_a_clear_error_and_leaves_nothing_running(peer_factory: Any) -> None:
    peer_factory(answer=False)
    squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # no SO_REUSEADDR, like a foreign stack
    squatter.bind(("0.0.0.0", 3702))  # noqa: S104 - inside the test's namespace

    async def main() -> None:
        service = DiscoveryService(asyncio.get_running_loop(), on_event=lambda e: None)
        with pytest.raises(DiscoverySocketError, match="another WSD stack"):
            await service.start()
        assert service.state is DiscoveryState.STOPPED
        assert service.library_threads() == []

    try:
        run_loop(main)
    finally:
        squatter.close()


def test_a_library_thread_survives_an_internal_error(peer_factory: Any) -> None:
    """(c) for the library's own code: a send that fails inside its thread is logged and counted."""
    lan, peer = peer_factory(answer=False)

    async def body(service: DiscoveryService, events: Events) -> None:
        assert service._wsd is not None
        service._wsd.sendUnicastMessage(constructProbe([], []), lan.links[0].dev_v4, 0)  # port 0: EINVAL
        await eventually(lambda: service.stats.thread_errors >= 1, what="the error to be counted")
        target = Target()
        peer.multicast(target.hello())
        await eventually(lambda: bool(events.seen(target.endpoint)), what="a Hello after the error")
        assert all(t.is_alive() for t in service.library_threads())

    drive(body)


def test_loopback_when_chosen(peer_factory: Any) -> None:
    """(g) loopback on request: a WSD stack on this host (the simulator) announcing over 127.0.0.1.
    IPv4 only: Linux's lo has no MULTICAST flag, so IPv6 multicast over it needs `ip link set lo
    multicast on`."""
    peer_factory(answer=False)  # the test thread is now in the monitor namespace
    target = Target()

    async def body(service: DiscoveryService, events: Events) -> None:
        await eventually(lambda: service.stats.own >= 1, what="our Probe looped back over lo")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as local:
            local.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
            local.sendto(encode(target.hello()), ("239.255.255.250", 3702))
        await eventually(lambda: bool(events.seen(target.endpoint)), what="a Hello over loopback")
        source = events.seen(target.endpoint)[0].peer
        assert source is not None
        assert source[0] == "127.0.0.1"

    drive(body, interfaces=["lo"], probe_types=())
