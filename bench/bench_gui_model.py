"""JobTableModel + JobFilterProxyModel at 100,000 jobs, side by side with an empty model in the same run.

Issue #5 targets: sorting by JobState ≤ 300 ms; memory growth ≤ 120 MB; with 1,000 events/s the
notify-to-visible-row latency p99 ≤ 50 ms. Measured with a QTableView attached (offscreen, 1366x768)
and sorted by JobState during the feed (the worst case: a state change moves the row):

- sort: proxy.sort(JobState) (forwarded to the model) plus the event processing it triggers;
- memory: tracemalloc growth from loading the jobs into model + proxy (the JobRecords themselves are
  built before the first snapshot: they exist in the engine anyway), and process RSS growth;
- latency: a QTimer feeds apply_changes every 10 ms (10 events: 9 progress updates, 1 state change
  that moves its row, plus a new job every 100 ms); latency runs from apply_changes to the proxy
  signal that shows the row (dataChanged covering it, or rowsInserted).

    QT_QPA_PLATFORM=offscreen PYTHONPATH=gui .venv/bin/python bench/bench_gui_model.py [--quick]
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import gc
import json
import os
import platform
import random
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QApplication, QHeaderView, QTableView

import wsdmon
from wsdmon.core import JobKey, JobRecord, ObservationKind, TimelineEntry
from wsdmon.models import Column, JobFilterProxyModel, JobTableModel, Role, role_data
from wsdmon.protocol.dsm import FilterStatus, JobStatus

HERE = Path(__file__).resolve().parent
SERVERS = [f"urn:uuid:00000000-0000-4000-8000-{i:012d}" for i in range(8)]
FILESHARE = "http://schemas.microsoft.com/windows/2007/10/imaging/postscan/filter/fileshare"
EMAIL = "http://schemas.microsoft.com/windows/2007/10/imaging/postscan/filter/email"
STATES = ["Pending", "Processing", "Completed", "Completed", "Completed", "Aborted", "Canceled"]
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


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
    entry = TimelineEntry(created, ObservationKind.STATUS_EVENT, ("JobState: Pending",), False, None, i)
    return JobRecord(key, status, created, created, done, "psp", "Scan to share", "user", (entry,))


_SINGLETONS = (None, True, False)
_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class RefGuard:
    """PySide6 6.12 on Python 3.11 drops a reference to None for every void method called from Python
    (processEvents, QTimer.start…) and to True/False for every emit(); a long loop frees them and
    aborts. The guard tops their counts back up between iterations, so the figures can be taken on
    the project's current stack (on Python 3.12+ these objects are immortal and it does nothing)."""

    def __init__(self) -> None:
        self.start = {id(o): sys.getrefcount(o) for o in _SINGLETONS}
        self.healed = 0

    def heal(self) -> None:
        for o in _SINGLETONS:
            for _ in range(self.start[id(o)] - sys.getrefcount(o)):
                _incref(o)
                self.healed += 1


GUARD = RefGuard()


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: peak RSS is the best we have
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pump(app: QCoreApplication, rounds: int = 3) -> None:
    for _ in range(rounds):
        app.processEvents()
    GUARD.heal()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


class Setup:
    def __init__(self, app: QApplication) -> None:
        self.model = JobTableModel()
        self.proxy = JobFilterProxyModel()
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.verticalHeader().setVisible(False)  # as JobTableWidget configures it
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.resize(1366, 768)
        self.view.show()
        pump(app)


def measure_load(app: QApplication, records: list[JobRecord]) -> tuple[Setup, dict[str, float]]:
    gc.collect()
    rss0 = rss_mb()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    t = time.perf_counter()
    setup = Setup(app)
    if records:
        setup.model.apply_changes(records)
    pump(app)
    load_ms = (time.perf_counter() - t) * 1e3
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    return setup, {"load_ms": load_ms, "tracemalloc_mb": grown / 2**20, "rss_growth_mb": rss_mb() - rss0}


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


