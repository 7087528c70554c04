"""A collector's notifications/s, sqlite journal vs PostgreSQL, in one run (issue 14's Done-when: the
PostgreSQL rate ≥ 0.8 × the same collector's sqlite rate).

What runs: the real `.venv/bin/wsdmon collect` process, once with `--journal FILE` (the local sqlite
journal, its defaults) and once with `--store CONNINFO` (a throwaway PostgreSQL cluster from
tests/pg.py: fsync on, synchronous_commit on, over TCP on 127.0.0.1 as a collector on another host
would reach it), each a fresh journal or database. It subscribes (--no-discovery --device URL) to a
simulated DSM scan server (wsdmon.simulator, idle, in this process), which hands the bench the
subscription's NotifyTo address and wse:Identifier; `wrk` (bench_notify_e2e.run_wrk: C keep-alive
connections, distinct PostScanJobStatusEvents of 50 jobs, bench_notify_e2e.make_payloads) then posts
them to the collector's sink for a few seconds. So each notification takes the whole path: HTTP POST →
sink → decode → Recorder → store (committed) → 202 → the engine's reducer, with everything else the
collector does meanwhile (for PostgreSQL: the folded jobs written every
SHARED_JOB_FLUSH_INTERVAL_S, as `collect --store` does for a shared store).

Each round ends with SIGTERM (exit 0 expected: a clean stop) and a count of the stored notifications,
which must be at least what wrk saw acknowledged (a 202 is only given for a committed message).
Variants are interleaved (sqlite, PostgreSQL, sqlite, …) at each connection count and keep their best
round; the medians of the rounds are kept too (on a machine shared with other work they are the
steadier comparison). `--before TREE` adds the collector of another source tree (e.g. the commit
before a change, from `git archive REV gui | tar -x -C TREE`), run from source beside the installed
one, with each store, for a before/after in the same run. bench/bench_store.py stays the store-only
figure (the Recorder into each store, no HTTP). Result: bench/results/collector.json.

    .venv/bin/python bench/bench_collector.py [--quick] [--rounds N] [--seconds S] [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.*: the throwaway cluster, the process environment
sys.path.insert(0, str(HERE))

import psycopg  # noqa: E402
from bench_notify_e2e import make_payloads, run_wrk  # noqa: E402
from tests.integration.wsdmon_process import WSDMON, environment  # noqa: E402
from tests.pg import PgCluster, running_cluster  # noqa: E402

import wsdmon  # noqa: E402
from wsdmon.protocol.dsm import PostScanJobStatusEvent  # noqa: E402
from wsdmon.simulator import Role, Scenario, Simulator, SimulatorConfig  # noqa: E402
from wsdmon.store import Journal  # noqa: E402

ACTION = PostScanJobStatusEvent.ACTION

PLACEHOLDER = "urn:uuid:ffffffff-bench-identifier-placeholder"
SUBSCRIBED_WITHIN_S = 30.0  # collector start → its subscription seen by the simulator
STOP_WITHIN_S = 30.0  # SIGTERM → exit (unsubscribe, the store flushed and closed)
BODIES_PER_S = 6_000  # distinct notifications made per second of load (run_wrk fails should one repeat)
BODIES_IN = Path("/dev/shm")  # noqa: S108 - wrk's body files on tmpfs (tens of thousands a round), in a mkdtemp
CONNECTIONS = (16, 64, 256)
SITE = "bench"


async def _subscribed(sim_device: object, proc: asyncio.subprocess.Process, log: Path) -> tuple[str, str]:
    """The collector's NotifyTo address and Identifier, once the simulator granted its Subscribe."""
    events = sim_device.events  # type: ignore[attr-defined]
    end = time.monotonic() + SUBSCRIBED_WITHIN_S
    while not events.subscriptions:
        if proc.returncode is not None or time.monotonic() > end:
            raise RuntimeError(f"the collector did not subscribe: {log.read_text(errors='replace')[-2000:]}")
        await asyncio.sleep(0.05)
    notify_to = events.subscriptions[0].notify_to
    if notify_to.identifier is None:
        raise RuntimeError("the collector subscribed without a wse:Identifier")
    return notify_to.address, notify_to.identifier


