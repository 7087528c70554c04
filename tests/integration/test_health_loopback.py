"""Issue 13's health checks against a real peer on loopback: the simulator, started with the same
`--fault` options a technician would give `wsdmon-sim`, misbehaves as field devices do, and the real
engine (added by URL, as `wsdmon --device URL`) must name that failure with its finding — and find
nothing wrong with the healthy simulator. Checks that need multicast run in network namespaces
(test_health_netns.py); time-based ones advance the engine's clock instead of waiting."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wsdmon.core import SubscriptionStatus
from wsdmon.core.health import DeviceHealth, HealthCheck, HealthFinding, HealthResult
from wsdmon.core.selfcheck import Verdict
from wsdmon.net.engine import Engine, EngineConfig
from wsdmon.simulator import Role, Simulator
from wsdmon.simulator.cli import build_parser, config_from_args
from wsdmon.store import Journal

from .sim_support import run

pytestmark = pytest.mark.timeout(120)

WAIT_S = 20.0
ROLES = {"scan-server": Role.SCAN_SERVER, "scan-device": Role.SCAN_DEVICE}


class Clock:
    """The engine's clock: real time plus however far the test has moved it on."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


async def until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def sim_from_cli(role: str, *args: str) -> Simulator:
    """The simulator a technician gets from `wsdmon-sim --role ROLE ARGS…` (loopback, no multicast)."""
    argv = ["--role", role, "--no-discovery", "--host", "127.0.0.1", "--wsd-port", "0", "--seed", "7"]
    return Simulator(config_from_args(build_parser().parse_args([*argv, *args])))


@contextlib.asynccontextmanager
async def watched(
    tmp_path: Path, role: str, *sim_args: str, clock: Clock | None = None
) -> AsyncIterator[tuple[Simulator, Engine, str]]:
    """A started simulator and an engine that added its device by URL; both stopped at the end."""
    sim = sim_from_cli(role, *sim_args)
    await sim.start()
    journal = Journal(tmp_path / "journal.sqlite3")
    config = EngineConfig(notify_port=0, notify_bind="127.0.0.1", notify_host="127.0.0.1")
    engine = Engine(config, journal, clock=clock or Clock())
    await engine.start()
    try:
        device = sim.device(ROLES[role])
        await engine.add_device_url(device.metadata_url)
        # A device whose metadata names no endpoint of its own (the simulated scanner, like real
        # MFPs) is known by its URL until discovery tells its endpoint.
        keys = {device.endpoint, device.metadata_url}
        await until(lambda: any(d.endpoint in keys for d in engine.devices), "the device to be known")
        yield sim, engine, next(d.endpoint for d in engine.devices if d.endpoint in keys)
    finally:
        await engine.stop()
        journal.close()
        await sim.stop()


def health_of(engine: Engine, endpoint: str) -> DeviceHealth:
    health = engine.health(endpoint)
    assert health is not None, f"no health for {endpoint}"
    return health


def result(engine: Engine, endpoint: str, check: HealthCheck) -> HealthResult:
    found = health_of(engine, endpoint).result(check)
    assert found is not None, f"{check} missing from the report"
    return found


async def until_finding(
    engine: Engine, endpoint: str, check: HealthCheck, finding: HealthFinding, timeout: float = WAIT_S
) -> HealthResult:
    def seen() -> bool:
        health = engine.health(endpoint)
        found = health.result(check) if health is not None else None
        return found is not None and found.finding is finding

    try:
        await until(seen, f"{check.value}: {finding.value}", timeout)
    except AssertionError:
        raise AssertionError(f"{finding} not found; the report: {engine.health(endpoint)}") from None
    return result(engine, endpoint, check)


def subscribed(engine: Engine, endpoint: str) -> bool:
    dev = next((d for d in engine.devices if d.endpoint == endpoint), None)
    return (
        dev is not None and bool(dev.services) and dev.services[0].subscription is SubscriptionStatus.ACTIVE
    )


def no_false_alarm(health: DeviceHealth) -> None:
    alarms = [r for r in health.results if r.verdict in {Verdict.WARNING, Verdict.PROBLEM}]
    assert not alarms, alarms
    assert [r.check for r in health.results] == list(HealthCheck)


@pytest.mark.parametrize("role", ["scan-server", "scan-device"])
def test_the_healthy_simulator_raises_no_alarm(tmp_path: Path, role: str) -> None:
    async def body() -> None:
        async with watched(tmp_path, role, "--scenario", "steady", "--rate", "2") as (_, engine, endpoint):
            await until(lambda: subscribed(engine, endpoint), "the subscription")
            await until(lambda: any(k.device == endpoint for k in engine.jobs.jobs), "a job")
            await asyncio.sleep(1.0)
            health = health_of(engine, endpoint)
            no_false_alarm(health)
            assert health.result(HealthCheck.SUBSCRIPTION).verdict is Verdict.OK  # type: ignore[union-attr]
            assert health.result(HealthCheck.SCAN_SERVICE).verdict is Verdict.OK  # type: ignore[union-attr]
            # Found by URL only is a fact, not an alarm: the technician added it so.
            discovery = health.result(HealthCheck.DISCOVERY)
            assert discovery is not None
            assert discovery.finding is HealthFinding.FOUND_BY_URL_ONLY

    run(body)


def test_a_print_only_device_is_told_to_have_wsd_scanning_off(tmp_path: Path) -> None:
    async def body() -> None:
        async with watched(tmp_path, "scan-device", "--fault", "print-only") as (_, engine, endpoint):
            found = await until_finding(engine, endpoint, HealthCheck.SCAN_SERVICE, HealthFinding.PRINT_ONLY)
            assert found.verdict is Verdict.PROBLEM

    run(body)


