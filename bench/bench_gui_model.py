"""The window at 100,000 jobs, side by side with an empty one in the same run.

Issue #5 targets: sorting by JobState ≤ 300 ms; memory growth ≤ 120 MB; with 1,000 events/s the
notify-to-visible-row latency p99 ≤ 50 ms. Everything runs through the real pieces: QtBridge (the
engine's listener) → JobTableModel → JobFilterProxyModel → the MainWindow's job table (1366×768,
offscreen unless QT_QPA_PLATFORM says otherwise).

- load: the engine's start-up replay: one `job_changed` per job into the bridge, then its flush
  (and gc.freeze(), as Application.start() does).
- memory: process RSS growth from before the window is built to after the load (no tracemalloc
  running: its own bookkeeping would double the figure); the Python-heap growth is measured by
  tracemalloc in a second, separate load. The JobRecords are built before either (the engine holds
  them anyway); what they take is reported apart (`records_rss_mb`).
- sort: a click on the JobState header (view.sortByColumn, alternating with the Created column so
  that every JobState sort is a real one), until the events it causes are processed.
- feed: a precise schedule of 1,000 events/s for 12 s (12,000 events), twice: sorted by Created (newest first,
  the default) and by JobState (the worst case: state changes move rows). Every event is what the engine
  reports for one accepted notification (`device_changed` with the device's new last-event time,
  `job_changed`, `message_logged`) into the bridge, stamped with the time it was due (a late feeder
  counts against the latency, it does not hide it). New jobs arrive at about 100/s and go through
  Pending → Processing (images) → Completed / Aborted; a fifth of the updates touch loaded jobs,
  half of those on screen (what a technician watches) and half anywhere in the table. Latencies,
  from the due time:
    * `model`: to the proxy signal covering the job's row (dataChanged / rowsInserted), every event;
    * `painted`: to the end of the first repaint of the job table that shows the row, for events
      whose row is on screen then (the figure the target speaks of).

    QT_QPA_PLATFORM=offscreen PYTHONPATH=gui .venv/bin/python bench/bench_gui_model.py [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QEventLoop, QModelIndex, QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

import wsdmon
from wsdmon.bridge import FLUSH_DELAY_MS, QtBridge
from wsdmon.core import (
    Change,
    ChangeField,
    DeviceRecord,
    JobChange,
    JobKey,
    JobRecord,
    ObservationKind,
    Role,
    ServiceInfo,
    TimelineEntry,
)
from wsdmon.models import (
    Column,
    DeviceTreeModel,
    EngineStatus,
    JobTableModel,
    RawLogModel,
    role_data,
)
from wsdmon.models import Role as ItemRole
from wsdmon.net.engine import RawEntry
from wsdmon.protocol.dsm import FilterStatus, JobStatus
from wsdmon.widgets import MainWindow

HERE = Path(__file__).resolve().parent
PENDING_CHANGE = Change(ChangeField.JOB_STATE, None, "Pending")
SERVERS = [f"urn:uuid:00000000-0000-4000-8000-{i:012d}" for i in range(8)]
FILESHARE = "http://schemas.microsoft.com/windows/2007/10/imaging/postscan/filter/fileshare"
EMAIL = "http://schemas.microsoft.com/windows/2007/10/imaging/postscan/filter/email"
STATES = ["Pending", "Processing", "Completed", "Completed", "Completed", "Aborted", "Canceled"]
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ACTION = "http://schemas.microsoft.com/windows/2006/08/wdp/scan/PostScanJobStatusEvent"
NEW_JOB_SHARE = 0.1  # of the events: about ten events per job
OLD_JOB_SHARE = 0.2  # of the updates: loaded jobs (half of them on screen, half anywhere)
LIVE_JOBS = 40  # jobs in progress at once during the feed
IMAGES_PER_JOB = 8


def make_record(i: int, rng: random.Random) -> JobRecord:
    state = rng.choice(STATES)
    done = state in ("Completed", "Aborted", "Canceled")
    created = T0 + timedelta(seconds=i * 3)
    filters = (
        FilterStatus(FILESHARE, "CompletedSuccessfully" if done else "Processing"),
        FilterStatus(EMAIL, "CompletedWithErrors", ("InvalidSMTPServer",))
        if i % 17 == 0
        else FilterStatus(EMAIL, "CompletedSuccessfully" if done else "Pending"),
    )
    reasons = ("PostScanJobCompletedSuccessfully",) if state == "Completed" else ("None",)
    status = JobStatus(
        f"{i:08x}-0db3-4978-8aad-{rng.getrandbits(48):012x}",
        state,
        reasons,
        filters,
        rng.randint(0, 40),
        created,
        created + timedelta(seconds=rng.randint(2, 90)) if done else None,
    )
    key = JobKey(SERVERS[i % len(SERVERS)], status.job_token)
    entry = TimelineEntry(created, ObservationKind.STATUS_EVENT, (PENDING_CHANGE,), False, None, i)
    return JobRecord(key, status, created, created, done, "psp", "Scan to share", "user", (entry,))


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: peak RSS is the best we have
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pump(app: QApplication, rounds: int = 3) -> None:
    for _ in range(rounds):
        app.processEvents()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def run_for(seconds: float) -> None:
    """Run the Qt event loop (idle waits included) for `seconds`."""
    loop = QEventLoop()
    stop = QTimer()
    stop.setSingleShot(True)
    stop.setTimerType(Qt.TimerType.PreciseTimer)
    stop.timeout.connect(loop.quit)
    stop.start(round(seconds * 1000))
    loop.exec()


class Setup:
    """The window as app.py wires it, minus the engine: the bridge is fed directly."""

    def __init__(self, app: QApplication, settings_dir: Path) -> None:
        self.devices = DeviceTreeModel()
        self.jobs = JobTableModel(self.devices.device)
        self.raw_log = RawLogModel()
        self.status = EngineStatus()
        self.bridge = QtBridge(self.jobs, self.devices, self.raw_log, self.status)
        self.servers = {
            s: DeviceRecord(
                s,
                (f"http://192.0.2.{i + 10}:5357/{i}",),
                friendly_name=f"SCANSRV-{i:02d}",
                services=(ServiceInfo(f"http://192.0.2.{i + 10}:5357/{i}/dsm", Role.SCAN_SERVER),),
            )
            for i, s in enumerate(SERVERS)
        }
        for record in self.servers.values():
            self.bridge.device_changed(record)
        self.bridge.flush()
        settings = QSettings(str(settings_dir / "bench.ini"), QSettings.Format.IniFormat)
        self.window = MainWindow(
            jobs=self.jobs, devices=self.devices, raw_log=self.raw_log, status=self.status, settings=settings
        )
        self.window.resize(1366, 768)
        self.window.show()
        self.view = self.window.job_table.view
        self.proxy = self.window.proxy
        pump(app)

    def load(self, records: list[JobRecord]) -> None:
        for rec in records:
            self.bridge.job_changed(JobChange(rec, added=True, accepted=True))
        self.bridge.flush()
        gc.collect()
        gc.freeze()  # as Application.start() does after the journal replay

    def close(self) -> None:
        gc.unfreeze()
        self.bridge.stop()
        self.window.close()
        self.window.deleteLater()


def measure_load(
    app: QApplication, records: list[JobRecord], settings_dir: Path
) -> tuple[Setup, dict[str, float]]:
    gc.collect()
    rss0 = rss_mb()
    t = time.perf_counter()
    setup = Setup(app, settings_dir)
    setup.load(records)
    pump(app)
    load_ms = (time.perf_counter() - t) * 1e3
    gc.collect()
    return setup, {"load_ms": load_ms, "rss_growth_mb": rss_mb() - rss0}


def measure_heap(app: QApplication, records: list[JobRecord], settings_dir: Path) -> float:
    """Python-heap growth (tracemalloc) of a second, separate load."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    setup = Setup(app, settings_dir)
    setup.load(records)
    pump(app)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    setup.close()
    pump(app)
    return sum(s.size_diff for s in after.compare_to(before, "filename")) / 2**20


