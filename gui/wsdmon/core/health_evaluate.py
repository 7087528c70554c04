"""Evidence → verdicts (issue 13, item 1): `evaluate(evidence, jobs, now)` judges one device, one
HealthResult per HealthCheck in enum order. Pure: no I/O, no clock (`now` is passed in), no words.

A check without evidence is UNKNOWN (not known yet), never a false alarm: each rule below names what
it needs before it may say WARNING or PROBLEM.
"""

from __future__ import annotations

import heapq
import ipaddress
import statistics
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from .device_evidence import DeviceEvidence, FoundBy, SubscriptionEvent, SubscriptionEventKind
from .health import DeviceHealth, HealthCheck, HealthEvidence, HealthFinding, HealthResult
from .jobs import JobRecord, ObservationKind
from .selfcheck import Verdict

__all__ = [
    "APP_REPLY_S",
    "CLOCK_OFFSET_WARN_S",
    "CLOCK_SAMPLE_JOBS",
    "LAPSE_GRACE_S",
    "MATCH_WAIT_S",
    "MULTICAST_SILENCE_S",
    "PROBE_LATE_S",
    "REBOOT_RECENT_S",
    "SHORT_GRANT_S",
    "STUCK_JOB_S",
    "SUBSCRIBER_LIMIT_FAULTS",
    "evaluate",
]

# How long after our Probe a match may still come: WS-Discovery clients wait MATCH_TIMEOUT (the
# engine's net.discovery.MATCH_TIMEOUT_S, 4 s); a Probe younger than this is not "unanswered" yet.
MATCH_WAIT_S = 4.0
# A target answers a multicast Probe after a random delay of at most APP_MAX_DELAY (500 ms,
# WS-Discovery 2005/04 §2.4); with a margin for the network, a device present for this long after our
# Probe went out has answered it, if multicast works.
APP_REPLY_S = 1.0
# A probe match later than this is a warning: Windows Firewall drops replies to a probe after about
# 4 s (issue 13), and a device answers within APP_MAX_DELAY (500 ms, WS-Discovery 2005/04 §2.4).
# `wsdmon doctor`'s directed probe uses this limit too (net.selfcheck.LATE_MATCH_S).
PROBE_LATE_S = 2.0
# IGMP snooping forgets a port's group membership after 2 × 125 s query interval + 10 s response
# (RFC 2236 §8 / RFC 3376 §8 defaults: 260 s), so a cut-off device falls silent within minutes. A
# present device answers our re-probe every 300 s ± 10 % (net.discovery.REPROBE_INTERVAL_S): silence
# past two such periods, while its HTTP still answers, is the switch cutting multicast off.
MULTICAST_SILENCE_S = 600.0
# A grant shorter than this makes us renew every half-minute (renewal at 50-70 %, RENEW_MARGIN_S
# 10 s: protocol/subscription.py); WSDAPI asks for an hour. Some devices drop such renewals under load.
SHORT_GRANT_S = 60.0
# A subscription is lapsed once its expiry is this far past without a renew or a new grant (the
# driver renews RENEW_MARGIN_S, 10 s, before expiry at the latest; a late answer gets a margin).
LAPSE_GRACE_S = 30.0
# WS-Eventing 2004/08 §4.6 EventSourceUnableToProcess is what devices answer when their subscriber
# table (often 10-20 entries) is full; the subcode local names taken to mean that.
SUBSCRIBER_LIMIT_FAULTS = frozenset({"EventSourceUnableToProcess"})
# A restart (new InstanceId) this recent is a warning: jobs running then are lost (issue 13).
REBOOT_RECENT_S = 3600.0
# An active job without progress and without an end state this long is stuck (issue 13: 10 min).
STUCK_JOB_S = 600.0
# A device clock this far from ours is a warning (issue 13: 5 min; Kerberos allows the same skew).
CLOCK_OFFSET_WARN_S = 300.0
CLOCK_SAMPLE_JOBS = 20  # the clock is judged on the most recently updated jobs: a clock set since counts

_Result = tuple[Verdict, HealthFinding, HealthEvidence]
_UNKNOWN: _Result = (Verdict.UNKNOWN, HealthFinding.NOT_KNOWN_YET, HealthEvidence())


