"""Notify-to-visible-row latency through PostgreSQL (issue 14, item 5: p99 ≤ 250 ms at 1,000 events/s):
a collector writes a shared store, the window on that store shows the rows.

Two processes, as on a support desk:

- the collector (a child process, no Qt): the real Engine on the real PostgresStore of site "bench",
  handed 1,000 notifications/s as its sink hands them (each first committed through the Recorder,
  as before a device's 202, then folded; the folded jobs are written every
  SHARED_JOB_FLUSH_INTERVAL_S, as `wsdmon collect --store postgresql://…` does);
- the window (this process): the real shared window (shared_app.SharedWindows.open, as `wsdmon
  --store` opens it): its follower hears the NOTIFYs and its job table pages the rows it shows
  from the store (models.PagedJobModel).

Both plan the same notifications (same seed); bench_latency.measure runs the window's clock: when it
asks for notification 0 the collector is told to start, on the same schedule. The latency of a
notification runs from when it was due to the repaint of the job table that shows its row with the
change (rows on screen: the row's record at least as new as the notification). PostgreSQL is a
throwaway cluster (tests/pg.py) with fsync on.

Where the time goes (`stages`, per painted notification, in ms; both processes stamp with the
system's monotonic clock): `accept` due → the collector's engine handed it (its message committed
first); `job_write` → the end of the collector's next write of the folded jobs (the NOTIFY goes at
that commit); `notify` → the window's follower heard it; `wait` → the job table's re-read that
showed it began; `reread` that re-read (re-count, rows of the selection); `paint` → the repaint that
showed the row. Beside them what a second of feed costs: the collector's CPU, PostgreSQL's (the
postmaster and its children), the window's GUI thread.

Before and after in the same run: each variant is a window child process (and its collector)
importing wsdmon from a source tree (`--before` names the old tree's gui/ folder) or the installed
one, rounds interleaved, each on a fresh database of one cluster.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_latency_pg.py [--seconds 10] [--before PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests.pg: the throwaway cluster

from bench_latency import RATE, EngineProducer, measure  # noqa: E402

TARGET_P99_MS = 250.0
ARRIVAL_SLACK_S = 0.002  # a record's last_update is the collector's arrival stamp, taken at the due time
SITE = "bench"
SEED = 14


class StoreProducer(EngineProducer):
    """EngineProducer's plan on a PostgresStore: the collector's side."""

    def __init__(self, store: Any, servers: dict[str, Any], rng: random.Random, listener: Any = None) -> None:
        from wsdmon.core import JobKey
        from wsdmon.net.engine import Engine, EngineConfig
        from wsdmon.net.job_ledger import SHARED_JOB_FLUSH_INTERVAL_S
        from wsdmon.net.recorder import PendingMessage, Recorder
        from wsdmon.net.sink import Accepted, Registration

        self.accepted_type, self.pending_type = Accepted, PendingMessage  # imported once, not per event

        self.journal = store
        for record in servers.values():
            store.upsert_device(record)
        config = EngineConfig(notify_port=0, site=SITE, job_flush_interval_s=SHARED_JOB_FLUSH_INTERVAL_S)
        self.engine = Engine(config, store, listener)
        self.recorder = Recorder(store)
        self.regs = {
            s: Registration(s, r.services[0].address, f"urn:uuid:{i:08d}-0000-4000-8000-000000000000", "/n")
            for i, (s, r) in enumerate(servers.items())
        }
        self.rng = rng
        self.live: list[tuple[str, str, int]] = []
        self.next_job = 0
        self.key = JobKey
        self.accepted: list[float] = []  # n → when the engine was handed it (perf_counter)

    async def deliver(self, n: int) -> None:
        """As the sink does: commit the message, then hand it to the engine."""
        reg, message, _key = self.planned[n]
        arrival = datetime.now(UTC)
        raw = b"<s:Envelope>" + b"x" * 1500 + b"</s:Envelope>"  # about a real event's size
        row = await self.recorder.record(
            self.pending_type(arrival, reg.device, reg.identifier, "PostScanJobStatusEvent", None, "", raw)
        )
        self.accepted[n] = time.perf_counter()
        self.engine._on_accepted(self.accepted_type(reg, message, raw, arrival, row, "192.0.2.10"))


def servers() -> dict[str, Any]:
    """The eight scan servers of bench_gui_model, without Qt."""
    from bench_gui_model import SERVERS

    from wsdmon.core import DeviceRecord, Role, ServiceInfo

    return {
        s: DeviceRecord(
            s,
            (f"http://192.0.2.{i + 10}:5357/{i}",),
            friendly_name=f"SCANSRV-{i:02d}",
            services=(ServiceInfo(f"http://192.0.2.{i + 10}:5357/{i}/dsm", Role.SCAN_SERVER),),
        )
        for i, s in enumerate(SERVERS)
    }


def collector(dsn: str, seconds: float, stamps: Path) -> None:
    """The child: says READY once the store and the engine are up, then waits for the start time on
    stdin and delivers on the schedule; writes its stamps (perf_counter) to `stamps` at the end."""
    from wsdmon.store.postgres import PostgresStore

    writes: list[tuple[float, float]] = []  # (start, end) of each write of the folded jobs

    async def main() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            store = PostgresStore(dsn, site=SITE, spool_path=Path(tmp) / "spool.sqlite3")
            upsert = store.upsert_jobs

            def timed_upsert(*args: Any, **kwargs: Any) -> None:
                t = time.perf_counter()
                upsert(*args, **kwargs)
                writes.append((t, time.perf_counter()))

            store.upsert_jobs = timed_upsert  # type: ignore[method-assign]
            producer = StoreProducer(store, servers(), random.Random(SEED))
            total = int(seconds * RATE)
            producer.plan(total)
            producer.accepted = [float("nan")] * total
            await producer.engine.start()
            print("READY", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            start = float(line)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            pending: set[asyncio.Task[None]] = set()
            for n in range(total):
                delay = start + n / RATE - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.ensure_future(producer.deliver(n))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.gather(*pending)
            cpu_share = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
            await asyncio.sleep(1.0)  # the last flush of the folded jobs
            await producer.engine.stop()
            store.close()
            stamps.write_text(
                json.dumps({"accepted": producer.accepted, "job_writes": writes, "cpu_share": cpu_share})
            )

    asyncio.run(main())


class _Planner(EngineProducer):
    """The collector's plan without a collector: which job each notification is about."""

    def __init__(self, devices: list[str]) -> None:
        self.regs = dict.fromkeys(devices)
        self.rng, self.live, self.next_job = random.Random(SEED), [], 0
        self.key = lambda device, token: (device, token)

    def _message(self, *args: Any) -> Any:
        return None


