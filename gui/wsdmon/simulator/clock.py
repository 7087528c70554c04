"""The job engine's clock: spec time that may run faster than real time (`--time-scale`).

With a scale of 600 the MS-BDSRR 10-minute rule fires after one real second, and the timestamps the
jobs carry (JobCreatedTime, JobCompletedTime) move on by ten minutes, so a monitor sees the same
times a real server would have sent. Only the job engine uses it (see config.py). `offset_s` is
the device's clock being off (the clock-offset fault): every time it puts in a message is shifted.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

__all__ = ["Clock"]


class Clock:
    """Spec time from the loop's point of view: `now()` for timestamps, `sleep()`/`wait()` for pacing."""

    def __init__(self, time_scale: float = 1.0, offset_s: float = 0.0) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        self.offset_s = offset_s
        self._start_wall = datetime.now().astimezone() + timedelta(seconds=offset_s)
        self._start_mono = time.monotonic()

    def now(self) -> datetime:
        """The current spec time as the device's clock tells it (offset_s off the real one),
        timezone-aware in the local zone (MS-BDSRR §2.2.4.1: servers SHOULD use local time), to the
        millisecond."""
        elapsed = (time.monotonic() - self._start_mono) * self.time_scale
        value = self._start_wall + timedelta(seconds=elapsed)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)

    def real(self, spec_s: float) -> float:
        """Real seconds that `spec_s` seconds of spec time take."""
        return max(0.0, spec_s) / self.time_scale

    async def sleep(self, spec_s: float) -> None:
        """Sleep `spec_s` seconds of spec time (0 still yields to the loop)."""
        await asyncio.sleep(self.real(spec_s))

    async def wait(self, event: asyncio.Event, spec_s: float) -> bool:
        """Wait up to `spec_s` seconds of spec time for `event`; True if it was set."""
        if event.is_set():
            return True
        real = self.real(spec_s)
        if real <= 0:
            await asyncio.sleep(0)
            return event.is_set()
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation that
        # arrives as the event is set, and a job loop would then never stop.
        try:
            async with asyncio.timeout(real):
                await event.wait()
        except TimeoutError:
            return event.is_set()
        return True
