"""Notifications/s end to end (POST → sink → journal → reducer), side by side with a bare aiohttp
handler that only reads the body, in one run. Issue #4 target: wsdmon ≥ 50 % of the bare rate.

The server under test runs in this process; the load comes from a child process: `wrk` (Debian
package wrk; a C load generator, one thread, keep-alive connections, a Lua script cycling through
distinct pre-built notifications) so that the client is never the bottleneck, or a Python aiohttp
client when wrk is missing (then the bare rate is client-bound and the ratio understates wsdmon).
Variants are interleaved and each keeps its best of several rounds. Result:
bench/results/notify_e2e.json.

Besides the two figures the target compares, a ladder shows where the rate goes: the same load on
aiohttp's low-level server (which the sink uses) with a handler that does one more stage at a time
(read the body; + the hardened lxml parse; + the typed decode; + the group-commit journal write),
then the whole engine. Each rung's rate, and its cost per notification over the rung below
(1/rate differences), are in "ladder".

    .venv/bin/python bench/bench_notify_e2e.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

HERE = Path(__file__).resolve().parent
SOAP = {"Content-Type": "application/soap+xml; charset=utf-8"}
BARE = "urn:uuid:bare"


def make_payloads(identifier: str, count: int) -> list[bytes]:
    """`count` distinct PostScanJobStatusEvents: 50 jobs, images growing, two filters."""
    from wsdmon.protocol import Headers, encode
    from wsdmon.protocol import namespaces as ns
    from wsdmon.protocol.dsm import (
        FilterState,
        FilterStatus,
        JobState,
        JobStateReason,
        JobStatus,
        PostScanJobStatusEvent,
    )

    created = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    out = []
    for i in range(count):
        status = JobStatus(
            f"job-{i % 50:04d}",
            JobState.PROCESSING,
            (JobStateReason.NONE,),
            (
                FilterStatus(ns.FILTER_FILESHARE, FilterState.PROCESSING),
                FilterStatus(ns.FILTER_EMAIL, FilterState.PENDING),
            ),
            i // 50,
            created,
        )
        header = Headers(
            message_id=f"urn:uuid:00000000-0000-4000-8000-{i:012d}", to="x", identifier=identifier
        )
        out.append(encode(PostScanJobStatusEvent(header, status)))
    return out


async def client_main(url: str, identifier: str, count: int, concurrency: int) -> None:
    payloads = make_payloads(identifier, count)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        for p in payloads:
            queue.put_nowait(p)
        errors = 0

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                body = queue.get_nowait()
                async with session.post(url, data=body, headers=SOAP) as resp:
                    await resp.read()
                    if resp.status >= 300:
                        errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    print(json.dumps({"count": count, "elapsed_s": elapsed, "errors": errors}))


WRK_LUA = """
local bodies = {}
local n = 0
local i = 0
init = function(args)
  local dir, count = args[1], tonumber(args[2])
  for k = 0, count - 1 do
    local f = io.open(dir .. "/" .. k .. ".xml", "rb")
    bodies[k + 1] = f:read("*all")
    f:close()
  end
  n = count
end
request = function()
  i = i + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/soap+xml; charset=utf-8"},
                    bodies[((i - 1) % n) + 1])
