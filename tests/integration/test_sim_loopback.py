"""Directed (unicast) WS-Discovery and the device HTTP endpoints on loopback, without multicast:
our own Probe/Resolve over a plain asyncio datagram socket, metadata Get over aiohttp, and how the
endpoints answer requests they cannot serve."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from wsdmon.protocol import Fault, Headers, Message, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName
from wsdmon.protocol.discovery import Probe, ProbeMatches, Resolve, ResolveMatches, multicast_headers
from wsdmon.protocol.metadata import GetMetadataResponse, TransferGet
from wsdmon.protocol.repository import GetActiveJobsRequest, GetActiveJobsResponse
from wsdmon.simulator import Role, Scenario, Simulator, SimulatorConfig, Timers

from .sim_support import call, run

SCAN_DEVICE_TYPE = QName(ns.WSCN, "ScanDeviceType")
REPOSITORY_TYPE = QName(ns.DSC, "RepositoryConfigurationServiceType")


def both_roles() -> SimulatorConfig:
    # Directed Probes only: no multicast on loopback, and an ephemeral UDP port.
    return SimulatorConfig(
        role=Role.BOTH,
        scenario=Scenario.IDLE,
        discovery=False,
        wsd_port=0,
        host="127.0.0.1",
        seed=3,
        timers=Timers(app_max_delay_s=0.0),
    )


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait(data)


@asynccontextmanager
async def udp_client() -> AsyncIterator[tuple[asyncio.DatagramTransport, _Collector]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(_Collector, local_addr=("127.0.0.1", 0))
    try:
        yield transport, protocol
    finally:
        transport.close()


async def answers(protocol: _Collector, request: Message, quiet: float = 0.4) -> list[Message]:
    """The answers to `request` until nothing arrives for `quiet` seconds, decoded, repeats (same
    MessageID, SOAP-over-UDP) dropped; late repeats of earlier answers are told apart by RelatesTo."""
    out: dict[str | None, Message] = {}
    while True:
        try:
            data = await asyncio.wait_for(protocol.queue.get(), quiet)
        except TimeoutError:
            return list(out.values())
        message = decode(data)
        assert isinstance(message, Message)
        if message.header.relates_to == request.header.message_id:
            out.setdefault(message.header.message_id, message)


def test_a_directed_probe_of_a_host_with_two_devices_finds_both() -> None:
    """The simulator's scan server and scanner answer one unicast Probe with a ProbeMatches each:
    DiscoveryService.directed_probe returns (and reports) both. It closed its socket at the first
    answer and lost the other (seen in a walk: a site's scanner never showed)."""
    from wsdmon.net import discovery
    from wsdmon.net.discovery import DiscoveryService, Source

    async def body() -> None:
        async with Simulator(both_roles()) as sim:
            events: list[Any] = []
            service = DiscoveryService(asyncio.get_running_loop(), on_event=events.append, multicast=False)
            await service.start()
            try:
                found = await service.directed_probe("127.0.0.1", sim.discovery_port)
                # A timeout shorter than the gathering: what came by then, not nothing.
                hurried = await service.directed_probe("127.0.0.1", sim.discovery_port, timeout_s=0.2)
            finally:
                await service.stop()
            assert hurried
            assert {m.endpoint for m in hurried} <= {d.endpoint for d in sim.devices}

            # Stopping discovery ends a probe's gathering at once (the window closing: its socket
            # must not outlive the loop), with what came so far.
            service = DiscoveryService(asyncio.get_running_loop(), on_event=events.append, multicast=False)
            await service.start()
            slow = 30.0
            original = discovery.DIRECTED_GATHER_S
            discovery.DIRECTED_GATHER_S = slow
            try:
                task = asyncio.ensure_future(service.directed_probe("127.0.0.1", sim.discovery_port))
                await asyncio.sleep(0.3)  # answered long ago; gathering
                started = asyncio.get_running_loop().time()
                await service.stop()
                gathered = await asyncio.wait_for(task, 2.0)
            finally:
                discovery.DIRECTED_GATHER_S = original
            assert asyncio.get_running_loop().time() - started < 2.0
            assert {m.endpoint for m in gathered} == {d.endpoint for d in sim.devices}
            want = {d.endpoint for d in sim.devices}
            assert len(want) == 2
            assert sorted(m.endpoint for m in found) == sorted(want)  # each once
            assert {m.source for m in found} == {Source.DIRECTED}
            assert {e.endpoint for e in events} == want

    run(body)


def test_directed_probe_to_127_0_0_1_finds_the_devices_without_multicast() -> None:
    async def body() -> None:
        async with Simulator(both_roles()) as sim, udp_client() as (transport, protocol):
            target = ("127.0.0.1", sim.discovery_port)
            probe = Probe(multicast_headers())
            transport.sendto(encode(probe), target)
            matches = await answers(protocol, probe)
            by_address = {}
            for m in matches:
                assert isinstance(m, ProbeMatches)
                assert m.header.relates_to == probe.header.message_id
                assert m.header.app_sequence is not None  # WS-Discovery §7
                (match,) = m.matches
                by_address[match.address] = match
            assert set(by_address) == {d.endpoint for d in sim.devices}
            for device in sim.devices:
                match = by_address[device.endpoint]
                assert match.xaddrs == (device.metadata_url,)
                assert match.metadata_version == device.metadata_version
                expected = SCAN_DEVICE_TYPE if device.role is Role.SCAN_DEVICE else REPOSITORY_TYPE
                assert set(match.types) == {QName(ns.WSDP, "Device"), expected}

            # By type: only the scan device answers; a type nobody has gets no answer at all.
            by_type = Probe(multicast_headers(), (SCAN_DEVICE_TYPE,))
            transport.sendto(encode(by_type), target)
            (only,) = await answers(protocol, by_type)
            assert isinstance(only, ProbeMatches)
            assert only.matches[0].address == sim.device(Role.SCAN_DEVICE).endpoint
            nobody = Probe(multicast_headers(), (QName("urn:nobody", "Printer"),))
            transport.sendto(encode(nobody), target)
            assert await answers(protocol, nobody) == []

            # Resolve by endpoint address gives the XAddrs.
            server = sim.device(Role.SCAN_SERVER)
            resolve = Resolve(multicast_headers(), server.endpoint)
            transport.sendto(encode(resolve), target)
            (resolved,) = await answers(protocol, resolve)
            assert isinstance(resolved, ResolveMatches)
            assert resolved.match is not None
            assert resolved.match.xaddrs == (server.metadata_url,)

            # A repeated Probe (same MessageID, as SOAP-over-UDP repeats it) is answered once.
            transport.sendto(encode(probe), target)
            assert await answers(protocol, probe) == []

    run(body)


def test_metadata_get_returns_the_documented_fields() -> None:
    async def body() -> None:
        async with Simulator(both_roles()) as sim, aiohttp.ClientSession() as http:
            for device in sim.devices:
                status, meta = await call(http, device.metadata_url, TransferGet.to_device(device.endpoint))
                assert status == 200
                assert isinstance(meta, GetMetadataResponse)
                model, this = meta.this_model, meta.this_device
                assert model is not None
                assert this is not None
                assert model.manufacturer
                assert model.model_name
                assert model.model_number
                scanner = device.role is Role.SCAN_DEVICE
                assert model.device_category == (("Scanners",) if scanner else ("Computers",))
                assert this.friendly_name == device.friendly_name
                assert this.firmware_version
                assert this.serial_number
                if scanner:  # shaped like the real MFP: a uuid: endpoint and no Host
                    assert device.endpoint.startswith("uuid:")
                    assert meta.host is None
                else:  # WSDAPI's shape
                    assert device.endpoint.startswith("urn:uuid:")
                    assert meta.host is not None
                    assert meta.host.address == device.endpoint
                    assert set(meta.host.types) == set(device.types)
                service_type = QName(ns.WSCN, "ScannerServiceType") if scanner else REPOSITORY_TYPE
                (hosted,) = meta.hosted_services_of_type(service_type)
                assert hosted.address == device.service_url
                assert hosted.service_id

    run(body)


def test_endpoints_answer_what_they_cannot_serve_with_faults() -> None:
    async def body() -> None:
        async with Simulator(both_roles()) as sim, aiohttp.ClientSession() as http:
            server = sim.device(Role.SCAN_SERVER)
            # Not XML: HTTP 400 and a SOAP Sender fault.
            status, fault = await call(http, server.service_url, b"<soap:Envelope><unclosed>")
            assert status == 400
            assert isinstance(fault, Fault)
            assert fault.code == "Sender"
            # An action the endpoint does not serve: wsa:ActionNotSupported naming it.
            status, fault = await call(http, server.metadata_url, GetActiveJobsRequest(Headers.request("x")))
            assert status == 400
            assert isinstance(fault, Fault)
            assert fault.subcode == QName(ns.WSA, "ActionNotSupported")
            assert fault.detail == ns.DSC_GET_ACTIVE_JOBS
            scanner = sim.device(Role.SCAN_DEVICE)
            status, fault = await call(http, scanner.service_url, GetActiveJobsRequest(Headers.request("x")))
            assert isinstance(fault, Fault)
            assert fault.subcode == QName(ns.WSA, "ActionNotSupported")
            # A dsc request with an invalid body: dsc:InvalidArgs (MS-BDSRR §3.2.4).
            bad = encode(GetActiveJobsRequest(Headers.request(server.service_url)))
            bad = bad.replace(b"GetActiveJobsRequest", b"GetActiveJobsRequestX").replace(
                ns.DSC_GET_ACTIVE_JOBS.encode(), ns.DSC_CANCEL_POST_SCAN_JOB.encode()
            )
            status, fault = await call(http, server.service_url, bad)
            assert status == 400
            assert isinstance(fault, Fault)
            assert fault.subcode == QName(ns.DSC, "InvalidArgs")
            # And the endpoint still works.
            status, ok = await call(http, server.service_url, GetActiveJobsRequest(Headers.request("x")))
            assert status == 200
            assert isinstance(ok, GetActiveJobsResponse)

    run(body)


def test_metadata_changes_and_restarts_show_in_discovery() -> None:
    async def body() -> None:
        config = SimulatorConfig(
            role=Role.SCAN_DEVICE,
            scenario=Scenario.IDLE,
            discovery=False,
            wsd_port=0,
            timers=Timers(app_max_delay_s=0.0),
        )
        async with (
            Simulator(config) as sim,
            udp_client() as (transport, protocol),
            aiohttp.ClientSession() as http,
        ):
            device = sim.devices[0]
            target = ("127.0.0.1", sim.discovery_port)

            async def probe() -> ProbeMatches:
                request = Probe(multicast_headers())
                transport.sendto(encode(request), target)
                (match,) = await answers(protocol, request)
                assert isinstance(match, ProbeMatches)
                return match

            first = await probe()
            second = await probe()
            assert first.header.app_sequence is not None
            assert second.header.app_sequence is not None
            seq1, seq2 = first.header.app_sequence, second.header.app_sequence
            assert seq2.instance_id == seq1.instance_id
            assert seq2.message_number > seq1.message_number  # WS-Discovery §7

            device.set_friendly_name("Renamed scanner")
            renamed = await probe()
            assert renamed.matches[0].metadata_version == first.matches[0].metadata_version + 1
            _, meta = await call(http, device.metadata_url, TransferGet.to_device(device.endpoint))
            assert isinstance(meta, GetMetadataResponse)
            assert meta.this_device is not None
            assert meta.this_device.friendly_name == "Renamed scanner"

            await device.restart()
            rebooted = await probe()
            assert rebooted.header.app_sequence is not None
            assert rebooted.header.app_sequence.instance_id > seq1.instance_id  # a new instance
            assert rebooted.header.app_sequence.message_number == 1

    run(body)


def test_same_seed_same_devices_and_job_tokens() -> None:
    async def identities() -> list[tuple[str, str, str]]:
        async with Simulator(both_roles()) as sim:
            server = sim.device(Role.SCAN_SERVER)
            token = server.submit_job().token  # type: ignore[union-attr]
            return [(d.endpoint, d.friendly_name, token) for d in sim.devices]

    results: list[list[tuple[str, str, str]]] = []

    async def body() -> None:
        results.append(await identities())
        results.append(await identities())

    run(body)
    assert results[0] == results[1]


MALFORMED = [
    b"",
    b"\x00\xff garbage",
    b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;</x>",
    b"<soap:Envelope xmlns:soap='http://www.w3.org/2003/05/soap-envelope'><soap:Body/></soap:Envelope>",
    encode(Probe(multicast_headers()))[:-40],
]


def test_malformed_datagrams_and_requests_never_break_the_endpoints() -> None:
    async def body() -> None:
        async with Simulator(both_roles()) as sim, udp_client() as (transport, protocol):
            target = ("127.0.0.1", sim.discovery_port)
            for data in MALFORMED:
                transport.sendto(data, target)
            probe = Probe(multicast_headers())
            transport.sendto(encode(probe), target)
            assert len(await answers(protocol, probe)) == 2  # still answering
            server = sim.device(Role.SCAN_SERVER)
            async with aiohttp.ClientSession() as http:
                for data in [*MALFORMED, io.BytesIO(b"<" * 2_000_000)]:  # the last one is over the cap
                    async with http.post(server.service_url, data=data) as response:
                        assert response.status in (400, 413), data
                status, ok = await call(http, server.service_url, GetActiveJobsRequest(Headers.request("x")))
                assert status == 200
                assert isinstance(ok, GetActiveJobsResponse)

    run(body)
