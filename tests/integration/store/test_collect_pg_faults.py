"""Issue 14's faults for a collector on PostgreSQL, with the real `wsdmon collect` process: the
database stopped for 30 s during a burst of notifications and started again, and the collector killed
with SIGKILL and restarted. Afterwards every notification the collector acknowledged (the simulator
counts the 2xx answers) is in PostgreSQL exactly once, every job ends there as the simulator ended
it, and the subscription is back."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.sim_netns import Child
from tests.integration.sim_support import run
from tests.integration.test_collect import scan_server
from tests.integration.test_engine_sim import until
from tests.integration.wsdmon_process import WSDMON, env_command
from tests.pg import PgCluster
from wsdmon.cli import EXIT_OK
from wsdmon.simulator import JobPlan
from wsdmon.simulator.config import PIPELINE_DEPTH

pytestmark = pytest.mark.timeout(240)

OUTAGE_S = 30.0  # the outage
BURST = JobPlan(images=3, image_interval_s=0.2, start_delay_s=0.1)


def _collect(home: Path, dsn: str, url: str) -> list[str]:
    return [
        *env_command(home), WSDMON, "collect", "--site", "floor-3", "--store", dsn, "--no-discovery",
        "--device", url, "--notify-port", "0", "--notify-host", "127.0.0.1",
    ]  # fmt: skip


def _stored(dsn: str) -> tuple[int, int, dict[str, str]]:
    """(messages, distinct (site, id), job token → its stored record) of site floor-3."""
    with psycopg.connect(dsn) as conn:
        [(n, distinct)] = conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM messages WHERE site = 'floor-3'"
        ).fetchall()
        jobs = dict(conn.execute("SELECT job_token, record FROM jobs WHERE site = 'floor-3'").fetchall())
    return int(n), int(distinct), jobs


def _count(dsn: str) -> int:
    try:
        return _stored(dsn)[0]
    except psycopg.OperationalError:
        return -1


def _unconfirmed(*subs: Any) -> int:
    """How many notifications a collector may have stored whose acknowledgement the simulator never
    counted: those in flight when it was killed (counted among the failed deliveries), and, at a
    clean stop, the batch the Unsubscribe cut short before the simulator read its 202s (at most a
    pipeline's depth). Stored: committed before the 202, which is what "acknowledged" promises."""
    return sum(sub.failures for sub in subs) + PIPELINE_DEPTH


async def _burst(server: Any, n: int) -> list[Any]:
    jobs = [server.submit_job(BURST) for _ in range(n)]
    for job in jobs:
        await job.wait()
    return jobs


def test_the_database_away_for_30_s_during_a_burst_loses_and_doubles_nothing(
    tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str
) -> None:
    async def body() -> None:
        loop = asyncio.get_running_loop()
        async with scan_server() as server:
            collect = await Child.start("collect", _collect(tmp_path, pg_dsn, server.metadata_url))
            try:
                await collect.wait_for(lambda line: "collecting for site" in line)
                await until(lambda: len(server.events.subscriptions) == 1, "the subscription")
                sub = server.events.subscriptions[0]
                jobs = await _burst(server, 3)
                await loop.run_in_executor(None, pg_cluster.stop)  # the database goes away mid-run
                try:
                    jobs += await _burst(server, 10)  # accepted into the local spool meanwhile
                    await asyncio.sleep(OUTAGE_S)
                finally:
                    await loop.run_in_executor(None, pg_cluster.start)
                jobs += await _burst(server, 3)  # the next appends replay the spool first
                await until(lambda: _count(pg_dsn) == sub.delivered, "the spool replayed", timeout=60)
                assert list(server.events.subscriptions) == [sub]  # the subscription never lapsed
                collect.process.send_signal(signal.SIGTERM)
                assert await collect.exit(15) == EXIT_OK, "\n".join(collect.lines[-30:])
            finally:
                await collect.kill()
        assert "Traceback" not in "\n".join(collect.lines)
        assert any("accepting into the local spool" in line for line in collect.lines), collect.lines
        messages, distinct, stored = _stored(pg_dsn)
        assert messages == distinct  # none twice
        # every acknowledged one (and at most the few the clean stop cut short)
        assert sub.delivered <= messages <= sub.delivered + _unconfirmed(sub), (messages, sub.delivered)
        assert set(stored) == {job.token for job in jobs}
        for job in jobs:  # each job's folded state ended as the simulator ended it
            assert '"Completed"' in stored[job.token], stored[job.token]

    run(body, timeout=200)


def test_a_collector_killed_outright_comes_back_and_loses_nothing(tmp_path: Path, pg_dsn: str) -> None:
    async def body() -> None:
        async with scan_server() as server:
            first = await Child.start("collect", _collect(tmp_path, pg_dsn, server.metadata_url))
            try:
                await first.wait_for(lambda line: "collecting for site" in line)
                await until(lambda: len(server.events.subscriptions) == 1, "the subscription")
                before = server.events.subscriptions[0]
                jobs = await _burst(server, 3)
                await until(lambda: _count(pg_dsn) == before.delivered, "the jobs stored")
                first.process.send_signal(signal.SIGKILL)  # no Unsubscribe, no clean close
                await first.exit(10)
            finally:
                await first.kill()
            again = await Child.start("collect", _collect(tmp_path, pg_dsn, server.metadata_url))
            try:
                # The dead session's site lock does not keep the new one out; it subscribes again.
                await again.wait_for(lambda line: "collecting for site" in line, timeout=60)
                await until(lambda: any(s is not before for s in server.events.subscriptions), "resubscribed")
                after = next(s for s in server.events.subscriptions if s is not before)
                jobs += await _burst(server, 2)
                await until(
                    lambda: _count(pg_dsn) >= before.delivered + after.delivered, "the new jobs stored"
                )
                again.process.send_signal(signal.SIGTERM)
                assert await again.exit(15) == EXIT_OK, "\n".join(again.lines[-30:])
            finally:
                await again.kill()
        messages, distinct, stored = _stored(pg_dsn)
        assert messages == distinct  # none twice
        # Every notification acknowledged is stored; so may be the few in flight at the kill or the
        # clean stop (_unconfirmed; seen under load: 2 of the 3 it could not deliver were stored).
        acknowledged = before.delivered + after.delivered
        unconfirmed = _unconfirmed(before, after)
        print(f"stored {messages}, acknowledged {acknowledged}, failed {before.failures} + {after.failures}")
        assert acknowledged <= messages <= acknowledged + unconfirmed, (messages, acknowledged, unconfirmed)
        assert set(stored) == {job.token for job in jobs}

    run(body, timeout=200)
