"""The only place where engine changes become Qt: an EngineListener that batches what the engine
reports and hands it to the models (ARCHITECTURE.md: ≤ 100 ms).

The first report after a quiet spell arms a single-shot timer of FLUSH_DELAY_MS; everything that
arrives meanwhile goes out in the same batch, and whatever arrives while the window repaints goes
out in the next. So a lone event reaches the table at once, and a storm of 1,000 events/s is shown
in batches of about one repaint's worth."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from wsdmon.core import (
    DeviceErrorKind,
    DeviceRecord,
    JobChange,
    JobKey,
    JobRecord,
    ObservationKind,
    OfflineReason,
    Role,
    SubscriptionStatus,
)
from wsdmon.core.health import DeviceHealth
from wsdmon.core.sites import SiteCollector
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
    device_key,
)
from wsdmon.net.engine import EngineListener, RawEntry

if TYPE_CHECKING:  # it loads the store package: only a view of a shared store needs it
    from wsdmon.models.paged_jobs import PagedJobModel

__all__ = ["FLUSH_DELAY_MS", "QtBridge", "device_row"]

# From the first pending report to the batch that shows it. Short, because the repaint that follows
# a batch is what really coalesces: reports that arrive while the window paints wait for the next
# batch. (bench/bench_gui_model.py: 2-5 ms gave the lowest latency at 1,000 events/s, 25 ms twice it;
# with the job table's one-pass paint, bench/bench_latency.py: 2 ms p99 25-30 ms from the due time,
# 5 ms 32 ms; 0 ms 39-41 ms, every few reports a batch and a repaint of its own. With the table's
# row atlas, p99 from the due time / from the engine's accept, two runs each: 1 ms 18.3-19.5 /
# 14.1-15.1 ms, 2 ms 20.8-21.3 / 15.7-15.8, 4 ms 22.2-23.7 / 18.0-18.6, 0 ms 21.7-21.9 / 15.7-15.9.)
FLUSH_DELAY_MS = 1
RATE_WINDOW_S = 5.0  # events/s is averaged over this window
RATE_TICK_MS = 1000  # the status bar's events/s is refreshed this often


def device_row(record: DeviceRecord, site: str = "") -> DeviceRow:
    """How the device tree shows a DeviceRecord (seen by `site`'s collector; "" for this PC's engine).
    A device whose metadata was never read (no hosted
    service known) and cannot be read has no known role: it is "not reached", not a scan device."""
    if Role.SCAN_SERVER in record.roles:
        kind = DeviceKind.SCAN_SERVER
    elif not record.services and record.error is not None:
        kind = DeviceKind.NOT_REACHED
    else:
        kind = DeviceKind.SCAN_DEVICE
    states = {s.subscription for s in record.services}
    errors = [s.subscription_error for s in record.services if s.subscription_error]
    detail = ""
    if record.error is not None or not record.online:
        state = SubscriptionState.ERROR  # the row carries the typed reason (error / offline)
    elif states and states <= {SubscriptionStatus.ACTIVE}:
        state = SubscriptionState.SUBSCRIBED
    elif SubscriptionStatus.RETRYING in states:
        state, detail = SubscriptionState.ERROR, "; ".join(errors) or "retrying"
    elif SubscriptionStatus.SUBSCRIBING in states:
        state = SubscriptionState.SUBSCRIBING
    elif site and record.state_at is None:  # a store that holds no state: nothing known of it
        state = SubscriptionState.AT_SITE
    else:
        state = SubscriptionState.UNSUBSCRIBED
    error = record.error
    untrusted = error is not None and error.kind is DeviceErrorKind.UNTRUSTED_CERTIFICATE
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
        untrusted_fingerprint=error.fingerprint if error is not None and untrusted else None,
        state=next((str(s.state) for s in record.services if s.state), ""),
        state_reasons=next((s.state_reasons for s in record.services if s.state), ()),
        conditions=tuple(c for s in record.services for c in s.conditions),
        error=error,
        offline=None if record.online else record.offline_reason or OfflineReason.NOT_SEEN,
        site=site,
        state_at=record.state_at,
    )


class QtBridge(QObject, EngineListener):
    """Collects engine reports (loop thread = Qt thread under qasync) and flushes them in batches.

    `jobs_failed` carries the jobs seen failing live since the last batch (for the tray notice):
    only after `watch_failures()` (so a journal replay at start says nothing), never for jobs a
    snapshot found already failed, and once per job."""

    jobs_failed = Signal(list)  # list[JobRecord]

    def __init__(
        self,
        jobs: JobTableModel | PagedJobModel,
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
        self._pending_devices: dict[str, tuple[str, DeviceRecord]] = {}  # device key → (site, record)
        self._pending_raw: list[RawLogEntry] = []
        self._pending_health: dict[str, DeviceHealth] = {}
        self._arrivals: deque[float] = deque()
        self._rejected = 0
        self.failed_jobs: list[JobRecord] = []  # newly failed since the last flush (tray notices)
        self._watch_failures = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_DELAY_MS)
        self._timer.timeout.connect(self.flush)
        self._rate_timer = QTimer(self)
        self._rate_timer.setInterval(RATE_TICK_MS)
        self._rate_timer.timeout.connect(self._update_rate)
        self._rate_timer.start()

    def watch_failures(self) -> None:
        """From now on, collect jobs that fail (call it once the engine has replayed its journal)."""
        self._watch_failures = True
        self.failed_jobs.clear()

    def _soon(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    # --- EngineListener ---------------------------------------------------------------------

    def device_changed(self, device: DeviceRecord) -> None:
        self._pending_devices[device.endpoint] = ("", device)
        self._soon()

    def site_device_changed(self, site: str, device: DeviceRecord) -> None:
        """A device as `site`'s collector last stored it (a view of a shared store)."""
        self._pending_devices[device_key(device.endpoint, site)] = (site, device)
        self._soon()

    def site_collectors_changed(self, collectors: Mapping[str, SiteCollector]) -> None:
        """Each site's collector as last judged (a view of a shared store; rare: not batched)."""
        self._devices.set_collectors(collectors)

    def health_changed(self, health: DeviceHealth) -> None:
        """A device's health report was evaluated again (the latest per device goes out)."""
        self._pending_health[health.endpoint] = health
        self._soon()

    def site_health_changed(self, site: str, health: DeviceHealth) -> None:
        """A device's health report as `site`'s collector last judged it (a view of a shared store)."""
        self._pending_health[device_key(health.endpoint, site)] = health
        self._soon()

    def job_changed(self, change: JobChange) -> None:
        rec = change.record
        if self._watch_failures and change.accepted and rec.is_failed and rec.is_terminal:
            live = not rec.timeline or rec.timeline[-1].kind is not ObservationKind.SNAPSHOT
            if live and not self._was_failed(rec.key):
                self.failed_jobs.append(rec)
        # A stale or duplicate observation still lands in the timeline: show that too.
        self._pending_jobs[rec.key] = rec
        self._soon()

    def jobs_stored(self, added: bool = True) -> None:
        """A view of a shared store: the store holds new job rows (`added` False: changed ones only).
        The paged job table re-reads what it shows (it coalesces these itself: PagedJobModel.REFRESH_MS)."""
        from wsdmon.models.paged_jobs import PagedJobModel

        if isinstance(self._jobs, PagedJobModel):
            self._jobs.store_changed(added)

    def jobs_removed(self, keys: Iterable[JobKey]) -> None:
        """Jobs dropped by journal retention (for an engine that reports them)."""
        keys = list(keys)
        for key in keys:
            self._pending_jobs.pop(key, None)
        self._jobs.remove_jobs(keys)

    def _was_failed(self, key: JobKey) -> bool:
        before = self._pending_jobs.get(key)
        if before is None:
            row = self._jobs.row_of(key)
            before = self._jobs.record(row) if row is not None else None
        return before is not None and before.is_failed and before.is_terminal

    def message_logged(self, entry: RawEntry) -> None:
        self._soon()
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
        self._soon()
        self._rejected += 1
        self._pending_raw.append(
            RawLogEntry(datetime.now(UTC), Direction.IN, "", "", 0, None, f"{reason}: {detail}")
        )

    # --- batching ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Hand everything pending to the models now (the timer calls it; so may tests)."""
        self._timer.stop()
        if self._pending_devices:
            rows = [device_row(r, site) for site, r in self._pending_devices.values()]
            self._pending_devices.clear()
            # Devices change with every event (last event time); the job table only cares for names
            # (upsert says when a shown name changed, also another device's, for a new twin).
            if self._devices.upsert(rows):
                self._jobs.refresh_device_names()
        if self._pending_health:
            reports = dict(self._pending_health)
            self._pending_health.clear()
            self._devices.set_keyed_health(reports)  # after the rows: a new device's report finds its row
        if self._pending_jobs:
            records = list(self._pending_jobs.values())
            self._pending_jobs.clear()
            self._jobs.apply_changes(records, now=True)  # this batch is the coalescing: no model timer
        if self._pending_raw:
            entries, self._pending_raw = self._pending_raw, []
            self._raw_log.append(entries)
        if self.failed_jobs:
            failed, self.failed_jobs = self.failed_jobs, []
            self.jobs_failed.emit(failed)
        self._status.update(rejected=self._rejected)

    def _update_rate(self) -> None:
        now = time.monotonic()
        while self._arrivals and self._arrivals[0] < now - RATE_WINDOW_S:
            self._arrivals.popleft()
        self._status.update(events_per_s=len(self._arrivals) / RATE_WINDOW_S)

    def stop(self) -> None:
        self._rate_timer.stop()
        self.flush()
