"""The network self-check's results (core.selfcheck) in words, through tr(), for the window: the same
findings `wsdmon doctor` words in support/doctor_report.py, as sentences a person reads."""

from __future__ import annotations

import os

from wsdmon.core.selfcheck import CheckId, CheckResult, Finding, PortEvidence

from ._i18n import QT_TRANSLATE_NOOP, translate
from .device_text import device_error_text
from .health_text import verdict_text

__all__ = [
    "selfcheck_advice",
    "selfcheck_evidence",
    "selfcheck_name",
    "selfcheck_report_text",
    "selfcheck_sentence",
]

_CTX = "SelfCheckText"

_CHECKS = {
    CheckId.INTERFACES: QT_TRANSLATE_NOOP(_CTX, "Interfaces"),
    CheckId.DISCOVERY_PORT: QT_TRANSLATE_NOOP(_CTX, "Discovery port"),
    CheckId.NOTIFY_PORT: QT_TRANSLATE_NOOP(_CTX, "Notify port"),
    CheckId.MULTICAST: QT_TRANSLATE_NOOP(_CTX, "Multicast heard"),
    CheckId.PROBE: QT_TRANSLATE_NOOP(_CTX, "Directed probe"),
    CheckId.DEVICE: QT_TRANSLATE_NOOP(_CTX, "Device by URL"),
}
_F = Finding
# Finding → (what was seen, what to do next). {0} is the port, probe target or URL checked.
_WORDS: dict[Finding, tuple[str, str]] = {
    _F.INTERFACES_UP: (QT_TRANSLATE_NOOP(_CTX, "Network interfaces are up for discovery."), ""),
    _F.NO_INTERFACE: (
        QT_TRANSLATE_NOOP(_CTX, "No network interface is up besides loopback."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Connect this computer to the scanners' network, or choose the interface in Edit ▸ Preferences.",
        ),
    ),
    _F.INTERFACES_UNREADABLE: (
        QT_TRANSLATE_NOOP(_CTX, "The network interfaces could not be listed."),
        QT_TRANSLATE_NOOP(_CTX, "Check the network configuration of this computer."),
    ),
    _F.PORT_FREE: (QT_TRANSLATE_NOOP(_CTX, "{0} can be used."), ""),
    _F.PORT_HELD: (
        QT_TRANSLATE_NOOP(_CTX, "{0} is already held by another program."),
        QT_TRANSLATE_NOOP(_CTX, "Stop that program, or let wsdmon use another port."),
    ),
    _F.PORT_DENIED: (
        QT_TRANSLATE_NOOP(_CTX, "{0} may not be used by this user."),
        QT_TRANSLATE_NOOP(_CTX, "Use a port above 1023, or allow wsdmon in the firewall or sandbox."),
    ),
    _F.PORT_ERROR: (
        QT_TRANSLATE_NOOP(_CTX, "{0} cannot be used."),
        QT_TRANSLATE_NOOP(_CTX, "Check the network configuration of this computer."),
    ),
    _F.GROUP_NOT_JOINED: (
        QT_TRANSLATE_NOOP(
            _CTX, "{0} can be shared, but the WS-Discovery groups could be joined on no interface."
        ),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Multicast discovery will not hear devices: check the interface's multicast setting, or add "
            "devices by directed probe or URL.",
        ),
    ),
    _F.GROUP_PARTLY_JOINED: (
        QT_TRANSLATE_NOOP(
            _CTX, "{0} can be shared; the WS-Discovery group could not be joined on every interface."
        ),
        QT_TRANSLATE_NOOP(_CTX, "Devices on those interfaces are found only by directed probe or URL."),
    ),
    _F.MULTICAST_HEARD: (QT_TRANSLATE_NOOP(_CTX, "WS-Discovery multicast from other hosts arrived."), ""),
    _F.MULTICAST_SILENT: (
        QT_TRANSLATE_NOOP(_CTX, "No WS-Discovery multicast from another host arrived while listening."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "If WSD devices are on this network, switch one off and on (it says Hello) and run this "
            "again; still nothing means multicast is blocked between them and this computer (switch, "
            "VLAN, firewall): add devices by directed probe or URL.",
        ),
    ),
    _F.PROBE_ANSWERED: (QT_TRANSLATE_NOOP(_CTX, "The directed probe to {0} was answered."), ""),
    _F.PROBE_LATE: (
        QT_TRANSLATE_NOOP(_CTX, "The directed probe to {0} was answered late."),
        QT_TRANSLATE_NOOP(
            _CTX, "A firewall may drop answers this late: allow UDP from the device to this computer."
        ),
    ),
    _F.PROBE_NO_ANSWER: (
        QT_TRANSLATE_NOOP(_CTX, "The directed probe to {0} got no answer."),
        QT_TRANSLATE_NOOP(
            _CTX,
            "Check the address and that WSD is switched on at the device; a firewall may drop the "
            "answer to this computer's UDP port.",
        ),
    ),
    _F.PROBE_NOT_SENT: (
        QT_TRANSLATE_NOOP(_CTX, "The directed probe to {0} could not be sent."),
        QT_TRANSLATE_NOOP(_CTX, "Check the host name or address."),
    ),
    _F.DEVICE_READ: (QT_TRANSLATE_NOOP(_CTX, "The metadata of {0} was read."), ""),
    _F.DEVICE_ERROR: (
        QT_TRANSLATE_NOOP(_CTX, "The metadata of {0} could not be read."),
        QT_TRANSLATE_NOOP(_CTX, "Check the URL and that the device is on; see the reason given."),
    ),
}
_NOTIFY_HELD = QT_TRANSLATE_NOOP(
    _CTX, "Stop that program, or choose another notify port in Edit ▸ Preferences."
)
_DISCOVERY_HELD = QT_TRANSLATE_NOOP(
    _CTX,
    "Another WSD program holds UDP 3702 without sharing it: stop it, or add devices by directed "
    "probe or URL.",
)


