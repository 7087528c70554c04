"""The only place where engine changes become Qt: an EngineListener that batches what the engine
reports and hands it to the models at most every FLUSH_INTERVAL_MS (ARCHITECTURE.md: ≤ 100 ms)."""

from __future__ import annotations

import time
from collections import deque
from datetime import UTC, datetime

from PySide6.QtCore import QObject, QTimer

from wsdmon.core import DeviceRecord, JobChange, JobKey, JobRecord, Role, SubscriptionStatus
from wsdmon.models import (
    DeviceKind,
    DeviceRow,
    DeviceTreeModel,
    Direction,
    EngineStatus,
    JobTableModel,
    RawLogEntry,
    RawLogModel,
    SubscriptionState,
)
from wsdmon.net.engine import EngineListener, RawEntry

__all__ = ["FLUSH_INTERVAL_MS", "QtBridge", "device_row"]

FLUSH_INTERVAL_MS = 50
RATE_WINDOW_S = 5.0  # events/s is averaged over this window


def device_row(record: DeviceRecord) -> DeviceRow:
    """How the device tree shows a DeviceRecord."""
    kind = DeviceKind.SCAN_SERVER if Role.SCAN_SERVER in record.roles else DeviceKind.SCAN_DEVICE
    states = {s.subscription for s in record.services}
    errors = [s.subscription_error for s in record.services if s.subscription_error]
    if record.error:
        state, detail = SubscriptionState.ERROR, record.error
    elif not record.online:
        state, detail = SubscriptionState.ERROR, "offline: the device said Bye"
    elif states and states <= {SubscriptionStatus.ACTIVE}:
        state, detail = SubscriptionState.SUBSCRIBED, ""
    elif SubscriptionStatus.RETRYING in states:
        state, detail = SubscriptionState.ERROR, "; ".join(errors) or "retrying"
    elif SubscriptionStatus.SUBSCRIBING in states:
        state, detail = SubscriptionState.SUBSCRIBING, ""
    else:
        state, detail = SubscriptionState.UNSUBSCRIBED, ""
    return DeviceRow(
        endpoint=record.endpoint,
        kind=kind,
        name=record.name,
        model=" ".join(x for x in (record.model_name, record.model_number) if x),
        manufacturer=record.manufacturer or "",
        address=record.xaddrs[0] if record.xaddrs else "",
        presentation_url=record.presentation_url,
        subscription=state,
        subscription_detail=detail,
        last_event=record.last_event,
    )


class QtBridge(QObject, EngineListener):
    """Collects engine reports (loop thread = Qt thread under qasync) and flushes them in batches."""

    def __init__(
        self,
        jobs: JobTableModel,
        devices: DeviceTreeModel,
        raw_log: RawLogModel,
        status: EngineStatus,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._jobs = jobs
        self._devices = devices
        self._raw_log = raw_log
        self._status = status
        self._pending_jobs: dict[JobKey, JobRecord] = {}
        self._pending_devices: dict[str, DeviceRecord] = {}
        self._pending_raw: list[RawLogEntry] = []
        self._arrivals: deque[float] = deque()
        self._rejected = 0
        self.failed_jobs: list[JobRecord] = []  # newly failed since the last flush (tray notices)
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_INTERVAL_MS)
        self._timer.timeout.connect(self.flush)
        self._timer.start()

    # --- EngineListener ---------------------------------------------------------------------

    def device_changed(self, device: DeviceRecord) -> None:
        self._pending_devices[device.endpoint] = device

    def job_changed(self, change: JobChange) -> None:
        if not change.accepted and not change.added:
            # A stale or duplicate observation still lands in the timeline: show that too.
            self._pending_jobs[change.record.key] = change.record
            return
        before = self._pending_jobs.get(change.record.key)
        self._pending_jobs[change.record.key] = change.record
        if change.record.is_failed and (before is None or not before.is_failed) and change.record.is_terminal:
            self.failed_jobs.append(change.record)

    def message_logged(self, entry: RawEntry) -> None:
        self._arrivals.append(time.monotonic())
        self._pending_raw.append(
            RawLogEntry(
                entry.arrival,
                Direction.IN,
                entry.peer or entry.device,
                entry.action,
                entry.size,
                entry.journal_id,
            )
        )

    def message_rejected(self, reason: str, detail: str) -> None:
        self._rejected += 1
        self._pending_raw.append(
            RawLogEntry(datetime.now(UTC), Direction.IN, "", "", 0, None, f"{reason}: {detail}")
        )

    # --- batching ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Hand everything pending to the models (also called by tests)."""
        if self._pending_devices:
            rows = [device_row(r) for r in self._pending_devices.values()]
            self._pending_devices.clear()
            self._devices.upsert(rows)
            self._jobs.refresh_device_names()
        if self._pending_jobs:
            records = list(self._pending_jobs.values())
            self._pending_jobs.clear()
            self._jobs.apply_changes(records)
        if self._pending_raw:
            entries, self._pending_raw = self._pending_raw, []
            self._raw_log.append(entries)
        now = time.monotonic()
        while self._arrivals and self._arrivals[0] < now - RATE_WINDOW_S:
            self._arrivals.popleft()
        self._status.update(events_per_s=len(self._arrivals) / RATE_WINDOW_S, rejected=self._rejected)

    def stop(self) -> None:
        self._timer.stop()
        self.flush()
