"""`wsdmon collect --store postgresql://…` and `wsdmon watch --json --store postgresql://…` (issue 14,
items 1–3): real collector processes write what they accept into one PostgreSQL database (a throwaway
cluster, tests/pg.py), each as its site; watch, as a SELECT-only role, follows every site live; on
SIGTERM each collector unsubscribes and exits 0."""

from __future__ import annotations

import itertools
import json
import signal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.sim_netns import Child
from tests.integration.sim_support import run
from tests.integration.test_collect import JOB, scan_server
from tests.integration.test_engine_sim import until
from tests.integration.wsdmon_process import WSDMON, env_command, run_wsdmon
from tests.pg import PgCluster
from wsdmon.cli import EXIT_OK
from wsdmon.store.pg_schema import roles_sql

pytestmark = pytest.mark.timeout(180)

_logins = itertools.count(1)


def _collect(home: Path, site: str, dsn: str, url: str) -> list[str]:
    argv = [
        WSDMON, "collect", "--site", site, "--store", dsn, "--no-discovery", "--device", url,
        "--notify-port", "0", "--notify-host", "127.0.0.1",
    ]  # fmt: skip
    return [*env_command(home), *argv]


def _viewer(cluster: PgCluster, dsn: str) -> str:
    """A login role with SELECT only (the viewer group of pg_schema.roles_sql)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(roles_sql().encode())
    name = f"desk_{next(_logins)}"
    cluster.admin(f"CREATE ROLE {name} LOGIN IN ROLE wsdmon_viewer")
    return dsn.replace("user=postgres", f"user={name}")


def _lines(child: Child) -> list[dict[str, Any]]:
    return [json.loads(line) for line in child.lines if line.startswith("{")]


def test_two_sites_in_one_database_followed_live_by_watch(
    tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str
) -> None:
    """Two collectors (sites floor-3 and branch) write into one database; `watch --json --store`
    as a SELECT-only role prints both sites' devices and jobs, live, each line naming its site."""

    async def body() -> None:
        async with scan_server() as first, scan_server() as second:
            a = await Child.start("floor-3", _collect(tmp_path / "a", "floor-3", pg_dsn, first.metadata_url))
            b = await Child.start("branch", _collect(tmp_path / "b", "branch", pg_dsn, second.metadata_url))
            watch: Child | None = None
            try:
                for child in (a, b):
                    start = await child.wait_for(lambda line: "collecting for site" in line)
                    assert "host=127.0.0.1" in start, start  # where it writes, said in the start line
                await until(lambda: len(first.events.subscriptions) == 1, "floor-3 subscribed")
                await until(lambda: len(second.events.subscriptions) == 1, "branch subscribed")
                viewer = _viewer(pg_cluster, pg_dsn)
                argv = [*env_command(tmp_path / "w"), WSDMON, "watch", "--json", "--store", viewer]
                watch = await Child.start("watch", argv)
                await watch.wait_for(lambda line: '"kind": "device"' in line and '"branch"' in line)
                jobs = {"floor-3": first.submit_job(JOB), "branch": second.submit_job(JOB)}
                for job in jobs.values():
                    await job.wait()
                for site, job in jobs.items():
                    await watch.wait_for(
                        lambda line, site=site, job=job: (
                            line.startswith("{")
                            and json.loads(line).get("job_token") == job.token
                            and json.loads(line).get("site") == site
                            and json.loads(line)["ended"]
                        ),
                        timeout=30,
                    )
                for child in (a, b):
                    child.process.send_signal(signal.SIGTERM)
                    assert await child.exit(10) == EXIT_OK, "\n".join(child.lines)
                    stop = next(line for line in child.lines if "stopped (journal" in line)
                    assert "host=127.0.0.1" in stop, stop  # the store it wrote, not a local file
                for site in ("floor-3", "branch"):  # what a collector's clean stop did, live
                    await watch.wait_for(
                        lambda line, site=site: (
                            line.startswith("{")
                            and json.loads(line).get("kind") == "device"
                            and json.loads(line).get("site") == site
                            and json.loads(line)["subscribed"] is False
                        ),
                        timeout=30,
                    )
                watch.process.send_signal(signal.SIGTERM)
                assert await watch.exit(10) == EXIT_OK, "\n".join(watch.lines)
            finally:
                for child in (a, b, watch):
                    if child is not None:
                        await child.kill()
            assert not first.events.subscriptions  # unsubscribed on the way out
            assert not second.events.subscriptions
        printed = _lines(watch)
        assert "Traceback" not in "\n".join(watch.lines)
        # Both simulators have one seed, so one endpoint: still a device line per site.
        devices = {(o["site"], o["device"]) for o in printed if o["kind"] == "device"}
        assert devices == {("floor-3", first.endpoint), ("branch", second.endpoint)}
        # Each as its collector knew it, and when it said so.
        subscribed = {o["site"] for o in printed if o["kind"] == "device" and o["subscribed"]}
        assert subscribed == {"floor-3", "branch"}
        assert all(o["state_at"] for o in printed if o["kind"] == "device")
        live = [o for o in printed if o["kind"] == "job" and not o.get("replayed")]
        assert {(o["site"], o["job_token"]) for o in live} == {(s, j.token) for s, j in jobs.items()}
        for job in jobs.values():
            last = [o for o in live if o["job_token"] == job.token][-1]
            assert (last["job_state"], last["images_received"]) == ("Completed", 2), last
        with psycopg.connect(pg_dsn) as conn:
            stored = conn.execute("SELECT site, job_token FROM jobs ORDER BY site").fetchall()
            assert stored == [("branch", jobs["branch"].token), ("floor-3", jobs["floor-3"].token)]

    run(body, timeout=150)


def test_watch_on_an_unreachable_store_says_so_without_the_password(tmp_path: Path) -> None:
    result = run_wsdmon(
        tmp_path, "watch", "--json", "--store", "postgresql://desk:s3cret@127.0.0.1:1/wsdmon", timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr + result.stdout
    [line] = [ln for ln in result.stderr.splitlines() if "cannot read the store" in ln]
    assert "postgresql://desk:***@127.0.0.1:1/wsdmon" in line
