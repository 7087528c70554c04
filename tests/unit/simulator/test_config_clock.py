"""Simulator options and the job clock (no sockets)."""

from __future__ import annotations

import asyncio
import time

import pytest

from wsdmon.simulator import Role, SimulatorConfig
from wsdmon.simulator.clock import Clock


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"devices": 0}, "devices"),
        ({"rate": 0}, "rate"),
        ({"time_scale": -1}, "time_scale"),
        ({"http_port": 70000}, "http_port"),
        ({"wsd_port": -1}, "wsd_port"),
    ],
)
def test_config_rejects_what_cannot_run(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SimulatorConfig(**options)  # type: ignore[arg-type]


def test_roles_expand() -> None:
    assert Role.BOTH.expand() == (Role.SCAN_SERVER, Role.SCAN_DEVICE)
    assert Role.SCAN_DEVICE.expand() == (Role.SCAN_DEVICE,)


def test_clock_runs_scaled_and_stamps_local_time() -> None:
    clock = Clock(time_scale=3600.0)
    first = clock.now()
    assert first.tzinfo is not None
    assert first.microsecond % 1000 == 0
    time.sleep(0.05)
    elapsed = (clock.now() - first).total_seconds()
    assert 150 <= elapsed <= 3600  # 0.05 s real is 180 s of spec time
    assert clock.real(600) == pytest.approx(600 / 3600)
    assert clock.real(-5) == 0.0
    with pytest.raises(ValueError, match="positive"):
        Clock(0)


def test_clock_wait_returns_early_when_the_event_is_set() -> None:
    async def body() -> tuple[bool, bool, float]:
        clock = Clock(time_scale=1.0)
        event = asyncio.Event()
        timed_out = await clock.wait(event, 0.01)
        asyncio.get_running_loop().call_later(0.02, event.set)
        start = time.monotonic()
        set_early = await clock.wait(event, 60)
        return timed_out, set_early, time.monotonic() - start

    timed_out, set_early, took = asyncio.run(body())
    assert timed_out is False
    assert set_early is True
    assert took < 5
