"""Notifications per second the simulator sustains in burst mode to one local subscriber.

Issue #3 target: one simulator process sustains at least 2,000 notifications/s, so the simulator is
never the bottleneck of the monitor's benchmarks. The subscriber is a bare aiohttp handler answering
202, in its own process (so it does not share the simulator's CPU). Side by side, in the same run:
the same subscriber fed by a bare loop of aiohttp POSTs of one pre-encoded notification over one
keep-alive connection (what in-order delivery with aiohttp's client would give at best), and the
simulator with HTTP pipelining off (pipeline_depth 1). Each runs three times, interleaved, and the
best round counts (the median is kept too): other work on the machine only ever slows a round
down. Results go to
bench/results/simulator_burst.json and stdout.

    .venv/bin/python bench/bench_simulator_burst.py [--quick] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

import wsdmon
from wsdmon.protocol import EndpointReference, Headers, decode, encode
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStatus,
    JobState,
    JobStateReason,
    JobStatus,
    PostScanJobStatusEvent,
)
from wsdmon.protocol.eventing import Subscribe, SubscribeResponse
from wsdmon.simulator import Role, Scenario, Simulator, SimulatorConfig, Timers
from wsdmon.simulator.config import PIPELINE_DEPTH

HERE = Path(__file__).resolve().parent
TARGET_PER_S = 2000
SOAP_CT = "application/soap+xml; charset=utf-8"


# --- the subscriber (its own process) -------------------------------------------------------------


async def serve_subscriber() -> None:
    count = 0

    async def notify(request: web.Request) -> web.Response:
        nonlocal count
        await request.read()
        count += 1
        return web.Response(status=202)

    async def get_count(request: web.Request) -> web.Response:
        return web.json_response({"count": count})

    app = web.Application()
    app.router.add_post("/sink", notify)
    app.router.add_get("/count", get_count)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    await runner.cleanup()


# --- the measurements -----------------------------------------------------------------------------


async def received(http: aiohttp.ClientSession, base: str) -> int:
    async with http.get(f"{base}/count") as response:
        return int((await response.json())["count"])


async def measure_simulator(base: str, seconds: float, warmup: float, depth: int) -> dict[str, float]:
    """The simulator in burst mode, one subscriber; `depth` 1 turns HTTP pipelining off."""
    config = SimulatorConfig(
        role=Role.SCAN_SERVER,
        scenario=Scenario.BURST,
        discovery=False,
        wsd_port=0,
        seed=1,
        timers=Timers(pipeline_depth=depth),
    )
    async with Simulator(config) as sim, aiohttp.ClientSession() as http:
        device = sim.devices[0]
        notify = EndpointReference(f"{base}/sink", "urn:uuid:00000000-0000-4000-8000-00000000be9c")
        request = Subscribe(Headers.request(device.service_url), notify, timedelta(hours=1))
        async with http.post(
            device.service_url, data=encode(request), headers={"Content-Type": SOAP_CT}
        ) as r:
            answer = decode(await r.read())
        assert isinstance(answer, SubscribeResponse), answer
        (sub,) = device.events.subscriptions
        await asyncio.sleep(warmup)
        before, sink_before, start = sub.delivered, await received(http, base), time.perf_counter()
        await asyncio.sleep(seconds)
        after, sink_after, elapsed = sub.delivered, await received(http, base), time.perf_counter() - start
        jobs = len(device.repository.history) if device.repository else 0
    count = after - before
    return {
        "notifications": count,
        "seconds": round(elapsed, 3),
        "notifications_per_s": round(count / elapsed, 1),
        "subscriber_received": sink_after - sink_before,
        "jobs_kept_in_history": jobs,
    }


async def measure_bare_posts(base: str, seconds: float) -> dict[str, float]:
    """The baseline: one pre-encoded notification POSTed in a loop over one keep-alive connection."""
    status = JobStatus(
        "6a8d7c92-0db3-4978-8aad-180530f8de53",
        JobState.PROCESSING,
        (JobStateReason.NONE,),
        (
            FilterStatus(
                "http://schemas.microsoft.com/windows/2007/10/imaging/postscan/filter/fileshare",
                FilterState.PROCESSING,
            ),
        ),
        2,
    )
    data = encode(PostScanJobStatusEvent(Headers(to=f"{base}/sink", identifier="urn:uuid:1"), status))
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector, headers={"Content-Type": SOAP_CT}) as http:
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            async with http.post(f"{base}/sink", data=data) as response:
                await response.read()
            count += 1
    return {
        "notifications": count,
        "seconds": round(elapsed, 3),
        "notifications_per_s": round(count / elapsed, 1),
    }


def _best(rows: list[dict[str, float]]) -> dict[str, object]:
    rates = sorted(r["notifications_per_s"] for r in rows)
    best = max(rows, key=lambda r: r["notifications_per_s"])
    return {**best, "median_notifications_per_s": rates[len(rates) // 2], "rounds": len(rows)}


async def run(seconds: float, warmup: float, rounds: int, base: str) -> dict[str, object]:
    """Each variant `rounds` times, interleaved (the machine's load changes over time); best of each."""
    piped: list[dict[str, float]] = []
    unpiped: list[dict[str, float]] = []
    bare: list[dict[str, float]] = []
    for _ in range(rounds):
        piped.append(await measure_simulator(base, seconds, warmup, PIPELINE_DEPTH))
        unpiped.append(await measure_simulator(base, seconds, warmup, 1))
        bare.append(await measure_bare_posts(base, seconds))
    simulator, baseline = _best(piped), _best(bare)
    rate = float(simulator["notifications_per_s"])  # type: ignore[arg-type]
    return {
        "benchmark": "simulator_burst",
        "target_notifications_per_s": TARGET_PER_S,
        "simulator": {"pipeline_depth": PIPELINE_DEPTH, **simulator},
        "simulator_without_pipelining": {"pipeline_depth": 1, **_best(unpiped)},
        "baseline_bare_aiohttp_posts": baseline,
        "simulator_vs_baseline": round(rate / float(baseline["notifications_per_s"]), 3),  # type: ignore[arg-type]
        "meets_target": rate >= TARGET_PER_S,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short run (smoke test; figures not meaningful)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "simulator_burst.json")
    parser.add_argument("--subscriber", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.subscriber:
        asyncio.run(serve_subscriber())
        return 0
    seconds, warmup, rounds = (0.3, 0.1, 1) if args.quick else (3.0, 0.5, 3)
    child = subprocess.Popen(
        [sys.executable, __file__, "--subscriber"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline().split()[1])
        result = asyncio.run(run(seconds, warmup, rounds, f"http://127.0.0.1:{port}"))
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)
    result.update(
        quick=args.quick,
        wsdmon=wsdmon.__version__,
        python=platform.python_version(),
        machine=f"{platform.system()} {platform.machine()}",
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