def _tr(text: str) -> str:
    return translate(_CTX, text)


def selfcheck_name(result: CheckResult) -> str:
    return _tr(_CHECKS[result.check])


def selfcheck_sentence(result: CheckResult) -> str:
    return _tr(_WORDS[result.finding][0]).format(result.target)


def selfcheck_advice(result: CheckResult) -> str:
    if result.finding is Finding.PORT_HELD:
        udp = result.port is not None and result.port.transport == "udp"
        return _tr(_DISCOVERY_HELD if udp else _NOTIFY_HELD)
    advice = _WORDS[result.finding][1]
    return _tr(advice) if advice else ""


def _holders(port: PortEvidence) -> str:
    if port.holders is None:
        return _tr("Which program holds it is not known on this system")
    me = os.getpid()
    named = [
        _tr("this wsdmon (pid {0})").format(h.pid)
        if h.pid == me
        else _tr("{0} (pid {1})").format(h.name or _tr("a program"), h.pid)
        for h in port.holders
    ]
    if port.unattributed:
        named.append(_tr("{0} socket(s) of programs this user cannot see").format(port.unattributed))
    if not named:
        return _tr("No program was found holding it")
    if port.errno is not None:
        return _tr("Held by {0}").format(", ".join(named))
    return _tr("In use by {0}").format(", ".join(named))


def selfcheck_evidence(result: CheckResult) -> list[str]:
    """The evidence as short lines: interfaces and addresses, the OS's own words, who holds a port,
    where the group was joined, the probe's latency, who answered."""
    lines = [
        _tr("{0}: {1}").format(i.name, ", ".join(i.addresses) or _tr("no address")) for i in result.interfaces
    ]
    if (port := result.port) is not None:
        if port.os_message:
            lines.append(_tr("The system said: “{0}”").format(port.os_message))
        if port.errno is not None or port.holders:
            lines.append(_holders(port))
        if port.joined:
            lines.append(_tr("Group joined on {0}").format(", ".join(port.joined)))
        if port.not_joined:
            lines.append(
                _tr("Not joined on {0}").format(", ".join(f"{a} ({why})" for a, why in port.not_joined))
            )
    if result.listened_s is not None:
        heard = _tr("{0} message(s) in {1:g} s").format(result.messages or 0, result.listened_s)
        if result.senders:
            heard = _tr("{0} from {1}").format(heard, ", ".join(result.senders))
        lines.append(heard)
    if result.latency_ms is not None:
        lines.append(_tr("First answer after {0:.0f} ms").format(result.latency_ms))
    if result.endpoints:
        lines.append(_tr("Answered by {0}").format(", ".join(result.endpoints)))
    if result.device_name:
        lines.append(_tr("Its name: {0}").format(result.device_name))
    if result.error is not None:
        lines.append(device_error_text(result.error))
    if result.os_message:
        lines.append(_tr("The system said: “{0}”").format(result.os_message))
    return lines


def selfcheck_report_text(results: list[CheckResult]) -> str:
    """The plain-text report of the dialog's Copy report."""
    lines = [_tr("Network self-check"), ""]
    for r in results:
        lines.append(f"[{verdict_text(r.verdict)}] {selfcheck_name(r)}: {selfcheck_sentence(r)}")
        lines += [f"    {line}" for line in selfcheck_evidence(r)]
        if advice := selfcheck_advice(r):
            lines.append("    " + _tr("What to do next: {0}").format(advice))
    return "\n".join(lines) + "\n"