class _Setup:
    """What bench_latency.measure drives, from a real shared window."""

    def __init__(self, shared: Any) -> None:
        self.window = shared.window
        self.view = shared.window.job_table.view
        self.proxy = shared.window.proxy
        self.bridge = shared.bridge


def _paged_probe(current: list[int]) -> type:
    """A LatencyProbe for the paged job table: a refresh is a layout change of the rows on screen,
    and a row counts as showing a notification once its record is at least as new as it (a row
    re-read before the collector wrote the change still shows the job, but not the change). Keeps
    (n, due, painted) of each painted notification (`current[0]`: the n being handed over)."""
    from bench_gui_model import LatencyProbe

    offset = time.time() - time.perf_counter()  # perf_counter → wall clock (the records' times)

    class PagedProbe(LatencyProbe):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.n_of: dict[float, int] = {}  # due time → the notification's n
            self.samples: list[tuple[int, float, float]] = []  # (n, due, painted)

        def expect(self, key: Any, due: float) -> None:
            self.n_of.setdefault(due, current[0])
            super().expect(key, due)

        def _on_layout_changed(self, *args: object) -> None:
            super()._on_layout_changed(*args)
            view = self.setup.view
            top, bottom = view.rowAt(0), view.rowAt(view.viewport().height() - 1)
            if top >= 0:
                self._seen(top, self.setup.proxy.rowCount() - 1 if bottom < 0 else bottom)

        def _seen(self, first: int, last: int) -> None:
            if not self.due:
                return
            now = time.perf_counter()
            proxy = self.setup.proxy
            for row in range(first, last + 1):
                rec = proxy.record(row)
                t = self.due.get(rec.key)
                if t is None or rec.last_update.timestamp() + ARRIVAL_SLACK_S < t + offset:
                    continue
                del self.due[rec.key]
                self.model_ms.append((now - t) * 1e3)
                self.shown.setdefault(rec.key, t)

        def _after_paint(self) -> None:  # LatencyProbe's, keeping which notification was painted
            self._after_paint_armed = False
            now = time.perf_counter()
            view, proxy = self.setup.view, self.setup.proxy
            top, bottom = view.rowAt(0), view.rowAt(view.viewport().height() - 1)
            if top >= 0:
                bottom = proxy.rowCount() - 1 if bottom < 0 else bottom
                for key, t in self.shown.items():
                    row = proxy.row_of(key)
                    if row is not None and top <= row <= bottom:
                        self.painted_ms.append((now - t) * 1e3)
                        self.painted_at.append((t, now))
                        self.samples.append((self.n_of.get(t, -1), t, now))
            self.shown.clear()  # rows off screen have no "visible" latency

    return PagedProbe


