"""The device faults that happen over time (config.Fault), run beside the scenario on every device.

- stuck-job: once the device has its first subscriber (or STUCK_JOB_LATEST_S after the start, if
  nobody subscribes), one job is created that is reported once as Processing and then never again:
  a post-scan job on a scan server, a scan job on a scan device (repository.py / scanner.py play it).
- reboot-after=S: S seconds after the start the device reboots: Bye, then the reboot of device.py
  (subscriptions dropped silently, running post-scan jobs lost), whose Hello carries a new InstanceId.

The other faults act where their behaviour lives: discovery in wsd.py, eventing in eventing.py,
XAddrs and metadata in device.py, the clock in clock.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from .config import Faults, Role
from .device import SimDevice
from .plans import JobEnd, JobPlan, ScanEnd, ScanJobPlan
from .wsd import DiscoveryResponder

__all__ = ["STUCK_JOB_LATEST_S", "STUCK_JOB_POLL_S", "FaultRunner"]

log = logging.getLogger(__name__)

STUCK_JOB_LATEST_S = 10.0  # real seconds: the stuck job appears at the latest this long after the start
STUCK_JOB_POLL_S = 0.05  # how often the stuck-job task looks for a first subscriber
STUCK_JOB_PLAN = JobPlan(
    psp_display_name="Scan to Finance share (stuck)", user="CONTOSO\\frank", end=JobEnd.STUCK
)
STUCK_SCAN_PLAN = ScanJobPlan(job_name="Stuck scan", user="frank", end=ScanEnd.STUCK)


class FaultRunner:
    """Runs the timed faults of `faults` on `devices` until stopped."""

    def __init__(
        self, faults: Faults, devices: Sequence[SimDevice], responder: DiscoveryResponder | None
    ) -> None:
        self._faults = faults
        self._devices = list(devices)
        self._responder = responder
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the timed faults' tasks on the running loop."""
        for device in self._devices:
            if self._faults.stuck_job:
                self._spawn(self._stuck_job(device), f"stuck job on {device.friendly_name}")
            if self._faults.reboot_after_s is not None:
                self._spawn(
                    self._reboot(device, self._faults.reboot_after_s), f"reboot {device.friendly_name}"
                )

    async def stop(self) -> None:
        """Stop the faults that have not happened yet (a stuck job stays stuck until the device stops)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    async def _stuck_job(self, device: SimDevice) -> None:
        loop = asyncio.get_running_loop()
        latest = loop.time() + STUCK_JOB_LATEST_S
        while not device.events.subscriptions and loop.time() < latest:
            await asyncio.sleep(STUCK_JOB_POLL_S)
        log.info("fault stuck-job: %s starts a job that will never end", device.friendly_name)
        device.submit_job(STUCK_JOB_PLAN if device.role is Role.SCAN_SERVER else STUCK_SCAN_PLAN)

    async def _reboot(self, device: SimDevice, after_s: float) -> None:
        await asyncio.sleep(after_s)
        log.info(
            "fault reboot-after: %s reboots (Bye, then Hello with a new InstanceId)", device.friendly_name
        )
        if self._responder is not None:
            await self._responder.bye(device)
        await device.restart()
