"""The engine against the simulator on real loopback sockets: subscribe, snapshot, live lifecycle,
renew, resubscribe after the simulator restarts, SubscriptionEnd, unsubscribe on exit, cancel, and
a device that restarts (new InstanceId) or changes (new MetadataVersion) read again and resubscribed."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from wsdmon.core import CancelResult, JobKey, ObservationKind, ScannerCondition, SubscriptionStatus
from wsdmon.net.engine import Engine, EngineConfig, EngineListener
from wsdmon.net.sink import RejectReason
from wsdmon.protocol.dsm import JobState, JobStateReason
from wsdmon.protocol.scan import Component, ConditionName, Severity
from wsdmon.simulator import JobPlan, Role, ScanJobPlan, Scenario, Simulator, SimulatorConfig, Timers
from wsdmon.store import Journal

from .sim_support import run

WAIT_S = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sim_config(**kw: Any) -> SimulatorConfig:
    base: dict[str, Any] = {
        "role": Role.SCAN_SERVER,
        "scenario": Scenario.IDLE,
        "host": "127.0.0.1",
        "discovery": False,
        "wsd_port": 0,
        "seed": 7,
    }
    base.update(kw)
    return SimulatorConfig(**base)


async def until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Recorder(EngineListener):
    def __init__(self) -> None:
        self.devices: dict[str, Any] = {}
        self.rejected: list[str] = []

    def device_changed(self, device: Any) -> None:
        self.devices[device.endpoint] = device

    def message_rejected(self, reason: str, detail: str) -> None:
        self.rejected.append(reason)


async def until_subscribed(engine: Engine, endpoint: str, what: str = "subscribed") -> None:
    await until(lambda: subscription_of(engine, endpoint) is SubscriptionStatus.ACTIVE, what)


def subscription_of(engine: Engine, endpoint: str) -> SubscriptionStatus | None:
    dev = next((d for d in engine.devices if d.endpoint == endpoint), None)
    return dev.services[0].subscription if dev is not None and dev.services else None


@contextlib.asynccontextmanager
async def monitored(
    tmp_path: Path, config: SimulatorConfig, listener: EngineListener | None = None
) -> AsyncIterator[tuple[Simulator, Engine]]:
    """A started simulator and an engine with a journal in tmp_path; all stopped at the end."""
    sim = Simulator(config)
    await sim.start()
    try:
        engine, journal = new_engine(tmp_path, listener)
        await engine.start()
        try:
            yield sim, engine
        finally:
            await engine.stop()
            journal.close()
    finally:
        await sim.stop()


def new_engine(tmp_path: Path, listener: EngineListener | None = None) -> tuple[Engine, Journal]:
    journal = Journal(tmp_path / "journal.sqlite3")
    config = EngineConfig(notify_port=0, notify_bind="127.0.0.1", notify_host="127.0.0.1")
    return Engine(config, journal, listener), journal


def test_snapshot_then_live_lifecycle_then_unsubscribe_on_exit(tmp_path: Path) -> None:
    async def body() -> None:
        sim = Simulator(sim_config())
        await sim.start()
        server = sim.device(Role.SCAN_SERVER)
        # A job already running before the monitor starts: only the snapshot can show it.
        early = server.submit_job(JobPlan(images=4, image_interval_s=0.5))
        await until(lambda: early.images >= 1, "the early job to receive an image")
        engine, journal = new_engine(tmp_path)
        await engine.start()
        try:
            await engine.add_device_url(server.metadata_url)
            await until_subscribed(engine, server.endpoint)
            key = JobKey(server.endpoint, early.token)
            await until(lambda: key in engine.jobs.jobs, "the snapshot")
            assert engine.jobs.jobs[key].timeline[0].kind is ObservationKind.SNAPSHOT
            assert len(server.events.subscriptions) == 1
            await early.wait()
            await until(lambda: engine.jobs.jobs[key].ended, "the end-state event")
            record = engine.jobs.jobs[key]
            assert record.status == early.status()
            assert record.psp_display_name == early.plan.psp_display_name
        finally:
            await engine.stop()
            journal.close()
        # Unsubscribe on exit: the simulator holds no subscription any more.
        await until(lambda: len(server.events.subscriptions) == 0, "the Unsubscribe")
        await sim.stop()

    run(body)


def test_renews_before_a_short_grant_expires(tmp_path: Path) -> None:
    async def body() -> None:
        sim = Simulator(sim_config(timers=Timers(max_expires_s=2.0, default_expires_s=2.0)))
        await sim.start()
        server = sim.device(Role.SCAN_SERVER)
        engine, journal = new_engine(tmp_path)
        await engine.start()
        try:
            await engine.add_device_url(server.metadata_url)
            await until_subscribed(engine, server.endpoint)
            sub = server.events.subscriptions[0]
            first_expiry = sub.expires_at
            await asyncio.sleep(3.5)  # beyond the 2 s grant: only renewals keep it alive
            assert server.events.subscriptions, "the subscription lapsed: no renew"
            assert server.events.subscriptions[0].identifier == sub.identifier
            assert server.events.subscriptions[0].expires_at > first_expiry
            job = server.submit_job(JobPlan(images=1, image_interval_s=0.1))
            await job.wait()
            await until(
                lambda: JobKey(server.endpoint, job.token) in engine.jobs.jobs, "a job after renewals"
            )
        finally:
            await engine.stop()
            journal.close()
            await sim.stop()

    run(body)


def test_resubscribes_after_the_simulator_restarts(tmp_path: Path) -> None:
    async def body() -> None:
        port = free_port()
        config = sim_config(http_port=port)
        sim = Simulator(config)
        await sim.start()
        endpoint = sim.device(Role.SCAN_SERVER).endpoint
        listener = Recorder()
        engine, journal = new_engine(tmp_path, listener)
        await engine.start()
        try:
            await engine.add_device_url(sim.device(Role.SCAN_SERVER).metadata_url)
            await until_subscribed(engine, endpoint)
            await sim.stop()  # sends SubscriptionEnd(SourceShuttingDown) to our EndTo
            await until(lambda: subscription_of(engine, endpoint) is SubscriptionStatus.RETRYING, "the end")
            sim = Simulator(config)  # same seed and port: the same device, restarted
            await sim.start()
            server = sim.device(Role.SCAN_SERVER)
            assert server.endpoint == endpoint
            await until(lambda: len(server.events.subscriptions) == 1, "the resubscription", timeout=30)
            await until_subscribed(engine, endpoint, "active again")
            job = server.submit_job(JobPlan(images=1, image_interval_s=0.1))
            await job.wait()
            await until(lambda: JobKey(endpoint, job.token) in engine.jobs.jobs, "a job after the restart")
        finally:
            await engine.stop()
            journal.close()
            await sim.stop()

    run(body, timeout=90)


def test_cancel_takes_effect(tmp_path: Path) -> None:
    async def body() -> None:
        sim = Simulator(sim_config())
        await sim.start()
        server = sim.device(Role.SCAN_SERVER)
        engine, journal = new_engine(tmp_path)
        await engine.start()
        try:
            await engine.add_device_url(server.metadata_url)
            await until_subscribed(engine, server.endpoint)
            job = server.submit_job(JobPlan(images=50, image_interval_s=0.2))
            key = JobKey(server.endpoint, job.token)
            await until(lambda: key in engine.jobs.jobs, "the job")
            answer = await engine.cancel_job(key)
            assert answer.result is CancelResult.ACCEPTED, answer
            noted = engine.jobs.jobs[key].timeline[-1]  # the request and its answer, on the timeline
            assert noted.kind is ObservationKind.CANCEL_REQUEST
            assert noted.changes[0].new == "accepted"
            await job.wait()
            await until(lambda: engine.jobs.jobs[key].is_terminal, "the canceled state")
            status = engine.jobs.jobs[key].status
            assert status.job_state == JobState.CANCELED
            assert JobStateReason.POST_SCAN_JOB_CANCELED in status.job_state_reasons
            again = await engine.cancel_job(key)  # no longer processing: the server refuses
            assert again.result is CancelResult.REFUSED
            assert again.code == "ClientErrorJobTokenNotFound"
        finally:
            await engine.stop()
            journal.close()
            await sim.stop()

    run(body)


def test_restart_restores_jobs_from_the_journal(tmp_path: Path) -> None:
    async def body() -> None:
        sim = Simulator(sim_config())
        await sim.start()
        server = sim.device(Role.SCAN_SERVER)
        engine, journal = new_engine(tmp_path)
        await engine.start()
        await engine.add_device_url(server.metadata_url)
        await until_subscribed(engine, server.endpoint)
        job = server.submit_job(JobPlan(images=2, image_interval_s=0.1))
        await job.wait()
        key = JobKey(server.endpoint, job.token)
        await until(lambda: key in engine.jobs.jobs and engine.jobs.jobs[key].ended, "the job")
        before = engine.jobs.jobs[key]
        await engine.stop()
        journal.close()
        await sim.stop()
        again, journal2 = new_engine(tmp_path)
        await again.start()
        try:
            restored = again.jobs.jobs[key]
            assert restored.status == before.status
            assert len(restored.timeline) == len(before.timeline)
            assert [d.endpoint for d in again.devices] == [server.endpoint]
        finally:
            await again.stop()
            journal2.close()

    run(body)


def test_a_restarted_or_changed_device_is_read_again_and_resubscribed(tmp_path: Path) -> None:
    # ../shared/protocol §3.2: a new AppSequence InstanceId means the device restarted (its
    # subscriptions are gone, even without a SubscriptionEnd); a new MetadataVersion means its
    # metadata changed. Either sighting makes the engine read it again and subscribe anew; a
    # sighting that changes neither leaves the subscription alone.
    async def body() -> None:
        async with monitored(tmp_path, sim_config()) as (sim, engine):
            server = sim.device(Role.SCAN_SERVER)
            url = server.metadata_url

            def identifiers() -> list[str]:
                return [s.identifier for s in server.events.subscriptions]

            async def subscribed_anew(before: list[str], what: str) -> list[str]:
                await until(
                    lambda: (
                        len(identifiers()) == 1
                        and identifiers() != before
                        and subscription_of(engine, server.endpoint) is SubscriptionStatus.ACTIVE
                    ),
                    what,
                )
                return identifiers()

            await engine.sighting(server.endpoint, (url,), 1, 5)
            first = await subscribed_anew([], "subscribed")
            await engine.sighting(server.endpoint, (url,), 1, 5)  # seen again, nothing new
            await asyncio.sleep(0.5)
            assert identifiers() == first
            second = await engine.sighting(server.endpoint, (url,), 1, 6)  # restarted
            assert second is not None
            assert second.instance_id == 6
            after_restart = await subscribed_anew(first, "a subscription after the restart")
            changed = await engine.sighting(server.endpoint, (url,), 2, 6)  # new metadata
            assert changed is not None
            assert changed.metadata_version == 2
            await subscribed_anew(after_restart, "a subscription after the metadata change")

    run(body)


def test_jobs_a_rebooted_server_forgot_are_shown_lost_not_active(tmp_path: Path) -> None:
    async def body() -> None:
        async with monitored(tmp_path, sim_config()) as (sim, engine):
            server = sim.device(Role.SCAN_SERVER)
            url = server.metadata_url
            await engine.sighting(server.endpoint, (url,), 1, server.instance_id)
            await until_subscribed(engine, server.endpoint)
            running = server.submit_job(JobPlan(images=50, image_interval_s=1.0))
            finished = server.submit_job(JobPlan(images=1, image_interval_s=0.05))
            await finished.wait()
            key, done_key = JobKey(server.endpoint, running.token), JobKey(server.endpoint, finished.token)
            await until(lambda: key in engine.jobs.jobs and engine.jobs.jobs[done_key].ended, "both jobs")
            assert engine.jobs.jobs[key].is_active
            await server.restart()  # no Bye, no SubscriptionEnd, no end event for the running job
            # Its Hello with the new InstanceId, as discovery hands it to the engine:
            await engine.sighting(server.endpoint, (url,), 1, server.instance_id)
            await until(lambda: engine.jobs.jobs[key].lost, "the running job marked lost")
            lost = engine.jobs.jobs[key]
            assert not lost.is_active
            assert lost.status.job_state == JobState.PENDING  # the last state it sent
            assert not engine.jobs.jobs[done_key].lost  # in the server's history: not lost
        with Journal(tmp_path / "journal.sqlite3") as again:  # the journal keeps it lost
            stored = {j.key: j for j in again.load_jobs()}
        assert stored[key].lost
        assert not stored[done_key].lost

    run(body)


def test_the_engine_comes_through_every_fault_with_the_servers_jobs_right(tmp_path: Path) -> None:
    # The faults scenario at 10x: every 2 s a restart (running jobs lost, subscription dropped
    # silently), a SubscriptionEnd, malformed notifications, a wrong wse:Identifier, slow answers.
    # Short grants let the engine notice a silent restart at its next renew.
    async def body() -> None:
        timers = Timers(max_expires_s=4.0, default_expires_s=4.0, slow_response_s=0.3, job_timeout_s=30.0)
        async with monitored(
            tmp_path, sim_config(scenario=Scenario.FAULTS, rate=0.5, time_scale=10.0, timers=timers)
        ) as (sim, engine):
            server = sim.device(Role.SCAN_SERVER)
            assert server.repository is not None
            repo = server.repository
            await engine.add_device_url(server.metadata_url)
            await asyncio.sleep(12)  # six faults: each kind at least once
            await sim.stop_scenario()
            await until(lambda: not repo.active_jobs, "the simulator's last jobs to end", timeout=30)
            await until_subscribed(engine, server.endpoint, "subscribed after the last fault")

            def converged() -> bool:
                for job in repo.history:
                    rec = engine.jobs.jobs.get(JobKey(server.endpoint, job.token))
                    if rec is None or rec.lost:
                        return False
                    if (rec.status.job_state, rec.status.images_received) != (job.state, job.images):
                        return False
                return True

            await until(converged, "every job of the server's history, right", timeout=30)
            counters = engine.sink.counters
            assert counters["accepted"] > 0
            assert counters[RejectReason.MALFORMED] > 0  # truncated notifications
            assert counters[RejectReason.UNKNOWN_IDENTIFIER] > 0  # the wrong wse:Identifier
            # Jobs the server does not report (lost in a restart, or a fault's fake job) are not
            # shown as active once a snapshot has been taken after them.
            await engine.resubscribe(server.endpoint)
            reported = {j.token for j in repo.history}
            await until(
                lambda: (
                    not [
                        r
                        for r in engine.jobs.jobs.values()
                        if r.key.job_token not in reported and r.is_active
                    ]
                ),
                "no active job the server does not report",
            )
            assert any(r.lost for r in engine.jobs.jobs.values())  # the restarts lost running jobs

    run(body, timeout=120)


def test_devices_show_what_they_say_of_themselves(tmp_path: Path) -> None:
    # The repository's and the scanner's state are asked for after subscribing (events only tell of
    # changes: GetRepositoryElements, GetScannerElements) and then follow RepositoryStatusSummaryEvent
    # and ScannerStatusSummaryEvent; a scanner's conditions, asked for too, come and go with
    # ScannerStatusCondition(Cleared)Event.
    async def body() -> None:
        listener = Recorder()
        async with monitored(tmp_path, sim_config(role=Role.BOTH), listener) as (sim, engine):
            server, scanner = sim.device(Role.SCAN_SERVER), sim.device(Role.SCAN_DEVICE)
            assert scanner.scanner is not None

            def service(endpoint: str) -> Any:
                dev = next((d for d in engine.devices if d.endpoint == endpoint), None)
                return dev.services[0] if dev is not None and dev.services else None

            # Already jammed before the monitor starts: only GetScannerElements can tell.
            early = scanner.scanner.raise_condition("MultipleFeedError", "ADF", "Critical")
            for device in (server, scanner):  # as discovery hands them over (the scanner has no Host)
                await engine.sighting(device.endpoint, (device.metadata_url,), 1, device.instance_id)
                await until_subscribed(engine, device.endpoint)
            await until(lambda: service(server.endpoint).state == "Idle", "the repository's state, asked for")
            await until(lambda: service(scanner.endpoint).state == "Idle", "the scanner's state, asked for")
            assert service(scanner.endpoint).conditions == (
                ScannerCondition(early, ConditionName.MULTIPLE_FEED_ERROR, Severity.CRITICAL, Component.ADF),
            )
            scanner.scanner.clear_condition(early)
            await until(lambda: not service(scanner.endpoint).conditions, "the early condition cleared")
            job = server.submit_job(JobPlan(images=3, image_interval_s=0.3))
            await until(lambda: service(server.endpoint).state == "Processing", "Processing, from the event")
            await job.wait()
            await until(lambda: service(server.endpoint).state == "Idle", "Idle again")
            scan = scanner.submit_job(ScanJobPlan(scans=2, scan_interval_s=0.3))
            await until(lambda: service(scanner.endpoint).state == "Processing", "the scanner busy")
            await scan.wait()
            await until(lambda: service(scanner.endpoint).state == "Idle", "the scanner idle")
            jam = scanner.scanner.raise_condition()
            lamp = scanner.scanner.raise_condition("LampError", "Platen", "Warning")
            await until(lambda: len(service(scanner.endpoint).conditions) == 2, "two conditions")
            jammed = ScannerCondition(jam, ConditionName.MEDIA_JAM, Severity.CRITICAL, Component.ADF)
            warm = ScannerCondition(lamp, ConditionName.LAMP_ERROR, Severity.WARNING, Component.PLATEN)
            assert service(scanner.endpoint).conditions == (jammed, warm)
            scanner.scanner.clear_condition(jam)
            await until(lambda: len(service(scanner.endpoint).conditions) == 1, "the jam cleared")
            assert service(scanner.endpoint).conditions == (warm,)
            shown = listener.devices[scanner.endpoint]  # what the window and watch --json get
            assert shown.services[0].conditions == (warm,)

    run(body)
