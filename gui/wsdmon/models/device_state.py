"""What a device says of itself, in a few words for its row in the device tree: the scanner's active
conditions (a paper jam, an open cover, an empty tray…) first, the worst one named; else a stopped or
busy state with its reason; nothing extra for an idle device. An icon goes with a condition or a stop.

Condition names, state values and reasons come as the device sent them (core keeps them typed); the
WS-Scan ones ("Name Element for DeviceCondition", "ScannerState element", "ScannerStateReason
element") are worded here; vendor values are shown as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wsdmon.core import ScannerCondition
from wsdmon.protocol.scan import ConditionName, ScannerState, ScannerStateReason, Severity

from ._i18n import QT_TRANSLATE_NOOP, translate

__all__ = ["DeviceGlance", "condition_text", "device_glance", "reason_text", "state_text"]

_CTX = "DeviceState"

# Short words for a technician, as a panel shows them.
_CONDITIONS: dict[str, str] = {
    ConditionName.MEDIA_JAM: QT_TRANSLATE_NOOP(_CTX, "Paper jam"),
    ConditionName.MULTIPLE_FEED_ERROR: QT_TRANSLATE_NOOP(_CTX, "Several sheets fed at once"),
    ConditionName.COVER_OPEN: QT_TRANSLATE_NOOP(_CTX, "Cover open"),
    ConditionName.INTERLOCK_OPEN: QT_TRANSLATE_NOOP(_CTX, "Interlock open"),
    ConditionName.INPUT_TRAY_EMPTY: QT_TRANSLATE_NOOP(_CTX, "Input tray empty"),
    ConditionName.INTERNAL_STORAGE_FULL: QT_TRANSLATE_NOOP(_CTX, "Storage full"),
    ConditionName.LAMP_ERROR: QT_TRANSLATE_NOOP(_CTX, "Lamp error"),
    ConditionName.LAMP_WARMING: QT_TRANSLATE_NOOP(_CTX, "Lamp warming up"),
    ConditionName.CALIBRATING: QT_TRANSLATE_NOOP(_CTX, "Calibrating"),
}
_REASONS: dict[str, str] = {
    **_CONDITIONS,
    ScannerStateReason.ATTENTION_REQUIRED: QT_TRANSLATE_NOOP(_CTX, "Needs attention"),
    ScannerStateReason.PAUSED: QT_TRANSLATE_NOOP(_CTX, "Paused"),
}
_STATES: dict[str, str] = {
    ScannerState.IDLE: QT_TRANSLATE_NOOP(_CTX, "Idle"),  # also the scan server's RepositoryState
    ScannerState.PROCESSING: QT_TRANSLATE_NOOP(_CTX, "Busy"),
    ScannerState.STOPPED: QT_TRANSLATE_NOOP(_CTX, "Stopped"),
}
_SEVERITY_RANK: dict[str, int] = {Severity.INFORMATIONAL: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
_ICONS = {
    _SEVERITY_RANK[Severity.WARNING]: "condition-warning",
    _SEVERITY_RANK[Severity.CRITICAL]: "condition-critical",
}
_VENDOR_SEVERITY_RANK = 1  # an unknown severity may matter: shown like a warning
_NO_REASON = ScannerStateReason.NONE.value


def _words(table: dict[str, str], value: str) -> str:
    text = table.get(value)
    return translate(_CTX, text) if text is not None else value


def condition_text(condition: ScannerCondition) -> str:
    """One condition in full: "Paper jam (MediaJam, Critical, ADF)"."""
    return translate(_CTX, "{0} ({1}, {2}, {3})").format(
        _words(_CONDITIONS, str(condition.name)), condition.name, condition.severity, condition.component
    )


def state_text(state: str) -> str:
    """A ScannerState or RepositoryState in words (a vendor value as given)."""
    return _words(_STATES, state)


def reason_text(reason: str) -> str:
    """A ScannerStateReason in words (a vendor value as given)."""
    return _words(_REASONS, reason)


@dataclass(frozen=True, slots=True)
class DeviceGlance:
    """The few words (and the icon, if any) a device row shows beside the device's name."""

    text: str = ""
    icon: str | None = None  # models.icons name; None: the row keeps its subscription icon


def _rank(condition: ScannerCondition) -> int:
    return _SEVERITY_RANK.get(str(condition.severity), _VENDOR_SEVERITY_RANK)


def device_glance(state: str, reasons: Sequence[str], conditions: Sequence[ScannerCondition]) -> DeviceGlance:
    """The row's short text: the worst active condition ("Paper jam", "+1" for each other one), else
    a state other than Idle with its first reason ("Stopped: Cover open"), else nothing."""
    if conditions:
        worst = max(conditions, key=_rank)  # the first raised among equals
        text = _words(_CONDITIONS, str(worst.name))
        if len(conditions) > 1:
            text = translate(_CTX, "{0} (+{1})").format(text, len(conditions) - 1)
        icon = _ICONS.get(_rank(worst))  # an informational condition keeps the row's usual icon
        return DeviceGlance(text, icon)
    if not state or state == ScannerState.IDLE:
        return DeviceGlance()
    said = [r for r in reasons if r != _NO_REASON]
    text = state_text(state)
    if said:
        text = translate(_CTX, "{0}: {1}").format(text, reason_text(said[0]))
    return DeviceGlance(text, "condition-critical" if state == ScannerState.STOPPED else None)
