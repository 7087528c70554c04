"""The multicast side of the simulator's `--fault`s, run as a person would (`python -m
wsdmon.simulator … --fault …`) in a network namespace joined by a veth pair to a peer namespace,
where this test listens for Hello/Bye and sends multicast and directed Probes from a socket on UDP
3702 (the WS-Discovery port) made inside the peer namespace. Multicast never leaves the two."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import pytest

from wsdmon.protocol import Message, ProtocolError, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.discovery import Bye, Hello, Probe, ProbeMatches, multicast_headers
from wsdmon.protocol.metadata import GetMetadataResponse, TransferGet
from wsdmon.simulator.config import APP_MAX_DELAY_S

from .discovery_netns import inside
from .sim_netns import Child, NetnsPair, netns_pair, sim_command
from .sim_support import call, run

pytestmark = pytest.mark.netns

# How long "no answer to this multicast Probe" is watched for: a device answers a multicast Probe
# after a random delay of at most APP_MAX_DELAY_S (WS-Discovery's APP_MAX_DELAY, which the simulator
# keeps), and the veth hop takes microseconds; the other half second is slack for a busy machine.
QUIET_S = APP_MAX_DELAY_S + 0.5
# How long the peer listens on once the simulator has exited (for its Byes, or for none): the
# simulator sends each Bye and waits for its SOAP-over-UDP repeats before it exits, so whatever it
# multicast is already on the veth, where it takes microseconds.
AFTER_EXIT_S = 0.2
ANSWER_S = 5.0  # how long a Hello or an answer that must come may take (returns as soon as it is in)
SECOND_HELLO_S = 8.0  # how long a reboot's Bye and Hello may take to arrive


class _Peer(asyncio.DatagramProtocol):
    """Every WS-Discovery message the peer's socket receives, with its arrival time."""

    def __init__(self) -> None:
        self.received: list[tuple[float, Message]] = []
        self.new = asyncio.Event()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            message = decode(data)
        except ProtocolError:
            return
        if isinstance(message, Message):
            self.received.append((time.monotonic(), message))
            self.new.set()

    def of(self, kind: type[Message]) -> list[tuple[float, Message]]:
        """Distinct messages of `kind` (SOAP-over-UDP repeats dropped), in order of arrival."""
        seen: set[str | None] = set()
        out = []
        for at, m in self.received:
            if isinstance(m, kind) and m.header.message_id not in seen:
                seen.add(m.header.message_id)
                out.append((at, m))
        return out

    def answers(self, request: Message) -> list[tuple[float, Message]]:
        return [
            (at, m) for at, m in self.of(ProbeMatches) if m.header.relates_to == request.header.message_id
        ]

    async def until(self, predicate: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; received: {[type(m).__name__ for _, m in self.received]}")
            self.new.clear()
            try:
                await asyncio.wait_for(self.new.wait(), remaining)
            except TimeoutError:
                continue


@contextmanager
def peer_socket(pair: NetnsPair) -> Iterator[socket.socket]:
    """UDP 3702 in the peer namespace, in the WS-Discovery group on the veth's address."""
    with inside(pair.peer):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("", ns.DISCOVERY_PORT))
        mreq = struct.pack("4s4s", socket.inet_aton(ns.MULTICAST_IPV4), socket.inet_aton(pair.peer_addr))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(pair.peer_addr))
        sock.setblocking(False)
        yield sock
    finally:
        sock.close()


async def simulator(pair: NetnsPair, role: str, *faults: str) -> Child:
    args = ["--role", role, "--interface", pair.sim_if, "--scenario", "idle", "--seed", "17"]
    for fault in faults:
        args += ["--fault", fault]
    sim = await Child.start("simulator", sim_command(pair, *args))
    await sim.wait_for(lambda line: "ready:" in line)
    return sim


async def with_peer(
    pair: NetnsPair, role: str, faults: tuple[str, ...], scene: Any, *, listen_after_s: float = 0.0
) -> _Peer:
    """Start the peer socket, then the simulator with `faults`; run `scene(sim, peer, transport)`;
    stop the simulator with Ctrl-C (exit 0, no traceback); listen on for `listen_after_s` (its Byes)."""
    loop = asyncio.get_running_loop()
    with peer_socket(pair) as sock:
        transport, peer = await loop.create_datagram_endpoint(_Peer, sock=sock)
        sim = None
        try:
            sim = await simulator(pair, role, *faults)
            await scene(sim, peer, transport)
            assert await sim.interrupt() == 0, "\n".join(sim.lines)
            assert not [x for x in sim.lines if "Traceback" in x], "\n".join(sim.lines)
            await asyncio.sleep(listen_after_s)
            return peer
        finally:
            if sim is not None:
                await sim.kill()
            transport.close()


def multicast_probe(transport: asyncio.DatagramTransport) -> Probe:
    probe = Probe(multicast_headers())
    transport.sendto(encode(probe), (ns.MULTICAST_IPV4, ns.DISCOVERY_PORT))
    return probe


def directed_probe(transport: asyncio.DatagramTransport, pair: NetnsPair) -> Probe:
    probe = Probe(multicast_headers())
    transport.sendto(encode(probe), (pair.sim_addr, ns.DISCOVERY_PORT))
    return probe