def _stored(kind: str, where: str) -> int:
    """Notifications of the load stored by the collector (PostScanJobStatusEvents)."""
    if kind == "sqlite":
        journal = Journal(Path(where))
        try:
            return sum(1 for m in journal.messages_after(0) if m.action == ACTION)
        finally:
            journal.close()
    with psycopg.connect(where) as conn:
        row = conn.execute(
            "SELECT count(*) FROM messages WHERE site = %s AND action = %s", (SITE, ACTION)
        ).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class Variant:
    """A collector to measure: its store, and the wsdmon it runs (None: the installed one; else a
    source tree's gui/ folder, run as `python -m wsdmon` with it first on PYTHONPATH)."""

    name: str
    kind: str  # sqlite or postgresql
    source: Path | None = None

    def argv(self, home: Path) -> tuple[list[str], dict[str, str]]:
        env = environment(home)
        profile = os.environ.get("BENCH_PROFILE")  # a folder: each collector runs under cProfile
        python = [
            sys.executable,
            *(["-m", "cProfile", "-o", f"{profile}/{home.name}.prof"] if profile else []),
        ]
        if self.source is not None:
            env["PYTHONPATH"] = str(self.source)
        return ([*python, "-m", "wsdmon"] if profile or self.source else [WSDMON]), env


