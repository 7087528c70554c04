"""Scanner (WS-Scan) jobs through the engine against the simulator on loopback: a scan job from
JobStatusEvent to JobEndStateEvent, a condition raised while it runs on its timeline, and a scanner
reboot that restarts its JobIds at 1 giving new jobs beside the old ones, in memory and in the journal."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from wsdmon.core import ChangeField, JobKey, JobKind, ObservationKind
from wsdmon.protocol.scan import JobState
from wsdmon.simulator import Role, ScanJobPlan
from wsdmon.store import Journal

from .sim_support import run
from .test_engine_sim import monitored, sim_config, until, until_subscribed


def test_scan_jobs_fold_and_a_rebooted_scanner_reusing_job_ids_gives_new_rows(tmp_path: Path) -> None:
    async def body() -> None:
        async with monitored(tmp_path, sim_config(role=Role.SCAN_DEVICE)) as (sim, engine):
            device = sim.device(Role.SCAN_DEVICE)
            assert device.scanner is not None
            url = device.metadata_url
            await device.restart()  # a scanner freshly booted: its JobIds start at 1
            await engine.sighting(device.endpoint, (url,), 1, device.instance_id)
            await until_subscribed(engine, device.endpoint)
            first = device.submit_job(ScanJobPlan(job_name="Before", scans=3, scan_interval_s=0.3))
            assert first.job_id == 1
            key = JobKey(device.endpoint, "1")
            await until(lambda: key in engine.jobs.jobs, "the scan job's first event")
            jam = device.scanner.raise_condition()
            await first.wait()
            await until(lambda: engine.jobs.jobs[key].ended, "the JobEndStateEvent")
            old = engine.jobs.jobs[key]
            assert old.kind is JobKind.SCAN
            assert old.status.job_state is JobState.COMPLETED
            assert old.status.images_received == 3  # ScansCompleted
            assert old.job_name == "Before"
            assert old.job_originating_user_name == "alice"
            noted = [e for e in old.timeline if e.kind is ObservationKind.DEVICE_CONDITION]
            assert [c.field for e in noted for c in e.changes] == [ChangeField.CONDITION_RAISED]
            assert noted[0].changes[0].subject == str(jam)
            device.scanner.clear_condition(jam)

            await device.restart()  # JobIds start over at 1; a new InstanceId
            await engine.sighting(device.endpoint, (url,), 1, device.instance_id)
            await until_subscribed(engine, device.endpoint)
            reboots = []
            for name in ("After 1", "After 2"):
                job = device.submit_job(ScanJobPlan(job_name=name, scans=1, scan_interval_s=0.1))
                await job.wait()
                reboots.append(job)
            assert [j.job_id for j in reboots] == [1, 2]
            reused, second = JobKey(device.endpoint, "1", 1), JobKey(device.endpoint, "2")
            jobs = engine.jobs.jobs
            await until(lambda: all(k in jobs and jobs[k].ended for k in (reused, second)), "the new jobs")
            assert (jobs[reused].job_name, jobs[second].job_name) == ("After 1", "After 2")
            # The old job untouched: the rebooted scanner's history still lists it, which its timeline
            # may note as a stale snapshot (core.jobs rule 3) that changes nothing.
            kept = engine.jobs.jobs[key]
            assert dataclasses.replace(kept, timeline=old.timeline) == old
            assert kept.timeline[: len(old.timeline)] == old.timeline
            assert all(e.stale for e in kept.timeline[len(old.timeline) :])
        with Journal(tmp_path / "journal.sqlite3") as again:
            stored = {j.key: j for j in again.load_jobs()}
        assert stored[key].job_name == "Before"
        assert stored[key].kind is JobKind.SCAN

    run(body)