class _Stamps:
    """The window's side of the stages: when the follower heard each NOTIFY of jobs, and when each
    re-read of the job table (PagedJobModel.flush) began and ended (perf_counter)."""

    def __init__(self) -> None:
        self.notifies: list[float] = []
        self.rereads: list[tuple[float, float, float]] = []  # (start, end, CPU seconds)

    def install(self) -> None:
        """Before the window opens: the follower looks follow() up when it starts listening, and the
        model's timers are connected to its flush when it is made."""
        from wsdmon.models.paged_jobs import PagedJobModel
        from wsdmon.store import pg_follow
        from wsdmon.store.pg_follow import ChangeKind

        # the live re-read: the refresh timer's slot (_refresh; flush before it re-counted always)
        name = "_refresh" if hasattr(PagedJobModel, "_refresh") else "flush"
        follow, flush = pg_follow.follow, getattr(PagedJobModel, name)
        notifies, rereads = self.notifies, self.rereads

        async def heard(*args: Any, **kwargs: Any) -> Any:
            async for change in follow(*args, **kwargs):
                if change.kind is ChangeKind.JOBS:
                    notifies.append(time.perf_counter())
                yield change

        def timed_flush(model: Any) -> None:
            t, cpu = time.perf_counter(), time.thread_time()
            flush(model)
            rereads.append((t, time.perf_counter(), time.thread_time() - cpu))

        pg_follow.follow = heard
        setattr(PagedJobModel, name, timed_flush)


STAGES = ("accept", "job_write", "notify", "wait", "reread", "paint")


