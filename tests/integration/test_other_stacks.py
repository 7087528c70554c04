"""Other WSD stacks on real loopback sockets: a strict device that, like wsdd2 (many NAS boxes),
answers 400 to any Content-Type but the bare `application/soap+xml` — and does it the way wsdd2
does, a fault written after `Content-Length: 0` — and a device that is seen many times at once.

The engine must read the strict device's metadata; a refusal must become a typed error (status 400,
no aiohttp text, no fault XML); repeated sightings must cost one metadata Get, and after a failure
the next Get waits (METADATA_RETRY_*)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wsdmon.core import DeviceErrorKind, OfflineReason
from wsdmon.net._read_gate import METADATA_RETRY_FIRST_S, METADATA_RETRY_JITTER
from wsdmon.net.engine import Engine, EngineConfig
from wsdmon.store import Journal

from .sim_support import run
from .strict_device import BARE, ENDPOINT, NAME, StrictDevice


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@contextlib.asynccontextmanager
async def engine_and(device: StrictDevice, tmp_path: Path, clock: Clock) -> AsyncIterator[Engine]:
    await device.start()
    journal = Journal(tmp_path / "journal.sqlite3")
    config = EngineConfig(notify_port=0, notify_bind="127.0.0.1", notify_host="127.0.0.1")
    engine = Engine(config, journal, clock=clock)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()
        journal.close()
        await device.stop()


def test_the_metadata_of_a_strict_stack_is_read(tmp_path: Path) -> None:
    device = StrictDevice()

    async def body() -> None:
        async with engine_and(device, tmp_path, Clock()) as engine:
            record = await engine.add_device_url(device.url)
            assert device.content_types == [BARE]
            assert record is not None, next(iter(engine.devices)).error
            assert record.endpoint == ENDPOINT
            assert record.name == NAME
            assert record.error is None
            assert record.online

    run(body)


def test_a_refusal_is_a_typed_error_without_the_libraries_text(tmp_path: Path) -> None:
    device = StrictDevice(refuse_all=True)

    async def body() -> None:
        async with engine_and(device, tmp_path, Clock()) as engine:
            assert await engine.add_device_url(device.url) is None
            (record,) = engine.devices
            error = record.error
            assert error is not None
            assert (error.kind, error.status, error.url) == (DeviceErrorKind.HTTP_STATUS, 400, device.url)
            assert str(error) == "the device refused the request (HTTP 400 Bad Request)"
            assert "Connection: close" in error.detail  # aiohttp's account, kept for the log
            assert (record.online, record.offline_reason) == (False, OfflineReason.UNREACHABLE)

    run(body)


def test_repeated_sightings_cost_one_get_and_a_failure_waits(tmp_path: Path) -> None:
    clock = Clock()
    device = StrictDevice(refuse_all=True, delay_s=0.2)

    def sight(engine: Engine) -> asyncio.Future[object]:
        return asyncio.ensure_future(engine.sighting(ENDPOINT, (device.url,), 2, 77))

    async def body() -> None:
        async with engine_and(device, tmp_path, clock) as engine:
            # A Hello, its repeat, and three ProbeMatches within a second: one Get in flight.
            first = [sight(engine) for _ in range(3)]
            await asyncio.sleep(0.05)
            first += [sight(engine) for _ in range(2)]
            assert await asyncio.gather(*first) == [None] * 5
            assert device.gets == 1
            # Seen again at once after the failure: no Get until the wait is over.
            for _ in range(5):
                await engine.sighting(ENDPOINT, (device.url,), 2, 77)
            assert device.gets == 1
            clock.now += timedelta(seconds=METADATA_RETRY_FIRST_S * (1 - METADATA_RETRY_JITTER) / 2)
            await engine.sighting(ENDPOINT, (device.url,), 2, 77)
            assert device.gets == 1
            clock.now += timedelta(seconds=METADATA_RETRY_FIRST_S * (1 + METADATA_RETRY_JITTER))
            await engine.sighting(ENDPOINT, (device.url,), 2, 77)
            assert device.gets == 2
            # The second failure doubles the wait: the first wait is not enough any more.
            clock.now += timedelta(seconds=METADATA_RETRY_FIRST_S * (1 + METADATA_RETRY_JITTER))
            await engine.sighting(ENDPOINT, (device.url,), 2, 77)
            assert device.gets == 2
            # A restart (new InstanceId) or a person's Refresh does not wait.
            await engine.sighting(ENDPOINT, (device.url,), 2, 78)
            assert device.gets == 3
            await engine.refresh(ENDPOINT)
            assert device.gets == 4

    run(body)


def test_sightings_of_a_healthy_device_read_it_once(tmp_path: Path) -> None:
    device = StrictDevice(delay_s=0.2)

    async def body() -> None:
        async with engine_and(device, tmp_path, Clock()) as engine:
            seen = [engine.sighting(ENDPOINT, (device.url,), 2, 77) for _ in range(5)]
            records = await asyncio.gather(*seen)
            assert {r.name if r else None for r in records} == {NAME}
            for _ in range(3):
                await engine.sighting(ENDPOINT, (device.url,), 2, 77)
            assert device.gets == 1
            # A new MetadataVersion is read again, once.
            again = [engine.sighting(ENDPOINT, (device.url,), v, 77) for v in (3, 3, 3, 3)]
            await asyncio.gather(*again)
            assert device.gets == 2

    run(body)
