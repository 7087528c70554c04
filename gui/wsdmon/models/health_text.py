"""A device's health (core.health) in words a technician understands, through tr(): the name of each
check, one sentence and one piece of advice per finding, and the evidence as short lines (times in
the viewer's locale). The Diagnose dialog, the health icon's tooltip and "Copy report" use these.

The evidence's journal ids are not worded here: the dialog links them to the raw log."""

from __future__ import annotations

from datetime import datetime

from wsdmon.core.health import DeviceHealth, HealthCheck, HealthFinding, HealthResult
from wsdmon.core.selfcheck import Verdict

from . import format as fmt
from ._i18n import QT_TRANSLATE_NOOP, translate
from .device_text import device_error_text

__all__ = [
    "VERDICT_ICONS",
    "check_name",
    "health_advice",
    "health_evidence",
    "health_report_text",
    "health_sentence",
    "health_tooltip",
    "verdict_text",
    "worst_result",
]

_CTX = "HealthText"

VERDICT_ICONS = {
    Verdict.OK: "health-ok",
    Verdict.WARNING: "health-warning",
    Verdict.PROBLEM: "health-problem",
    Verdict.UNKNOWN: "health-unknown",
}
_VERDICTS = {
    Verdict.OK: QT_TRANSLATE_NOOP(_CTX, "OK"),
    Verdict.WARNING: QT_TRANSLATE_NOOP(_CTX, "Warning"),
    Verdict.PROBLEM: QT_TRANSLATE_NOOP(_CTX, "Problem"),
    Verdict.UNKNOWN: QT_TRANSLATE_NOOP(_CTX, "Not known yet"),
}
_CHECKS = {
    HealthCheck.DISCOVERY: QT_TRANSLATE_NOOP(_CTX, "Discovery"),
    HealthCheck.PROBE_REPLIES: QT_TRANSLATE_NOOP(_CTX, "Probe replies"),
    HealthCheck.MULTICAST: QT_TRANSLATE_NOOP(_CTX, "Multicast"),
    HealthCheck.ADDRESSES: QT_TRANSLATE_NOOP(_CTX, "Addresses"),
    HealthCheck.IDENTITY: QT_TRANSLATE_NOOP(_CTX, "Identity"),
    HealthCheck.SCAN_SERVICE: QT_TRANSLATE_NOOP(_CTX, "Scan service"),
    HealthCheck.SUBSCRIPTION: QT_TRANSLATE_NOOP(_CTX, "Subscription"),
    HealthCheck.FAULTS: QT_TRANSLATE_NOOP(_CTX, "Faults"),
    HealthCheck.JOBS: QT_TRANSLATE_NOOP(_CTX, "Jobs"),
    HealthCheck.CLOCK: QT_TRANSLATE_NOOP(_CTX, "Clock"),
}
_F = HealthFinding
# Finding → (what was seen, what to do next; "" when nothing needs doing).
_WORDS: dict[HealthFinding, tuple[str, str]] = {
    _F.NOT_KNOWN_YET: (
        QT_TRANSLATE_NOOP(_CTX, "Nothing has been seen yet that tells either way."),
        QT_TRANSLATE_NOOP(_CTX, "Wait a few minutes, or scan once, then look again."),
    ),
    _F.FOUND_BY_MULTICAST: (QT_TRANSLATE_NOOP(_CTX, "The device was found by multicast discovery."), ""),
    _F.FOUND_BY_DIRECTED_PROBE_ONLY: (
        QT_TRANSLATE_NOOP(
            _CTX,
            "The device answers a probe sent to its address, but its multicast never reached this computer.",
        ),
        QT_TRANSLATE_NOOP(
            _CTX,
            "It is probably on another subnet or VLAN: multicast does not cross routers. Keep it in the "
            "directed probes, or put this computer on the device's network.",
        ),
    ),
    _F.FOUND_BY_URL_ONLY: (
        QT_TRANSLATE_NOOP(_CTX, "The device was added by its URL and has never been discovered."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Check that WSD is switched on at the device and that it is on this computer's network; "
            "a device on another subnet is found only by a directed probe or its URL.",
        ),
    ),
    _F.PROBE_REPLIES_ARRIVE: (QT_TRANSLATE_NOOP(_CTX, "The device's replies to probes arrive."), ""),
    _F.HELLO_WITHOUT_PROBE_MATCH: (
        QT_TRANSLATE_NOOP(
            _CTX, "The device's announcements (Hello) arrive, but its replies to probes never do."
        ),
        QT_TRANSLATE_NOOP(
            _CTX,
            "A firewall on this computer probably drops the replies (they come to a random UDP port): "
            "allow incoming UDP from the device, or from UDP port 3702.",
        ),
    ),
    _F.PROBE_REPLIES_LATE: (
        QT_TRANSLATE_NOOP(_CTX, "The device replies to probes later than a firewall waits for them."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Windows Firewall drops replies that come later than about 4 seconds: allow incoming UDP "
            "from the device, and check the network for delays.",
        ),
    ),
    _F.MULTICAST_ARRIVES: (QT_TRANSLATE_NOOP(_CTX, "The device's multicast messages keep arriving."), ""),
    _F.MULTICAST_STOPPED: (
        QT_TRANSLATE_NOOP(
            _CTX, "The device's multicast messages stopped arriving, while it still answers over HTTP."
        ),
        QT_TRANSLATE_NOOP(
            _CTX,
            "A switch with IGMP snooping and no IGMP querier cuts multicast after a few minutes: "
            "enable an IGMP querier on that network, or switch IGMP snooping off.",
        ),
    ),
    _F.ADDRESSES_OK: (
        QT_TRANSLATE_NOOP(_CTX, "The device's addresses can be reached from this computer."),
        "",
    ),
    _F.ADDRESS_OFF_SUBNET: (
        QT_TRANSLATE_NOOP(
            _CTX, "The device gives an address that is not on the network its message came in on."
        ),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Check the device's IP settings (address, subnet mask, gateway): a wrong or stale address "
            "makes it unreachable.",
        ),
    ),
    _F.ADDRESS_HOST_NAME: (
        QT_TRANSLATE_NOOP(_CTX, "The device gives a host name instead of an address."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "That name must resolve on this computer: check DNS, or set the device to give its IP address.",
        ),
    ),
    _F.ADDRESS_LINK_LOCAL_NO_ZONE: (
        QT_TRANSLATE_NOOP(
            _CTX, "The device gives an IPv6 link-local address without saying on which interface."
        ),
        QT_TRANSLATE_NOOP(
            _CTX, "Give the device an IPv4 or a global IPv6 address, or use one network interface only."
        ),
    ),
    _F.IDENTITY_STABLE: (
        QT_TRANSLATE_NOOP(_CTX, "The device keeps its address and has not restarted."),
        "",
    ),
    _F.ADDRESS_CHANGED: (
        QT_TRANSLATE_NOOP(_CTX, "The device moved to a new address."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Give the device a fixed address (a DHCP reservation); anything set up with its old "
            "address must be changed.",
        ),
    ),
    _F.ADDRESS_SHARED: (
        QT_TRANSLATE_NOOP(_CTX, "Another device now answers at this device's address."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "After an IP change, the old entry may be stale: check which device really has that "
            "address, and give each device a fixed one.",
        ),
    ),
    _F.REBOOTED: (
        QT_TRANSLATE_NOOP(_CTX, "The device restarted."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Jobs in progress during a restart are lost. If it restarts often, check its power supply "
            "and firmware.",
        ),
    ),
    _F.SCAN_SERVICE_PRESENT: (QT_TRANSLATE_NOOP(_CTX, "The device offers a scan service."), ""),
    _F.PRINT_ONLY: (
        QT_TRANSLATE_NOOP(_CTX, "The device's metadata names no scan service: it offers printing only."),
        QT_TRANSLATE_NOOP(
            _CTX, "Switch on WSD scanning in the device's settings (often under Network ▸ WSD)."
        ),
    ),
    _F.NOT_A_SCANNER: (
        QT_TRANSLATE_NOOP(
            _CTX, "The device offers neither scanning nor printing: it is not a scanner (a computer, say)."
        ),
        "",
    ),
    _F.METADATA_UNREADABLE: (
        QT_TRANSLATE_NOOP(_CTX, "The device's metadata could not be read."),
        QT_TRANSLATE_NOOP(
            _CTX, "Check that the device is on and that its address can be reached; see the reason below."
        ),
    ),
    _F.SUBSCRIPTION_ACTIVE: (
        QT_TRANSLATE_NOOP(_CTX, "wsdmon is subscribed to the device's events."),
        "",
    ),
    _F.SUBSCRIPTION_SHORT_GRANT: (
        QT_TRANSLATE_NOOP(_CTX, "The device grants subscriptions for a very short time."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Events may be missed between renewals: check the device's firmware for an update or "
            "an event-subscription setting.",
        ),
    ),
    _F.SUBSCRIPTION_RENEW_REFUSED: (
        QT_TRANSLATE_NOOP(_CTX, "The device refused to renew the subscription."),
        QT_TRANSLATE_NOOP(_CTX, "wsdmon subscribes again by itself. If this repeats, restart the device."),
    ),
    _F.SUBSCRIPTION_LIMIT: (
        QT_TRANSLATE_NOOP(_CTX, "The device refused the subscription: its table of subscribers is full."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Other computers hold its subscriptions (often 10 to 20 at most): close WSD tools there, "
            "or restart the device to clear stale subscriptions.",
        ),
    ),
    _F.SUBSCRIPTION_REFUSED: (
        QT_TRANSLATE_NOOP(_CTX, "The device refused the subscription."),
        QT_TRANSLATE_NOOP(_CTX, "See the device's reason below; check its firmware and its WSD settings."),
    ),
    _F.SUBSCRIPTION_ENDED: (
        QT_TRANSLATE_NOOP(_CTX, "The device ended the subscription."),
        QT_TRANSLATE_NOOP(
            _CTX, "wsdmon subscribes again when the device is back. See the device's reason below."
        ),
    ),
    _F.SUBSCRIPTION_LAPSED: (
        QT_TRANSLATE_NOOP(_CTX, "The subscription expired before a renewal went through."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Events from the device may have been missed. Check that the device can reach this "
            "computer's notify port (firewall).",
        ),
    ),
    _F.NO_FAULTS: (QT_TRANSLATE_NOOP(_CTX, "The device answered wsdmon's requests without faults."), ""),
    _F.FAULTS_RETURNED: (
        QT_TRANSLATE_NOOP(_CTX, "The device answered some of wsdmon's requests with a fault."),
        QT_TRANSLATE_NOOP(
            _CTX, "See the device's words below; if they name a setting, change it at the device."
        ),
    ),
    _F.JOBS_MOVING: (QT_TRANSLATE_NOOP(_CTX, "The device's jobs progress and end."), ""),
    _F.JOBS_STUCK: (
        QT_TRANSLATE_NOOP(_CTX, "Some jobs show no progress and no end for a long time."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Look at the job on the device's panel; cancel it there or in wsdmon. If jobs stick "
            "often, restart the device.",
        ),
    ),
    _F.CLOCK_IN_STEP: (QT_TRANSLATE_NOOP(_CTX, "The device's clock agrees with this computer's."), ""),
    _F.CLOCK_OFFSET: (
        QT_TRANSLATE_NOOP(_CTX, "The device's clock is far from this computer's."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Job times from the device will look wrong: set its clock, or give it a time server (NTP).",
        ),
    ),
}
# What `seconds` and `count` mean, per check (else a plain duration / number).
_SECONDS = {
    HealthCheck.PROBE_REPLIES: QT_TRANSLATE_NOOP(_CTX, "Reply after {0}"),
    HealthCheck.MULTICAST: QT_TRANSLATE_NOOP(_CTX, "No multicast for {0}"),
    HealthCheck.SUBSCRIPTION: QT_TRANSLATE_NOOP(_CTX, "Granted for {0}"),
    HealthCheck.JOBS: QT_TRANSLATE_NOOP(_CTX, "Without progress for {0}"),
}
# What evidence.count counts, by finding (the same check counts different things per finding).
_COUNT = {
    _F.FOUND_BY_DIRECTED_PROBE_ONLY: QT_TRANSLATE_NOOP(_CTX, "Multicast probes it did not answer: {0}"),
    _F.FOUND_BY_URL_ONLY: QT_TRANSLATE_NOOP(_CTX, "Multicast probes it did not answer: {0}"),
    _F.PROBE_REPLIES_ARRIVE: QT_TRANSLATE_NOOP(_CTX, "Replies received: {0}"),
    _F.PROBE_REPLIES_LATE: QT_TRANSLATE_NOOP(_CTX, "Replies received: {0}"),
    _F.HELLO_WITHOUT_PROBE_MATCH: QT_TRANSLATE_NOOP(_CTX, "Probes without a reply: {0}"),
    _F.MULTICAST_ARRIVES: QT_TRANSLATE_NOOP(_CTX, "Probes without a reply since: {0}"),
    _F.MULTICAST_STOPPED: QT_TRANSLATE_NOOP(_CTX, "Probes without a reply since: {0}"),
    _F.ADDRESS_CHANGED: QT_TRANSLATE_NOOP(_CTX, "Address changes: {0}"),
    _F.REBOOTED: QT_TRANSLATE_NOOP(_CTX, "Restarts: {0}"),
    _F.FAULTS_RETURNED: QT_TRANSLATE_NOOP(_CTX, "Faults: {0}"),
    _F.JOBS_MOVING: QT_TRANSLATE_NOOP(_CTX, "Jobs: {0}"),
    _F.JOBS_STUCK: QT_TRANSLATE_NOOP(_CTX, "Jobs: {0}"),
    _F.CLOCK_IN_STEP: QT_TRANSLATE_NOOP(_CTX, "Job times compared: {0}"),
    _F.CLOCK_OFFSET: QT_TRANSLATE_NOOP(_CTX, "Job times compared: {0}"),
}


