"""The words of a device's health (issue 13, item 1): each check's result (core.health) as a
sentence, its evidence and what to do next, as text lines or one JSON value. Used by `wsdmon doctor`
and the support bundle; the window words the same values through tr() and may reuse WORDS (a plain
dict HealthFinding → (sentence, advice) whose {fields} come from `fields(result)`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from wsdmon.core.health import DeviceHealth, HealthEvidence, HealthFinding, HealthResult
from wsdmon.core.selfcheck import Verdict

__all__ = [
    "WORDS",
    "advice",
    "any_problem",
    "duration",
    "evidence_text",
    "fields",
    "health_json",
    "health_text",
    "sentence",
]

_VERDICT = {
    Verdict.OK: "OK",
    Verdict.WARNING: "WARNING",
    Verdict.PROBLEM: "PROBLEM",
    Verdict.UNKNOWN: "NOT KNOWN",
}

F = HealthFinding
# Finding → (what was seen, what to do next). Fields: {first_at} {last_at} {addresses} {interface}
# {endpoints} {seconds} (a duration in words) {count} {code} {reason} {error} {direction}.
WORDS: dict[HealthFinding, tuple[str, str]] = {
    F.NOT_KNOWN_YET: ("not known yet: nothing seen so far tells", ""),
    F.FOUND_BY_MULTICAST: ("found by WS-Discovery multicast (first at {first_at}, from {addresses})", ""),
    F.FOUND_BY_DIRECTED_PROBE_ONLY: (
        "found only by a probe sent to its address, never by multicast discovery",
        "on this computer's subnet, check that multicast (UDP 3702 to 239.255.255.250) passes the "
        "switch, VLAN and firewalls; on another subnet this is expected: keep probing it with --probe",
    ),
    F.FOUND_BY_URL_ONLY: (
        "known only by the URL it was added with ({addresses}), never found by discovery",
        "to have it found on its own it must be on this computer's subnet with multicast (UDP 3702) "
        "passing the switch and firewalls; otherwise keep adding it by URL",
    ),
    F.PROBE_REPLIES_ARRIVE: (
        "its answers to our probes arrive ({count} so far, the slowest after {seconds})",
        "",
    ),
    F.HELLO_WITHOUT_PROBE_MATCH: (
        "its Hello announcements arrive, but no answer to our {count} probe(s) since did",
        "a firewall on this computer probably drops the answers (unicast UDP from port 3702 to a "
        "random port): allow incoming UDP from the device, or from source port 3702",
    ),
    F.PROBE_REPLIES_LATE: (
        "its answers to our probes arrive late (the slowest after {seconds})",
        "firewalls drop answers this late (Windows Firewall after about 4 s): check the device's "
        "load and the network between it and this computer",
    ),
    F.MULTICAST_ARRIVES: ("its multicast arrives (last at {last_at})", ""),
    F.MULTICAST_STOPPED: (
        "its multicast stopped {seconds} ago (last at {last_at}) while its HTTP still answers; "
        "{count} probe(s) went unanswered",
        "the switch's IGMP snooping probably cut it off: enable an IGMP querier on that VLAN, or "
        "switch IGMP snooping off there",
    ),
    F.ADDRESSES_OK: ("no flaw known in its addresses ({addresses})", ""),
    F.ADDRESS_OFF_SUBNET: (
        "it announces an address outside the subnet it was heard on ({addresses}; heard on {interface})",
        "correct the device's IP address and netmask (or its DHCP lease)",
    ),
    F.ADDRESS_HOST_NAME: (
        "it announces a host name instead of an address ({addresses})",
        "make sure this computer can resolve that name (DNS), or give the device a fixed IP address",
    ),
    F.ADDRESS_LINK_LOCAL_NO_ZONE: (
        "it announces only an IPv6 link-local address ({addresses}), unusable without naming the interface",
        "give the device an IPv4 or a global IPv6 address, or add it by URL with the zone (fe80::…%eth0)",
    ),
    F.IDENTITY_STABLE: ("one endpoint at one address; no restart seen", ""),
    F.ADDRESS_CHANGED: (
        "it moved to another address ({addresses}, last at {last_at})",
        "give it a fixed address or a DHCP reservation: scan destinations set up by address break",
    ),
    F.ADDRESS_SHARED: (
        "another endpoint was seen at its address {addresses} ({endpoints}, at {last_at})",
        "an old entry left after an IP change, or two devices on one address: remove the stale "
        "device, and check the network for an address conflict",
    ),
    F.REBOOTED: (
        "it restarted {count} time(s), last at {last_at}",
        "jobs running during a restart are lost; if it restarts often, check its power and firmware",
    ),
    F.SCAN_SERVICE_PRESENT: ("its metadata names a scan service", ""),
    F.PRINT_ONLY: (
        "its metadata names no scan service: it prints, but WSD scanning is off or missing",
        "switch WSD scanning (Web Services scan) on in the device's settings; a plain printer needs nothing",
    ),
    F.NOT_A_SCANNER: ("its metadata names neither a scan nor a print service: not a scanner", ""),
    F.METADATA_UNREADABLE: (
        "its metadata could not be read: {error}",
        "check that the device is on and reachable from this computer (address, routing, firewall)",
    ),
    F.SUBSCRIPTION_ACTIVE: ("subscribed to its events (granted for {seconds})", ""),
    F.SUBSCRIPTION_SHORT_GRANT: (
        "it grants event subscriptions for only {seconds}",
        "wsdmon renews in time; if events go missing, update the device's firmware",
    ),
    F.SUBSCRIPTION_RENEW_REFUSED: (
        "it refused to renew the event subscription ({code}: {reason}; at {last_at})",
        "wsdmon subscribes again; if it keeps refusing, restart the device or update its firmware",
    ),
    F.SUBSCRIPTION_LIMIT: (
        "it refused the event subscription: its table of subscribers is full ({code}: {reason})",
        "other computers (old scan-to-PC registrations, other monitors) hold its subscriptions: "
        "restart the device to clear them, and remove WSD registrations no longer used",
    ),
    F.SUBSCRIPTION_REFUSED: (
        "it refused the event subscription ({code}: {reason})",
        "check the device's WSD settings and firmware; send the support bundle to its vendor",
    ),
    F.SUBSCRIPTION_ENDED: (
        "it ended the event subscription ({code}: {reason}; at {last_at})",
        "if it could not deliver events, open this computer's notify port in the firewall",
    ),
    F.SUBSCRIPTION_LAPSED: (
        "the event subscription granted at {last_at} for {seconds} lapsed: no renewal got through",
        "check that the device is on and reachable; wsdmon keeps trying",
    ),
    F.NO_FAULTS: ("no faults returned to our requests", ""),
    F.FAULTS_RETURNED: (
        "it answered {count} request(s) with a fault, the last {code}: {reason} "
        "(to {addresses}, at {last_at})",
        "see the raw messages; faults to job lists or status requests usually mean a firmware limit",
    ),
    F.JOBS_MOVING: ("its {count} job(s) progress or ended", ""),
    F.JOBS_STUCK: (
        "{count} job(s) without progress and without an end state for {seconds}",
        "look at the device's panel; cancel the job there, or with Cancel job… in wsdmon",
    ),
    F.CLOCK_IN_STEP: ("its clock agrees with this computer's (off by {seconds})", ""),
    F.CLOCK_OFFSET: (
        "its clock is {seconds} {direction} this computer's",
        "set the device's clock, best from a time server (NTP); job times shown are the device's",
    ),
}


def duration(seconds: float | None) -> str:
    """A duration a person reads: 850 ms, 3.2 s, 12 min, 5.5 h, 3 days."""
    if seconds is None:
        return "an unknown time"
    s = abs(seconds)
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 86400 * 2:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.0f} days"


def _time(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value is not None else "an unknown time"


def fields(result: HealthResult) -> dict[str, str]:
    """The {fields} of a finding's sentence, from its evidence."""
    e = result.evidence
    return {
        "first_at": _time(e.first_at),
        "last_at": _time(e.last_at),
        "addresses": ", ".join(e.addresses) or "none",
        "interface": e.interface or "an unknown interface",
        "endpoints": ", ".join(e.endpoints) or "none",
        "seconds": duration(e.seconds),
        "count": str(e.count if e.count is not None else 0),
        "code": e.code or "no code",
        "reason": e.reason or "no reason given",
        "error": str(e.error) if e.error is not None else "no reason known",
        "direction": "ahead of" if (e.seconds or 0) > 0 else "behind",
    }


