"""Health per device (issue 13, item 1) from the real engine against the simulator on loopback: a
healthy simulator gives no warning and no problem, an unreachable URL names its problem, a device
given by URL is said to be found only by URL. No multicast: devices come by URL or directed probe."""

from __future__ import annotations

import asyncio
from pathlib import Path

from wsdmon.core import JobKey
from wsdmon.core.health import DeviceHealth, HealthCheck, HealthFinding
from wsdmon.core.selfcheck import Verdict
from wsdmon.net.engine import EngineListener
from wsdmon.net.wiring import Discovery
from wsdmon.simulator import JobPlan, Role, Simulator

from .sim_support import run
from .test_engine_sim import new_engine, sim_config, until, until_subscribed


class HealthRecorder(EngineListener):
    def __init__(self) -> None:
        self.sent: list[DeviceHealth] = []

    def health_changed(self, health: DeviceHealth) -> None:
        self.sent.append(health)


def verdicts(health: DeviceHealth) -> dict[HealthCheck, tuple[Verdict, HealthFinding]]:
    return {r.check: (r.verdict, r.finding) for r in health.results}


def test_healthy_simulator_has_no_warning_and_no_problem(tmp_path: Path) -> None:
    async def body() -> None:
        sim = Simulator(sim_config(role=Role.BOTH))
        await sim.start()
        listener = HealthRecorder()
        engine, journal = new_engine(tmp_path, listener)
        await engine.start()
        discovery = Discovery(engine, multicast=False)
        await discovery.start()
        try:
            server, scanner = sim.device(Role.SCAN_SERVER), sim.device(Role.SCAN_DEVICE)
            # the directed probe's matches (both devices answer it) and the scan server by URL too
            assert await discovery.probe_host(f"127.0.0.1:{sim.discovery_port}") >= 1
            await engine.add_device_url(server.metadata_url)
            await until_subscribed(engine, server.endpoint)
            await until(lambda: scanner.endpoint in {d.endpoint for d in engine.devices}, "the scanner")
            await until_subscribed(engine, scanner.endpoint)
            job = server.submit_job(JobPlan(images=1, image_interval_s=0.1))
            await job.wait()
            key = JobKey(server.endpoint, job.token)
            await until(lambda: key in engine.jobs.jobs and engine.jobs.jobs[key].ended, "the job's end")
            await asyncio.sleep(1.0)  # past HEALTH_COALESCE_S: the last change is reported
            healths = {h.endpoint: h for h in engine.health_all()}
            assert set(healths) == {server.endpoint, scanner.endpoint}
            for health in healths.values():
                bad = [r for r in health.results if r.verdict in (Verdict.WARNING, Verdict.PROBLEM)]
                assert not bad, bad
            found = verdicts(healths[server.endpoint])
            assert found[HealthCheck.SCAN_SERVICE] == (Verdict.OK, HealthFinding.SCAN_SERVICE_PRESENT)
            assert found[HealthCheck.SUBSCRIPTION] == (Verdict.OK, HealthFinding.SUBSCRIPTION_ACTIVE)
            probed = [h for h in healths.values() if verdicts(h)[HealthCheck.PROBE_REPLIES][0] is Verdict.OK]
            assert probed, "the directed probe's match"
            replies = probed[0].result(HealthCheck.PROBE_REPLIES)
            assert replies is not None
            assert replies.finding is HealthFinding.PROBE_REPLIES_ARRIVE
            assert replies.evidence.seconds is not None
            print(f"directed probe→match latency on loopback: {replies.evidence.seconds * 1000:.1f} ms")
            assert found[HealthCheck.FAULTS] == (Verdict.OK, HealthFinding.NO_FAULTS)
            assert found[HealthCheck.JOBS] == (Verdict.OK, HealthFinding.JOBS_MOVING)
            assert found[HealthCheck.CLOCK] == (Verdict.OK, HealthFinding.CLOCK_IN_STEP)
            assert found[HealthCheck.IDENTITY] == (Verdict.OK, HealthFinding.IDENTITY_STABLE)
            assert found[HealthCheck.ADDRESSES] == (Verdict.OK, HealthFinding.ADDRESSES_OK)
            # found by directed probe or URL only; no multicast discovery ran: nobody can tell why
            assert found[HealthCheck.DISCOVERY][0] is Verdict.UNKNOWN
            # the listener heard the latest health of each device, and only changes
            last = {h.endpoint: h for h in listener.sent}
            for endpoint, health in healths.items():
                assert verdicts(last[endpoint]) == verdicts(health)
            keys = [(h.endpoint, tuple(verdicts(h).items())) for h in listener.sent]
            assert len(keys) == len(set(keys))
            assert engine.health("urn:uuid:never-seen") is None
        finally:
            await discovery.stop()
            await engine.stop()
            journal.close()
            await sim.stop()

    run(body)


def test_unreachable_url_is_metadata_unreadable(tmp_path: Path) -> None:
    async def body() -> None:
        engine, journal = new_engine(tmp_path)
        await engine.start()
        try:
            url = "http://127.0.0.1:1/"
            assert await engine.add_device_url(url) is None
            health = engine.health(url)
            assert health is not None
            assert health.verdict is Verdict.PROBLEM
            result = health.result(HealthCheck.SCAN_SERVICE)
            assert result is not None
            assert (result.verdict, result.finding) == (Verdict.PROBLEM, HealthFinding.METADATA_UNREADABLE)
            assert result.evidence.error is not None
            assert result.evidence.error.url == url
            assert verdicts(health)[HealthCheck.DISCOVERY][1] is HealthFinding.FOUND_BY_URL_ONLY
        finally:
            await engine.stop()
            journal.close()

    run(body)


def test_device_given_by_url_is_found_by_url_only(tmp_path: Path) -> None:
    async def body() -> None:
        sim = Simulator(sim_config())
        await sim.start()
        engine, journal = new_engine(tmp_path)
        await engine.start()
        try:
            server = sim.device(Role.SCAN_SERVER)
            await engine.add_device_url(server.metadata_url)
            await until_subscribed(engine, server.endpoint)
            health = engine.health(server.endpoint)  # known by its endpoint from its metadata
            assert health is not None
            found = verdicts(health)
            assert found[HealthCheck.DISCOVERY] == (Verdict.UNKNOWN, HealthFinding.FOUND_BY_URL_ONLY)
            result = health.result(HealthCheck.DISCOVERY)
            assert result is not None
            assert result.evidence.addresses == (server.metadata_url,)
            assert engine.health(server.metadata_url) is None  # one device, not two
            assert found[HealthCheck.SCAN_SERVICE] == (Verdict.OK, HealthFinding.SCAN_SERVICE_PRESENT)
        finally:
            await engine.stop()
            journal.close()
            await sim.stop()

    run(body)