def _tr(text: str) -> str:
    return translate(_CTX, text)


def verdict_text(verdict: Verdict) -> str:
    return _tr(_VERDICTS[verdict])


def check_name(check: HealthCheck) -> str:
    return _tr(_CHECKS[check])


def health_sentence(result: HealthResult) -> str:
    return _tr(_WORDS[result.finding][0])


def health_advice(result: HealthResult) -> str:
    """What to do next ("" when nothing needs doing)."""
    advice = _WORDS[result.finding][1]
    return _tr(advice) if advice else ""


def _time(dt: datetime) -> str:
    return fmt.format_local(dt)


def _clock_offset(seconds: float) -> str:
    ahead = fmt.format_duration(abs(seconds))
    return (
        _tr("The device's clock is {0} ahead").format(ahead)
        if seconds > 0
        else _tr("The device's clock is {0} behind").format(ahead)
    )


def health_evidence(result: HealthResult) -> list[str]:
    """The evidence as short lines (times in the viewer's locale; the device's own words quoted).
    The journal ids of result.evidence.messages are left to the caller (links to the raw log)."""
    e, check = result.evidence, result.check
    lines: list[str] = []
    if e.first_at is not None and e.last_at is not None and e.first_at != e.last_at:
        lines.append(_tr("From {0} to {1}").format(_time(e.first_at), _time(e.last_at)))
    elif e.first_at is not None:
        lines.append(_tr("First seen {0}").format(_time(e.first_at)))
    elif e.last_at is not None:
        lines.append(_tr("Last seen {0}").format(_time(e.last_at)))
    if e.addresses:
        lines.append(_tr("Addresses: {0}").format(", ".join(e.addresses)))
    if e.interface:
        lines.append(_tr("Received on {0}").format(e.interface))
    if e.endpoints:
        lines.append(_tr("Other endpoints at this address: {0}").format(", ".join(e.endpoints)))
    if e.seconds is not None:
        if check is HealthCheck.CLOCK:
            lines.append(_clock_offset(e.seconds))
        else:
            lines.append(_tr(_SECONDS.get(check, "{0}")).format(fmt.format_duration(e.seconds)))
    if e.count is not None and (label := _COUNT.get(result.finding)) is not None:
        lines.append(_tr(label).format(e.count))  # a count without a label is not shown bare
    if e.code:
        lines.append(_tr("Code: {0}").format(e.code))
    if e.reason:
        lines.append(_tr("The device said: “{0}”").format(e.reason))
    if e.jobs:
        lines.append(_tr("Jobs: {0}").format(", ".join(k.job_token for k in e.jobs)))
    if e.error is not None:
        lines.append(device_error_text(e.error))
    return lines