async def _round(
    variant: Variant, cluster: PgCluster, work: Path, template: list[bytes], load: tuple[int, float]
) -> dict[str, float]:
    """One collector process under load (connections, seconds); its notifications/s as wrk counted
    them."""
    connections, seconds = load
    kind = variant.kind
    home = work / f"{variant.name}-{time.monotonic_ns()}"
    home.mkdir()
    where = cluster.new_database() if kind == "postgresql" else str(home / "journal.sqlite3")
    store = ["--store", where] if kind == "postgresql" else ["--journal", where]
    sim = Simulator(
        SimulatorConfig(
            role=Role.SCAN_SERVER,
            scenario=Scenario.IDLE,
            host="127.0.0.1",
            discovery=False,
            wsd_port=0,
            seed=7,
        )
    )
    await sim.start()
    log = home / "collect.log"
    try:
        device = sim.device(Role.SCAN_SERVER)
        run, env = variant.argv(home)
        argv = [
            *run, "collect", "--site", SITE, "--no-discovery", "--device", device.metadata_url,
            "--notify-port", "0", "--notify-host", "127.0.0.1", "--log-level", "WARNING", *store,
        ]  # fmt: skip
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                *argv, env=env, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL
            )
        try:
            url, identifier = await _subscribed(device, proc, log)
            payloads = [p.replace(PLACEHOLDER.encode(), identifier.encode()) for p in template]
            bodies = Path(tempfile.mkdtemp(dir=BODIES_IN if BODIES_IN.is_dir() else home))
            try:
                result = await run_wrk(
                    url, identifier, seconds, connections, bodies, distinct=True, payloads=payloads
                )
            finally:
                shutil.rmtree(bodies, ignore_errors=True)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(proc.wait(), STOP_WITHIN_S)
    finally:
        await sim.stop()
    if code != 0:
        raise RuntimeError(f"collect exited {code}: {log.read_text(errors='replace')[-2000:]}")
    stored = _stored(kind, where)
    # wrk stops mid-flight: requests it gave up on may still have been stored, never fewer.
    if stored < result["count"]:
        raise RuntimeError(f"{kind}: {result['count']} acknowledged but {stored} stored")
    shutil.rmtree(home, ignore_errors=True)
    return {"per_s": result["count"] / result["elapsed_s"], "acknowledged": result["count"], "stored": stored}


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    template = make_payloads(PLACEHOLDER, int(max(1, round(args.seconds)) * BODIES_PER_S))
    variants = [Variant("sqlite", "sqlite"), Variant("postgresql", "postgresql")]
    if args.before is not None:
        variants.append(Variant("postgresql_before", "postgresql", args.before / "gui"))
        variants.append(Variant("sqlite_before", "sqlite", args.before / "gui"))
    best: dict[str, dict[str, float]] = {v.name: {} for v in variants}
    seen: dict[str, dict[str, list[int]]] = {v.name: {} for v in variants}
    work = Path(tempfile.mkdtemp(prefix="wsdmon-bench-collector-"))
    try:
        with running_cluster(fsync=True) as cluster:
            for connections in args.connections:
                key = f"c{connections}"
                for _ in range(args.rounds):
                    for v in variants:
                        r = await _round(v, cluster, work, template, (connections, args.seconds))
                        seen[v.name].setdefault(key, []).append(round(r["per_s"]))
                        best[v.name][key] = max(best[v.name].get(key, 0.0), r["per_s"])
                        print(f"{key} {v.name}: {r['per_s']:.0f}/s ({r['acknowledged']:.0f} acknowledged)")
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)

    def over(name: str, base: str) -> dict[str, float]:
        return {key: round(best[name][key] / best[base][key], 2) for key in best[base]}

    ratio = over("postgresql", "sqlite")
    out: dict[str, object] = {
        "bench": "collector",
        "what": "the real `wsdmon collect` process (a subprocess per round): HTTP POST -> sink -> decode"
        " -> Recorder -> store committed -> 202 -> reducer; load from wrk",
        "wsdmon": wsdmon.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "seconds_per_round": args.seconds,
        "rounds": args.rounds,
        "postgresql": "throwaway cluster on the journal's disk: fsync on, synchronous_commit on,"
        " TCP 127.0.0.1",
        "sqlite": "the local journal's defaults (WAL, synchronous=NORMAL)",
        "notifications_per_s": {k: {c: round(v) for c, v in d.items()} for k, d in best.items()},
        "rounds_per_s": seen,
        "postgresql_over_sqlite": ratio,
        # On a machine shared with other work the best round favours whichever variant ran in a quiet
        # moment; the medians of the interleaved rounds are the steadier comparison.
        "median_per_s": {k: {c: round(statistics.median(v)) for c, v in d.items()} for k, d in seen.items()},
        "postgresql_over_sqlite_median": {
            key: round(statistics.median(seen["postgresql"][key]) / statistics.median(seen["sqlite"][key]), 2)
            for key in seen["sqlite"]
        },
        "target": "postgresql >= 0.8 x sqlite",
        "met": {key: value >= 0.8 for key, value in ratio.items()},
    }
    if args.before is not None:
        out["before"] = f"{args.before} (a checkout of the code before this change, run from source)"
        out["postgresql_before_over_sqlite"] = over("postgresql_before", "sqlite")
        out["postgresql_over_postgresql_before"] = over("postgresql", "postgresql_before")
        # The sqlite collector is the same code in both trees: the stricter figure divides by the
        # best sqlite round of either.
        sqlite = {key: max(best["sqlite"][key], best["sqlite_before"][key]) for key in best["sqlite"]}
        out["postgresql_over_best_sqlite"] = {
            key: round(best["postgresql"][key] / value, 2) for key, value in sqlite.items()
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of 2 s at 16 connections")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="wrk duration per round")
    parser.add_argument("--connections", type=int, nargs="+", default=list(CONNECTIONS))
    parser.add_argument("--out", type=Path, default=HERE / "results" / "collector.json")
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        metavar="TREE",
        help="also run the collector of this source tree (e.g. `git archive REV | tar -x -C TREE`)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        parser.error("wrk is missing (Debian package wrk; `sh packaging/bootstrap.sh test` installs it)")
    if args.quick:
        args.rounds, args.seconds, args.connections = 1, 2.0, [16]
    result = asyncio.run(main_async(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