def stages(
    samples: list[tuple[int, float, float]], collector: dict[str, Any], window: _Stamps
) -> dict[str, Any]:
    """Each painted notification's latency cut at the stamps of both processes (see the module
    docstring): per stage p50/p95 and mean, over all and over the slowest 5 % (the tail)."""
    from bisect import bisect_left, bisect_right

    from bench_gui_model import percentile

    writes = sorted(collector["job_writes"])
    write_starts = [w[0] for w in writes]
    notifies = sorted(window.notifies)
    rereads = sorted(window.rereads, key=lambda r: r[1])
    reread_ends = [r[1] for r in rereads]
    rows: list[tuple[float, dict[str, float]]] = []
    for n, due, painted in samples:
        if not 0 <= n < len(collector["accepted"]):
            continue
        accepted = collector["accepted"][n]
        w = bisect_left(write_starts, accepted)
        i = bisect_right(reread_ends, painted) - 1
        if math.isnan(accepted) or w >= len(writes) or i < 0:  # NaN: never accepted
            continue
        written = writes[w][1]
        k = bisect_left(notifies, written)
        if k >= len(notifies):
            continue
        heard, (begun, ended, _) = notifies[k], rereads[i]
        cut = {
            "accept": accepted - due,
            "job_write": written - accepted,
            "notify": heard - written,
            "wait": begun - heard,
            "reread": ended - begun,
            "paint": painted - ended,
        }
        rows.append(((painted - due) * 1e3, {name: v * 1e3 for name, v in cut.items()}))
    rows.sort(key=lambda r: r[0])
    tail = rows[int(len(rows) * 0.95) :]

    def summary(part: list[tuple[float, dict[str, float]]]) -> dict[str, Any]:
        out: dict[str, Any] = {"samples": len(part)}
        for name in STAGES:
            values = [c[name] for _, c in part]
            out[name] = {
                "p50_ms": percentile(values, 50),
                "p95_ms": percentile(values, 95),
                "mean_ms": sum(values) / len(values) if values else float("nan"),
            }
        return out

    rereads_ms = [(e - b) * 1e3 for b, e, _ in window.rereads]
    rereads_cpu_ms = [cpu * 1e3 for _, _, cpu in window.rereads]
    writes_ms = [(e - b) * 1e3 for b, e in writes]
    return {
        "all": summary(rows),
        "slowest_5_percent": summary(tail),
        "job_writes": len(writes),
        "job_write_ms_p50": percentile(writes_ms, 50),
        "job_write_ms_p99": percentile(writes_ms, 99),
        "notifies_heard": len(notifies),
        "rereads": len(rereads_ms),
        "reread_ms_p50": percentile(rereads_ms, 50),
        "reread_ms_p99": percentile(rereads_ms, 99),
        "reread_cpu_ms_p50": percentile(rereads_cpu_ms, 50),
        "reread_cpu_ms_p99": percentile(rereads_cpu_ms, 99),
    }