def worst_result(health: DeviceHealth) -> HealthResult | None:
    """The result the icon stands for: the first of the worst verdict (None without results)."""
    verdict = health.verdict
    return next((r for r in health.results if r.verdict is verdict), None)


def health_tooltip(health: DeviceHealth) -> str:
    """ "Problem — Subscription: The device refused…"; for all-ok: "OK — every check passed"."""
    result = worst_result(health)
    if result is None:
        return _tr("Health: not checked yet")
    if result.verdict is Verdict.OK:
        return _tr("Health: OK — nothing wrong was seen")
    return _tr("Health: {0} — {1}: {2}").format(
        verdict_text(result.verdict), check_name(result.check), health_sentence(result)
    )


def health_report_text(health: DeviceHealth, name: str) -> str:
    """The plain-text report (Copy report): a heading, then per check its verdict, sentence,
    evidence, the journal ids of its messages and what to do next."""
    lines = [
        _tr("Health of {0} ({1})").format(name, health.endpoint),
        _tr("Checked {0}").format(_time(health.at)),
        "",
    ]
    for r in health.results:
        lines.append(f"[{verdict_text(r.verdict)}] {check_name(r.check)}: {health_sentence(r)}")
        lines += [f"    {line}" for line in health_evidence(r)]
        if r.evidence.messages:
            ids = ", ".join(f"#{i}" for i in r.evidence.messages)
            lines.append("    " + _tr("Messages (journal ids): {0}").format(ids))
        if advice := health_advice(r):
            lines.append("    " + _tr("What to do next: {0}").format(advice))
    return "\n".join(lines) + "\n"