def measure_feed(
    app: QApplication,
    setup: Setup,
    records: list[JobRecord],
    seconds: float,
    *,
    rate: int,
    rng: random.Random,
) -> dict[str, float]:
    """Feed `rate` events/s for `seconds`; latency from apply_changes to the proxy signal showing it."""
    setup.view.sortByColumn(Column.STATE, Qt.SortOrder.AscendingOrder)
    pump(app)
    current = {r.key: r for r in records}
    keys = list(current)
    waiting: dict[JobKey, float] = {}
    latencies: list[float] = []
    proxy = setup.proxy

    def seen(first: int, last: int) -> None:
        now = time.perf_counter()
        for row in range(first, last + 1):
            key = role_data(proxy.index(row, 0), Role.JOB_KEY)
            t = waiting.pop(key, None)
            if t is not None:
                latencies.append((now - t) * 1e3)

    def on_changed(tl: QModelIndex, br: QModelIndex, roles: object = None) -> None:
        if waiting:
            seen(tl.row(), br.row())

    def on_inserted(parent: QModelIndex, first: int, last: int) -> None:
        seen(first, last)

    proxy.dataChanged.connect(on_changed)
    proxy.rowsInserted.connect(on_inserted)
    per_tick = max(1, rate // 100)
    new_id = [10_000_000]
    ticks = [0]
    end = time.perf_counter() + seconds

    def tick() -> None:
        ticks[0] += 1
        batch = []
        for n in range(per_tick):
            if not keys or (n == 0 and ticks[0] % 10 == 0):  # a new job every 100 ms
                rec = make_record(new_id[0], rng)
                new_id[0] += 1
                keys.append(rec.key)
            else:
                old = current[rng.choice(keys)]
                changes: dict[str, object] = {"images_received": old.status.images_received + 1}
                if n == per_tick - 1:  # one state change per tick: moves the row in a JobState sort
                    changes["job_state"] = rng.choice(STATES)
                rec = dataclasses.replace(old, status=dataclasses.replace(old.status, **changes))
            current[rec.key] = rec
            batch.append(rec)
        t = time.perf_counter()
        for rec in batch:
            waiting.setdefault(rec.key, t)
        setup.model.apply_changes(batch)
        GUARD.heal()

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    while time.perf_counter() < end:
        app.processEvents()
        GUARD.heal()
    timer.stop()
    deadline = time.perf_counter() + 1
    while waiting and time.perf_counter() < deadline:
        app.processEvents()
        GUARD.heal()
    proxy.dataChanged.disconnect(on_changed)
    proxy.rowsInserted.disconnect(on_inserted)
    return {
        "events": ticks[0] * per_tick,
        "events_per_s": ticks[0] * per_tick / seconds,
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p99": percentile(latencies, 99),
        "latency_ms_max": max(latencies, default=float("nan")),
        "not_shown": len(waiting),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 jobs, 1 s of feed (smoke test)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "gui_model.json")
    args = parser.parse_args(argv)
    jobs, seconds, repeats = (10_000, 1.0, 2) if args.quick else (100_000, 5.0, 4)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    rng = random.Random(5)
    t = time.perf_counter()
    records = [make_record(i, rng) for i in range(jobs)]
    build_s = time.perf_counter() - t
    rows = []
    for label, recs in (("empty", []), (f"{jobs}", records)):
        setup, load = measure_load(app, recs)
        sort = measure_sort(app, setup, repeats)
        feed = measure_feed(app, setup, recs, seconds, rate=1000, rng=random.Random(7))
        rows.append({"model": label, "rows_before_feed": len(recs), **load, **sort, **feed})
        setup.view.close()
        del setup
        gc.collect()
    result = {
        "bench": "gui_model",
        "wsdmon": wsdmon.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "qt_platform": os.environ.get("QT_QPA_PLATFORM"),
        "records_built_s": build_s,
        "refguard_increfs": GUARD.healed,
        "targets": {"sort_state_ms": 300, "memory_growth_mb": 120, "latency_ms_p99": 50},
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for row in rows:
        print(
            f"{row['model']:>7}: load {row['load_ms']:.0f} ms, +{row['tracemalloc_mb']:.1f} MB traced "
            f"(+{row['rss_growth_mb']:.1f} MB RSS), sort JobState {row['sort_state_ms_best']:.0f} ms, "
            f"{row['events_per_s']:.0f} ev/s p50 {row['latency_ms_p50']:.1f} ms "
            f"p99 {row['latency_ms_p99']:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