def window(dsn: str, seconds: float, profile: bool = False) -> dict[str, Any]:
    """One round in this process: the shared window on `dsn`, its collector a child process."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    import qasync

    import wsdmon
    from wsdmon.core import JobKey
    from wsdmon.shared_app import SharedWindows

    stamps = _Stamps()
    stamps.install()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    tmp = tempfile.TemporaryDirectory()
    collector_stamps = Path(tmp.name) / "collector.json"
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--collector",
            "--dsn",
            dsn,
            "--seconds",
            str(seconds),
            "--stamps",
            str(collector_stamps),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    current = [0]
    probes: list[Any] = []
    base = _paged_probe(current)

    class Probe(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            probes.append(self)  # measure makes the from_due probe first

    try:
        if child.stdout.readline().strip() != "READY":
            raise RuntimeError("the collector did not start")
        plan = _Planner(list(servers()))
        plan.plan(int(seconds * RATE))
        keys = [JobKey(d, t, site=SITE) for _, _, (d, t) in plan.planned]
        windows = SharedWindows(app, QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat))

        def produce(n: int, arrival: datetime) -> Any:
            if n == 0:
                child.stdin.write(f"{time.time() - 1 / RATE}\n")  # type: ignore[union-attr]
                child.stdin.flush()  # type: ignore[union-attr]
            current[0] = n
            return keys[n]

        async def scenario() -> dict[str, Any]:
            # One run of the loop throughout, as `wsdmon --store` has it: the measurement runs
            # from a Qt callback and lets the loop work through bench_latency.run_loop.
            shared = await windows.open(dsn)  # the window as `wsdmon --store` opens it
            try:
                shared.window.resize(1366, 768)
                await asyncio.sleep(1.0)  # listening
                done: asyncio.Future[dict[str, Any]] = loop.create_future()

                def run() -> None:
                    try:
                        done.set_result(
                            measure(
                                _Setup(shared), produce, seconds=seconds, probe_class=Probe, profile=profile
                            )
                        )
                    except Exception as exc:  # the bench's failure, said by the caller
                        done.set_exception(exc)

                QTimer.singleShot(0, run)
                return await done
            finally:
                await windows.stop_all()

        result = loop.run_until_complete(scenario())
        child.wait(timeout=60)
        collected = json.loads(collector_stamps.read_text())
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=60)
        tmp.cleanup()
    result["collector_exit"] = child.returncode
    result["collector_cpu_share"] = collected["cpu_share"]
    result["stages"] = stages(probes[0].samples, collected, stamps)
    result["wsdmon_from"] = str(Path(wsdmon.__file__).parent)
    return result


def _pg_cpu_s(data: Path) -> float:
    """CPU seconds PostgreSQL spent so far: the postmaster, its live children and those it reaped."""
    pid = int((data / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")

    def fields(p: int) -> list[str]:
        text = Path(f"/proc/{p}/stat").read_text()
        return text[text.rindex(")") + 2 :].split()  # after the command's name, which may hold spaces

    main = fields(pid)
    total = sum(int(x) for x in main[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                f = fields(int(entry.name))
            except (OSError, ValueError):
                continue
            if int(f[1]) == pid:  # ppid
                total += int(f[11]) + int(f[12])
    return total / tick


def run_variant(gui: Path | None, dsn: str, seconds: float, profile: bool, data: Path) -> dict[str, Any]:
    """One window child process (and its collector): wsdmon from `gui` (a source tree's gui/
    folder), or the installed one (None)."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    if gui is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(gui), env.get("PYTHONPATH", "")) if p)
    args = [sys.executable, str(Path(__file__)), "--window", "--dsn", dsn, "--seconds", str(seconds)]
    if profile:
        args.append("--profile")
    cpu0 = _pg_cpu_s(data)
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"variant {gui} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    # over the whole child (the window's load, the collector's start and its last write: ~3 s more
    # than the feed), per second of feed
    result["postgresql_cpu_s_per_feed_s"] = (_pg_cpu_s(data) - cpu0) / seconds
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--before", type=Path, help="the gui/ folder of the code to compare with (the 'before' variant)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile (CPU) the window's feed")
    parser.add_argument("--collector", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--window", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--stamps", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latency_pg.json")
    args = parser.parse_args(argv)
    if args.collector:
        collector(args.dsn, args.seconds, args.stamps)
        return 0
    if args.window:
        print(json.dumps(window(args.dsn, args.seconds, args.profile)), flush=True)
        os._exit(0)  # not Qt's teardown: qasync's reader threads may still be running (an abort)
    from tests.pg import running_cluster

    variants: dict[str, Path | None] = {"after": None}  # the installed wsdmon
    if args.before is not None:
        variants = {"before": args.before, **variants}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    with running_cluster(fsync=True) as cluster:
        for _ in range(args.rounds):
            for name, gui in variants.items():
                runs[name].append(
                    run_variant(gui, cluster.new_database(), args.seconds, args.profile, cluster.data)
                )
    result = {
        "bench": "latency_pg",
        "what": "collector accepts a notification -> PostgreSQL -> NOTIFY -> shared window row repainted",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "rate_per_s": RATE,
        "seconds_per_round": args.seconds,
        "target_p99_ms": TARGET_P99_MS,
        "variants": {name: str(gui or "installed") for name, gui in variants.items()},
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for name, rs in runs.items():
        for r in rs:
            d, st = r["from_due"], r["stages"]["all"]
            split = " ".join(f"{k} {st[k]['mean_ms']:.0f}" for k in STAGES)
            print(
                f"{name:>6}: from due p50 {d['p50_ms']:.1f} / p95 {d['p95_ms']:.1f} / "
                f"p99 {d['p99_ms']:.1f} ms ({d['painted_samples']} painted, {r['not_shown']} not shown, "
                f"load {r['load_average_1min']:.1f}); mean ms: {split}; CPU: "
                f"gui {r['gui_thread_cpu_share']:.2f}, collector {r['collector_cpu_share']:.2f}, "
                f"postgresql {r['postgresql_cpu_s_per_feed_s']:.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