def _unanswered_probes(ev: DeviceEvidence, after: datetime | None, now: datetime) -> list[datetime]:
    """Our multicast Probes sent after `after` (a moment the device was present) whose wait is
    over, and later than every multicast answer of the device."""
    last = ev.last_multicast_at
    wait = timedelta(seconds=MATCH_WAIT_S)
    return [
        p
        for p in ev.multicast_probes
        if (after is None or p > after) and p + wait <= now and (last is None or p > last)
    ]


def _discovery(ev: DeviceEvidence, jobs: Sequence[JobRecord], now: datetime) -> _Result:
    firsts = {s.how: s for s in ev.first_sightings}
    multicast = [s for s in ev.first_sightings if s.how.multicast]
    if multicast:
        first = min(multicast, key=lambda s: s.at)
        peers = tuple(dict.fromkeys(s.peer for s in ev.sightings if s.how.multicast and s.peer))
        said = HealthEvidence(
            first_at=first.at, last_at=ev.last_multicast_at, addresses=peers, interface=first.interface
        )
        return Verdict.OK, HealthFinding.FOUND_BY_MULTICAST, said
    only = firsts.get(FoundBy.DIRECTED) or firsts.get(FoundBy.URL)
    if only is None:
        return _UNKNOWN
    finding = (
        HealthFinding.FOUND_BY_DIRECTED_PROBE_ONLY
        if only.how is FoundBy.DIRECTED
        else HealthFinding.FOUND_BY_URL_ONLY
    )
    # A warning once multicast discovery has been running (a Probe of ours out, its wait over, or
    # sent well before the device was found otherwise): the device then either answered that Probe
    # or, if it came up later, said Hello; neither arrived. Without multicast running, nobody can tell.
    wait, reply = timedelta(seconds=MATCH_WAIT_S), timedelta(seconds=APP_REPLY_S)
    unanswered = [p for p in ev.multicast_probes if p + wait <= now or p + reply <= only.at]
    said = HealthEvidence(
        first_at=only.at, addresses=only.xaddrs or ((only.peer,) if only.peer else ()), count=len(unanswered)
    )
    return (Verdict.WARNING if unanswered else Verdict.UNKNOWN), finding, said


def _probe_replies(ev: DeviceEvidence, jobs: Sequence[JobRecord], now: datetime) -> _Result:
    latencies = [s.latency_s for s in ev.sightings if s.latency_s is not None]
    if ev.probe_matches or ev.directed_matches:
        late = [x for x in latencies if x > PROBE_LATE_S]
        matched = [s for s in ev.sightings if s.how in (FoundBy.PROBE_MATCH, FoundBy.DIRECTED)]
        said = HealthEvidence(
            last_at=matched[-1].at if matched else None,
            seconds=max(latencies) if latencies else None,
            count=ev.probe_matches + ev.directed_matches,
        )
        if late:
            return Verdict.WARNING, HealthFinding.PROBE_REPLIES_LATE, said
        return Verdict.OK, HealthFinding.PROBE_REPLIES_ARRIVE, said
    hellos = [s for s in ev.sightings if s.how is FoundBy.HELLO]
    if ev.hellos and hellos:
        # Its Hellos arrive, yet none of our Probes since it announced itself was answered: our
        # multicast ones sent after its first Hello, and those a person sent to its address even
        # moments before it (it was up: its Hello is sent once it listens; a multicast Probe of the
        # periodic round may simply have come before it booted).
        wait = timedelta(seconds=MATCH_WAIT_S)
        first = hellos[0].at
        unanswered = [p for p in ev.multicast_probes if p > first and p + wait <= now]
        unanswered += [p for p in ev.directed_probes if p > first - wait and p + wait <= now]
        if unanswered:
            said = HealthEvidence(first_at=hellos[0].at, last_at=hellos[-1].at, count=len(unanswered))
            return Verdict.PROBLEM, HealthFinding.HELLO_WITHOUT_PROBE_MATCH, said
    return _UNKNOWN


