"""What an accepted notification means, by its type (issue 14, item 5: a router instead of isinstance
chains): its one-line summary for the journal and raw log, the job observation it carries, or what it
says of the device itself (repository or scanner state, scanner conditions).

Each table maps a message class to a small function; the engine looks a message up once and calls
what it finds. A message type nobody routes (a vendor event, UnknownMessage) has a summary of its
action name and changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wsdmon.core import Change, DeviceRecord, Observation, ObservationKind, ScannerCondition
from wsdmon.core.scan_jobs import (
    condition_cleared,
    condition_raised,
    scan_end_observation,
    scan_status_observation,
)
from wsdmon.protocol import Message, UnknownMessage
from wsdmon.protocol.dsm import PostScanJobEndStateEvent, PostScanJobStatusEvent
from wsdmon.protocol.eventing import SubscriptionEnd, SubscriptionEndStatus
from wsdmon.protocol.repository import RepositoryStatusSummaryEvent
from wsdmon.protocol.scan import (
    JobEndStateEvent,
    JobStatusEvent,
    ScannerStatusConditionClearedEvent,
    ScannerStatusConditionEvent,
    ScannerStatusSummaryEvent,
)

__all__ = ["DeviceUpdate", "device_update", "observation", "summarize"]

AnyMessage = Message | UnknownMessage


# --- summaries ---------------------------------------------------------------------------------


def _reasons(reasons: Iterable[object]) -> str:
    text = ", ".join(map(str, reasons))
    return f" ({text})" if text and text != "None" else ""


def _subscription_end(m: SubscriptionEnd) -> str:
    # A well-known status by its name (SourceShuttingDown…); a vendor URI as sent.
    status = str(m.status)
    detail = status.rpartition("/")[2] if isinstance(m.status, SubscriptionEndStatus) else status
    reason = m.reasons[0].text.strip() if m.reasons else ""
    return f"{detail}: {reason}" if reason else detail


def _condition(m: ScannerStatusConditionEvent) -> str:
    c = m.condition
    return f"{c.name} ({c.severity}, {c.component}) id={c.condition_id}"


_SUMMARY: dict[type[Any], Callable[[Any], str]] = {
    PostScanJobStatusEvent: lambda m: (
        f"{m.job_status.job_token} {m.job_status.job_state} images={m.job_status.images_received}"
    ),
    PostScanJobEndStateEvent: lambda m: f"{m.end_state.job_token} {m.end_state.job_completed_state}",
    RepositoryStatusSummaryEvent: lambda m: f"{m.state}{_reasons(m.reasons)}",
    SubscriptionEnd: _subscription_end,
    JobStatusEvent: lambda m: (
        f"job {m.job_status.job_id} {m.job_status.job_state} scans={m.job_status.scans_completed}"
    ),
    JobEndStateEvent: lambda m: (
        f"job {m.end_state.job_id} {m.end_state.job_completed_state}"
        f"{_reasons(m.end_state.job_completed_state_reasons)}"
    ),
    ScannerStatusSummaryEvent: lambda m: (
        f"{m.summary.scanner_state}{_reasons(m.summary.scanner_state_reasons)}"
    ),
    ScannerStatusConditionEvent: _condition,
    ScannerStatusConditionClearedEvent: lambda m: f"id={m.cleared.condition_id} cleared",
}


def summarize(message: AnyMessage) -> str:
    """A one-line summary for the journal and the raw log: what the event says, at a glance."""
    name = message.action.rpartition("/")[2] or message.action
    describe = _SUMMARY.get(type(message))
    detail = describe(message) if describe is not None else ""
    return f"{name} {detail}" if detail else name


# --- job observations --------------------------------------------------------------------------

# (message, device, arrival, journal id, the device's InstanceId when it arrived) → observation
_Observe = Callable[[Any, str, datetime, int | None, int | None], Observation]


def _post_scan_status(
    m: PostScanJobStatusEvent, device: str, arrival: datetime, jid: int | None, instance: int | None
) -> Observation:
    kind = ObservationKind.STATUS_EVENT
    return Observation(kind, device, m.job_status, arrival, m.header.message_id, jid, instance=instance)


def _post_scan_end(
    m: PostScanJobEndStateEvent, device: str, arrival: datetime, jid: int | None, instance: int | None
) -> Observation:
    obs = Observation.from_end_state(device, m.end_state, arrival, m.header.message_id, jid)
    return obs if instance is None else dataclasses.replace(obs, instance=instance)


_OBSERVE: dict[type[Any], _Observe] = {
    PostScanJobStatusEvent: _post_scan_status,
    PostScanJobEndStateEvent: _post_scan_end,
    JobStatusEvent: lambda m, device, arrival, jid, instance: scan_status_observation(
        device, m.job_status, arrival, m.header.message_id, jid, instance=instance
    ),
    JobEndStateEvent: lambda m, device, arrival, jid, instance: scan_end_observation(
        device, m.end_state, arrival, m.header.message_id, jid, instance=instance
    ),
}


def observation(
    message: AnyMessage, device: str, arrival: datetime, journal_id: int | None, instance: int | None = None
) -> Observation | None:
    """The job observation a notification carries, if it carries one; `instance` is the device's
    InstanceId as known when it arrived (core.jobs rule 6)."""
    observe = _OBSERVE.get(type(message))
    return observe(message, device, arrival, journal_id, instance) if observe is not None else None


# --- what a device says of itself --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceUpdate:
    """A device's new record after a status event, and the change to note on its jobs' timelines."""

    record: DeviceRecord
    condition: tuple[int, str] | None = None  # a condition raised: (its Id, its Name) to remember
    note: Change | None = None  # raised or cleared: what the jobs running meanwhile get on their timeline


# (record, service address, message, the Name of a condition being cleared, if known) → update
_Update = Callable[[DeviceRecord, str, Any, str | None], DeviceUpdate]


def _condition_raised(
    record: DeviceRecord, service: str, m: ScannerStatusConditionEvent, _: str | None
) -> DeviceUpdate:
    c = m.condition
    changed = record.with_condition(service, c.condition_id, ScannerCondition.of(c))
    return DeviceUpdate(changed, (c.condition_id, str(c.name)), condition_raised(c))


def _condition_cleared(
    record: DeviceRecord, service: str, m: ScannerStatusConditionClearedEvent, name: str | None
) -> DeviceUpdate:
    cleared = m.cleared.condition_id
    return DeviceUpdate(record.with_condition(service, cleared, None), None, condition_cleared(cleared, name))


_UPDATE: dict[type[Any], _Update] = {
    RepositoryStatusSummaryEvent: lambda record, service, m, _: DeviceUpdate(
        record.with_state(service, str(m.state), tuple(map(str, m.reasons)))
    ),
    ScannerStatusSummaryEvent: lambda record, service, m, _: DeviceUpdate(
        record.with_state(
            service, str(m.summary.scanner_state), tuple(map(str, m.summary.scanner_state_reasons))
        )
    ),
    ScannerStatusConditionEvent: _condition_raised,
    ScannerStatusConditionClearedEvent: _condition_cleared,
}


def cleared_condition_id(message: AnyMessage) -> int | None:
    """The Id a ConditionCleared event clears (the engine looks its remembered Name up by it)."""
    return message.cleared.condition_id if isinstance(message, ScannerStatusConditionClearedEvent) else None


def device_update(
    record: DeviceRecord, service: str, message: AnyMessage, cleared_name: str | None = None
) -> DeviceUpdate | None:
    """What a status event changes on the device (None: the message says nothing of the device)."""
    update = _UPDATE.get(type(message))
    return update(record, service, message, cleared_name) if update is not None else None
