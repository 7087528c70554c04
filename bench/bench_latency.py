"""Notify-to-visible-row latency through the window's feed (issue 14, item 5: p99 ≤ 17 ms, one
frame, at 1,000 events/s in-process).

A producer feeds the window as app.py wires it (QtBridge → JobTableModel → JobFilterProxyModel → the
MainWindow's job table, 1366×768, offscreen unless QT_QPA_PLATFORM says otherwise) on the qasync
loop the app runs on. The in-process producer is the real Engine: each event is a decoded
PostScanJobStatusEvent handed to the engine as its sink hands an accepted notification (the route,
the fold into the job table, the health index, the listener), for 8 known scan servers, about 100
new jobs/s and the rest updates of the jobs in progress. Events are due on a precise schedule; two
clocks start per event:

- `from_due`: when the notification was due (a feeder that runs late because the loop was busy
  counts against the latency: a device's POST would have waited the same);
- `from_accept`: when the engine was handed it;

and each stops at the end of the first repaint of the job table that shows the job's row with the
change (bench_gui_model.LatencyProbe, told by the model which jobs each batch brought:
`model_probe`), for rows on screen then.

`measure(setup, produce, …)` takes any producer: `produce(n, arrival)` makes the producer emit its
n-th notification and returns the JobKey whose row must show it (e.g. a collector writing to
PostgreSQL with the shared window following it).

Before and after in the same run: each variant is a child process importing wsdmon from a source
tree (`--before` names the old tree's gui/ folder; default /work/main/gui when it exists), rounds
interleaved; bench/results/latency.json.

Besides the latencies, each run says what the GUI thread costs (CPU time, not wall time, so that a
busy machine does not inflate it): its share of a core over the feed, the CPU of one bridge batch,
and of one full repaint of the job table's viewport; `--profile` adds a cProfile (CPU time) of the
'after' feed. BENCH_FLUSH_MS=N runs the bridge with another batch delay (an experiment).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_latency.py [--quick] [--before PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET_P99_MS = 17.0  # one frame at 60 Hz
RATE = 1000  # events/s
LIVE_JOBS = 40  # jobs in progress at once
IMAGES_PER_JOB = 8

Produce = Callable[[int, datetime], Any]  # (n, arrival) → the JobKey whose row shows it


class EngineProducer:
    """The real Engine, its devices restored from a journal, handed accepted notifications."""

    def __init__(self, listener: Any, servers: dict[str, Any], tmp: Path, rng: random.Random) -> None:
        from wsdmon.core import JobKey
        from wsdmon.net.engine import Engine, EngineConfig
        from wsdmon.net.sink import Accepted, Registration
        from wsdmon.store.journal import Journal

        # Imported once: an import statement per event costs ~10 µs of the GUI thread under PySide
        # (its import hook), the bench's, not the window's.
        self.accepted_type = Accepted

        self.journal = Journal(tmp / "latency.sqlite3")
        for record in servers.values():
            self.journal.upsert_device(record)
        self.engine = Engine(EngineConfig(notify_port=0), self.journal, listener)
        self.engine._restore()  # the devices are known (as after a start): notifications route to them
        self.regs = {
            s: Registration(s, r.services[0].address, f"urn:uuid:{i:08d}-0000-4000-8000-000000000000", "/n")
            for i, (s, r) in enumerate(servers.items())
        }
        self.rng = rng
        self.live: list[tuple[str, str, int]] = []  # (device, token, images)
        self.next_job = 0
        self.key = JobKey

    def _message(self, n: int, device: str, token: str, images: int, done: bool) -> Any:
        from wsdmon.protocol import Headers
        from wsdmon.protocol import namespaces as ns
        from wsdmon.protocol.dsm import (
            FilterState,
            FilterStatus,
            JobState,
            JobStateReason,
            JobStatus,
            PostScanJobStatusEvent,
        )

        status = JobStatus(
            token,
            JobState.COMPLETED if done else JobState.PROCESSING if images else JobState.PENDING,
            (JobStateReason.NONE,),
            (
                FilterStatus(ns.FILTER_FILESHARE, FilterState.PROCESSING),
                FilterStatus(ns.FILTER_EMAIL, FilterState.PENDING),
            ),
            images,
            datetime(2026, 12, 6, 9, 0, tzinfo=UTC),
        )
        header = Headers(
            message_id=f"urn:uuid:bench-{n:012d}", to="x", identifier=self.regs[device].identifier
        )
        return PostScanJobStatusEvent(header, status)

    def plan(self, count: int) -> None:
        """Make the `count` notifications beforehand (a device's work, not the monitor's): new jobs
        while fewer than LIVE_JOBS run and a tenth of the time, else the next image of a running job."""
        rng = self.rng
        self.planned: list[tuple[Any, Any, Any]] = []  # (registration, message, job key)
        for n in range(count):
            if len(self.live) < LIVE_JOBS or rng.random() < 0.1:
                device = rng.choice(list(self.regs))
                token = f"{self.next_job:08x}-0db3-4978-8aad-{rng.getrandbits(48):012x}"
                self.next_job += 1
                self.live.append((device, token, 0))
                images, done = 0, False
            else:
                i = rng.randrange(len(self.live))
                device, token, images = self.live[i]
                images += 1
                done = images >= IMAGES_PER_JOB
                if done:
                    self.live[i] = self.live[-1]
                    self.live.pop()
                else:
                    self.live[i] = (device, token, images)
            message = self._message(n, device, token, images, done)
            self.planned.append((self.regs[device], message, self.key(device, token)))

    def __call__(self, n: int, arrival: datetime) -> Any:
        reg, message, key = self.planned[n]
        self.engine._on_accepted(self.accepted_type(reg, message, b"", arrival, n + 1, "192.0.2.10"))
        return key

    def close(self) -> None:
        self.journal.close()


def model_probe() -> type:
    """bench_gui_model.LatencyProbe, told by the job model itself which jobs a batch brought (the
    bridge's one call, JobTableModel.apply_changes; its rows' signals are emitted within it) instead of
    finding the awaited jobs' rows on every proxy signal: that search cost the GUI thread ~0.1 ms a
    signal, ~7% of it at 1,000 events/s, which a window without the probe does not spend. The
    painted latency is the same: a job counts from the batch that brought it to the first repaint
    after it that shows its row."""
    from bench_gui_model import LatencyProbe

    class ModelProbe(LatencyProbe):  # type: ignore[misc, valid-type]
        def __init__(self, setup: Any, loaded: set[Any]) -> None:
            super().__init__(setup, loaded)
            proxy, jobs = setup.proxy, setup.jobs
            proxy.dataChanged.disconnect(self._on_data_changed)
            proxy.rowsInserted.disconnect(self._on_rows_inserted)
            real = jobs.apply_changes

            def apply_changes(records: Any, **kwargs: Any) -> None:
                real(records, **kwargs)
                if not self.due:
                    return
                now = time.perf_counter()
                for rec in records:
                    t = self.due.pop(rec.key, None)
                    if t is not None:
                        self.model_ms.append((now - t) * 1e3)
                        self.shown.setdefault(rec.key, t)

            jobs.apply_changes = apply_changes

        def detach(self) -> None:
            proxy = self.setup.proxy
            proxy.dataChanged.connect(self._on_data_changed)  # LatencyProbe.detach disconnects them
            proxy.rowsInserted.connect(self._on_rows_inserted)
            super().detach()
            del self.setup.jobs.apply_changes  # the model's own again

    return ModelProbe


def measure(
    setup: Any,
    produce: Produce,
    *,
    seconds: float,
    rate: int = RATE,
    profile: bool = False,
    probe_class: Any = None,
) -> dict[str, Any]:
    """Feed `rate` notifications/s for `seconds` through `produce` on a precise schedule while the
    loop runs; latencies (ms) to the repaint that shows each row: from the due time and from the
    hand-over to the producer. `setup` is bench_gui_model.Setup (the window as app.py wires it)."""
    from bench_gui_model import percentile
    from PySide6.QtCore import Qt, QTimer

    from wsdmon.models import Column

    setup.view.sortByColumn(Column.CREATED, Qt.SortOrder.DescendingOrder)
    setup.view.selectRow(0)
    run_loop(0.2)
    bridge = setup.bridge
    flush_cpu_ms: list[float] = []
    real_flush = bridge.flush

    def timed_flush() -> None:  # what one batch costs the GUI thread (CPU, not wall)
        t = time.thread_time()
        real_flush()
        flush_cpu_ms.append((time.thread_time() - t) * 1e3)

    bridge._timer.timeout.disconnect()
    bridge._timer.timeout.connect(timed_flush)
    probe_class = probe_class or model_probe()  # a LatencyProbe of another job model
    # One probe: what it costs the GUI thread is the bench's, not the window's (a second probe for
    # the second clock cost as much again: ~5% of the thread). Its clock starts at the due time;
    # the hand-over time of the same notification is looked up by that due time when it is painted.
    probe = probe_class(setup, set())
    handed_at: dict[float, float] = {}  # due time → when it was handed to the producer
    sent = [0]
    produce_cpu_s = [0.0]  # the producer's CPU (with the bridge's listener calls it makes)
    late_ms: list[float] = []
    errors: list[BaseException] = []
    wall0 = datetime.now(UTC)
    t0 = time.perf_counter()
    total = int(seconds * rate)

    def feed() -> None:
        now = time.perf_counter()
        due_total = min(int((now - t0) * rate), total)
        if due_total > sent[0]:
            late_ms.append((now - (t0 + (sent[0] + 1) / rate)) * 1e3)
        while sent[0] < due_total:
            due = t0 + (sent[0] + 1) / rate
            handed = time.perf_counter()
            cpu = time.thread_time()
            key = produce(sent[0], wall0 + timedelta(seconds=due - t0))
            produce_cpu_s[0] += time.thread_time() - cpu
            probe.expect(key, due)
            handed_at[due] = handed
            sent[0] += 1

    def tick() -> None:
        try:
            feed()
        except BaseException as exc:  # a broken producer must stop the bench, not thin the feed
            errors.append(exc)
            timer.stop()
            raise

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(1)
    timer.timeout.connect(tick)
    # CPU time, not wall time: on a shared machine the process also waits for a core, and the
    # profile should say what our code costs.
    profiler = cProfile.Profile(time.thread_time) if profile else None
    # The garbage collector's pauses during the feed (a collection stops the GUI thread too).
    gc_pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_pauses[info["generation"]].append((time.perf_counter() - gc_started[0]) * 1e3)

    gc.callbacks.append(on_gc)
    cpu0, wall0_s = time.thread_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    timer.start()
    run_loop(seconds)
    while sent[0] < total and not errors:
        run_loop(0.005)
    timer.stop()
    gc.callbacks.remove(on_gc)
    cpu_share = (time.thread_time() - cpu0) / (time.perf_counter() - wall0_s)
    if profiler is not None:
        profiler.disable()
    if errors:
        raise RuntimeError("the producer failed") from errors[0]
    deadline = time.perf_counter() + 2
    while (probe.due or probe.shown) and time.perf_counter() < deadline:
        run_loop(0.05)
    probe.detach()
    bridge._timer.timeout.disconnect()
    bridge._timer.timeout.connect(real_flush)
    repaint_cpu_ms = repaint_cpu(setup.view)
    result: dict[str, Any] = {
        "events": sent[0],
        "feeder_late_ms_p99": percentile(late_ms, 99),
        # the GUI thread's CPU time over the feed's wall time: 1.0 = one core busy all the time
        "gui_thread_cpu_share": cpu_share,
        "load_average_1min": os.getloadavg()[0],
        "producer_cpu_us_per_event": produce_cpu_s[0] / max(sent[0], 1) * 1e6,
        "bridge_batches": len(flush_cpu_ms),
        "batch_cpu_ms_p50": percentile(flush_cpu_ms, 50),
        "batch_cpu_ms_p99": percentile(flush_cpu_ms, 99),
        # rows that did not change are copied from the job table's row atlas (where the code has one)
        "full_repaint_cpu_ms_p50": percentile(repaint_cpu_ms, 50),
        "full_repaint_fresh_cpu_ms_p50": percentile(repaint_cpu(setup.view, fresh=True), 50),
        # the same viewport on a plain QStandardItemModel (no Python per cell): Qt's own share
        "qt_baseline_repaint_cpu_ms_p50": percentile(baseline_repaint_cpu(setup.view), 50),
        # per generation: collections during the feed, and their longest pause
        "gc_collections": {str(g): len(p) for g, p in gc_pauses.items()},
        "gc_pause_ms_max": {str(g): max(p, default=0.0) for g, p in gc_pauses.items()},
    }
    from_accept = [(painted - handed_at[due]) * 1e3 for due, painted in probe.painted_at]
    for name, ms in (("from_due", probe.painted_ms), ("from_accept", from_accept)):
        result[name] = {
            "painted_samples": len(ms),
            "p50_ms": percentile(ms, 50),
            "p95_ms": percentile(ms, 95),
            "p99_ms": percentile(ms, 99),
            "max_ms": max(ms, default=float("nan")),
        }
    result["not_shown"] = len(probe.due)
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
        result["profile"] = out.getvalue().splitlines()
    return result


def repaint_cpu(view: Any, times: int = 30, *, fresh: bool = False) -> list[float]:
    """CPU ms of full synchronous repaints of a view's viewport; `fresh`: with no row painted
    before (the job table's row atlas dropped before each)."""
    out = []
    for _ in range(times):
        if fresh and hasattr(view, "_atlas"):
            view._atlas = None
        t = time.thread_time()
        view.viewport().repaint()
        out.append((time.thread_time() - t) * 1e3)
    return out


def baseline_repaint_cpu(like: Any) -> list[float]:
    """A QTableView of the same size and columns on a QStandardItemModel full of text: what Qt's
    painting alone costs on this machine, for comparison."""
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QTableView

    columns = like.model().columnCount()
    model = QStandardItemModel(200, columns)
    for r in range(200):
        for c in range(columns):
            model.setItem(r, c, QStandardItem(f"{r:08x}-0db3-4978 Processing 2026-12-06 09:00"))
    view = QTableView()
    view.setModel(model)
    view.setWordWrap(False)
    view.verticalHeader().setDefaultSectionSize(like.verticalHeader().defaultSectionSize())
    for c in range(columns):
        view.setColumnWidth(c, like.columnWidth(c))
        view.setColumnHidden(c, like.isColumnHidden(c))
    view.resize(like.size())
    view.show()
    run_loop(0.1)
    try:
        return repaint_cpu(view)
    finally:
        view.close()


def run_loop(seconds: float) -> None:
    """Run the qasync loop (Qt's) for `seconds`. Called from a Qt callback while the loop already
    runs (a measurement started from a coroutine, as the shared window's bench does), it processes
    Qt's events, and with them the loop's, for that long instead."""
    loop = asyncio.get_event_loop()
    if not loop.is_running():
        loop.run_until_complete(asyncio.sleep(seconds))
        return
    from PySide6.QtCore import QCoreApplication, QEventLoop

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)


