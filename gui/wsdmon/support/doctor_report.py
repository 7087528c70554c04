"""The words of `wsdmon doctor`: each self-check result (core.selfcheck) as one line of text, or as
one JSON document. The only place its sentences and advice are made (English; the window will word
the same values through tr())."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wsdmon import __version__
from wsdmon.core.health import DeviceHealth
from wsdmon.core.selfcheck import CheckResult, Finding, PortEvidence, Verdict

from .health_report import health_json, health_text

# A device's health and its friendly name (None when its metadata was not read).
NamedHealth = tuple[DeviceHealth, str | None]

__all__ = ["advice", "evidence", "has_problem", "report_json", "report_text", "sentence"]

_VERDICT = {
    Verdict.OK: "OK",
    Verdict.WARNING: "WARNING",
    Verdict.PROBLEM: "PROBLEM",
    Verdict.UNKNOWN: "NOT KNOWN",
}

# Finding → (what was seen, what to do next). {target} is the port, probe target or URL checked.
_WORDS: dict[Finding, tuple[str, str]] = {
    Finding.INTERFACES_UP: ("network interfaces are up for discovery", ""),
    Finding.NO_INTERFACE: (
        "no network interface is up besides loopback{chosen}",
        "connect this computer to the scanners' network, or name the interface with --interface",
    ),
    Finding.INTERFACES_UNREADABLE: (
        "the network interfaces could not be listed",
        "check the network configuration of this computer",
    ),
    Finding.PORT_FREE: ("{target} can be used", ""),
    Finding.PORT_HELD: (
        "{target} is already held by another program",
        "stop that program, or let wsdmon use another port",
    ),
    Finding.PORT_DENIED: (
        "{target} may not be used by this user",
        "use a port above 1023, or allow wsdmon in the firewall or sandbox",
    ),
    Finding.PORT_ERROR: ("{target} cannot be used", "check the network configuration of this computer"),
    Finding.GROUP_NOT_JOINED: (
        "{target} can be shared, but the WS-Discovery groups (239.255.255.250, ff02::c) could be "
        "joined on no interface",
        "multicast discovery will not hear devices: check the interface's multicast setting, "
        "or add devices with --probe or --device",
    ),
    Finding.GROUP_PARTLY_JOINED: (
        "{target} can be shared; the WS-Discovery group could not be joined on every interface",
        "devices on those interfaces are found only by --probe or --device",
    ),
    Finding.MULTICAST_HEARD: ("WS-Discovery multicast from other hosts arrived", ""),
    Finding.MULTICAST_SILENT: (
        "no WS-Discovery multicast from another host arrived while listening",
        "if WSD devices are on this network, switch one off and on (it says Hello) and run this again; "
        "still nothing means multicast is blocked between them and this computer (switch, VLAN, "
        "firewall): add devices with --probe or --device",
    ),
    Finding.PROBE_ANSWERED: ("the directed probe to {target} was answered", ""),
    Finding.PROBE_LATE: (
        "the directed probe to {target} was answered late",
        "a firewall may drop answers this late: allow UDP from the device to this computer",
    ),
    Finding.PROBE_NO_ANSWER: (
        "the directed probe to {target} got no answer",
        "check the address and that WSD is switched on at the device; "
        "a firewall may drop the answer to this computer's UDP port",
    ),
    Finding.PROBE_NOT_SENT: (
        "the directed probe to {target} could not be sent",
        "check the host name or address",
    ),
    Finding.DEVICE_READ: ("the metadata of {target} was read", ""),
    Finding.DEVICE_ERROR: (
        "the metadata of {target} could not be read",
        "check the URL and that the device is on; see the reason given",
    ),
}
_NOTIFY_HELD_ADVICE = "stop that program, or start wsdmon with --notify-port PORT (0 = any free port)"
_DISCOVERY_HELD_ADVICE = (
    "another WSD stack holds UDP 3702 without sharing it: stop it, or add devices with --probe or --device"
)


def sentence(result: CheckResult) -> str:
    chosen = f" among those chosen ({result.target})" if result.target else ""
    return _WORDS[result.finding][0].format(target=result.target, chosen=chosen)


def advice(result: CheckResult) -> str:
    if result.finding is Finding.PORT_HELD:
        return (
            _DISCOVERY_HELD_ADVICE if result.port and result.port.transport == "udp" else _NOTIFY_HELD_ADVICE
        )
    return _WORDS[result.finding][1]


def _holders(port: PortEvidence) -> str:
    if port.holders is None:
        return "which process holds it is not known on this system"
    named = [f"{h.name or 'a process'} (pid {h.pid})" for h in port.holders]
    if port.unattributed:
        named.append(f"{port.unattributed} socket(s) of processes this user cannot see")
    if not named:
        return "no process found holding it"
    return ("held by " if port.errno is not None else "shared with ") + ", ".join(named)


def evidence(result: CheckResult) -> str:
    parts: list[str] = []
    if result.interfaces:
        parts.append(
            "; ".join(f"{i.name}: {', '.join(i.addresses) or 'no address'}" for i in result.interfaces)
        )
    if result.port is not None:
        port = result.port
        if port.os_message:
            parts.append(f"the OS said: {port.os_message}")
        if port.errno is not None or port.holders:
            parts.append(_holders(port))
        if port.joined:
            parts.append("group joined on " + ", ".join(port.joined))
        if port.not_joined:
            parts.append("not joined on " + ", ".join(f"{a} ({why})" for a, why in port.not_joined))
    if result.listened_s is not None:
        heard = f"{result.messages or 0} message(s) in {result.listened_s:g} s"
        if result.senders:
            heard += " from " + ", ".join(result.senders)
        parts.append(heard + (f", listening on {result.target}" if result.target else ""))
    if result.latency_ms is not None:
        parts.append(f"first match after {result.latency_ms:.0f} ms")
    if result.finding is not Finding.DEVICE_READ and result.endpoints:
        parts.append("answered by " + ", ".join(result.endpoints))
    if result.device_name or (result.finding is Finding.DEVICE_READ and result.endpoints):
        parts.append(f"{result.device_name or 'unnamed'} ({', '.join(result.endpoints) or 'no endpoint'})")
    if result.error is not None:
        parts.append(str(result.error))  # DeviceError's one line
    if result.os_message:
        parts.append(f"the OS said: {result.os_message}")
    return "; ".join(parts)


def has_problem(results: list[CheckResult], devices: Sequence[NamedHealth] = ()) -> bool:
    """A network check, or a check of a device's health, is a PROBLEM."""
    return any(r.verdict is Verdict.PROBLEM for r in results) or any(
        h.verdict is Verdict.PROBLEM for h, _ in devices
    )