end
"""


async def run_wrk(
    url: str,
    identifier: str,
    seconds: float,
    concurrency: int,
    tmp: Path,
    *,
    distinct: bool,
    payloads: list[bytes] | None = None,
) -> dict[str, float]:
    """wrk for `seconds`. For wsdmon every body is a distinct notification (none repeats, so the
    reducer does full work); the bare handler ignores bodies, so a small set cycles. `payloads`:
    the bodies, when the caller made them already (else make_payloads(identifier, …))."""
    body_dir = tmp / f"bodies-{time.monotonic_ns()}"
    body_dir.mkdir()
    count = int(max(1, round(seconds)) * 10000) if distinct else 500
    if payloads is not None:
        count = len(payloads)
    for k, body in enumerate(payloads if payloads is not None else make_payloads(identifier, count)):
        (body_dir / f"{k}.xml").write_bytes(body)
    script = body_dir / "post.lua"
    script.write_text(WRK_LUA)
    proc = await asyncio.create_subprocess_exec(
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "-s",
        str(script),
        url,
        "--",
        str(body_dir),
        str(count),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    text = out.decode()
    if proc.returncode != 0 or "Requests/sec:" not in text:
        raise RuntimeError(f"wrk failed: {text}")
    if "Non-2xx" in text:
        raise RuntimeError(f"wrk saw failed requests: {text}")
    total = int(text.split(" requests in ")[0].split()[-1])
    if distinct and total >= count:
        raise RuntimeError("notification bodies repeated: raise the body count")
    return {
        "count": total,
        "elapsed_s": total / float(text.split("Requests/sec:")[1].split()[0]),
        "errors": 0,
    }


async def run_client(url: str, identifier: str, count: int, concurrency: int) -> dict[str, float]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--client",
        url,
        "--identifier",
        identifier,
        "--count",
        str(count),
        "--concurrency",
        str(concurrency),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError("load client failed")
    result: dict[str, float] = json.loads(out)
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} requests failed")
    return result


async def load(url: str, identifier: str, args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    if args.client_kind == "wrk":
        return await run_wrk(
            url, identifier, args.seconds, args.concurrency, tmp, distinct=identifier != BARE
        )
    return await run_client(url, identifier, args.count, args.concurrency)


LADDER = ("read", "parse", "decode", "decode+journal")


async def ladder_round(stage: str, args: argparse.Namespace, tmp: Path) -> float:
    """The low-level server with a handler doing the stages up to `stage` (see LADDER)."""
    from wsdmon.net.engine import summarize
    from wsdmon.net.recorder import PendingMessage, Recorder
    from wsdmon.protocol import decode
    from wsdmon.protocol._xml import parse_bytes
    from wsdmon.store import Journal

    journal = Journal(tmp / f"ladder-{time.monotonic_ns()}.sqlite3")
    recorder = Recorder(journal)
    parse, full, record = stage == "parse", stage.startswith("decode"), stage == "decode+journal"

    async def handler(request: web.BaseRequest) -> web.Response:
        raw = await request.read()
        if parse:
            parse_bytes(raw)
        elif full:
            message = decode(raw)
            if record:
                row = PendingMessage(
                    datetime.now(UTC),
                    "urn:uuid:bench-device",
                    BARE,
                    message.action,
                    message.header.message_id,
                    summarize(message),
                    raw,
                )
                await recorder.record(row)
        return web.Response(status=202)

    try:
        runner = web.ServerRunner(web.Server(handler, access_log=None), handle_signals=False)
        return await serve_and_load(runner, args, tmp)
    finally:
        journal.close()


async def serve_and_load(runner: web.BaseRunner, args: argparse.Namespace, tmp: Path) -> float:
    """Serve on an ephemeral loopback port, put the load on it; requests per second."""
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        r = await load(f"http://127.0.0.1:{port}/sink", BARE, args, tmp)
    finally:
        await runner.cleanup()
    return r["count"] / r["elapsed_s"]


async def bare_round(args: argparse.Namespace, tmp: Path) -> float:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/sink", handler)
    return await serve_and_load(web.AppRunner(app, access_log=None), args, tmp)


async def wsdmon_round(args: argparse.Namespace, tmp: Path) -> tuple[float, int, int]:
    from wsdmon.net.engine import Engine, EngineConfig
    from wsdmon.store import Journal

    db = tmp / f"journal-{time.monotonic_ns()}.sqlite3"
    journal = Journal(db)
    engine = Engine(EngineConfig(notify_port=0, notify_bind="127.0.0.1", notify_host="127.0.0.1"), journal)
    await engine.start()
    reg = engine.sink.register("urn:uuid:bench-device", "http://127.0.0.1:9/svc")
    try:
        r = await load(reg.notify_url("127.0.0.1", engine.sink.port), reg.identifier, args, tmp)
        accepted = engine.sink.counters["accepted"]
        jobs = len(engine.jobs.jobs)
    finally:
        await engine.stop()
        journal.close()
    stored = sum(1 for _ in Journal(db).messages_after(0))
    # wrk stops mid-flight: requests it gave up on may still have been accepted, so accepted and
    # journaled may exceed what wrk counted, but never fall short of it.
    if not accepted == stored >= r["count"]:
        raise RuntimeError(f"accepted {accepted}, journaled {stored} of {r['count']} acknowledged")
    return r["count"] / r["elapsed_s"], stored, jobs


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    if args.quick:
        args.count, args.seconds, args.rounds = 300, 0.5, 1
    args.client_kind = "wrk" if shutil.which("wrk") and not args.python_client else "python"
    bare_best = wsdmon_best = 0.0
    ladder_best = dict.fromkeys(LADDER, 0.0)
    stored = jobs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            bare_best = max(bare_best, await bare_round(args, Path(tmp)))
            if not args.no_ladder:
                for stage in LADDER:
                    ladder_best[stage] = max(ladder_best[stage], await ladder_round(stage, args, Path(tmp)))
            rate, stored, jobs = await wsdmon_round(args, Path(tmp))
            wsdmon_best = max(wsdmon_best, rate)
    ladder: list[dict[str, object]] = []
    below = None
    for stage, rate in [*ladder_best.items(), ("whole engine (sink, journal, reducer)", wsdmon_best)]:
        if not rate:
            continue
        ladder.append(
            {
                "stage": stage,
                "per_s": round(rate, 1),
                "ratio_to_bare": round(rate / bare_best, 3) if bare_best else None,
                "us_per_notification_over_previous": round((1 / rate - 1 / below) * 1e6, 1)
                if below
                else None,
            }
        )
        below = rate
    return {
        "benchmark": "notifications/s end to end: POST -> sink -> journal -> reducer",
        "target": "wsdmon_per_s >= 0.5 * bare_per_s",
        "load_client": args.client_kind,
        "seconds_per_round": args.seconds if args.client_kind == "wrk" else None,
        "count_per_round": args.count if args.client_kind == "python" else None,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "bare_aiohttp_per_s": round(bare_best, 1),
        "wsdmon_per_s": round(wsdmon_best, 1),
        "ratio": round(wsdmon_best / bare_best, 3) if bare_best else None,
        "ladder_low_level_server": ladder,
        "journaled_last_round": stored,
        "jobs_folded_last_round": jobs,
        "python": sys.version.split()[0],
        "aiohttp": aiohttp.__version__,
        "machine": platform.machine(),
        "quick": args.quick,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4.0, help="wrk duration per round")
    parser.add_argument(
        "--python-client", action="store_true", help="use the Python client even if wrk exists"
    )
    parser.add_argument("--no-ladder", action="store_true", help="only the bare and wsdmon rounds")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "notify_e2e.json")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--identifier", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_main(args.client, args.identifier, args.count, args.concurrency))
        return 0
    result = asyncio.run(main_async(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
