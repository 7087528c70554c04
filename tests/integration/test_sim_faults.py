"""The simulator's `--fault` misbehaviours (issue 13, item 5), each observed on the wire over loopback:
directed Probes to its UDP port from a plain datagram socket, metadata Get and WS-Eventing through
aiohttp with wsdmon.protocol's messages, notifications into a plain aiohttp sink. No multicast here
(test_sim_faults_netns.py has the multicast side: Hello, Bye, multicast Probes)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from wsdmon.protocol import EndpointReference, Fault, Headers, Message, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName
from wsdmon.protocol.discovery import Probe, ProbeMatches, Resolve, ResolveMatches, multicast_headers
from wsdmon.protocol.dsm import JobState, PostScanJobStatusEvent
from wsdmon.protocol.eventing import (
    GetStatus,
    GetStatusResponse,
    Renew,
    RenewResponse,
    Subscribe,
    SubscribeResponse,
    SubscriptionEnd,
    SubscriptionEndStatus,
    Unsubscribe,
)
from wsdmon.protocol.metadata import GetMetadataResponse, TransferGet
from wsdmon.protocol.repository import GetActiveJobsRequest as DscGetActiveJobs
from wsdmon.protocol.repository import GetActiveJobsResponse as DscActiveJobs
from wsdmon.protocol.scan import (
    GetScannerElementsRequest,
    GetScannerElementsResponse,
    JobStatusEvent,
    ScannerStatus,
)
from wsdmon.protocol.scan_ops import GetActiveJobsRequest as ScanGetActiveJobs
from wsdmon.protocol.scan_ops import GetActiveJobsResponse as ScanActiveJobs
from wsdmon.simulator import (
    FaultSetting,
    JobPlan,
    Role,
    ScanJobPlan,
    Scenario,
    SimDevice,
    Simulator,
    SimulatorConfig,
    Timers,
)

from .sim_support import Received, Sink, call, run

SUBSCRIBER = "urn:uuid:00000000-0000-4000-8000-00000000f417"
ROLES = [Role.SCAN_SERVER, Role.SCAN_DEVICE]
WSE_FAULT = "http://schemas.xmlsoap.org/ws/2004/08/eventing"


def sim_config(role: Role, *faults: str, time_scale: float = 1000.0) -> SimulatorConfig:
    """Loopback only: no multicast, an ephemeral UDP port, immediate directed answers."""
    return SimulatorConfig(
        role=role,
        scenario=Scenario.IDLE,
        discovery=False,
        wsd_port=0,
        host="127.0.0.1",
        seed=13,
        time_scale=time_scale,
        faults=tuple(FaultSetting.parse(f) for f in faults),
        timers=Timers(app_max_delay_s=0.0),
    )


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait((time.monotonic(), data))


@asynccontextmanager
async def udp_client() -> AsyncIterator[tuple[asyncio.DatagramTransport, _Collector]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(_Collector, local_addr=("127.0.0.1", 0))
    try:
        yield transport, protocol
    finally:
        transport.close()


# How long `ask` waits. The simulator runs in this process, on the test's own loop, with no
# application delay (app_max_delay_s=0): it sends every answer it is going to send while it handles
# the request, a few loop turns (milliseconds) after the request arrives. So:
ANSWER_WAIT_S = 5.0  # an answer the test expects is waited for this long, and returned once it is in
# after the expected answers, an extra one (a device that should not match, a second answer) would
# come from the same handling, within milliseconds: watched for this long after the last new answer
EXTRA_WAIT_S = 0.2
# when no answer is expected, an unwanted one would arrive within milliseconds too: watched this long
NOTHING_WAIT_S = 0.5


async def ask(sim: Simulator, request: Probe | Resolve, *, expect: int) -> list[tuple[float, Message]]:
    """Send `request` to the simulator's UDP port; each distinct answer with its delay in seconds.
    Waits for `expect` answers (up to ANSWER_WAIT_S), then returns once no new answer has come for
    EXTRA_WAIT_S (NOTHING_WAIT_S when none is expected). SOAP-over-UDP repeats of an answer (the
    same MessageID) are dropped and do not extend the wait."""
    async with udp_client() as (transport, protocol):
        sent = time.monotonic()
        transport.sendto(encode(request), ("127.0.0.1", sim.discovery_port))
        out: dict[str | None, tuple[float, Message]] = {}
        last_new = sent
        while True:
            now = time.monotonic()
            if len(out) < expect:
                remaining = sent + ANSWER_WAIT_S - now
            else:
                remaining = last_new + (EXTRA_WAIT_S if expect else NOTHING_WAIT_S) - now
            try:
                at, data = await asyncio.wait_for(protocol.queue.get(), max(remaining, 0.0))
            except TimeoutError:
                return list(out.values())
            message = decode(data)
            assert isinstance(message, Message)
            answer_id = message.header.message_id
            if message.header.relates_to == request.header.message_id and answer_id not in out:
                out[answer_id] = (at - sent, message)
                last_new = at


def subscribe(dev: SimDevice, sink: Sink, path: str, expires: timedelta = timedelta(hours=1)) -> Subscribe:
    ref = EndpointReference(sink.url(path), SUBSCRIBER)
    return Subscribe(
        Headers.request(dev.service_url),
        ref,
        expires,
        end_to=EndpointReference(sink.url(path + "-end"), SUBSCRIBER),
    )


def manager_request(kind: type[Renew | GetStatus | Unsubscribe], response: SubscribeResponse) -> Message:
    manager = response.subscription_manager
    headers = Headers.request(manager.address, identifier=manager.identifier)
    if kind is Renew:
        return Renew(headers, timedelta(hours=1))
    return kind(headers)


def assert_wse_fault(answer: object, local: str, code: str) -> Fault:
    assert isinstance(answer, Fault), answer
    assert answer.code == code
    assert answer.subcode == QName(WSE_FAULT, local)
    return answer


# --- discovery -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_late_probe_answers_probes_only_after_the_delay_and_resolves_at_once(role: Role) -> None:
    async def body() -> None:
        async with Simulator(sim_config(role, "late-probe=1")) as sim:
            (only,) = await ask(sim, Probe(multicast_headers()), expect=1)
            delay, match = only
            assert isinstance(match, ProbeMatches)
            assert match.matches[0].address == sim.devices[0].endpoint
            assert delay >= 1.0
            (resolved,) = await ask(sim, Resolve(multicast_headers(), sim.devices[0].endpoint), expect=1)
            assert resolved[0] < 0.5
            assert isinstance(resolved[1], ResolveMatches)

    run(body)


def test_healthy_directed_probe_is_answered_at_once() -> None:
    async def body() -> None:
        async with Simulator(sim_config(Role.SCAN_SERVER)) as sim:
            ((delay, match),) = await ask(sim, Probe(multicast_headers()), expect=1)
            assert isinstance(match, ProbeMatches)
            assert delay < 0.5

    run(body)


@pytest.mark.parametrize("role", ROLES)
def test_no_probe_match_leaves_directed_probes_unanswered_while_resolve_and_http_answer(role: Role) -> None:
    async def body() -> None:
        async with Simulator(sim_config(role, "no-probe-match")) as sim, aiohttp.ClientSession() as http:
            dev = sim.devices[0]
            assert await ask(sim, Probe(multicast_headers()), expect=0) == []
            (resolved,) = await ask(sim, Resolve(multicast_headers(), dev.endpoint), expect=1)
            assert isinstance(resolved[1], ResolveMatches)
            _, meta = await call(http, dev.metadata_url, TransferGet.to_device(dev.endpoint))
            assert isinstance(meta, GetMetadataResponse)

    run(body)


def test_directed_only_answers_directed_probes_and_nothing_else() -> None:
    async def body() -> None:
        async with Simulator(sim_config(Role.BOTH, "directed-only")) as sim:
            matches = await ask(sim, Probe(multicast_headers()), expect=2)
            assert {m.matches[0].address for _, m in matches if isinstance(m, ProbeMatches)} == {
                d.endpoint for d in sim.devices
            }
            assert await ask(sim, Resolve(multicast_headers(), sim.devices[0].endpoint), expect=0) == []

    run(body)


@pytest.mark.parametrize("host", ["localhost", "10.99.0.7", "::1"])
def test_xaddr_host_advertises_another_host_while_http_stays_where_it_is_bound(host: str) -> None:
    async def body() -> None:
        async with (
            Simulator(sim_config(Role.BOTH, f"xaddr-host={host}")) as sim,
            aiohttp.ClientSession() as http,
        ):
            url_host = f"[{host}]" if ":" in host else host
            for dev in sim.devices:
                expected = dev.metadata_url.replace("127.0.0.1", url_host, 1)
                assert expected != dev.metadata_url
                probe = Probe(multicast_headers(), (dev.types[1],))
                ((_, match),) = await ask(sim, probe, expect=1)
                assert isinstance(match, ProbeMatches)
                assert match.matches[0].xaddrs == (expected,)
                ((_, resolved),) = await ask(sim, Resolve(multicast_headers(), dev.endpoint), expect=1)
                assert isinstance(resolved, ResolveMatches)
                assert resolved.match is not None
                assert resolved.match.xaddrs == (expected,)
                # HTTP is still served on the bound address; the hosted service names it.
                _, meta = await call(http, dev.metadata_url, TransferGet.to_device(dev.endpoint))
                assert isinstance(meta, GetMetadataResponse)
                assert meta.hosted[0].addresses == (dev.service_url,)
                assert "127.0.0.1" in dev.service_url
                if host == "localhost":  # the advertised name resolves here: it answers too
                    _, via_name = await call(http, expected, TransferGet.to_device(dev.endpoint))
                    assert isinstance(via_name, GetMetadataResponse)

    run(body)


# --- metadata --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_print_only_device_has_only_a_print_service_in_types_and_metadata(role: Role) -> None:
    printer_service = QName(ns.PRI, "PrinterServiceType")

    async def body() -> None:
        async with Simulator(sim_config(role, "print-only")) as sim, aiohttp.ClientSession() as http:
            dev = sim.devices[0]
            ((_, match),) = await ask(sim, Probe(multicast_headers()), expect=1)
            assert isinstance(match, ProbeMatches)
            assert set(match.matches[0].types) == {QName(ns.WSDP, "Device"), QName(ns.PRI, "PrintDeviceType")}
            for scan_type in (
                QName(ns.WSCN, "ScanDeviceType"),
                QName(ns.DSC, "RepositoryConfigurationServiceType"),
            ):
                assert await ask(sim, Probe(multicast_headers(), (scan_type,)), expect=0) == []
            _, meta = await call(http, dev.metadata_url, TransferGet.to_device(dev.endpoint))
            assert isinstance(meta, GetMetadataResponse)
            types = {t for h in meta.hosted for t in h.types}
            assert types == {printer_service}
            assert not meta.hosted_services_of_type(QName(ns.WSCN, "ScannerServiceType"))
            assert not meta.hosted_services_of_type(QName(ns.DSC, "RepositoryConfigurationServiceType"))
            assert meta.this_model is not None
            assert meta.this_model.device_category == ("Printers",)
            # Scanning is off: the hosted print service takes no scan subscription.
            (print_service,) = meta.hosted
            sink = Sink()
            _, answer = await call(http, print_service.addresses[0], subscribe(dev, sink, "/p"))
            assert isinstance(answer, Fault)
            assert answer.subcode == QName(ns.WSA, "ActionNotSupported")

    run(body)


# --- eventing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_subscriber_limit_refuses_the_subscription_beyond_the_limit(role: Role) -> None:
    async def body() -> None:
        sink = await Sink().start()
        try:
            async with (
                Simulator(sim_config(role, "subscriber-limit=2")) as sim,
                aiohttp.ClientSession() as http,
            ):
                dev = sim.devices[0]
                answers = [
                    (await call(http, dev.service_url, subscribe(dev, sink, f"/{n}"))) for n in range(3)
                ]
                first, second, (status, third) = answers
                assert isinstance(first[1], SubscribeResponse)
                assert isinstance(second[1], SubscribeResponse)
                fault = assert_wse_fault(third, "EventSourceUnableToProcess", "Receiver")
                assert fault.reason == "Maximum number of subscriptions reached"
                assert status == 500
                # Concurrent subscriptions: once one is gone, a new one is taken.
                await call(http, dev.service_url, manager_request(Unsubscribe, first[1]))
                _, again = await call(http, dev.service_url, subscribe(dev, sink, "/again"))
                assert isinstance(again, SubscribeResponse)
        finally:
            await sink.close()

    run(body)


@pytest.mark.parametrize("role", ROLES)
def test_renew_refused_answers_every_renew_with_unable_to_renew(role: Role) -> None:
    async def body() -> None:
        sink = await Sink().start()
        try:
            async with Simulator(sim_config(role, "renew-refused")) as sim, aiohttp.ClientSession() as http:
                dev = sim.devices[0]
                _, granted = await call(http, dev.service_url, subscribe(dev, sink, "/r"))
                assert isinstance(granted, SubscribeResponse)
                _, renewed = await call(http, dev.service_url, manager_request(Renew, granted))
                assert_wse_fault(renewed, "UnableToRenew", "Receiver")
                # The subscription itself is still there until it runs out.
                _, status = await call(http, dev.service_url, manager_request(GetStatus, granted))
                assert isinstance(status, GetStatusResponse)
        finally:
            await sink.close()

    run(body)


@pytest.mark.parametrize("role", ROLES)
def test_short_grant_grants_its_seconds_whatever_is_asked_and_the_subscription_lapses(role: Role) -> None:
    async def body() -> None:
        sink = await Sink().start()
        try:
            async with Simulator(sim_config(role, "short-grant=2")) as sim, aiohttp.ClientSession() as http:
                dev = sim.devices[0]
                _, granted = await call(http, dev.service_url, subscribe(dev, sink, "/s", timedelta(hours=1)))
                assert isinstance(granted, SubscribeResponse)
                assert granted.expires == timedelta(seconds=2)
                _, renewed = await call(http, dev.service_url, manager_request(Renew, granted))
                assert isinstance(renewed, RenewResponse)
                assert renewed.expires == timedelta(seconds=2)
                await asyncio.sleep(2.5)
                _, lapsed = await call(http, dev.service_url, manager_request(GetStatus, granted))
                assert_wse_fault(lapsed, "InvalidMessage", "Sender")
        finally:
            await sink.close()

    run(body)


def test_a_short_grant_under_a_second_is_answered_to_the_millisecond() -> None:
    async def body() -> None:
        sink = await Sink().start()
        try:
            config = sim_config(Role.SCAN_SERVER, "short-grant=0.5")
            async with Simulator(config) as sim, aiohttp.ClientSession() as http:
                dev = sim.devices[0]
                _, granted = await call(http, dev.service_url, subscribe(dev, sink, "/ms"))
                assert isinstance(granted, SubscribeResponse)
                assert isinstance(granted.expires, timedelta)
                assert granted.expires.total_seconds() == pytest.approx(0.5, abs=0.02)
        finally:
            await sink.close()

    run(body)


@pytest.mark.parametrize("role", ROLES)
def test_subscription_end_reaches_end_to_with_status_and_reason_and_the_subscription_is_gone(
    role: Role,
) -> None:
    async def body() -> None:
        sink = await Sink().start()
        try:
            async with (
                Simulator(sim_config(role, "subscription-end=1")) as sim,
                aiohttp.ClientSession() as http,
            ):
                dev = sim.devices[0]
                granted_at = time.monotonic()
                _, granted = await call(http, dev.service_url, subscribe(dev, sink, "/e"))
                assert isinstance(granted, SubscribeResponse)
                end = await sink.until(lambda i: isinstance(i.message, SubscriptionEnd), timeout=5)
                assert time.monotonic() - granted_at >= 1.0
                assert end.path == "/e-end"
                message = end.message
                assert isinstance(message, SubscriptionEnd)
                assert message.status == SubscriptionEndStatus.SOURCE_CANCELLING
                assert message.subscription_manager.identifier == granted.subscription_manager.identifier
                assert message.reasons
                assert message.reasons[0].text.strip()
                _, gone = await call(http, dev.service_url, manager_request(GetStatus, granted))
                assert_wse_fault(gone, "InvalidMessage", "Sender")
        finally:
            await sink.close()

    run(body)


# --- jobs, reboot, clock ---------------------------------------------------------------------------


def _job_key(item: Received) -> str | int | None:
    m = item.message
    if isinstance(m, PostScanJobStatusEvent):
        return m.job_status.job_token
    if isinstance(m, JobStatusEvent):
        return m.job_status.job_id
    return None


async def _active(http: aiohttp.ClientSession, dev: SimDevice) -> set[str | int]:
    if dev.role is Role.SCAN_SERVER:
        _, answer = await call(http, dev.service_url, DscGetActiveJobs(Headers.request(dev.service_url)))
        assert isinstance(answer, DscActiveJobs)
        return {j.job_token for j in answer.jobs}
    _, scan_answer = await call(http, dev.service_url, ScanGetActiveJobs(Headers.request(dev.service_url)))
    assert isinstance(scan_answer, ScanActiveJobs)
    return {j.job_id for j in scan_answer.jobs}


@pytest.mark.parametrize("role", ROLES)
def test_stuck_job_is_reported_once_and_stays_active_while_other_jobs_end(role: Role) -> None:
    async def body() -> None:
        sink = await Sink().start()
        try:
            async with Simulator(sim_config(role, "stuck-job")) as sim, aiohttp.ClientSession() as http:
                dev = sim.devices[0]
                _, granted = await call(http, dev.service_url, subscribe(dev, sink, "/j"))
                assert isinstance(granted, SubscribeResponse)
                first = await sink.until(lambda i: _job_key(i) is not None, timeout=5)
                stuck = _job_key(first)
                assert isinstance(first.message, PostScanJobStatusEvent | JobStatusEvent)
                assert first.message.job_status.job_state == JobState.PROCESSING
                plan = JobPlan(images=1) if role is Role.SCAN_SERVER else ScanJobPlan(scans=1)
                others = [dev.submit_job(plan) for _ in range(2)]
                await asyncio.wait_for(asyncio.gather(*(job.wait() for job in others)), 10)
                await asyncio.sleep(0.5)  # the others' last notifications are delivered
                assert await _active(http, dev) == {stuck}
                about_stuck = [i for i in sink.received if _job_key(i) == stuck]
                assert about_stuck == [first]
                assert len([i for i in sink.received if _job_key(i) not in (None, stuck)]) > 2
        finally:
            await sink.close()

    run(body)


def test_reboot_after_gives_a_new_instance_id_the_same_endpoint_and_drops_subscriptions() -> None:
    async def body() -> None:
        sink = await Sink().start()
        try:
            async with (
                Simulator(sim_config(Role.BOTH, "reboot-after=1")) as sim,
                aiohttp.ClientSession() as http,
            ):
                before = {}
                for _, m in await ask(sim, Probe(multicast_headers()), expect=2):
                    assert isinstance(m, ProbeMatches)
                    assert m.header.app_sequence is not None
                    before[m.matches[0].address] = m.header.app_sequence.instance_id
                grants = []
                for dev in sim.devices:
                    _, granted = await call(http, dev.service_url, subscribe(dev, sink, f"/{dev.role}"))
                    assert isinstance(granted, SubscribeResponse)
                    grants.append((dev, granted))
                await asyncio.sleep(1.5)
                after = {}
                for _, m in await ask(sim, Probe(multicast_headers()), expect=2):
                    assert isinstance(m, ProbeMatches)
                    assert m.header.app_sequence is not None
                    after[m.matches[0].address] = m.header.app_sequence.instance_id
                assert set(after) == set(before) == {d.endpoint for d in sim.devices}
                for endpoint, instance in after.items():
                    assert instance > before[endpoint]
                for dev, granted in grants:
                    _, gone = await call(http, dev.service_url, manager_request(GetStatus, granted))
                    assert_wse_fault(gone, "InvalidMessage", "Sender")
                # Dropped silently, as a power cut does: no SubscriptionEnd.
                assert not [i for i in sink.received if isinstance(i.message, SubscriptionEnd)]
        finally:
            await sink.close()

    run(body)


def _hours_ahead(value: datetime | None) -> float:
    assert value is not None
    assert value.tzinfo is not None
    return (value - datetime.now().astimezone()).total_seconds() / 3600


@pytest.mark.parametrize("role", ROLES)
def test_clock_offset_shifts_the_times_the_device_sends(role: Role) -> None:
    async def body() -> None:
        sink = await Sink().start()
        try:
            config = sim_config(role, "clock-offset=3600", time_scale=1.0)
            async with Simulator(config) as sim, aiohttp.ClientSession() as http:
                dev = sim.devices[0]
                await call(http, dev.service_url, subscribe(dev, sink, "/c"))
                dev.submit_job(JobPlan() if role is Role.SCAN_SERVER else ScanJobPlan())
                item = await sink.until(lambda i: _job_key(i) is not None, timeout=5)
                assert isinstance(item.message, PostScanJobStatusEvent | JobStatusEvent)
                assert _hours_ahead(item.message.job_status.job_created_time) == pytest.approx(1.0, abs=0.02)
                if role is Role.SCAN_DEVICE:
                    request = GetScannerElementsRequest(
                        Headers.request(dev.service_url), (QName(ns.WSCN, "ScannerStatus"),)
                    )
                    _, answer = await call(http, dev.service_url, request)
                    assert isinstance(answer, GetScannerElementsResponse)
                    (element,) = answer.elements
                    assert isinstance(element.content, ScannerStatus)
                    assert _hours_ahead(element.content.scanner_current_time) == pytest.approx(1.0, abs=0.02)
        finally:
            await sink.close()

    run(body)


# How long each fault runs beside the steady scenario after the subscriptions: every fault's own
# time (0.2 s, 0.5 s, 1 s below) falls well inside it.
BESIDE_STEADY_S = 1.5
EVERY_FAULT = [
    "directed-only",
    "no-probe-match",
    "late-probe=0.2",
    "multicast-stop=0.5",
    "xaddr-host=printer.example",
    "print-only",
    "subscriber-limit=1",
    "renew-refused",
    "short-grant=1",
    "subscription-end=0.5",
    "stuck-job",
    "reboot-after=0.5",
    "clock-offset=-7200",
]


@pytest.mark.parametrize("fault", EVERY_FAULT)
def test_every_fault_runs_beside_the_steady_scenario_on_both_roles_without_an_error(
    fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def body() -> None:
        sink = await Sink().start()
        config = dataclasses.replace(sim_config(Role.BOTH, fault), scenario=Scenario.STEADY, rate=5.0)
        try:
            async with Simulator(config) as sim, aiohttp.ClientSession() as http:
                for dev in sim.devices:
                    await call(http, dev.service_url, subscribe(dev, sink, f"/{dev.role}"))
                # A directed Probe beside the steady jobs, within the run (its answers vary by fault).
                probe = ask(sim, Probe(multicast_headers()), expect=0)
                await asyncio.gather(probe, asyncio.sleep(BESIDE_STEADY_S))
        finally:
            await sink.close()

    with caplog.at_level(logging.WARNING, logger="wsdmon.simulator"):
        run(body)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