def _multicast(ev: DeviceEvidence, jobs: Sequence[JobRecord], now: datetime) -> _Result:
    last = ev.last_multicast_at
    if last is None:
        return _UNKNOWN
    silent_s = (now - last).total_seconds()
    unanswered = _unanswered_probes(ev, last, now)
    http = ev.last_http_ok_at
    said = HealthEvidence(last_at=last, seconds=silent_s, count=len(unanswered))
    gone = ev.left_at is not None and ev.left_at >= last
    if silent_s > MULTICAST_SILENCE_S and http is not None and http > last and not gone:
        return Verdict.PROBLEM, HealthFinding.MULTICAST_STOPPED, said
    return Verdict.OK, HealthFinding.MULTICAST_ARRIVES, said


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _addresses(ev: DeviceEvidence, jobs: Sequence[JobRecord], now: datetime) -> _Result:
    peers = tuple(dict.fromkeys(s.peer for s in ev.sightings if s.peer))
    if not ev.xaddrs:
        return (Verdict.UNKNOWN, HealthFinding.NOT_KNOWN_YET, HealthEvidence(addresses=peers))
    multicast = ev.multicast_sightings
    interface = multicast[-1].interface if multicast else ""
    network = None
    if interface:
        try:
            network = ipaddress.ip_interface(interface).network
        except ValueError:
            network = None
    off, named, no_zone = [], [], []
    for url in ev.xaddrs:
        host = _host(url)
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if host and "%" not in host:
                named.append(url)
            continue
        if isinstance(ip, ipaddress.IPv6Address) and ip.is_link_local:
            no_zone.append(url)  # a zone (%eth0) is never sent: the URL cannot name the interface
        elif network is not None and ip.version == network.version and ip not in network:
            # Only for a device heard by multicast on that interface (on our link): a routed device
            # found by URL or directed probe is rightly on another subnet.
            off.append(url)

    def said(flagged: list[str]) -> HealthEvidence:
        # The flagged XAddrs first, then the rest and where its datagrams came from.
        everything = tuple(dict.fromkeys((*flagged, *ev.xaddrs, *peers)))
        return HealthEvidence(addresses=everything, interface=interface)

    unread = ev.metadata is not None and ev.metadata.error is not None
    if no_zone and (len(no_zone) == len(ev.xaddrs) or unread):
        return Verdict.PROBLEM, HealthFinding.ADDRESS_LINK_LOCAL_NO_ZONE, said(no_zone)
    if off:
        return Verdict.WARNING, HealthFinding.ADDRESS_OFF_SUBNET, said(off)
    if named:
        return Verdict.WARNING, HealthFinding.ADDRESS_HOST_NAME, said(named)
    return Verdict.OK, HealthFinding.ADDRESSES_OK, said([])


def _identity(ev: DeviceEvidence, jobs: Sequence[JobRecord], now: datetime) -> _Result:
    if ev.shared:
        last = ev.shared[-1]
        others = tuple(dict.fromkeys(s.other for s in ev.shared))
        said = HealthEvidence(last_at=last.at, addresses=(last.address,), endpoints=others)
        return Verdict.WARNING, HealthFinding.ADDRESS_SHARED, said
    if ev.address_changes:
        last_change = ev.address_changes[-1]
        said = HealthEvidence(
            last_at=last_change.at,
            addresses=(last_change.old, last_change.new),
            count=len(ev.address_changes),
        )
        return Verdict.WARNING, HealthFinding.ADDRESS_CHANGED, said
    if ev.reboots:
        recent = (now - ev.reboots[-1]).total_seconds() <= REBOOT_RECENT_S
        said = HealthEvidence(first_at=ev.reboots[0], last_at=ev.reboots[-1], count=len(ev.reboots))
        return (Verdict.WARNING if recent else Verdict.OK), HealthFinding.REBOOTED, said
    if ev.sightings:  # watched: a device known only from a record tells nothing of its restarts
        return Verdict.OK, HealthFinding.IDENTITY_STABLE, HealthEvidence(addresses=ev.xaddrs)
    return _UNKNOWN


_PRINT_SERVICE = "{http://schemas.microsoft.com/windows/2006/08/wdp/print}PrinterServiceType"
_SCAN_TYPES = (
    "{http://schemas.microsoft.com/windows/2006/08/wdp/scan}ScanDeviceType",
    "{http://schemas.microsoft.com/windows/2008/12/wdp/distributedscan/configuration}",
)


