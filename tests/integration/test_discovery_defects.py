"""Regression tests for the wsdiscovery 2.1.2 defects listed in the engine issue, on real sockets
between network namespaces made by the test.

Per defect: `test_reproduce_<x>_...` exercises the raw library and asserts the defect (it documents
the reproduction, and fails the day upstream changes the behaviour); `test_<x>_...[adapter]` shows
wsdmon.net.discovery fixing or routing around it; `[raw]` runs the same test on the unpatched library
and is a strict xfail, so the regression test provably fails without our fix.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from wsdiscovery.publishing import ThreadedWSPublishing
from wsdiscovery.qname import QName as WsdQName
from wsdiscovery.util import _getNetworkAddrs

from tests.integration.discovery_harness import (
    SMALL_LIMITS,
    AdapterHarness,
    Harness,
    RawHarness,
    raw_thread,
)
from tests.integration.discovery_netns import (
    Lan,
    Peer,
    PeerFactory,
    Target,
    eventually,
    peer_network,
    run_loop,
    threads_checked,
)
from wsdmon.protocol import AppSequence, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.discovery import Hello, multicast_headers

pytestmark = pytest.mark.netns


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    with threads_checked():
        yield


@pytest.fixture
def thread_errors(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Exceptions that kill the raw library's threads (recorded: they are the evidence)."""
    errors: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    return errors


def _xfail_raw(defect: str) -> list[Any]:
    return [
        "adapter",
        pytest.param(
            "raw", marks=pytest.mark.xfail(strict=True, reason=f"wsdiscovery 2.1.2 defect ({defect})")
        ),
    ]


def _harness(kind: str, errors: list[BaseException], **adapter_kwargs: Any) -> Harness:
    if kind == "adapter":
        return AdapterHarness(**adapter_kwargs)
    return RawHarness(errors)


