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

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_latency_pg.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
        from wsdmon.net.recorder import Recorder
        from wsdmon.net.sink import Registration

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

    async def deliver(self, n: int) -> None:
        """As the sink does: commit the message, then hand it to the engine."""
        from wsdmon.net.recorder import PendingMessage
        from wsdmon.net.sink import Accepted

        reg, message, _key = self.planned[n]
        arrival = datetime.now(UTC)
        raw = b"<s:Envelope>" + b"x" * 1500 + b"</s:Envelope>"  # about a real event's size
        row = await self.recorder.record(
            PendingMessage(arrival, reg.device, reg.identifier, "PostScanJobStatusEvent", None, "", raw)
        )
        self.engine._on_accepted(Accepted(reg, message, raw, arrival, row, "192.0.2.10"))


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


def collector(dsn: str, seconds: float) -> None:
    """The child: says READY once the store and the engine are up, then waits for the start time on
    stdin and delivers on the schedule."""
    from wsdmon.store.postgres import PostgresStore

    async def main() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            store = PostgresStore(dsn, site=SITE, spool_path=Path(tmp) / "spool.sqlite3")
            producer = StoreProducer(store, servers(), random.Random(SEED))
            total = int(seconds * RATE)
            producer.plan(total)
            await producer.engine.start()
            print("READY", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            start = float(line)
            pending: set[asyncio.Task[None]] = set()
            for n in range(total):
                delay = start + n / RATE - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.ensure_future(producer.deliver(n))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.gather(*pending)
            await asyncio.sleep(1.0)  # the last flush of the folded jobs
            await producer.engine.stop()
            store.close()

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


def _paged_probe() -> type:
    """A LatencyProbe for the paged job table: a refresh is a layout change of the rows on screen,
    and a row counts as showing a notification once its record is at least as new as it (a row
    re-read before the collector wrote the change still shows the job, but not the change)."""
    from bench_gui_model import LatencyProbe

    offset = time.time() - time.perf_counter()  # perf_counter → wall clock (the records' times)

    class PagedProbe(LatencyProbe):  # type: ignore[misc, valid-type]
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

    return PagedProbe


def window(dsn: str, seconds: float) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    import qasync

    from wsdmon.core import JobKey
    from wsdmon.shared_app import SharedWindows

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    child = subprocess.Popen(
        [sys.executable, __file__, "--collector", "--dsn", dsn, "--seconds", str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        if child.stdout.readline().strip() != "READY":
            raise RuntimeError("the collector did not start")
        with tempfile.TemporaryDirectory() as tmp:
            plan = _Planner(list(servers()))
            plan.plan(int(seconds * RATE))
            keys = [JobKey(d, t, site=SITE) for _, _, (d, t) in plan.planned]
            windows = SharedWindows(app, QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))

            def produce(n: int, arrival: datetime) -> Any:
                if n == 0:
                    child.stdin.write(f"{time.time() - 1 / RATE}\n")  # type: ignore[union-attr]
                    child.stdin.flush()  # type: ignore[union-attr]
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
                                measure(_Setup(shared), produce, seconds=seconds, probe_class=_paged_probe())
                            )
                        except Exception as exc:  # the bench's failure, said by the caller
                            done.set_exception(exc)

                    QTimer.singleShot(0, run)
                    return await done
                finally:
                    await windows.stop_all()

            result = loop.run_until_complete(scenario())
    finally:
        child.wait(timeout=60)
    result["collector_exit"] = child.returncode
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--collector", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latency_pg.json")
    args = parser.parse_args(argv)
    if args.collector:
        collector(args.dsn, args.seconds)
        return 0
    from tests.pg import running_cluster

    runs = []
    with running_cluster(fsync=True) as cluster:
        for _ in range(args.rounds):
            runs.append(window(cluster.new_database(), args.seconds))
    result = {
        "bench": "latency_pg",
        "what": "collector accepts a notification -> PostgreSQL -> NOTIFY -> shared window row repainted",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "rate_per_s": RATE,
        "seconds_per_round": args.seconds,
        "target_p99_ms": TARGET_P99_MS,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for r in runs:
        d = r["from_due"]
        print(
            f"from due p50 {d['p50_ms']:.1f} / p95 {d['p95_ms']:.1f} / p99 {d['p99_ms']:.1f} ms "
            f"({d['painted_samples']} painted, {r['not_shown']} not shown, load {r['load_average_1min']:.1f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