def _scan_service(ev: DeviceEvidence, jobs: Sequence[JobRecord], now: datetime) -> _Result:
    read = ev.metadata
    if read is None:
        return _UNKNOWN
    if read.error is not None:
        said = HealthEvidence(
            last_at=read.at, error=read.error, addresses=(read.error.url,) if read.error.url else ()
        )
        return Verdict.PROBLEM, HealthFinding.METADATA_UNREADABLE, said
    said = HealthEvidence(last_at=read.at, addresses=read.services)
    if read.scan_service:
        return Verdict.OK, HealthFinding.SCAN_SERVICE_PRESENT, said
    if _PRINT_SERVICE not in read.services:
        return Verdict.OK, HealthFinding.NOT_A_SCANNER, said  # a PC's wsdd, a NAS: not ours to judge
    # A printer without a scan service: WSD scanning is switched off, or it cannot scan. A problem
    # when someone pointed wsdmon at it (URL, --probe) or it announced itself as a scanner; a
    # warning for a printer merely met on the network (plain printers answer our Probes too).
    wanted = any(s.how in (FoundBy.URL, FoundBy.DIRECTED) for s in ev.first_sightings) or any(
        t.startswith(_SCAN_TYPES) for t in ev.types
    )
    return (Verdict.PROBLEM if wanted else Verdict.WARNING), HealthFinding.PRINT_ONLY, said


def _sub_said(e: SubscriptionEvent) -> HealthEvidence:
    return HealthEvidence(
        last_at=e.at,
        addresses=(e.service,),
        seconds=e.seconds,
        code=e.code,
        reason=e.reason,
        error=e.error,
        messages=(e.journal_id,) if e.journal_id is not None else (),
    )


_ENDED_NORMALLY = "SourceShuttingDown"  # the device is switching off: no fault of the subscription


def _subscription_of(events: list[SubscriptionEvent], ev: DeviceEvidence, now: datetime) -> _Result:
    """One service's subscription from its history (oldest first)."""
    k = SubscriptionEventKind
    latest = events[-1]
    if latest.kind is k.SUBSCRIBE_FAULT:
        finding = (
            HealthFinding.SUBSCRIPTION_LIMIT
            if latest.code in SUBSCRIBER_LIMIT_FAULTS
            else HealthFinding.SUBSCRIPTION_REFUSED
        )
        return Verdict.PROBLEM, finding, _sub_said(latest)
    grants = [e for e in events if e.kind in (k.GRANTED, k.RENEWED)]
    grant = grants[-1] if grants else None
    # A renewal that named no expiry leaves it unknown: no lapse can be told then.
    if grant is not None and grant.expires_at is not None:
        stopped = any(e.kind is k.UNSUBSCRIBED and e.at >= grant.at for e in events)
        left = ev.left_at is not None and ev.left_at >= grant.at
        if not stopped and not left and (now - grant.expires_at).total_seconds() > LAPSE_GRACE_S:
            return Verdict.PROBLEM, HealthFinding.SUBSCRIPTION_LAPSED, _sub_said(grant)
    refused = [e for e in events if e.kind is k.RENEW_FAULT]
    if refused:
        return Verdict.WARNING, HealthFinding.SUBSCRIPTION_RENEW_REFUSED, _sub_said(refused[-1])
    ended = [e for e in events if e.kind is k.ENDED and not e.code.endswith(_ENDED_NORMALLY)]
    if ended:
        return Verdict.WARNING, HealthFinding.SUBSCRIPTION_ENDED, _sub_said(ended[-1])
    granted = [e for e in events if e.kind is k.GRANTED and e.seconds is not None]
    if granted and granted[-1].seconds is not None and granted[-1].seconds < SHORT_GRANT_S:
        return Verdict.WARNING, HealthFinding.SUBSCRIPTION_SHORT_GRANT, _sub_said(granted[-1])
    if grant is not None:
        return Verdict.OK, HealthFinding.SUBSCRIPTION_ACTIVE, _sub_said(grant)
    return _UNKNOWN


_RANK = {Verdict.OK: 0, Verdict.UNKNOWN: 1, Verdict.WARNING: 2, Verdict.PROBLEM: 3}


def _subscription(ev: DeviceEvidence, jobs: Sequence[JobRecord], now: datetime) -> _Result:
    services: dict[str, list[SubscriptionEvent]] = {}
    for e in ev.subscription:
        services.setdefault(e.service, []).append(e)
    results = [_subscription_of(events, ev, now) for events in services.values()]
    if not results:
        return _UNKNOWN
    return max(results, key=lambda r: _RANK[r[0]])  # the worst service speaks for the device


