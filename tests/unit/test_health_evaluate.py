"""evaluate(evidence, jobs, now): each finding from constructed evidence, and no false alarms for a
healthy device or one nothing is known of yet."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from wsdmon.core import DeviceError, DeviceErrorKind, JobRecord, JobTable, Observation, ObservationKind
from wsdmon.core.device_evidence import (
    AddressChange,
    DeviceEvidence,
    FaultSeen,
    FoundBy,
    MetadataRead,
    SharedAddress,
    Sighting,
    SubscriptionEvent,
    SubscriptionEventKind,
)
from wsdmon.core.health import HealthCheck, HealthFinding
from wsdmon.core.health_evaluate import (
    CLOCK_OFFSET_WARN_S,
    MULTICAST_SILENCE_S,
    SHORT_GRANT_S,
    STUCK_JOB_S,
    evaluate,
)
from wsdmon.core.selfcheck import Verdict
from wsdmon.protocol.dsm import FilterStatus, JobState, JobStatus

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
EP = "urn:uuid:00000000-0000-0000-0000-000000000001"
SERVICE = "http://192.168.1.20:5357/scan"
XADDR = "http://192.168.1.20:5357/device"
LAN = "192.168.1.5/24"
K = SubscriptionEventKind


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def hello(t: float = 0.0, **kw: object) -> Sighting:
    return Sighting(at(t), FoundBy.HELLO, peer="192.168.1.20", interface=LAN, xaddrs=(XADDR,), **kw)  # type: ignore[arg-type]


def match(t: float, latency: float = 0.05) -> Sighting:
    return Sighting(at(t), FoundBy.PROBE_MATCH, "192.168.1.20", LAN, (XADDR,), latency_s=latency)


def grant(t: float, seconds: float = 3600.0) -> SubscriptionEvent:
    return SubscriptionEvent(at(t), K.GRANTED, SERVICE, seconds=seconds, expires_at=at(t + seconds))


HEALTHY = DeviceEvidence(
    EP,
    sightings=(hello(0), match(1)),
    first_sightings=(hello(0), match(1)),
    hellos=1,
    probe_matches=1,
    multicast_probes=(at(0.95),),
    last_multicast_at=at(1),
    last_http_ok_at=at(3),
    xaddrs=(XADDR,),
    metadata=MetadataRead(at(2), services=("{wscn}ScannerServiceType",), scan_service=True),
    subscription=(grant(3),),
)


def job(
    created: float | None,
    first: float,
    kind: ObservationKind = ObservationKind.STATUS_EVENT,
    *,
    ended: float = 0,
) -> JobRecord:
    table = JobTable()
    status = JobStatus(
        "job-1",
        JobState.PROCESSING,
        (),
        (FilterStatus("urn:f", "Pending"),),
        0,
        job_created_time=at(created) if created is not None else None,
    )
    record = table.apply(Observation(kind, EP, status, at(first), "urn:uuid:m1", 7)).record
    if ended:
        done = dataclasses.replace(status, job_state=JobState.COMPLETED, job_completed_time=at(ended))
        obs = Observation(ObservationKind.END_STATE_EVENT, EP, done, at(first + 5), "urn:uuid:m2", 8)
        record = table.apply(obs).record
    return record


def results(
    ev: DeviceEvidence, jobs: list[JobRecord] | None = None, now: float = 10.0
) -> dict[HealthCheck, tuple[Verdict, HealthFinding]]:
    health = evaluate(ev, jobs or [], at(now))
    assert [r.check for r in health.results] == list(HealthCheck)  # one each, in enum order
    return {r.check: (r.verdict, r.finding) for r in health.results}


def test_nothing_known_is_all_unknown_never_an_alarm() -> None:
    found = results(DeviceEvidence(EP))
    assert set(found.values()) == {(Verdict.UNKNOWN, HealthFinding.NOT_KNOWN_YET)}
    assert evaluate(DeviceEvidence(EP), [], at(0)).verdict is Verdict.UNKNOWN


def test_healthy_device_is_ok_or_unknown() -> None:
    found = results(HEALTHY)
    assert found[HealthCheck.DISCOVERY] == (Verdict.OK, HealthFinding.FOUND_BY_MULTICAST)
    assert found[HealthCheck.PROBE_REPLIES] == (Verdict.OK, HealthFinding.PROBE_REPLIES_ARRIVE)
    assert found[HealthCheck.MULTICAST] == (Verdict.OK, HealthFinding.MULTICAST_ARRIVES)
    assert found[HealthCheck.ADDRESSES] == (Verdict.OK, HealthFinding.ADDRESSES_OK)
    assert found[HealthCheck.IDENTITY] == (Verdict.OK, HealthFinding.IDENTITY_STABLE)
    assert found[HealthCheck.SCAN_SERVICE] == (Verdict.OK, HealthFinding.SCAN_SERVICE_PRESENT)
    assert found[HealthCheck.SUBSCRIPTION] == (Verdict.OK, HealthFinding.SUBSCRIPTION_ACTIVE)
    assert found[HealthCheck.FAULTS] == (Verdict.OK, HealthFinding.NO_FAULTS)
    assert found[HealthCheck.JOBS] == (Verdict.UNKNOWN, HealthFinding.NOT_KNOWN_YET)  # no jobs yet
    assert found[HealthCheck.CLOCK] == (Verdict.UNKNOWN, HealthFinding.NOT_KNOWN_YET)
    # What could be told is fine; jobs and clock wait for a job: the device shows ok, not "not known".
    assert evaluate(HEALTHY, [], at(10)).verdict is Verdict.OK


@pytest.mark.parametrize(("how", "finding"), [
    (FoundBy.URL, HealthFinding.FOUND_BY_URL_ONLY),
    (FoundBy.DIRECTED, HealthFinding.FOUND_BY_DIRECTED_PROBE_ONLY),
])  # fmt: skip
def test_found_without_multicast(how: FoundBy, finding: HealthFinding) -> None:
    seen = Sighting(at(0), how, xaddrs=(XADDR,))
    alone = DeviceEvidence(EP, sightings=(seen,), first_sightings=(seen,), xaddrs=(XADDR,))
    # no multicast discovery running: a fact, but nobody can tell whether multicast would find it
    assert results(alone)[HealthCheck.DISCOVERY] == (Verdict.UNKNOWN, finding)
    probed = dataclasses.replace(alone, multicast_probes=(at(1),))
    assert results(probed, now=4)[HealthCheck.DISCOVERY] == (Verdict.UNKNOWN, finding)  # still waiting
    assert results(probed, now=6)[HealthCheck.DISCOVERY] == (Verdict.WARNING, finding)
    # listening well before it was found: its Hello or its answer would have come by now
    earlier = dataclasses.replace(alone, multicast_probes=(at(-2),))
    assert results(earlier, now=0.1)[HealthCheck.DISCOVERY] == (Verdict.WARNING, finding)


def test_hello_without_probe_match_is_a_problem_once_a_probe_went_unanswered() -> None:
    ev = DeviceEvidence(
        EP,
        sightings=(hello(0),),
        first_sightings=(hello(0),),
        hellos=1,
        last_multicast_at=at(0),
        xaddrs=(XADDR,),
    )
    assert results(ev)[HealthCheck.PROBE_REPLIES] == (Verdict.UNKNOWN, HealthFinding.NOT_KNOWN_YET)
    probed = dataclasses.replace(
        ev, multicast_probes=(at(-100), at(30))
    )  # the one before its Hello does not count
    assert results(probed, now=33)[HealthCheck.PROBE_REPLIES][0] is Verdict.UNKNOWN
    health = evaluate(probed, [], at(40))
    result = health.result(HealthCheck.PROBE_REPLIES)
    assert result is not None
    assert (result.verdict, result.finding) == (Verdict.PROBLEM, HealthFinding.HELLO_WITHOUT_PROBE_MATCH)
    assert result.evidence.count == 1
    # a probe sent to its address (--probe) that got no answer tells the same
    early = dataclasses.replace(ev, multicast_probes=(at(-1),))  # the round's probe came before it booted
    assert results(early, now=40)[HealthCheck.PROBE_REPLIES][0] is Verdict.UNKNOWN
    # a person's probe moments before its Hello (it was starting to listen) counts
    directed = dataclasses.replace(ev, directed_probes=(at(-0.02),))
    assert results(directed, now=25)[HealthCheck.PROBE_REPLIES] == (
        Verdict.PROBLEM,
        HealthFinding.HELLO_WITHOUT_PROBE_MATCH,
    )


def test_late_probe_replies_warn() -> None:
    late = dataclasses.replace(HEALTHY, sightings=(hello(0), match(1, latency=3.5)))
    assert results(late)[HealthCheck.PROBE_REPLIES] == (Verdict.WARNING, HealthFinding.PROBE_REPLIES_LATE)
    assert evaluate(late, [], at(10)).results[1].evidence.seconds == 3.5


def test_multicast_stopped_while_http_answers() -> None:
    later = MULTICAST_SILENCE_S + 100
    ev = dataclasses.replace(
        HEALTHY, multicast_probes=(at(0.95), at(later - 10)), last_http_ok_at=at(later - 5)
    )
    assert results(ev, now=later)[HealthCheck.MULTICAST] == (Verdict.PROBLEM, HealthFinding.MULTICAST_STOPPED)
    # silent for less than two re-probe periods: a present device need not have said anything
    assert results(ev, now=MULTICAST_SILENCE_S - 10)[HealthCheck.MULTICAST] == (
        Verdict.OK,
        HealthFinding.MULTICAST_ARRIVES,
    )
    # HTTP silent too: the device is off, not the switch cutting multicast
    off = dataclasses.replace(ev, last_http_ok_at=at(0.5))
    assert results(off, now=later)[HealthCheck.MULTICAST][0] is Verdict.OK
    # it said Bye
    left = dataclasses.replace(ev, left_at=at(50))
    assert results(left, now=later)[HealthCheck.MULTICAST][0] is Verdict.OK


@pytest.mark.parametrize(("xaddr", "verdict", "finding"), [
    ("http://10.9.9.9:5357/device", Verdict.WARNING, HealthFinding.ADDRESS_OFF_SUBNET),
    ("http://printer.local:5357/device", Verdict.WARNING, HealthFinding.ADDRESS_HOST_NAME),
    ("http://[fe80::1]:5357/device", Verdict.PROBLEM, HealthFinding.ADDRESS_LINK_LOCAL_NO_ZONE),
])  # fmt: skip
def test_address_findings(xaddr: str, verdict: Verdict, finding: HealthFinding) -> None:
    unread = MetadataRead(at(2), error=DeviceError(DeviceErrorKind.UNREACHABLE, xaddr, reason="No route"))
    ev = dataclasses.replace(HEALTHY, xaddrs=(xaddr,), metadata=unread)
    assert results(ev)[HealthCheck.ADDRESSES] == (verdict, finding)
    result = evaluate(ev, [], at(10)).result(HealthCheck.ADDRESSES)
    assert result is not None
    # the flagged XAddr first, then where it was heard from
    assert result.evidence.addresses == (xaddr, "192.168.1.20")


def test_a_link_local_address_beside_a_usable_one_is_no_alarm() -> None:
    ev = dataclasses.replace(HEALTHY, xaddrs=("http://[fe80::1]:5357/device", XADDR))
    assert results(ev)[HealthCheck.ADDRESSES] == (Verdict.OK, HealthFinding.ADDRESSES_OK)


def test_off_subnet_needs_a_multicast_sighting_on_that_interface() -> None:
    seen = Sighting(at(0), FoundBy.DIRECTED, peer="10.9.9.9", xaddrs=("http://10.9.9.9/",))
    ev = DeviceEvidence(EP, sightings=(seen,), first_sightings=(seen,), xaddrs=("http://10.9.9.9/",))
    assert results(ev)[HealthCheck.ADDRESSES] == (Verdict.OK, HealthFinding.ADDRESSES_OK)


def test_identity_findings() -> None:
    moved = dataclasses.replace(
        HEALTHY, address_changes=(AddressChange(at(5), "192.168.1.20", "192.168.1.21"),)
    )
    assert results(moved)[HealthCheck.IDENTITY] == (Verdict.WARNING, HealthFinding.ADDRESS_CHANGED)
    shared = dataclasses.replace(
        HEALTHY, shared=(SharedAddress(at(5), "192.168.1.20:5357", "urn:uuid:other"),)
    )
    health = evaluate(shared, [], at(10))
    result = health.result(HealthCheck.IDENTITY)
    assert result is not None
    assert (result.verdict, result.finding) == (Verdict.WARNING, HealthFinding.ADDRESS_SHARED)
    assert result.evidence.endpoints == ("urn:uuid:other",)
    rebooted = dataclasses.replace(HEALTHY, reboots=(at(5),))
    assert results(rebooted)[HealthCheck.IDENTITY] == (Verdict.WARNING, HealthFinding.REBOOTED)
    assert results(rebooted, now=7200)[HealthCheck.IDENTITY] == (Verdict.OK, HealthFinding.REBOOTED)


def test_scan_service_findings() -> None:
    pri = "{http://schemas.microsoft.com/windows/2006/08/wdp/print}PrinterServiceType"
    printer = dataclasses.replace(HEALTHY, metadata=MetadataRead(at(2), services=(pri,)))
    # met on the network: a plain printer may well be one
    assert results(printer)[HealthCheck.SCAN_SERVICE] == (Verdict.WARNING, HealthFinding.PRINT_ONLY)
    # given by URL (or --probe): someone wants it to scan
    url = Sighting(at(0), FoundBy.URL, xaddrs=(XADDR,))
    wanted = dataclasses.replace(printer, first_sightings=(url,))
    assert results(wanted)[HealthCheck.SCAN_SERVICE] == (Verdict.PROBLEM, HealthFinding.PRINT_ONLY)
    computer = dataclasses.replace(HEALTHY, metadata=MetadataRead(at(2), services=("{pub}Computer",)))
    assert results(computer)[HealthCheck.SCAN_SERVICE] == (Verdict.OK, HealthFinding.NOT_A_SCANNER)
    error = DeviceError(DeviceErrorKind.UNREACHABLE, "http://127.0.0.1:1/", reason="Connection refused")
    unread = dataclasses.replace(HEALTHY, metadata=MetadataRead(at(2), error=error))
    assert results(unread)[HealthCheck.SCAN_SERVICE] == (Verdict.PROBLEM, HealthFinding.METADATA_UNREADABLE)
    result = evaluate(unread, [], at(10)).result(HealthCheck.SCAN_SERVICE)
    assert result is not None
    assert result.evidence.error == error


def sub(*events: SubscriptionEvent) -> DeviceEvidence:
    return dataclasses.replace(HEALTHY, subscription=events)


def test_subscription_findings() -> None:
    def fault(kind: SubscriptionEventKind, code: str, t: float = 4) -> SubscriptionEvent:
        return SubscriptionEvent(at(t), kind, SERVICE, code=code, reason="too many")

    check = HealthCheck.SUBSCRIPTION
    limit = sub(fault(K.SUBSCRIBE_FAULT, "EventSourceUnableToProcess"))
    assert results(limit)[check] == (Verdict.PROBLEM, HealthFinding.SUBSCRIPTION_LIMIT)
    refused = sub(fault(K.SUBSCRIBE_FAULT, "InvalidMessage"))
    assert results(refused)[check] == (Verdict.PROBLEM, HealthFinding.SUBSCRIPTION_REFUSED)
    renew = sub(grant(3, 20), fault(K.RENEW_FAULT, "UnableToRenew", 17), grant(18))
    assert results(renew)[check] == (Verdict.WARNING, HealthFinding.SUBSCRIPTION_RENEW_REFUSED)
    end = SubscriptionEvent(
        at(5), K.ENDED, SERVICE, code="http://x/DeliveryFailure", reason="gone", journal_id=9
    )
    ended = sub(grant(3), end)
    assert results(ended)[check] == (Verdict.WARNING, HealthFinding.SUBSCRIPTION_ENDED)
    result = evaluate(ended, [], at(10)).result(check)
    assert result is not None
    assert result.evidence.messages == (9,)
    shutdown = dataclasses.replace(
        end, code="http://schemas.xmlsoap.org/ws/2004/08/eventing/SourceShuttingDown"
    )
    assert results(sub(grant(3), shutdown))[check][0] is Verdict.OK
    short = sub(grant(3, SHORT_GRANT_S - 1))
    assert results(short)[check] == (Verdict.WARNING, HealthFinding.SUBSCRIPTION_SHORT_GRANT)
    lapsed = sub(grant(3, 60), SubscriptionEvent(at(55), K.FAILED, SERVICE))
    assert results(lapsed, now=100)[check] == (Verdict.PROBLEM, HealthFinding.SUBSCRIPTION_LAPSED)
    unknown_expiry = sub(grant(3, 60), SubscriptionEvent(at(40), K.RENEWED, SERVICE))
    assert results(unknown_expiry, now=200)[check] == (Verdict.OK, HealthFinding.SUBSCRIPTION_ACTIVE)
    renewed = sub(grant(3, 60), SubscriptionEvent(at(40), K.RENEWED, SERVICE, seconds=60, expires_at=at(100)))
    assert results(renewed, now=100)[check] == (Verdict.OK, HealthFinding.SUBSCRIPTION_ACTIVE)
    assert results(renewed, now=131)[check] == (Verdict.PROBLEM, HealthFinding.SUBSCRIPTION_LAPSED)
    stopped = sub(grant(3, 60), SubscriptionEvent(at(20), K.UNSUBSCRIBED, SERVICE))
    assert results(stopped, now=100)[check][0] is Verdict.OK  # we ended it ourselves


def test_faults_returned() -> None:
    ev = dataclasses.replace(
        HEALTHY,
        faults=(FaultSeen(at(4), "http://x/GetJobHistory", SERVICE, "InvalidArgs", "bad"),),
        fault_count=3,
    )
    result = evaluate(ev, [], at(10)).result(HealthCheck.FAULTS)
    assert result is not None
    assert (result.verdict, result.finding) == (Verdict.WARNING, HealthFinding.FAULTS_RETURNED)
    assert (result.evidence.count, result.evidence.code) == (3, "InvalidArgs")


def test_stuck_jobs() -> None:
    running = job(0, 1)
    assert results(HEALTHY, [running], now=60)[HealthCheck.JOBS] == (Verdict.OK, HealthFinding.JOBS_MOVING)
    found = evaluate(HEALTHY, [running], at(STUCK_JOB_S + 2)).result(HealthCheck.JOBS)
    assert found is not None
    assert (found.verdict, found.finding) == (Verdict.WARNING, HealthFinding.JOBS_STUCK)
    assert found.evidence.jobs == (running.key,)
    assert found.evidence.messages == (7,)
    done = job(0, 1, ended=5)
    assert results(HEALTHY, [done], now=STUCK_JOB_S * 3)[HealthCheck.JOBS][0] is Verdict.OK


def test_clock_offset_from_live_job_events() -> None:
    ahead = CLOCK_OFFSET_WARN_S + 60
    # created 6 min "in the future" by the device's clock, ended likewise
    skewed = job(ahead + 1, 1, ended=ahead + 6)
    found = evaluate(HEALTHY, [skewed], at(20)).result(HealthCheck.CLOCK)
    assert found is not None
    assert (found.verdict, found.finding) == (Verdict.WARNING, HealthFinding.CLOCK_OFFSET)
    assert found.evidence.seconds == pytest.approx(ahead)
    in_step = job(0.5, 1, ended=5.8)
    assert results(HEALTHY, [in_step], now=20)[HealthCheck.CLOCK] == (Verdict.OK, HealthFinding.CLOCK_IN_STEP)
    # a snapshot tells of a job created long ago: not a clock sample
    old = job(-86400, 1, ObservationKind.SNAPSHOT)
    assert results(HEALTHY, [old], now=20)[HealthCheck.CLOCK][0] is Verdict.UNKNOWN
