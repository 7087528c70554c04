"""The engine (a collector) against the simulator on loopback, on each store: live jobs are journalled
through the store's Recorder path (PostgreSQL from an executor thread) and a restarted engine gets
them back from the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.sim_support import run
from tests.integration.test_engine_sim import sim_config, until, until_subscribed
from wsdmon.core import JobKey
from wsdmon.net.engine import Engine, EngineConfig
from wsdmon.simulator import JobPlan, Role, Simulator

from .stores import KINDS, Backend


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return Backend(request.param, tmp_path, lambda: request.getfixturevalue("pg_dsn"))


def test_jobs_go_through_the_store_and_come_back_after_a_restart(backend: Backend) -> None:
    config = EngineConfig(notify_port=0, notify_bind="127.0.0.1", notify_host="127.0.0.1")

    async def body() -> None:
        sim = Simulator(sim_config())
        await sim.start()
        server = sim.device(Role.SCAN_SERVER)
        store = backend.open(site="floor-3")
        engine = Engine(config, store)
        await engine.start()
        try:
            await engine.add_device_url(server.metadata_url)
            await until_subscribed(engine, server.endpoint)
            jobs = [server.submit_job(JobPlan(images=3, image_interval_s=0.05)) for _ in range(3)]
            for job in jobs:
                await job.wait()
            keys = [JobKey(server.endpoint, job.token) for job in jobs]
            await until(
                lambda: all(k in engine.jobs.jobs and engine.jobs.jobs[k].ended for k in keys), "jobs"
            )
            before = {k: engine.jobs.jobs[k] for k in keys}
            journalled = [e.journal_id for r in before.values() for e in r.timeline if e.journal_id]
            assert journalled
            assert all(store.raw_message(i) for i in journalled)  # what the raw view shows
        finally:
            await engine.stop()
            store.close()
        await sim.stop()
        again_store = backend.open(site="floor-3")
        again = Engine(config, again_store)
        await again.start()
        try:
            for key, record in before.items():
                assert again.jobs.jobs[key].status == record.status
                assert len(again.jobs.jobs[key].timeline) == len(record.timeline)
            assert [d.endpoint for d in again.devices] == [server.endpoint]
        finally:
            await again.stop()
            again_store.close()
        assert backend.rows("SELECT DISTINCT site FROM messages") == [("floor-3",)]

    run(body)