def child(seconds: float, profile: bool) -> dict[str, Any]:
    """One variant: the window, the engine, the feed (in the wsdmon this interpreter imports)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(HERE))
    from bench_gui_model import Setup
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    import qasync

    import wsdmon

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp:
        setup = Setup(app, Path(tmp))
        producer = EngineProducer(setup.bridge, setup.servers, Path(tmp), random.Random(14))
        producer.plan(int(seconds * RATE))
        # As the window does once its journal is restored (Application.start): what exists now is
        # out of the garbage collector's full passes (here also the planned messages, the devices'
        # work, which would otherwise cost the window's thread two full passes of ~70 ms).
        gc.collect()
        gc.freeze()
        if os.environ.get("BENCH_FLUSH_MS"):  # an experiment: another bridge delay
            setup.bridge._timer.setInterval(int(os.environ["BENCH_FLUSH_MS"]))
        try:
            result = measure(setup, producer, seconds=seconds, profile=profile)
        finally:
            producer.close()
            setup.close()
    result["wsdmon_from"] = str(Path(wsdmon.__file__).parent)
    return result


def run_variant(gui: Path | None, seconds: float, profile: bool) -> dict[str, Any]:
    """One child process: wsdmon from `gui` (a source tree's gui/ folder), or the wsdmon this
    interpreter imports (None)."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    if gui is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(gui), env.get("PYTHONPATH", "")) if p)
    args = [sys.executable, str(Path(__file__)), "--child", "--seconds", str(seconds)]
    if profile:
        args.append("--profile")
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"variant {gui} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s of feed, one round (smoke test)")
    default_before = Path("/work/main/gui")
    parser.add_argument(
        "--before",
        type=Path,
        default=default_before if default_before.is_dir() else None,
        help="the gui/ folder of the code to compare with (the 'before' variant)",
    )
    parser.add_argument("--no-before", action="store_true", help="measure this wsdmon only")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--profile", action="store_true", help="cProfile the 'after' variant's feed too")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latency.json")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.seconds, args.profile)))
        return 0
    seconds, rounds = (2.0, 1) if args.quick else (args.seconds, args.rounds)
    variants: dict[str, Path | None] = {"after": None}  # the wsdmon this interpreter imports
    if args.before is not None and not args.no_before:
        variants = {"before": args.before, **variants}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, gui in variants.items():
            runs[name].append(run_variant(gui, seconds, profile=False))
    profile = None
    if args.profile:  # its latencies are the profiler's (it slows every call): only the CPU profile
        profiled = run_variant(None, seconds, profile=True)
        profile = {"cpu_time_profile": profiled["profile"], "events": profiled["events"]}
    result = {
        "bench": "latency",
        "what": "notify-to-visible-row: engine accepts a notification -> row repainted in the job table",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "qt_platform": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "rate_per_s": RATE,
        "seconds_per_round": seconds,
        "target_p99_ms": TARGET_P99_MS,
        "variants": {name: str(gui or "installed") for name, gui in variants.items()},
        "runs": runs,
        "profile_after": profile,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for name, rs in runs.items():
        for r in rs:
            d, a = r["from_due"], r["from_accept"]
            print(
                f"{name:>6}: from due p50 {d['p50_ms']:.1f} / p95 {d['p95_ms']:.1f} / "
                f"p99 {d['p99_ms']:.1f} ms; "
                f"from accept p50 {a['p50_ms']:.1f} / p95 {a['p95_ms']:.1f} / p99 {a['p99_ms']:.1f} ms "
                f"({d['painted_samples']} painted, feeder late p99 {r['feeder_late_ms_p99']:.1f} ms)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