def report_text(results: list[CheckResult], devices: Sequence[NamedHealth] = ()) -> str:
    """One line per check: verdict, check, the sentence, the evidence, what to do next; then each
    device's health: a heading line and one indented line per check."""
    lines = []
    for r in results:
        line = f"{_VERDICT[r.verdict]:<9} {r.check.value:<14} {sentence(r)}."
        if said := evidence(r):
            line += f" Evidence: {said}."
        if todo := advice(r):
            line += f" Next: {todo}."
        lines.append(line)
    for health, name in devices:
        lines += health_text(health, name)
    return "\n".join(lines) + "\n"


def _port_json(port: PortEvidence | None) -> dict[str, Any] | None:
    if port is None:
        return None
    return {
        "port": port.port,
        "transport": port.transport,
        "errno": port.errno,
        "os_message": port.os_message or None,
        "holders": None if port.holders is None else [{"pid": h.pid, "name": h.name} for h in port.holders],
        "unattributed_sockets": port.unattributed,
        "group_joined_on": list(port.joined),
        "group_not_joined_on": [{"address": a, "os_message": why} for a, why in port.not_joined],
    }


def _check_json(r: CheckResult) -> dict[str, Any]:
    error = r.error
    return {
        "check": r.check.value,
        "verdict": r.verdict.value,
        "finding": r.finding.value,
        "target": r.target or None,
        "sentence": sentence(r),
        "evidence": evidence(r),
        "next": advice(r) or None,
        "interfaces": [{"name": i.name, "addresses": list(i.addresses)} for i in r.interfaces],
        "port": _port_json(r.port),
        "latency_ms": r.latency_ms,
        "endpoints": list(r.endpoints),
        "device_name": r.device_name,
        "error": None
        if error is None
        else {
            "kind": error.kind.value,
            "status": error.status,
            "code": error.code or None,
            "text": str(error),
        },
        "os_message": r.os_message or None,
        "listened_s": r.listened_s,
        "messages": r.messages,
        "senders": list(r.senders),
    }


def report_json(results: list[CheckResult], devices: Sequence[NamedHealth] = ()) -> dict[str, Any]:
    """The --json document: wsdmon's version, whether a problem was found, every network check,
    and every device's health."""
    return {
        "wsdmon": __version__,
        "problem": has_problem(results, devices),
        "checks": [_check_json(r) for r in results],
        "devices": [health_json(h, name) for h, name in devices],
    }
