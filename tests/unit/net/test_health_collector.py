"""The health evidence collector (net/health.py) fed as the engine's hooks feed it, with a clock the
test moves: sightings and latencies, the receiving interface, address changes and shared addresses,
a URL-added device merged into its endpoint, Subscribe/Renew outcomes, faults, bounded histories."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wsdmon.core.device_evidence import HISTORY_MAX, FoundBy, SubscriptionEventKind
from wsdmon.core.device_status import DeviceError, DeviceErrorKind
from wsdmon.core.health import DeviceHealth, HealthCheck, HealthFinding
from wsdmon.core.health_evaluate import STUCK_JOB_S
from wsdmon.core.jobs import JobRecord, JobTable, Observation, ObservationKind
from wsdmon.core.selfcheck import Verdict
from wsdmon.net.health import RECENT_JOBS, HealthCollector, HealthMonitor, Network
from wsdmon.protocol import EndpointReference, Fault, Headers, QName, decode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import FilterStatus, JobStatus
from wsdmon.protocol.eventing import Filter, Renew, RenewResponse, Subscribe, SubscribeResponse
from wsdmon.protocol.metadata import GetMetadataResponse, TransferGet

DATA = Path(__file__).resolve().parents[2] / "data" / "valid"
T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
EP = "urn:uuid:00000000-0000-0000-0000-000000000001"
SERVICE = "http://192.168.1.20:5357/scan"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def lan() -> list[Network]:
    return [ipaddress.ip_interface("192.168.1.5/24"), ipaddress.ip_interface("127.0.0.1/8")]


def collector() -> tuple[HealthCollector, Clock, list[str]]:
    clock = Clock()
    changed: list[str] = []
    return HealthCollector(clock, networks=lan, on_change=changed.append), clock, changed


def test_probe_match_latency_interface_and_counts() -> None:
    c, clock, changed = collector()
    c.multicast_probe_sent()
    clock.advance(0.25)
    c.discovered(EP, FoundBy.PROBE_MATCH, peer="192.168.1.20", xaddrs=("http://192.168.1.20:5357/d",))
    clock.advance(10)
    c.discovered(EP, FoundBy.HELLO, peer="192.168.1.20", xaddrs=("http://192.168.1.20:5357/d",))
    ev = c.evidence(EP)
    assert (ev.probe_matches, ev.hellos, ev.directed_matches) == (1, 1, 0)
    assert ev.sightings[0].latency_s == 0.25
    assert ev.sightings[0].interface == "192.168.1.5/24"
    assert ev.last_multicast_at == T0 + timedelta(seconds=10.25)
    assert ev.multicast_probes == (T0,)
    assert [s.how for s in ev.first_sightings] == [FoundBy.PROBE_MATCH, FoundBy.HELLO]
    assert changed == [EP, EP]


def test_a_peer_on_no_local_subnet_has_no_interface_and_directed_latency() -> None:
    c, clock, _ = collector()
    c.directed_probe_sent("10.9.9.9")
    clock.advance(1.5)
    c.discovered(EP, FoundBy.DIRECTED, peer="10.9.9.9", xaddrs=("http://10.9.9.9/",))
    [seen] = c.evidence(EP).sightings
    assert (seen.interface, seen.latency_s) == ("", 1.5)


def test_address_change_and_a_new_endpoint_at_a_known_address() -> None:
    c, clock, _ = collector()
    c.discovered(EP, FoundBy.HELLO, peer="192.168.1.20", xaddrs=("http://192.168.1.20:5357/d",))
    clock.advance(60)
    c.discovered(EP, FoundBy.HELLO, peer="192.168.1.21", xaddrs=("http://192.168.1.21:5357/d",))
    [change] = c.evidence(EP).address_changes
    assert (change.old, change.new) == ("192.168.1.20", "192.168.1.21")
    other = "urn:uuid:other"
    c.discovered(other, FoundBy.HELLO, peer="192.168.1.20", xaddrs=("http://192.168.1.20:5357/d",))
    [mine] = c.evidence(EP).shared
    [theirs] = c.evidence(other).shared
    assert (mine.address, mine.other) == ("192.168.1.20:5357", other)
    assert theirs.other == EP


def test_one_hello_per_address_is_no_move() -> None:
    """wsdd announces each address of its interface in a Hello of its own, moments apart."""
    c, clock, _ = collector()
    for _ in range(3):
        c.discovered(EP, FoundBy.HELLO, peer="192.168.1.20", xaddrs=("http://192.168.1.20:5357/d",))
        clock.advance(0.01)
        c.discovered(EP, FoundBy.HELLO, peer="192.168.1.21", xaddrs=("http://192.168.1.21:5357/d",))
        clock.advance(400)  # answering each re-probe on both
    assert c.evidence(EP).address_changes == ()
    # a Bye, then a Hello at an address it never had: moved
    c.left(EP)
    clock.advance(2)
    c.discovered(EP, FoundBy.HELLO, peer="192.168.1.30", xaddrs=("http://192.168.1.30:5357/d",))
    [change] = c.evidence(EP).address_changes
    assert change.new == "192.168.1.30"


def test_two_devices_alive_on_one_host_do_not_share_an_address() -> None:
    """A DSM server and a scanner on one host (the simulator's --role both, a PC): no duplicate."""
    c, clock, _ = collector()
    c.discovered(EP, FoundBy.HELLO, peer="192.168.1.20", xaddrs=("http://192.168.1.20:5001/a",))
    clock.advance(5)
    c.discovered("urn:uuid:b", FoundBy.HELLO, peer="192.168.1.20", xaddrs=("http://192.168.1.20:5002/b",))
    assert c.evidence(EP).shared == c.evidence("urn:uuid:b").shared == ()
    # ones silent for long are gone: a newcomer at their address is a duplicate
    clock.advance(3600)
    c.discovered("urn:uuid:c", FoundBy.HELLO, peer="192.168.1.20", xaddrs=("http://192.168.1.20:5003/c",))
    assert {s.other for s in c.evidence("urn:uuid:c").shared} == {EP, "urn:uuid:b"}


def test_a_directed_probe_counts_for_the_device_at_that_host() -> None:
    c, clock, changed = collector()
    c.discovered(EP, FoundBy.HELLO, peer="192.168.1.20", xaddrs=("http://192.168.1.20:5357/d",))
    clock.advance(1)
    c.directed_probe_sent("192.168.1.20")
    c.directed_probe_sent("192.168.1.99")
    assert c.evidence(EP).directed_probes == (T0 + timedelta(seconds=1),)
    assert changed[-1] == EP


def test_restart_and_bye() -> None:
    c, clock, _ = collector()
    c.discovered(EP, FoundBy.HELLO, instance_id=1)
    c.discovered(EP, FoundBy.PROBE_MATCH, instance_id=7)  # a responder's InstanceId: not a restart
    clock.advance(1)
    c.discovered(EP, FoundBy.HELLO, instance_id=2)
    clock.advance(4)
    c.left(EP)
    ev = c.evidence(EP)
    assert ev.reboots == (T0 + timedelta(seconds=1),)
    assert ev.left_at == ev.last_multicast_at == T0 + timedelta(seconds=5)


def test_a_device_added_by_url_becomes_its_endpoint_without_sharing_its_own_address() -> None:
    c, _, _ = collector()
    answer = decode((DATA / "getresponse-scan-repository.xml").read_bytes())
    assert isinstance(answer, GetMetadataResponse)
    assert answer.host is not None
    real = answer.host.address
    url = "http://192.168.1.20:5357/device"
    c.discovered(url, FoundBy.URL, xaddrs=(url,))
    c.request_ok(url, url, TransferGet(Headers.request(url)), answer)
    assert c.endpoints() == [real]
    ev = c.evidence(real)
    assert [s.how for s in ev.sightings] == [FoundBy.URL]
    assert ev.metadata is not None
    assert ev.metadata.scan_service
    assert ev.metadata.services
    assert ev.last_http_ok_at == T0
    c.discovered(real, FoundBy.PROBE_MATCH, peer="192.168.1.20", xaddrs=(url,))
    assert c.evidence(real).shared == ()


def test_subscribe_grant_renew_fault_and_failure() -> None:
    c, clock, _ = collector()
    epr = EndpointReference("http://192.168.1.5:6200/x", "urn:uuid:id")
    subscribe = Subscribe(
        Headers.request(SERVICE), notify_to=epr, expires=timedelta(hours=1), filter=Filter(("a",))
    )
    manager = EndpointReference("http://192.168.1.20:5357/manager", "uuid:sub-1")
    granted = SubscribeResponse(
        Headers.reply(None), subscription_manager=manager, expires=timedelta(minutes=5)
    )
    c.request_ok(EP, SERVICE, subscribe, granted)
    clock.advance(200)
    renew = Renew(Headers.request(manager.address, identifier=manager.identifier), timedelta(hours=1))
    fault = Fault(Headers.reply(None), "Receiver", QName(ns.WSE, "UnableToRenew"), "no")
    c.request_fault(
        EP, manager.address, renew, fault, DeviceError(DeviceErrorKind.SOAP_FAULT, manager.address)
    )
    clock.advance(1)
    c.request_ok(EP, manager.address, renew, RenewResponse(Headers.reply(None), timedelta(minutes=5)))
    clock.advance(1)
    c.request_failed(EP, SERVICE, subscribe, DeviceError(DeviceErrorKind.TIMEOUT, SERVICE))
    ev = c.evidence(EP)
    kinds = [(e.kind, e.service) for e in ev.subscription]
    k = SubscriptionEventKind
    # Renew goes to the manager, yet counts for the service it was subscribed to
    assert kinds == [
        (k.GRANTED, SERVICE),
        (k.RENEW_FAULT, SERVICE),
        (k.RENEWED, SERVICE),
        (k.FAILED, SERVICE),
    ]
    assert ev.subscription[0].seconds == 300
    assert ev.subscription[1].code == "UnableToRenew"
    assert ev.fault_count == 1
    assert ev.faults[0].code == "UnableToRenew"
    assert ev.last_http_error is not None
    assert ev.last_http_error.kind is DeviceErrorKind.TIMEOUT


def test_histories_are_bounded_and_counts_keep_counting() -> None:
    c, clock, _ = collector()
    for _ in range(HISTORY_MAX * 3):
        clock.advance(1)
        c.discovered(EP, FoundBy.HELLO, peer="192.168.1.20")
        c.multicast_probe_sent()
    ev = c.evidence(EP)
    assert len(ev.sightings) == HISTORY_MAX
    assert len(ev.multicast_probes) == HISTORY_MAX
    assert ev.hellos == HISTORY_MAX * 3
    assert ev.first_sightings[0].at == T0 + timedelta(seconds=1)


def test_a_failed_metadata_read_is_kept_as_the_latest() -> None:
    c, _, _ = collector()
    url = "http://127.0.0.1:1/"
    error = DeviceError(DeviceErrorKind.UNREACHABLE, url, reason="Connection refused")
    c.request_failed(url, url, TransferGet(Headers.request(url)), error)
    read = c.evidence(url).metadata
    assert read is not None
    assert read.error == error


def _job(token: str, state: str, at: datetime) -> JobRecord:
    status = JobStatus(token, state, (), (FilterStatus("urn:f", "Pending"),), 0)
    return JobTable().apply(Observation(ObservationKind.STATUS_EVENT, EP, status, at)).record


def test_the_monitor_reports_changes_only_and_keeps_a_bounded_job_index() -> None:
    clock = Clock()
    sent: list[DeviceHealth] = []
    monitor = HealthMonitor(
        clock,
        jobs=list,
        devices=lambda: [EP],
        emit=sent.append,
        networks=lan,
        interval_s=0.05,
        coalesce_s=0.01,
    )

    async def body() -> None:
        monitor.start()
        try:
            await asyncio.sleep(0.2)  # the first round and a few timer rounds: one report, not one per round
            assert len(sent) == 1
            assert sent[0].verdict is Verdict.UNKNOWN
            monitor.collector.discovered(EP, FoundBy.URL, xaddrs=("http://192.168.1.20/",))
            await asyncio.sleep(0.1)
            assert len(sent) == 2  # the discovery finding changed
            stuck = _job("stuck", "Processing", clock.now)
            monitor.job_changed(stuck)
            for n in range(RECENT_JOBS + 50):
                monitor.job_changed(_job(f"done-{n}", "Completed", clock.now))
            clock.advance(STUCK_JOB_S + 1)
            await asyncio.sleep(0.1)  # no new message: the timer finds it
            jobs = sent[-1].result(HealthCheck.JOBS)
            assert jobs is not None
            assert jobs.finding is HealthFinding.JOBS_STUCK
            assert jobs.evidence.jobs == (stuck.key,)
            assert jobs.evidence.count == 1
            index = monitor._jobs_of(EP)  # the unfinished job and the most recent finished ones
            assert len(index) == RECENT_JOBS + 1
            assert stuck in index
        finally:
            await monitor.stop()

    asyncio.run(body())