def measure_sort(app: QApplication, setup: Setup, repeats: int) -> dict[str, float]:
    times = []
    for n in range(repeats):
        for column, order in (
            (Column.CREATED, Qt.SortOrder.DescendingOrder),
            (Column.STATE, Qt.SortOrder.AscendingOrder if n % 2 == 0 else Qt.SortOrder.DescendingOrder),
        ):
            t = time.perf_counter()
            setup.view.sortByColumn(column, order)
            pump(app)
            if column == Column.STATE:
                times.append((time.perf_counter() - t) * 1e3)
    return {"sort_state_ms_best": min(times), "sort_state_ms_median": percentile(times, 50)}


class Feeder:
    """Makes the events: new jobs and their lifecycle, and updates of old jobs."""

    def __init__(self, records: list[JobRecord], rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.start = start  # JobCreatedTime of the first new job
        self.old = records
        self.on_screen: Callable[[], list[JobRecord]] = list
        self.current: dict[JobKey, JobRecord] = {}
        self.live: list[JobKey] = []
        self.next_id = 10_000_000

    def event(self, now: datetime) -> tuple[JobRecord, bool]:
        """The next observation and whether it adds a job."""
        rng = self.rng
        if len(self.live) < LIVE_JOBS or rng.random() < NEW_JOB_SHARE:
            rec = make_record(self.next_id, rng)
            self.next_id += 1
            status = dataclasses.replace(
                rec.status,
                job_state="Pending",
                job_created_time=now,
                job_completed_time=None,
                images_received=0,
            )
            rec = dataclasses.replace(rec, status=status, ended=False)
            self.live.append(rec.key)
            self.current[rec.key] = rec
            return rec, True
        if self.old and rng.random() < OLD_JOB_SHARE:
            shown = self.on_screen() if rng.random() < 0.5 else []
            base = rng.choice(shown) if shown else rng.choice(self.old)
            old = self.current.get(base.key, base)
            changes: dict[str, Any] = {"images_received": old.status.images_received + 1}
            if rng.random() < 0.1:
                changes["job_state"] = rng.choice(STATES)
            rec = dataclasses.replace(old, status=dataclasses.replace(old.status, **changes))
            self.current[rec.key] = rec
            return rec, False
        i = rng.randrange(len(self.live))
        key = self.live[i]
        s = self.current[key].status
        if s.images_received < IMAGES_PER_JOB:
            status = dataclasses.replace(s, job_state="Processing", images_received=s.images_received + 1)
        else:
            failed = rng.random() < 0.1
            status = dataclasses.replace(
                s,
                job_state="Aborted" if failed else "Completed",
                job_state_reasons=("PostScanJobProcessingFailed",)
                if failed
                else ("PostScanJobCompletedSuccessfully",),
                job_completed_time=now,
            )
            self.live[i] = self.live[-1]
            self.live.pop()
        rec = dataclasses.replace(self.current[key], status=status)
        self.current[key] = rec
        return rec, False


class LatencyProbe(QObject):
    """Watches the proxy's signals and the job table's repaints; keeps the latencies."""

    def __init__(self, setup: Setup, loaded: set[JobKey]) -> None:
        super().__init__()
        self.setup = setup
        self._loaded = loaded
        self.due: dict[JobKey, float] = {}  # waiting for the model: due time of the oldest pending event
        self.shown: dict[JobKey, float] = {}  # shown by the model, waiting for a repaint
        self.model_ms: list[float] = []
        self.painted_ms: list[float] = []
        self.painted_at: list[tuple[float, float]] = []  # (the time its clock started, painted)
        self.layout_changes = 0
        self._after_paint_armed = False
        proxy = setup.proxy
        proxy.dataChanged.connect(self._on_data_changed)
        proxy.rowsInserted.connect(self._on_rows_inserted)
        proxy.layoutChanged.connect(self._on_layout_changed)
        setup.view.viewport().installEventFilter(self)

    def detach(self) -> None:
        proxy = self.setup.proxy
        proxy.dataChanged.disconnect(self._on_data_changed)
        proxy.rowsInserted.disconnect(self._on_rows_inserted)
        proxy.layoutChanged.disconnect(self._on_layout_changed)
        self.setup.view.viewport().removeEventFilter(self)

    def on_screen(self) -> list[JobRecord]:
        """Loaded jobs on the rows the job table shows now (for the feeder)."""
        view, proxy = self.setup.view, self.setup.proxy
        top, bottom = view.rowAt(0), view.rowAt(view.viewport().height() - 1)
        if top < 0:
            return []
        bottom = proxy.rowCount() - 1 if bottom < 0 else bottom
        recs = (role_data(proxy.index(row, 0), ItemRole.JOB_RECORD) for row in range(top, bottom + 1))
        return [r for r in recs if r.key in self._loaded]

    def expect(self, key: JobKey, due: float) -> None:
        self.due.setdefault(key, due)

    def _seen(self, first: int, last: int) -> None:
        if not self.due:
            return
        now = time.perf_counter()
        proxy = self.setup.proxy
        if last - first + 1 > len(self.due):  # fewer jobs awaited than rows changed: find their rows
            keys = [k for k in self.due if (row := proxy.row_of(k)) is not None and first <= row <= last]
        else:
            keys = [role_data(proxy.index(row, 0), ItemRole.JOB_KEY) for row in range(first, last + 1)]
        for key in keys:
            t = self.due.pop(key, None)
            if t is not None:
                self.model_ms.append((now - t) * 1e3)
                self.shown.setdefault(key, t)

    def _on_data_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, roles: object = None
    ) -> None:
        self._seen(top_left.row(), bottom_right.row())

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        self._seen(first, last)

    def _on_layout_changed(self, *args: object) -> None:
        self.layout_changes += 1

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self._after_paint_armed:
            self._after_paint_armed = True
            QTimer.singleShot(0, self._after_paint)  # runs once the repaint is done
        return False

    def _after_paint(self) -> None:
        self._after_paint_armed = False
        now = time.perf_counter()
        view, proxy = self.setup.view, self.setup.proxy
        top = view.rowAt(0)
        bottom = view.rowAt(view.viewport().height() - 1)
        if top < 0:
            self.shown.clear()
            return
        bottom = proxy.rowCount() - 1 if bottom < 0 else bottom
        for key, t in self.shown.items():
            row = proxy.row_of(key)
            if row is not None and top <= row <= bottom:
                self.painted_ms.append((now - t) * 1e3)
                self.painted_at.append((t, now))
        self.shown.clear()  # rows off screen have no "visible" latency


