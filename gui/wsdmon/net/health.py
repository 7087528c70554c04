"""Each device's health while the engine runs (issue 13, item 1).

- HealthCollector (net/_health_collector.py): the facts, per endpoint, fed by small hooks.
- ObservedSoapClient: the engine's SOAP client, telling the collector of every request's outcome
  (metadata reads, Subscribe/Renew answers and faults, any fault, the last HTTP exchange).
- HealthMonitor: evaluates (core.health_evaluate) the devices whose evidence or jobs changed,
  coalesced, and all of them every HEALTH_INTERVAL_S so time-based findings appear unprompted; it
  reports a DeviceHealth only when a verdict or a finding changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from wsdmon.core.health import DeviceHealth
from wsdmon.core.health_evaluate import evaluate
from wsdmon.core.jobs import JobKey, JobRecord
from wsdmon.protocol import Message, RemoteProtocolError, UnknownMessage

from ._health_collector import MAX_DEVICES, HealthCollector, Network, local_networks
from .http import RequestError, SoapClient, SoapFaultError, device_error

__all__ = [
    "HEALTH_COALESCE_S",
    "HEALTH_INTERVAL_S",
    "MAX_JOBS_PER_DEVICE",
    "RECENT_JOBS",
    "HealthCollector",
    "HealthMonitor",
    "Network",
    "ObservedSoapClient",
    "local_networks",
]

log = logging.getLogger(__name__)

HEALTH_INTERVAL_S = 30.0  # every device is judged again this often (multicast stopped, stuck jobs…)
HEALTH_COALESCE_S = 0.5  # changes within this are judged once (a burst of job events)
# Jobs each device is judged on: every unfinished one (stuck jobs) and the most recent finished ones
# (its clock against ours); judging never walks the whole job table.
RECENT_JOBS = 100
MAX_JOBS_PER_DEVICE = 2000  # unfinished ones included: a hard bound on the index
ROUND_SLICE = 10  # devices judged between two returns to the loop (about 0.7 ms each with 100 jobs)


class ObservedSoapClient(SoapClient):
    """The engine's SOAP client, telling the collector of every request's outcome."""

    def __init__(self, *args: Any, collector: HealthCollector, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._collector = collector

    async def call(
        self, url: str, message: Message, *, device: str | None = None
    ) -> Message | UnknownMessage:
        try:
            answer = await super().call(url, message, device=device)
        except SoapFaultError as exc:
            if device is not None:
                self._tell(self._collector.request_fault, device, url, message, exc.fault, exc.error)
            raise
        except (RequestError, RemoteProtocolError) as exc:
            if device is not None:
                self._tell(self._collector.request_failed, device, url, message, device_error(url, exc))
            raise
        if device is not None:
            self._tell(self._collector.request_ok, device, url, message, answer)
        return answer

    @staticmethod
    def _tell(method: Callable[..., None], *args: Any) -> None:
        try:
            method(*args)
        except Exception:  # the evidence must never break a request
            log.exception("health evidence of a request could not be noted")


class HealthMonitor:
    """Judges devices when their evidence or jobs change (coalesced) and every HEALTH_INTERVAL_S;
    `emit` gets a DeviceHealth only when a verdict or a finding differs from the last one sent."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        jobs: Callable[[], Iterable[JobRecord]],
        devices: Callable[[], Iterable[str]],
        emit: Callable[[DeviceHealth], None],
        networks: Callable[[], list[Network]] = local_networks,
        interval_s: float = HEALTH_INTERVAL_S,
        coalesce_s: float = HEALTH_COALESCE_S,
    ) -> None:
        self._clock = clock
        self._all_jobs = jobs
        self._jobs: dict[str, OrderedDict[JobKey, JobRecord]] = {}  # device → its recent jobs
        self._devices = devices
        self._emit = emit
        self._interval_s = interval_s
        self._coalesce_s = coalesce_s
        self.collector = HealthCollector(clock, networks=networks, on_change=self.mark)
        self._dirty: set[str] = set()
        self._flush: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._sent: dict[str, tuple[object, ...]] = {}

    def start(self) -> None:
        """Index the jobs known so far (restored from the journal), then judge on the loop."""
        for record in self._all_jobs():
            self.job_changed(record)
        self._task = asyncio.get_running_loop().create_task(self._every(), name="health checks")

    async def stop(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def known(self) -> list[str]:
        """Every endpoint with a health: the engine's devices and those with evidence."""
        return list(dict.fromkeys([*self._devices(), *self.collector.endpoints()]))

    def health(self, endpoint: str) -> DeviceHealth | None:
        """The device's health judged now; None for an endpoint nobody has seen."""
        if endpoint not in self.known():
            return None
        return evaluate(self.collector.evidence(endpoint), self._jobs_of(endpoint), self._clock())

    def health_all(self) -> list[DeviceHealth]:
        now = self._clock()
        return [evaluate(self.collector.evidence(e), self._jobs_of(e), now) for e in self.known()]

    def job_changed(self, record: JobRecord) -> None:
        """A job was added or changed: keep it in its device's index and judge the device again."""
        device = record.key.device
        jobs = self._jobs.setdefault(device, OrderedDict())
        jobs[record.key] = record
        jobs.move_to_end(record.key)
        if len(jobs) > RECENT_JOBS:
            finished = [k for k, r in jobs.items() if not r.is_unfinished]
            for key in finished[: len(finished) - RECENT_JOBS]:
                del jobs[key]
            while len(jobs) > MAX_JOBS_PER_DEVICE:
                jobs.popitem(last=False)
        self.mark(device)

    def _jobs_of(self, endpoint: str) -> Sequence[JobRecord]:
        jobs = self._jobs.get(endpoint)
        return list(jobs.values()) if jobs else []

    def mark(self, endpoint: str) -> None:
        """Its evidence or jobs changed: judge it again shortly."""
        self._dirty.add(endpoint)
        if self._flush is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not running (restoring): the first timer round judges it
        self._flush = loop.call_later(self._coalesce_s, self._publish_dirty)

    def _publish_dirty(self) -> None:
        self._flush = None
        dirty, self._dirty = self._dirty, set()
        for endpoint in dirty:
            self._publish(endpoint)

    def _publish(self, endpoint: str) -> None:
        try:
            health = self.health(endpoint)
        except Exception:
            log.exception("judging the health of %s failed", endpoint)
            return
        if health is None:
            return
        key = tuple((r.check, r.verdict, r.finding) for r in health.results)
        if self._sent.get(endpoint) == key:
            return
        self._sent[endpoint] = key
        while len(self._sent) > MAX_DEVICES:
            self._sent.pop(next(iter(self._sent)))
        try:
            self._emit(health)
        except Exception:
            log.exception("health listener failed")

    async def _every(self) -> None:
        # A first round at once: the devices restored from the journal get a health (not known
        # yet, mostly) without waiting for the interval.
        await asyncio.sleep(self._coalesce_s)
        while True:
            for n, endpoint in enumerate(self.known()):
                self._publish(endpoint)
                if n % ROUND_SLICE == ROUND_SLICE - 1:
                    await asyncio.sleep(0)  # the GUI's loop: let it paint between slices of a round
            await asyncio.sleep(self._interval_s)