def _drive(harness: Harness, body: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        await harness.start()
        try:
            await body()
        finally:
            await harness.stop()

    run_loop(main)


def _seen(harness: Harness, endpoint: str) -> bool:
    return any(s.endpoint == endpoint for s in harness.sightings)


@pytest.fixture
def peer_factory() -> Iterator[PeerFactory]:
    with peer_network() as make:
        yield make


# --- (a) directed probe: the ProbeMatch lands on a socket nobody reads -------------------------


def test_reproduce_a_directed_probe_reply_is_never_read(
    peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    """Reproduction: searchServices(address=, port=) sends the Probe from `_uniOutSocket`; the device
    answers that socket's port, which the library never registers with its selector."""
    lan, peer = peer_factory()
    raw = RawHarness(thread_errors)

    async def body() -> None:
        found = await raw.directed(lan.links[0].dev_v4 or "", 3702)
        thread = raw_thread(raw, socket.AF_INET)
        uni_port = thread._uniOutSocket.getsockname()[1]
        probes = [addr for m, addr in peer.received if type(m).__name__ == "Probe"]
        assert probes, "the device got the directed Probe"
        assert {addr[1] for addr in probes} == {uni_port}, "and answered to _uniOutSocket's port"
        registered = {key.fileobj for key in thread._selector.get_map().values()}
        assert thread._uniOutSocket not in registered
        assert found == []  # the defect: the answer is never read

    _drive(raw, body)


@pytest.mark.parametrize("kind", _xfail_raw("a: directed probe finds nothing"))
def test_a_directed_probe_finds_the_device(
    kind: str, peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    lan, peer = peer_factory()
    harness = _harness(kind, thread_errors)

    async def body() -> None:
        found = await harness.directed(lan.links[0].dev_v4 or "", 3702)
        assert found == [peer.target.endpoint]

    _drive(harness, body)


# --- (b) a unicast send is queued on both families; the wrong one dies ------------------------


def test_reproduce_b_unicast_send_kills_the_ipv6_thread(
    peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    """Reproduction: sendUnicastMessage to an IPv4 host queues it on the IPv6 thread too, whose
    AF_INET6 socket cannot sendto an IPv4 literal: gaierror, the IPv6 thread is gone."""
    lan, _peer = peer_factory()
    raw = RawHarness(thread_errors)

    async def body() -> None:
        v6 = raw_thread(raw, socket.AF_INET6)
        raw.library_unicast(lan.links[0].dev_v4 or "")
        await eventually(lambda: not v6.is_alive(), what="the IPv6 thread to die")
        assert any(isinstance(e, socket.gaierror) for e in thread_errors), thread_errors

    _drive(raw, body)


@pytest.mark.parametrize("kind", _xfail_raw("b: IPv6 discovery dies after a unicast send"))
def test_b_ipv6_hello_still_heard_after_a_unicast_send_to_ipv4(
    kind: str, peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    lan, peer = peer_factory()
    harness = _harness(kind, thread_errors)
    first, second = Target(), Target()

    async def body() -> None:
        peer.multicast(first.hello(), family=socket.AF_INET6)
        await eventually(lambda: _seen(harness, first.endpoint), what="an IPv6 Hello (control)")
        harness.library_unicast(lan.links[0].dev_v4 or "")
        if isinstance(harness, AdapterHarness):
            await harness.directed(lan.links[0].dev_v4 or "")
        await eventually(harness.queues_empty, what="the unicast send to be processed")
        await eventually(lambda: len(peer.received) >= 1, what="the device to get it")
        peer.multicast(second.hello(), family=socket.AF_INET6)
        await eventually(lambda: _seen(harness, second.endpoint), timeout_s=2.0, what="the second IPv6 Hello")

    _drive(harness, body)


# --- (c) an exception in an application callback kills the thread ------------------------------


def test_reproduce_c_callback_exception_kills_the_thread(
    peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    """Reproduction: the Hello callback runs on the networking thread, unguarded."""
    _lan, peer = peer_factory()
    raw = RawHarness(thread_errors)
    raw.fail_next_callback = True

    async def body() -> None:
        v4 = raw_thread(raw, socket.AF_INET)
        peer.multicast(Target().hello())
        await eventually(lambda: not v4.is_alive(), what="the IPv4 thread to die")
        assert [str(e) for e in thread_errors] == ["application callback bug"]

    _drive(raw, body)


@pytest.mark.parametrize("kind", _xfail_raw("c: a callback exception stops discovery"))
def test_c_callback_exception_does_not_stop_discovery(
    kind: str, peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    _lan, peer = peer_factory()
    harness = _harness(kind, thread_errors)
    harness.fail_next_callback = True
    second = Target()

    async def body() -> None:
        peer.multicast(Target().hello())
        await eventually(lambda: not harness.fail_next_callback, what="the failing callback")
        peer.multicast(second.hello())
        await eventually(lambda: _seen(harness, second.endpoint), timeout_s=2.0, what="the next Hello")
        if isinstance(harness, AdapterHarness):
            assert harness.service is not None
            assert harness.service.stats.callback_errors == 1

    _drive(harness, body)


# --- (d) searchServices blocks with time.sleep --------------------------------------------------


def _sleep_spy(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """time.sleep calls made on this (the loop's) thread."""
    loop_thread = threading.get_ident()
    real_sleep = time.sleep
    calls: list[float] = []

    def spy(seconds: float) -> None:
        if threading.get_ident() == loop_thread:
            calls.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", spy)
    return calls


def test_reproduce_d_search_services_sleeps_on_the_caller(
    peer_factory: Any, thread_errors: list[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reproduction: searchServices on the loop thread blocks it for the whole timeout."""
    peer_factory()
    raw = RawHarness(thread_errors)
    calls = _sleep_spy(monkeypatch)

    async def body() -> None:
        await raw.probe()
        assert calls == [0.3]

    _drive(raw, body)


@pytest.mark.parametrize("kind", _xfail_raw("d: probing blocks the loop"))
def test_d_probe_never_blocks_the_loop(
    kind: str, peer_factory: Any, thread_errors: list[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    _lan, peer = peer_factory()
    harness = _harness(kind, thread_errors)
    calls = _sleep_spy(monkeypatch)

    async def body() -> None:
        await harness.probe()
        await eventually(
            lambda: _seen(harness, peer.target.endpoint) or bool(peer.received), what="the probe"
        )
        assert calls == []

    _drive(harness, body)


# --- (e) MetadataVersion (and AppSequence, Scopes) of remote services are dropped ---------------


def _vendor_hello(target: Target) -> bytes:
    hello = Hello(
        multicast_headers(AppSequence(4242, 3)),
        target.endpoint,
        7,
        target.types,
        ("http://example.test/room%20101",),
        target.xaddrs,
    )
    # another prefix for the scan namespace, as vendors do: Types must be resolved by namespace URI
    data = encode(hello)
    assert b"xmlns:wscn=" in data
    return data.replace(b"xmlns:wscn=", b"xmlns:v=").replace(b"wscn:ScanDeviceType", b"v:ScanDeviceType")


def test_reproduce_e_metadata_version_is_always_one(
    peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    """Reproduction: _handle_hello builds Service(..., instanceId=0), whose MetadataVersion is 1."""
    _lan, peer = peer_factory()
    raw = RawHarness(thread_errors)
    target = Target()

    async def body() -> None:
        peer.multicast(_vendor_hello(target))
        await eventually(lambda: _seen(raw, target.endpoint), what="the Hello")
        (seen,) = raw.sightings
        assert (seen.metadata_version, seen.instance_id) == (1, 0)
        assert seen.scopes == ("http://example.test/room 101",)  # and %20 is unescaped into a space

    _drive(raw, body)


@pytest.mark.parametrize("kind", _xfail_raw("e: MetadataVersion and AppSequence dropped"))
def test_e_hello_fields_reach_the_application(
    kind: str, peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    _lan, peer = peer_factory(answer=False)  # only the Hello is sighted
    harness = _harness(kind, thread_errors)
    target = Target()

    async def body() -> None:
        peer.multicast(_vendor_hello(target))
        await eventually(lambda: _seen(harness, target.endpoint), what="the Hello")
        (seen,) = harness.sightings
        assert (seen.metadata_version, seen.instance_id) == (7, 4242)
        assert seen.types == {(ns.WSDP, "Device"), (ns.WSCN, "ScanDeviceType")}
        assert seen.xaddrs == target.xaddrs
        assert seen.scopes == ("http://example.test/room%20101",)

    _drive(harness, body)


# --- (f) message-id and instance-id sets grow forever -------------------------------------------

HELLO_COUNT = 40


def _flood(peer: Peer) -> Target:
    last = Target()
    for _ in range(HELLO_COUNT - 1):
        peer.multicast(Target().hello())
    peer.multicast(last.hello())
    return last


def test_reproduce_f_id_sets_grow_without_bound(
    peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    """Reproduction: every distinct MessageID stays in _knownMessageIds and _iidMap."""
    _lan, peer = peer_factory()
    raw = RawHarness(thread_errors)

    async def body() -> None:
        last = _flood(peer)
        await eventually(lambda: _seen(raw, last.endpoint), what="the last Hello")
        sizes = raw.id_store_sizes()
        assert sizes["ipv4_known_message_ids"] >= HELLO_COUNT
        assert sizes["ipv4_iid_map"] >= HELLO_COUNT

    _drive(raw, body)


@pytest.mark.parametrize("kind", _xfail_raw("f: unbounded id sets"))
def test_f_id_stores_stay_bounded(kind: str, peer_factory: Any, thread_errors: list[BaseException]) -> None:
    _lan, peer = peer_factory()
    harness = _harness(kind, thread_errors, limits=SMALL_LIMITS)

    async def body() -> None:
        last = _flood(peer)
        await eventually(lambda: _seen(harness, last.endpoint), what="the last Hello")
        sizes = harness.id_store_sizes()
        assert sizes
        assert max(sizes.values()) <= SMALL_LIMITS.max_message_ids, sizes
        assert sizes.get("endpoints", 0) <= SMALL_LIMITS.max_endpoints

    _drive(harness, body)


# --- (g) link-local addresses (and loopback) are skipped; no interface choice -----------------

LINK_LOCAL_ONLY = {"ipv4": False, "ipv6_ula": False}


def test_reproduce_g_link_local_only_network_is_deaf(
    peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    """Reproduction: on a link with only IPv6 link-local addresses (FF02::C is link-scoped, so this is
    what WS-Discovery is made for) the library finds no address and joins no group."""
    _lan, peer = peer_factory(lan_kwargs=LINK_LOCAL_ONLY)
    raw = RawHarness(thread_errors)
    target = Target()

    async def body() -> None:
        assert _getNetworkAddrs(socket.AF_INET6) == []
        peer.multicast(target.hello(), family=socket.AF_INET6)
        await asyncio.sleep(1.0)  # a negative: give the Hello time to (not) arrive
        assert not _seen(raw, target.endpoint)

    _drive(raw, body)


@pytest.mark.parametrize("kind", _xfail_raw("g: link-local skipped"))
def test_g_hello_heard_on_a_link_local_only_network(
    kind: str, peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    lan, peer = peer_factory(lan_kwargs=LINK_LOCAL_ONLY)
    harness = _harness(kind, thread_errors, interfaces=[lan.links[0].mon_if])
    target = Target()

    async def body() -> None:
        peer.multicast(target.hello(), family=socket.AF_INET6)
        await eventually(lambda: _seen(harness, target.endpoint), timeout_s=2.0, what="the Hello")

    _drive(harness, body)


# --- (h) callbacks run on the library's threads ------------------------------------------------


def test_reproduce_h_callback_runs_on_a_library_thread(
    peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    """Reproduction: the Hello callback runs on NetworkingThreadIPv4."""
    _lan, peer = peer_factory()
    raw = RawHarness(thread_errors)
    target = Target()

    async def body() -> None:
        peer.multicast(target.hello())
        await eventually(lambda: _seen(raw, target.endpoint), what="the Hello")
        assert raw.sightings[0].thread == raw_thread(raw, socket.AF_INET).ident

    _drive(raw, body)


@pytest.mark.parametrize("kind", _xfail_raw("h: callbacks off the loop"))
def test_h_events_arrive_on_the_loop_thread(
    kind: str, peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    _lan, peer = peer_factory(answer=False)  # only the Hello is sighted
    harness = _harness(kind, thread_errors)
    target = Target()

    async def body() -> None:
        peer.multicast(target.hello())
        await eventually(lambda: _seen(harness, target.endpoint), what="the Hello")
        assert [s.thread for s in harness.sightings] == [threading.get_ident()]

    _drive(harness, body)


# --- (i) own Hello/Bye are not filtered --------------------------------------------------------


async def _publish_as(harness: Harness, lan: Lan) -> ThreadedWSPublishing:
    """wsdiscovery's own publisher, in this process, announcing the discoverer's own endpoint.

    Started once the discoverer's first Probe is out: the publisher answers any Probe with a unicast
    ProbeMatches queued on both of its threads, and defect (b) would kill them."""
    await eventually(harness.queues_empty, what="the first Probe to go out")
    publisher = ThreadedWSPublishing(uuid_=harness.own_endpoint)
    publisher.start()
    wsdp = WsdQName(ns.WSDP, "Device", "wsdp")
    publisher.publishService(types=[wsdp], scopes=[], xAddrs=[f"http://{lan.links[0].mon_v4}:1/"])
    return publisher


async def _stop_publisher(publisher: ThreadedWSPublishing) -> None:
    publisher.clearLocalServices()  # Bye
    await eventually(lambda: not publisher._networkingThread_v4._queue, what="the Bye to go out")
    publisher.stop()


def test_reproduce_i_own_hello_and_bye_reported(
    peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    """Reproduction: a Hello and a Bye for the discoverer's own endpoint reach its callbacks."""
    lan, _peer = peer_factory()
    raw = RawHarness(thread_errors)

    async def body() -> None:
        publisher = await _publish_as(raw, lan)
        try:
            await eventually(lambda: _seen(raw, raw.own_endpoint), what="our own Hello")
        finally:
            await _stop_publisher(publisher)
        await eventually(lambda: raw.own_endpoint in raw.left, what="our own Bye")

    _drive(raw, body)


@pytest.mark.parametrize("kind", _xfail_raw("i: own messages not filtered"))
def test_i_own_hello_and_bye_are_filtered(
    kind: str, peer_factory: Any, thread_errors: list[BaseException]
) -> None:
    lan, peer = peer_factory()
    harness = _harness(kind, thread_errors)
    control = Target()

    async def body() -> None:
        publisher = await _publish_as(harness, lan)
        try:
            await eventually(lambda: not publisher._networkingThread_v4._queue, what="the Hello to go out")
        finally:
            await _stop_publisher(publisher)
        peer.multicast(control.hello())
        peer.multicast(control.bye())
        await eventually(lambda: control.endpoint in harness.left, what="the control Hello and Bye")
        assert not _seen(harness, harness.own_endpoint)
        assert harness.own_endpoint not in harness.left
        if isinstance(harness, AdapterHarness):
            assert harness.service is not None
            assert harness.service.stats.own >= 2

    _drive(harness, body)
