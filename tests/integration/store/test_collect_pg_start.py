"""The real `wsdmon collect` process started before its PostgreSQL server: it says so, accepts the
devices' notifications into its local spool, and once the server is started (and no notification
comes any more) migrates the schema and replays the spool on its own. A location that can never work
ends it at once: one line, exit 2, no password."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import psycopg
import pytest

from tests.integration.sim_netns import Child
from tests.integration.sim_support import run
from tests.integration.store.test_collect_pg_faults import _burst, _collect, _stored
from tests.integration.test_collect import scan_server
from tests.integration.test_engine_sim import until
from tests.integration.wsdmon_process import WSDMON, env_command, run_wsdmon
from tests.pg import PgCluster
from wsdmon.cli import EXIT_CANNOT_START, EXIT_OK
from wsdmon.store.pg_schema import SCHEMA_VERSION, schema_version
from wsdmon.store.postgres import CONNECT_TIMEOUT_S, RECONNECT_INTERVAL_S

pytestmark = pytest.mark.timeout(180)

# The collector's replay thread tries every RECONNECT_INTERVAL_S and may find the reconnect not yet
# due; then a connection (at most CONNECT_TIMEOUT_S), the migration and the replay, on a busy machine.
DRAINED_WITHIN_S = 2 * RECONNECT_INTERVAL_S + CONNECT_TIMEOUT_S + 5.0


def _messages(dsn: str) -> int:
    try:
        return _stored(dsn)[0]
    except psycopg.Error:  # not started yet, or no tables yet
        return -1


def test_a_collector_started_before_its_database_spools_then_replays_when_idle(tmp_path: Path) -> None:
    cluster = PgCluster()  # made, not started: the server is down when the collector starts
    dsn = cluster.dsn()  # its `postgres` database, empty of wsdmon's tables

    async def body() -> None:
        loop = asyncio.get_running_loop()
        async with scan_server() as server:
            collect = await Child.start("collect", _collect(tmp_path, dsn, server.metadata_url))
            try:
                await collect.wait_for(lambda line: "accepting into the local spool" in line)
                await collect.wait_for(lambda line: "collecting for site" in line)
                await until(lambda: len(server.events.subscriptions) == 1, "the subscription")
                sub = server.events.subscriptions[0]
                jobs = await _burst(server, 2)  # acknowledged from the spool
                assert sub.delivered > 0
                await loop.run_in_executor(None, cluster.start)
                # No notification from here on: the spool is replayed by the collector's timer.
                started = loop.time()
                await until(lambda: _messages(dsn) == sub.delivered, "the spool replayed", DRAINED_WITHIN_S)
                took = loop.time() - started
                await until(lambda: len(_stored(dsn)[2]) == len(jobs), "the jobs written", 10)
                collect.process.send_signal(signal.SIGTERM)
                assert await collect.exit(15) == EXIT_OK, "\n".join(collect.lines[-30:])
            finally:
                await collect.kill()
        assert "Traceback" not in "\n".join(collect.lines)
        assert took < DRAINED_WITHIN_S
        with psycopg.connect(dsn) as conn:
            assert schema_version(conn) == SCHEMA_VERSION  # migrated once the server was there
        messages, distinct, stored = _stored(dsn)
        assert messages == distinct == sub.delivered  # every acknowledged one, once
        assert set(stored) == {job.token for job in jobs}
        for job in jobs:
            assert '"Completed"' in stored[job.token], stored[job.token]

    try:
        run(body, timeout=150)
    finally:
        cluster.remove()


def test_an_unreachable_database_at_start_is_a_warning_and_the_collector_runs(tmp_path: Path) -> None:
    async def body() -> None:
        argv = [
            *env_command(tmp_path), WSDMON, "collect", "--site", "floor-3", "--no-discovery",
            "--store", "postgresql://wsdmon:s3cret@127.0.0.1:1/wsdmon", "--notify-port", "0",
        ]  # fmt: skip
        collect = await Child.start("collect", argv)
        try:
            warning = await collect.wait_for(lambda line: "accepting into the local spool" in line)
            await collect.wait_for(lambda line: "collecting for site" in line)
            collect.process.send_signal(signal.SIGTERM)
            assert await collect.exit(15) == EXIT_OK, "\n".join(collect.lines[-30:])
        finally:
            await collect.kill()
        assert "cannot reach the PostgreSQL server of postgresql://wsdmon:***@127.0.0.1:1/wsdmon" in warning
        said = "\n".join(collect.lines)
        assert "s3cret" not in said
        assert "Traceback" not in said

    run(body, timeout=60)


@pytest.mark.parametrize(
    ("tail", "says"),
    [
        ("/no_such_db", 'refuses it: .*database "no_such_db" does not exist'),
        ("/postgres?sslmode=sometimes", "refuses it: .*invalid sslmode value"),
    ],
)
def test_a_location_that_can_never_work_ends_the_collector_in_one_line(
    tmp_path: Path, pg_cluster: PgCluster, tail: str, says: str
) -> None:
    url = f"postgresql://postgres:s3cret@127.0.0.1:{pg_cluster.port}{tail}"
    result = run_wsdmon(tmp_path, "collect", "--no-discovery", "--store", url, timeout=60)
    assert result.returncode == EXIT_CANNOT_START, result.stderr
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr + result.stdout
    [line] = [ln for ln in result.stderr.splitlines() if "cannot use the store" in ln]
    assert f"postgresql://postgres:***@127.0.0.1:{pg_cluster.port}" in line
    assert re.search(says, line), line