def _faults(ev: DeviceEvidence, jobs: Sequence[JobRecord], now: datetime) -> _Result:
    if ev.faults:
        last = ev.faults[-1]
        said = HealthEvidence(
            first_at=ev.faults[0].at,
            last_at=last.at,
            count=ev.fault_count,
            code=last.code,
            reason=last.reason,
            addresses=(last.request,),
        )
        return Verdict.WARNING, HealthFinding.FAULTS_RETURNED, said
    if ev.last_http_ok_at is not None:
        return Verdict.OK, HealthFinding.NO_FAULTS, HealthEvidence(last_at=ev.last_http_ok_at)
    return _UNKNOWN


def _jobs(ev: DeviceEvidence, jobs: Sequence[JobRecord], now: datetime) -> _Result:
    if not jobs:
        return _UNKNOWN
    stuck = [j for j in jobs if j.is_active and (now - j.last_update).total_seconds() > STUCK_JOB_S]
    if stuck:
        oldest = min(stuck, key=lambda j: j.last_update)
        said = HealthEvidence(
            last_at=oldest.last_update,
            seconds=(now - oldest.last_update).total_seconds(),
            count=len(stuck),
            jobs=tuple(j.key for j in stuck),
            messages=tuple(e.journal_id for j in stuck for e in j.timeline[-1:] if e.journal_id is not None),
        )
        return Verdict.WARNING, HealthFinding.JOBS_STUCK, said
    return Verdict.OK, HealthFinding.JOBS_MOVING, HealthEvidence(count=len(jobs))


def _clock_samples(jobs: Sequence[JobRecord]) -> list[tuple[float, int | None]]:
    """(device time - arrival, journal id) from live events: an end-state event is sent as the job
    ends (JobCompletedTime), a job's first status event as it is created (JobCreatedTime). Snapshots
    tell of the past and times without a zone cannot be compared: both are left out."""
    samples: list[tuple[float, int | None]] = []
    for job in heapq.nlargest(CLOCK_SAMPLE_JOBS, jobs, key=lambda j: j.last_update):
        s = job.status
        entries = job.timeline
        end = next((e for e in entries if e.kind is ObservationKind.END_STATE_EVENT), None)
        if end is not None and s.job_completed_time is not None and s.job_completed_time.tzinfo is not None:
            samples.append(((s.job_completed_time - end.arrival).total_seconds(), end.journal_id))
        first = entries[0] if entries and job.timeline_dropped == 0 else None
        created = s.job_created_time
        if (
            first is not None
            and first.kind is ObservationKind.STATUS_EVENT
            and created is not None
            and created.tzinfo
        ):
            samples.append(((created - first.arrival).total_seconds(), first.journal_id))
    return samples


def _clock(ev: DeviceEvidence, jobs: Sequence[JobRecord], now: datetime) -> _Result:
    samples = _clock_samples(jobs)
    if not samples:
        return _UNKNOWN
    offset = statistics.median(x for x, _ in samples)
    ids = tuple(sorted(i for _, i in samples if i is not None))[-5:]
    said = HealthEvidence(seconds=offset, count=len(samples), messages=ids)
    if abs(offset) > CLOCK_OFFSET_WARN_S:
        return Verdict.WARNING, HealthFinding.CLOCK_OFFSET, said
    return Verdict.OK, HealthFinding.CLOCK_IN_STEP, said


_CHECKS: dict[HealthCheck, Callable[[DeviceEvidence, Sequence[JobRecord], datetime], _Result]] = {
    HealthCheck.DISCOVERY: _discovery,
    HealthCheck.PROBE_REPLIES: _probe_replies,
    HealthCheck.MULTICAST: _multicast,
    HealthCheck.ADDRESSES: _addresses,
    HealthCheck.IDENTITY: _identity,
    HealthCheck.SCAN_SERVICE: _scan_service,
    HealthCheck.SUBSCRIPTION: _subscription,
    HealthCheck.FAULTS: _faults,
    HealthCheck.JOBS: _jobs,
    HealthCheck.CLOCK: _clock,
}


def evaluate(evidence: DeviceEvidence, jobs: Sequence[JobRecord], now: datetime) -> DeviceHealth:
    """Every check of one device, in HealthCheck order; `jobs` are that device's jobs."""
    results = []
    for check in HealthCheck:
        verdict, finding, said = _CHECKS[check](evidence, jobs, now)
        results.append(HealthResult(check, verdict, finding, said))
    return DeviceHealth(evidence.endpoint, now, tuple(results))
