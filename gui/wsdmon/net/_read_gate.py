"""How often the engine asks a device for its metadata: one Get in flight per device and
MetadataVersion, and a bounded, jittered wait after a failed one.

SOAP-over-UDP lets a sender repeat each datagram, and a Hello and a ProbeMatch often arrive
together: without this, each copy would cost the device a metadata Get (five in a second were seen
against a NAS box), and a device that refuses the Get would be asked again at every sighting.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

__all__ = [
    "METADATA_RETRY_FIRST_S",
    "METADATA_RETRY_JITTER",
    "METADATA_RETRY_MAX_S",
    "ReadGate",
]

METADATA_RETRY_FIRST_S = 10.0  # after a failed Get, sightings wait this long before the next one
METADATA_RETRY_MAX_S = 600.0  # the wait doubles with each further failure, up to this
METADATA_RETRY_JITTER = 0.2  # ± this fraction of the wait, so that devices are not retried in step

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Failures:
    count: int
    not_before: datetime


class ReadGate(Generic[T]):
    """Coalesces concurrent reads of one device and remembers when it may be asked again."""

    def __init__(self, *, random_fraction: Callable[[], float] = random.random) -> None:
        self._random = random_fraction
        self._in_flight: dict[tuple[str, int | None], asyncio.Task[T]] = {}
        self._failures: dict[str, _Failures] = {}

    async def run(self, endpoint: str, version: int | None, read: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run `read` unless a read of this endpoint and MetadataVersion is in flight: then join it.
        A read of another version of the same device goes first (this one then sees its result)."""
        key = (endpoint, version)
        while True:
            task = self._in_flight.get(key)
            if task is not None:
                return await asyncio.shield(task)
            others = [t for (ep, _), t in self._in_flight.items() if ep == endpoint]
            if not others:
                break
            await asyncio.wait(others)
        new = asyncio.get_running_loop().create_task(read())
        self._in_flight[key] = new
        try:
            return await asyncio.shield(new)
        finally:
            if self._in_flight.get(key) is new:
                del self._in_flight[key]

    def waiting(self, endpoint: str, now: datetime) -> bool:
        """True while a device whose last read failed must not be asked again."""
        failures = self._failures.get(endpoint)
        return failures is not None and now < failures.not_before

    def failed(self, endpoint: str, now: datetime) -> timedelta:
        """Count a failed read; returns how long sightings now wait before the next one."""
        count = self._failures[endpoint].count + 1 if endpoint in self._failures else 1
        base = min(METADATA_RETRY_MAX_S, METADATA_RETRY_FIRST_S * 2 ** (count - 1))
        wait = timedelta(seconds=base * (1 + METADATA_RETRY_JITTER * (2 * self._random() - 1)))
        self._failures[endpoint] = _Failures(count, now + wait)
        return wait

    def succeeded(self, endpoint: str) -> None:
        self._failures.pop(endpoint, None)