def test_an_unreachable_device_says_why_its_metadata_could_not_be_read(tmp_path: Path) -> None:
    async def body() -> None:
        journal = Journal(tmp_path / "journal.sqlite3")
        config = EngineConfig(notify_port=0, notify_bind="127.0.0.1", notify_host="127.0.0.1")
        engine = Engine(config, journal)
        await engine.start()
        try:
            url = "http://127.0.0.1:1/"
            await engine.add_device_url(url)
            found = await until_finding(
                engine, url, HealthCheck.SCAN_SERVICE, HealthFinding.METADATA_UNREADABLE
            )
            assert found.verdict is Verdict.PROBLEM
            assert found.evidence.error is not None
        finally:
            await engine.stop()
            journal.close()

    run(body)


def test_a_full_subscriber_table_is_named(tmp_path: Path) -> None:
    async def body() -> None:
        async with watched(tmp_path, "scan-server", "--fault", "subscriber-limit=1") as (
            sim,
            first,
            endpoint,
        ):
            # Another monitor (the first engine) holds the device's one place; the second is refused.
            await until(lambda: subscribed(first, endpoint), "the first subscription")
            journal = Journal(tmp_path / "second.sqlite3")
            config = EngineConfig(notify_port=0, notify_bind="127.0.0.1", notify_host="127.0.0.1")
            second = Engine(config, journal)
            await second.start()
            try:
                await second.add_device_url(sim.device(Role.SCAN_SERVER).metadata_url)
                found = await until_finding(
                    second, endpoint, HealthCheck.SUBSCRIPTION, HealthFinding.SUBSCRIPTION_LIMIT
                )
                faults = await until_finding(
                    second, endpoint, HealthCheck.FAULTS, HealthFinding.FAULTS_RETURNED
                )
            finally:
                await second.stop()
                journal.close()
            assert found.verdict is Verdict.PROBLEM
            assert found.evidence.code  # the fault's subcode, as sent
            assert faults.evidence.count
            assert (
                result(first, endpoint, HealthCheck.SUBSCRIPTION).finding is HealthFinding.SUBSCRIPTION_ACTIVE
            )

    run(body)


def test_a_refused_renew_is_named(tmp_path: Path) -> None:
    async def body() -> None:
        args = ("--fault", "renew-refused", "--fault", "short-grant=2")
        async with watched(tmp_path, "scan-server", *args) as (_, engine, endpoint):
            found = await until_finding(
                engine, endpoint, HealthCheck.SUBSCRIPTION, HealthFinding.SUBSCRIPTION_RENEW_REFUSED
            )
            assert found.verdict in {Verdict.WARNING, Verdict.PROBLEM}
            assert "UnableToRenew" in found.evidence.code

    run(body)


def test_a_short_grant_is_a_warning_with_its_length(tmp_path: Path) -> None:
    async def body() -> None:
        async with watched(tmp_path, "scan-device", "--fault", "short-grant=5") as (_, engine, endpoint):
            found = await until_finding(
                engine, endpoint, HealthCheck.SUBSCRIPTION, HealthFinding.SUBSCRIPTION_SHORT_GRANT
            )
            assert found.verdict is Verdict.WARNING
            assert found.evidence.seconds == pytest.approx(5, abs=1)

    run(body)


def test_a_subscription_end_is_reported_with_the_devices_reason(tmp_path: Path) -> None:
    async def body() -> None:
        async with watched(tmp_path, "scan-server", "--fault", "subscription-end=1") as (_, engine, endpoint):
            found = await until_finding(
                engine, endpoint, HealthCheck.SUBSCRIPTION, HealthFinding.SUBSCRIPTION_ENDED
            )
            assert found.verdict in {Verdict.WARNING, Verdict.PROBLEM}
            assert found.evidence.code  # SourceShuttingDown / SourceCancelling
            assert found.evidence.reason  # the device's own words

    run(body)


@pytest.mark.parametrize("role", ["scan-server", "scan-device"])
def test_a_stuck_job_is_named_once_it_has_not_moved_for_long(tmp_path: Path, role: str) -> None:
    async def body() -> None:
        clock = Clock()
        async with watched(tmp_path, role, "--fault", "stuck-job", clock=clock) as (_, engine, endpoint):
            await until(lambda: any(k.device == endpoint for k in engine.jobs.jobs), "the stuck job")
            assert result(engine, endpoint, HealthCheck.JOBS).finding is not HealthFinding.JOBS_STUCK
            clock.ahead = timedelta(hours=1)  # an hour later, still no progress and no end
            found = await until_finding(engine, endpoint, HealthCheck.JOBS, HealthFinding.JOBS_STUCK)
            assert found.verdict in {Verdict.WARNING, Verdict.PROBLEM}
            assert found.evidence.jobs
            assert all(k.device == endpoint for k in found.evidence.jobs)

    run(body)


@pytest.mark.parametrize("role", ["scan-server", "scan-device"])
def test_a_device_clock_an_hour_ahead_is_named_with_the_offset(tmp_path: Path, role: str) -> None:
    async def body() -> None:
        args = ("--fault", "clock-offset=3600", "--scenario", "steady", "--rate", "2")
        async with watched(tmp_path, role, *args) as (_, engine, endpoint):
            found = await until_finding(engine, endpoint, HealthCheck.CLOCK, HealthFinding.CLOCK_OFFSET)
            assert found.verdict is Verdict.WARNING
            assert found.evidence.seconds == pytest.approx(3600, abs=120)

    run(body)
