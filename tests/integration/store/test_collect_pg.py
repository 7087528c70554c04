"""`wsdmon collect --store postgresql://…` (issue 14, items 1 and 2): the real collector process writes
what it accepts into a shared PostgreSQL database (a throwaway cluster, tests/pg.py) as its site, and
a second collector of another site writes beside it; on SIGTERM each unsubscribes and exits 0."""

from __future__ import annotations

import signal
from pathlib import Path

import psycopg
import pytest

from tests.integration.sim_netns import Child
from tests.integration.sim_support import run
from tests.integration.test_collect import JOB, ended_line, scan_server
from tests.integration.test_engine_sim import until
from tests.integration.wsdmon_process import WSDMON, env_command
from wsdmon.cli import EXIT_OK

pytestmark = pytest.mark.timeout(180)


def _collect(home: Path, site: str, dsn: str, url: str) -> list[str]:
    argv = [
        WSDMON, "collect", "--site", site, "--store", dsn, "--no-discovery", "--device", url,
        "--notify-port", "0", "--notify-host", "127.0.0.1",
    ]  # fmt: skip
    return [*env_command(home), *argv]


def test_two_collectors_write_their_sites_into_one_database(tmp_path: Path, pg_dsn: str) -> None:
    async def body() -> None:
        async with scan_server() as first, scan_server() as second:
            a = await Child.start("floor-3", _collect(tmp_path / "a", "floor-3", pg_dsn, first.metadata_url))
            b = await Child.start("branch", _collect(tmp_path / "b", "branch", pg_dsn, second.metadata_url))
            try:
                for child in (a, b):
                    start = await child.wait_for(lambda line: "collecting for site" in line)
                    assert "host=127.0.0.1" in start, start  # where it writes, said in the start line
                await until(lambda: len(first.events.subscriptions) == 1, "floor-3 subscribed")
                await until(lambda: len(second.events.subscriptions) == 1, "branch subscribed")
                jobs = {"floor-3": first.submit_job(JOB), "branch": second.submit_job(JOB)}
                for job in jobs.values():
                    await job.wait()
                await a.wait_for(ended_line(jobs["floor-3"].token))
                await b.wait_for(ended_line(jobs["branch"].token))
                for child in (a, b):
                    child.process.send_signal(signal.SIGTERM)
                    assert await child.exit(10) == EXIT_OK, "\n".join(child.lines)
            finally:
                await a.kill()
                await b.kill()
            assert not first.events.subscriptions  # unsubscribed on the way out
            assert not second.events.subscriptions
        with psycopg.connect(pg_dsn) as conn:
            stored = conn.execute("SELECT site, job_token FROM jobs ORDER BY site").fetchall()
            assert stored == [("branch", jobs["branch"].token), ("floor-3", jobs["floor-3"].token)]
            per_site = dict(conn.execute("SELECT site, count(*) FROM messages GROUP BY site").fetchall())
            assert set(per_site) == {"floor-3", "branch"}
            assert all(n >= 2 for n in per_site.values()), per_site  # status events and the end state

    run(body, timeout=150)
