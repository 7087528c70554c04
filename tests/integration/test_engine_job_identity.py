"""The engine against the simulator on loopback: a scan server that reboots and numbers its jobs
from 1 again shows new jobs as new rows with the old ones intact (core.jobs rule 6), and jobs whose
device the monitor lost sight of are "unknown since", not active, until the device answers (rule 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wsdmon.cli import job_json
from wsdmon.core import JobChange, JobKey, SubscriptionStatus
from wsdmon.net.engine import Engine, EngineListener
from wsdmon.protocol.dsm import JobState
from wsdmon.simulator import JobPlan, Role, Simulator

from .sim_support import run
from .test_engine_sim import (
    free_port,
    monitored,
    new_engine,
    sim_config,
    subscription_of,
    until,
    until_subscribed,
)


class Lines(EngineListener):
    """What `wsdmon watch --json` prints for each job change."""

    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []

    def job_changed(self, change: JobChange) -> None:
        self.jobs.append(job_json(change))


def test_a_rebooted_server_reusing_its_tokens_gives_new_rows_and_leaves_the_old_ones(tmp_path: Path) -> None:
    async def body() -> None:
        lines = Lines()
        async with monitored(tmp_path, sim_config(), lines) as (sim, engine):
            server = sim.device(Role.SCAN_SERVER)
            assert server.repository is not None
            server.repository.counter_tokens = True
            url, ep = server.metadata_url, server.endpoint
            await engine.sighting(ep, (url,), 1, server.instance_id)
            await until_subscribed(engine, ep)
            first = server.submit_job(JobPlan(images=1, image_interval_s=0.05))
            running = server.submit_job(JobPlan(images=50, image_interval_s=1.0))
            assert (first.token, running.token) == ("1", "2")
            await first.wait()
            old1, old2 = JobKey(ep, "1"), JobKey(ep, "2")
            await until(lambda: old1 in engine.jobs.jobs and engine.jobs.jobs[old1].ended, "job 1 to end")
            await until(lambda: old2 in engine.jobs.jobs, "job 2")
            ended_before = engine.jobs.jobs[old1]

            await server.restart()  # job 2 is forgotten; the counter starts over at 1
            await engine.sighting(ep, (url,), 1, server.instance_id)  # its Hello, new InstanceId
            await until(lambda: engine.jobs.jobs[old2].lost, "job 2 lost in the reboot")
            lost_before = engine.jobs.jobs[old2]
            again1 = server.submit_job(JobPlan(images=2, image_interval_s=0.05))
            again2 = server.submit_job(JobPlan(images=1, image_interval_s=0.05))
            assert (again1.token, again2.token) == ("1", "2")
            await again1.wait()
            await again2.wait()
            new1, new2 = JobKey(ep, "1", 1), JobKey(ep, "2", 1)
            await until(
                lambda: all(k in engine.jobs.jobs and engine.jobs.jobs[k].ended for k in (new1, new2)),
                "the new jobs 1 and 2 to end, as jobs of their own",
            )
            for key, job in ((new1, again1), (new2, again2)):
                assert engine.jobs.jobs[key].status == job.status()  # their own times and end states
            # The old jobs are as they were: job 1 ended with its own times, job 2 lost.
            assert engine.jobs.jobs[old1].status == ended_before.status == first.status()
            assert engine.jobs.jobs[old1].status.job_created_time != again1.created
            assert engine.jobs.jobs[old2].lost
            assert engine.jobs.jobs[old2].status == lost_before.status
            assert len(engine.jobs.jobs) == 4
        # `watch --json` tells the jobs apart, and so does the journal after a restart.
        seen = {(line["job_token"], line["generation"], line["created"]) for line in lines.jobs}
        created = {(t, g): c for t, g, c in seen}
        assert len(seen) == len(created) == 4
        assert created["1", 0] != created["1", 1]
        again, journal = new_engine(tmp_path)
        await again.start()
        try:
            assert set(again.jobs.jobs) == {old1, old2, new1, new2}
            assert again.jobs.jobs[new1].status == again1.status()
            assert again.jobs.jobs[old1].status == first.status()
        finally:
            await again.stop()
            journal.close()

    run(body, timeout=90)


def restored_state(engine: Engine, key: JobKey) -> tuple[bool, bool, bool]:
    rec = engine.jobs.jobs[key]
    return rec.unknown_since is not None, rec.is_active, rec.lost


def test_jobs_active_when_the_monitor_quit_are_unknown_until_their_device_answers(tmp_path: Path) -> None:
    async def body() -> None:
        sim = Simulator(sim_config())
        await sim.start()
        server = sim.device(Role.SCAN_SERVER)
        try:
            engine, journal = new_engine(tmp_path)
            await engine.start()
            await engine.add_device_url(server.metadata_url)
            await until_subscribed(engine, server.endpoint)
            long = server.submit_job(JobPlan(images=60, image_interval_s=0.5))
            short = server.submit_job(JobPlan(images=8, image_interval_s=0.5))
            keys = JobKey(server.endpoint, long.token), JobKey(server.endpoint, short.token)
            await until(lambda: all(k in engine.jobs.jobs for k in keys), "both jobs")
            quit_at = {k: engine.jobs.jobs[k].last_update for k in keys}
            await engine.stop()
            journal.close()
            await short.wait()  # ends while the monitor is not running

            lines = Lines()
            again, journal = new_engine(tmp_path, lines)
            await again.start()  # the device is not seen yet
            try:
                for key in keys:
                    assert restored_state(again, key) == (True, False, False)  # unknown, not active
                    assert again.jobs.jobs[key].unknown_since == quit_at[key]
                shown = {(line["job_token"], line["unknown_since"]) for line in lines.jobs}
                assert (long.token, quit_at[keys[0]].isoformat()) in shown
                await again.add_device_url(server.metadata_url)  # the device answers again
                await until(lambda: again.jobs.jobs[keys[0]].is_active, "the running job, settled active")
                await until(lambda: again.jobs.jobs[keys[1]].is_terminal, "the ended job, settled")
                assert restored_state(again, keys[1]) == (False, False, False)
                assert again.jobs.jobs[keys[1]].status.job_state == JobState.COMPLETED
            finally:
                await again.stop()
                journal.close()
        finally:
            await sim.stop()

    run(body, timeout=90)


def test_the_jobs_of_a_device_that_went_away_are_unknown_then_settled(tmp_path: Path) -> None:
    async def body() -> None:
        config = sim_config(http_port=free_port())
        sim = Simulator(config)
        await sim.start()
        ep = sim.device(Role.SCAN_SERVER).endpoint
        engine, journal = new_engine(tmp_path)
        await engine.start()
        try:
            server = sim.device(Role.SCAN_SERVER)
            await engine.add_device_url(server.metadata_url)
            await until_subscribed(engine, ep)
            job = server.submit_job(JobPlan(images=60, image_interval_s=0.5))
            key = JobKey(ep, job.token)
            await until(lambda: key in engine.jobs.jobs, "the job")
            # A Bye: unknown, not active (and so not cancelable).
            engine.device_left(ep)
            assert restored_state(engine, key) == (True, False, False)
            await engine.refresh(ep)  # seen again: read, subscribed, snapshot: active again
            await until(lambda: engine.jobs.jobs[key].is_active, "the job active again after the snapshot")
            # The server shuts down (SubscriptionEnd) and comes back without the job.
            await sim.stop()
            await until(lambda: subscription_of(engine, ep) is SubscriptionStatus.RETRYING, "the end")
            assert restored_state(engine, key) == (True, False, False)
            await engine.refresh(ep)  # its metadata cannot be read: still unknown
            assert restored_state(engine, key) == (True, False, False)
            sim = Simulator(config)
            await sim.start()
            await engine.refresh(ep)
            await until(lambda: engine.jobs.jobs[key].lost, "the job the restarted server forgot, lost")
            assert restored_state(engine, key) == (False, False, True)
        finally:
            await engine.stop()
            journal.close()
            await sim.stop()

    run(body, timeout=90)