def sentence(result: HealthResult) -> str:
    return WORDS[result.finding][0].format(**fields(result))


def advice(result: HealthResult) -> str:
    return WORDS[result.finding][1].format(**fields(result))


def evidence_text(evidence: HealthEvidence) -> str:
    """The evidence fields that are set, in one line (times in UTC)."""
    parts: list[str] = []
    if evidence.first_at is not None:
        parts.append(f"first {_time(evidence.first_at)}")
    if evidence.last_at is not None:
        parts.append(f"last {_time(evidence.last_at)}")
    if evidence.jobs:
        parts.append("jobs " + ", ".join(k.job_token for k in evidence.jobs))
    if evidence.messages:
        parts.append("journal messages " + ", ".join(map(str, evidence.messages)))
    return "; ".join(parts)


def health_text(health: DeviceHealth, name: str | None = None) -> list[str]:
    """A heading line for the device, then one line per check: verdict, check, sentence, evidence,
    what to do next."""
    title = f"{name} ({health.endpoint})" if name and name != health.endpoint else health.endpoint
    lines = [f"Device {title}: {_VERDICT[health.verdict]}"]
    for r in health.results:
        line = f"  {_VERDICT[r.verdict]:<9} {r.check.value:<14} {sentence(r)}."
        if said := evidence_text(r.evidence):
            line += f" Evidence: {said}."
        if todo := advice(r):
            line += f" Next: {todo}."
        lines.append(line)
    return lines


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _result_json(r: HealthResult) -> dict[str, Any]:
    e = r.evidence
    return {
        "check": r.check.value,
        "verdict": r.verdict.value,
        "finding": r.finding.value,
        "sentence": sentence(r),
        "evidence": evidence_text(e),
        "next": advice(r) or None,
        "first_at": _utc(e.first_at),
        "last_at": _utc(e.last_at),
        "addresses": list(e.addresses),
        "interface": e.interface or None,
        "endpoints": list(e.endpoints),
        "seconds": e.seconds,
        "count": e.count,
        "code": e.code or None,
        "reason": e.reason or None,
        "jobs": [{"device": k.device, "job_token": k.job_token, "generation": k.generation} for k in e.jobs],
        "messages": list(e.messages),
        "error": None
        if e.error is None
        else {
            "kind": e.error.kind.value,
            "url": e.error.url,
            "status": e.error.status,
            "code": e.error.code or None,
            "text": str(e.error),
        },
    }


def health_json(health: DeviceHealth, name: str | None = None) -> dict[str, Any]:
    """One device's health as a JSON value (documented in README.md, `wsdmon doctor`)."""
    return {
        "device": health.endpoint,
        "name": name,
        "verdict": health.verdict.value,
        "at": _utc(health.at),
        "checks": [_result_json(r) for r in health.results],
    }


def any_problem(healths: Sequence[DeviceHealth]) -> bool:
    return any(h.verdict is Verdict.PROBLEM for h in healths)