def measure_feed(
    setup: Setup,
    feeder: Feeder,
    loaded: set[JobKey],
    seconds: float,
    *,
    rate: int,
    column: Column,
    order: Qt.SortOrder,
) -> dict[str, Any]:
    """Feed `rate` events/s for `seconds` on a precise schedule; latencies from each event's due time."""
    setup.view.sortByColumn(column, order)
    setup.view.selectRow(0)
    run_for(0.2)
    probe = LatencyProbe(setup, loaded)
    feeder.on_screen = probe.on_screen
    bridge = setup.bridge
    flushes = [0]
    real_flush = bridge.flush

    def counted_flush() -> None:
        flushes[0] += 1
        real_flush()

    bridge._timer.timeout.disconnect()
    bridge._timer.timeout.connect(counted_flush)
    sent = [0]
    late_ms: list[float] = []
    t0 = time.perf_counter()
    wall0 = feeder.start

    errors: list[BaseException] = []

    def tick() -> None:
        try:
            feed()
        except BaseException as exc:  # a broken feeder must stop the bench, not thin the feed
            errors.append(exc)
            timer.stop()
            raise

    def feed() -> None:
        now = time.perf_counter()
        due_total = min(int((now - t0) * rate), int(seconds * rate))
        if due_total > sent[0]:
            late_ms.append((now - (t0 + (sent[0] + 1) / rate)) * 1e3)
        while sent[0] < due_total:
            due = t0 + (sent[0] + 1) / rate
            rec, added = feeder.event(wall0 + timedelta(seconds=due - t0))
            probe.expect(rec.key, due)
            arrival = wall0 + timedelta(seconds=due - t0)
            # as the engine reports one accepted notification: the device's last event, the job, the log
            bridge.device_changed(dataclasses.replace(setup.servers[rec.key.device], last_event=arrival))
            bridge.job_changed(JobChange(rec, added=added, accepted=True))
            bridge.message_logged(
                RawEntry(datetime.now(UTC), rec.key.device, ACTION, "", sent[0], 1900, "192.0.2.10")
            )
            sent[0] += 1

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(1)
    timer.timeout.connect(tick)
    timer.start()
    run_for(seconds)
    while sent[0] < int(seconds * rate) and not errors:  # the last events, on schedule
        run_for(0.005)
    timer.stop()
    if errors:
        raise RuntimeError("the feeder failed") from errors[0]
    deadline = time.perf_counter() + 2
    while (probe.due or probe.shown) and time.perf_counter() < deadline:
        run_for(0.05)
    duration = seconds
    probe.detach()
    bridge._timer.timeout.disconnect()
    bridge._timer.timeout.connect(real_flush)
    return {
        "sorted_by": f"{column.name} {'desc' if order == Qt.SortOrder.DescendingOrder else 'asc'}",
        "events": sent[0],
        "events_per_s": sent[0] / duration,
        "feeder_late_ms_p99": percentile(late_ms, 99),
        "bridge_batches": flushes[0],
        "layout_changes": probe.layout_changes,
        "model_latency_ms_p50": percentile(probe.model_ms, 50),
        "model_latency_ms_p99": percentile(probe.model_ms, 99),
        "model_latency_ms_max": max(probe.model_ms, default=float("nan")),
        "painted_samples": len(probe.painted_ms),
        "painted_latency_ms_p50": percentile(probe.painted_ms, 50),
        "painted_latency_ms_p99": percentile(probe.painted_ms, 99),
        "painted_latency_ms_max": max(probe.painted_ms, default=float("nan")),
        "not_shown": len(probe.due),
    }


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    return fn(), time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 jobs, 1 s of feed (smoke test)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "gui_model.json")
    args = parser.parse_args(argv)
    jobs, seconds, repeats = (10_000, 1.0, 2) if args.quick else (100_000, 12.0, 5)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    gc.collect()
    rss0 = rss_mb()
    rng = random.Random(5)
    records, build_s = timed(lambda: [make_record(i, rng) for i in range(jobs)])
    gc.collect()
    records_rss = rss_mb() - rss0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, recs in (("empty", []), (f"{jobs}", records)):
            setup, load = measure_load(app, recs, Path(tmp))
            sort = measure_sort(app, setup, repeats)
            loaded = {r.key for r in recs}
            start = T0 + timedelta(seconds=3 * len(recs) + 3600)  # after every loaded job: new ones on top
            feeds = []
            for n, (column, order) in enumerate(
                ((Column.CREATED, Qt.SortOrder.DescendingOrder), (Column.STATE, Qt.SortOrder.AscendingOrder))
            ):
                feeder = Feeder(recs, random.Random(7 + n), start + timedelta(hours=n + 1))
                feeds.append(
                    measure_feed(setup, feeder, loaded, seconds, rate=1000, column=column, order=order)
                )
            gc.collect()
            rss_after_feed = rss_mb()
            setup.close()
            del setup
            pump(app)
            gc.collect()
            heap = measure_heap(app, recs, Path(tmp))
            rows.append(
                {
                    "model": label,
                    "rows_before_feed": len(recs),
                    **load,
                    "python_heap_growth_mb": heap,
                    "rss_after_feeds_mb": rss_after_feed - rss0 - records_rss,
                    **sort,
                    "feeds": feeds,
                }
            )
    result = {
        "bench": "gui_model",
        "wsdmon": wsdmon.__version__,
        "python": platform.python_version(),
        "pyside6": __import__("PySide6").__version__,
        "machine": platform.machine(),
        "qt_platform": os.environ.get("QT_QPA_PLATFORM"),
        "bridge_flush_delay_ms": FLUSH_DELAY_MS,
        "records_built_s": build_s,
        "records_rss_mb": records_rss,
        "targets": {"sort_state_ms": 300, "memory_growth_mb": 120, "latency_ms_p99": 50},
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"records: {records_rss:.1f} MB RSS for {jobs} JobRecords (not counted below)")
    for row in rows:
        print(
            f"{row['model']:>7}: load {row['load_ms']:.0f} ms, +{row['rss_growth_mb']:.1f} MB RSS "
            f"(Python heap +{row['python_heap_growth_mb']:.1f} MB), sort JobState "
            f"{row['sort_state_ms_best']:.0f} ms best / {row['sort_state_ms_median']:.0f} ms median"
        )
        for f in row["feeds"]:
            print(
                f"         feed sorted by {f['sorted_by']}: {f['events_per_s']:.0f} ev/s, "
                f"model p50 {f['model_latency_ms_p50']:.1f} / p99 {f['model_latency_ms_p99']:.1f} ms, "
                f"painted p50 {f['painted_latency_ms_p50']:.1f} / p99 {f['painted_latency_ms_p99']:.1f} ms "
                f"({f['painted_samples']} on screen), {f['layout_changes']} layout changes"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