def test_directed_only_sends_no_hello_or_bye_and_answers_only_directed_probes() -> None:
    with netns_pair() as pair:

        async def scene(sim: Child, peer: _Peer, transport: asyncio.DatagramTransport) -> None:
            # A Hello goes out while the simulator starts, before it says "ready": one watch covers
            # both the Hello that must not come and the answer to the multicast Probe.
            multicast = multicast_probe(transport)
            await asyncio.sleep(QUIET_S)
            assert peer.of(Hello) == []
            assert peer.answers(multicast) == []
            directed = directed_probe(transport, pair)
            await peer.until(lambda: len(peer.answers(directed)) == 2, ANSWER_S)

        async def body() -> None:
            peer = await with_peer(pair, "both", ("directed-only",), scene, listen_after_s=AFTER_EXIT_S)
            assert peer.of(Bye) == []  # nothing multicast at all, not even on Ctrl-C
            assert peer.of(Hello) == []

        run(body, timeout=60)


def test_no_probe_match_says_hello_and_bye_but_answers_no_probe() -> None:
    with netns_pair() as pair:

        async def scene(sim: Child, peer: _Peer, transport: asyncio.DatagramTransport) -> None:
            await peer.until(lambda: len(peer.of(Hello)) == 2, ANSWER_S)
            multicast = multicast_probe(transport)
            directed = directed_probe(transport, pair)
            await asyncio.sleep(QUIET_S)
            assert peer.answers(multicast) == []
            assert peer.answers(directed) == []

        async def body() -> None:
            peer = await with_peer(pair, "both", ("no-probe-match",), scene, listen_after_s=AFTER_EXIT_S)
            assert len(peer.of(Bye)) == 2

        run(body, timeout=60)


def test_multicast_stop_goes_silent_on_multicast_while_directed_probes_and_http_answer() -> None:
    with netns_pair() as pair:

        async def scene(sim: Child, peer: _Peer, transport: asyncio.DatagramTransport) -> None:
            started = time.monotonic()
            await peer.until(lambda: len(peer.of(Hello)) == 1, ANSWER_S)
            early = multicast_probe(transport)
            await peer.until(lambda: len(peer.answers(early)) == 1, ANSWER_S)
            await asyncio.sleep(max(0.0, 2.5 - (time.monotonic() - started)))
            late = multicast_probe(transport)
            directed = directed_probe(transport, pair)
            await peer.until(lambda: len(peer.answers(directed)) == 1, ANSWER_S)
            await asyncio.sleep(QUIET_S)
            assert peer.answers(late) == []
            ((_, match),) = peer.answers(directed)
            assert isinstance(match, ProbeMatches)
            xaddr = match.matches[0].xaddrs[0]
            with inside(pair.peer):  # the HTTP connection is made from the peer namespace
                async with aiohttp.ClientSession() as http:
                    _, meta = await call(http, xaddr, TransferGet.to_device(match.matches[0].address))
            assert isinstance(meta, GetMetadataResponse)

        async def body() -> None:
            peer = await with_peer(
                pair, "scan-device", ("multicast-stop=2",), scene, listen_after_s=AFTER_EXIT_S
            )
            assert peer.of(Bye) == []  # no Bye on Ctrl-C either: multicast had stopped

        run(body, timeout=60)


def test_late_probe_answers_a_multicast_probe_only_after_the_delay() -> None:
    with netns_pair() as pair:

        async def scene(sim: Child, peer: _Peer, transport: asyncio.DatagramTransport) -> None:
            await peer.until(lambda: len(peer.of(Hello)) == 1, ANSWER_S)
            sent = time.monotonic()
            probe = multicast_probe(transport)
            await peer.until(lambda: len(peer.answers(probe)) == 1, 5.0)
            ((at, _),) = peer.answers(probe)
            assert at - sent >= 2.0

        async def body() -> None:
            await with_peer(pair, "scan-server", ("late-probe=2",), scene)

        run(body, timeout=60)


def test_reboot_after_says_bye_then_hello_with_a_new_instance_id_for_the_same_endpoint() -> None:
    with netns_pair() as pair:

        async def scene(sim: Child, peer: _Peer, transport: asyncio.DatagramTransport) -> None:
            await peer.until(lambda: len(peer.of(Hello)) == 1, ANSWER_S)
            await peer.until(lambda: len(peer.of(Hello)) == 2, SECOND_HELLO_S)
            (first_at, first), (second_at, second) = peer.of(Hello)
            ((bye_at, bye),) = peer.of(Bye)
            assert isinstance(first, Hello)
            assert isinstance(second, Hello)
            assert isinstance(bye, Bye)
            assert first.address == second.address == bye.address
            assert first.header.app_sequence is not None
            assert second.header.app_sequence is not None
            assert second.header.app_sequence.instance_id > first.header.app_sequence.instance_id
            assert first_at < bye_at < second_at
            assert second_at - first_at >= 2.0

        async def body() -> None:
            await with_peer(pair, "scan-device", ("reboot-after=2",), scene)

        run(body, timeout=60)
