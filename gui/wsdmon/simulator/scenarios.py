"""Scenarios: what the devices do once started, from a seeded random source (repeatable with --seed).

- steady: jobs arrive at --rate per device (exponential gaps). A scan server draws its jobs from a
  shuffled deck of 20 per round: 13 complete, 2 with warnings, 2 with errors, 1 filter failure
  (Aborted), 1 cancel, 1 timeout by the 10-minute rule (scale the clock to see it soon). A scan
  device mostly completes, sometimes cancels or aborts.
- burst: jobs back to back, without pauses, as fast as the subscribers take the notifications
  (and none while nobody is subscribed).
- faults: steady jobs, plus every FAULT_INTERVAL_S (spec time) the next fault in turn: restart with
  a new InstanceId (running jobs lost), SubscriptionEnd(SourceCancelling), malformed notifications,
  notifications with a wrong wse:Identifier, slow HTTP answers.
- vendor: steady jobs carrying vendor extension values (simv:…) and elements (MS-BDSRR §1.8).
- idle: nothing; tests and the engine drive jobs themselves (SimDevice.submit_job).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import uuid
from collections.abc import Coroutine, Sequence
from typing import Any

from wsdmon.protocol import Headers, Message, encode, new_message_id
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStatus,
    JobState,
    JobStateReason,
    JobStatus,
    PostScanJobStatusEvent,
)
from wsdmon.protocol.eventing import SubscriptionEndStatus
from wsdmon.protocol.scan import JobStatus as ScanJobStatus
from wsdmon.protocol.scan import JobStatusEvent

from .clock import Clock
from .config import Role, Scenario
from .device import SimDevice
from .eventing import Subscription
from .plans import VENDOR_NS, FilterOutcome, FilterPlan, JobEnd, JobPlan, ScanEnd, ScanJobPlan

__all__ = ["FAULT_INTERVAL_S", "ScenarioRunner", "job_plan", "scan_job_plan", "steady_deck"]

log = logging.getLogger(__name__)

FAULT_INTERVAL_S = 20.0  # spec seconds between two injected faults (faults scenario)
BURST_CONCURRENCY = 4  # job loops per device in the burst scenario
BURST_REPORT_S = 5.0  # real seconds between two burst summaries in the log
BURST_IDLE_S = 0.05  # how often a burst loop without subscribers looks again
_DIALECTS = (ns.FILTER_FILESHARE, ns.FILTER_SHAREPOINT, ns.FILTER_EMAIL)
_PROCESSES = (
    ("{5d9a4b40-0c1e-4b8a-9f4e-2f3b1a7c0de1}", "Scan to Finance share"),
    ("{0f6e2c11-8d3a-4e5b-a1c2-7b8d9e0f1a2b}", "Invoices to SharePoint"),
    ("{9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d}", "Scan to my e-mail"),
    ("{77e0d1c2-b3a4-4958-8a7b-6c5d4e3f2a10}", "HR archive (share + mail)"),
)
_USERS = ("CONTOSO\\alice", "CONTOSO\\bob", "CONTOSO\\carol", "CONTOSO\\dave", "CONTOSO\\erin")
# kind → how many of every 20 steady jobs (a shuffled deck: each kind shows up every round)
_STEADY_KINDS = {"ok": 13, "warning": 2, "error": 2, "failure": 1, "cancel": 1, "timeout": 1}


def steady_deck(rng: random.Random) -> list[str]:
    """One round of steady job kinds, shuffled."""
    deck = [kind for kind, n in _STEADY_KINDS.items() for _ in range(n)]
    rng.shuffle(deck)
    return deck


def job_plan(kind: str, rng: random.Random, *, vendor: bool = False, fast: bool = False) -> JobPlan:
    """A post-scan job plan of `kind` (a _STEADY_KINDS key); `fast`: no pauses at all (burst)."""
    pid, pname = rng.choice(_PROCESSES)
    dialects = rng.sample(_DIALECTS, rng.randint(1, len(_DIALECTS)))
    if vendor:
        dialects.append(VENDOR_NS + "/filter/ocr")
    pause = 0.0 if fast else 1.0
    filters = [FilterPlan(d, duration_s=pause * rng.uniform(0.5, 3.0)) for d in dialects]
    outcome = {
        "warning": FilterOutcome.WARNING,
        "error": FilterOutcome.ERROR,
        "failure": FilterOutcome.FAILURE,
    }
    if kind in outcome:
        i = rng.randrange(len(filters))
        filters[i] = dataclasses.replace(filters[i], outcome=outcome[kind])
    end = {"cancel": JobEnd.CANCEL, "timeout": JobEnd.TIMEOUT}.get(kind, JobEnd.NORMAL)
    return JobPlan(
        psp_identifier=pid,
        psp_display_name=pname,
        user=rng.choice(_USERS),
        filters=tuple(filters),
        images=1 if fast else rng.randint(1, 6),
        image_interval_s=pause * rng.uniform(0.5, 2.0),
        document_format="image/vnd.simv-raw" if vendor else "pdf-a",
        end=end,
        cancel_after_s=pause * rng.uniform(0.2, 1.0),
        start_delay_s=pause * 0.5,
        vendor=vendor,
    )


def scan_job_plan(rng: random.Random, *, vendor: bool = False, fast: bool = False) -> ScanJobPlan:
    """A WS-Scan scan job plan: mostly completed, sometimes canceled at the device or aborted."""
    roll = rng.random()
    end = ScanEnd.CANCELED if roll < 0.1 else ScanEnd.ABORTED if roll < 0.15 else ScanEnd.COMPLETED
    return ScanJobPlan(
        job_name=rng.choice(("Scan", "Invoice", "Contract", "Receipts")),
        user=rng.choice(_USERS).split("\\")[-1],
        scans=1 if fast else rng.randint(1, 5),
        scan_interval_s=0.0 if fast else rng.uniform(0.5, 1.5),
        end=ScanEnd.COMPLETED if fast else end,
        vendor=vendor,
    )


class ScenarioRunner:
    """Runs a scenario on the devices until stopped."""

    def __init__(
        self,
        scenario: Scenario,
        devices: Sequence[SimDevice],
        *,
        rng: random.Random,
        clock: Clock,
        rate: float,
        slow_response_s: float,
    ) -> None:
        self.scenario = scenario
        self._devices = list(devices)
        self._rng = rng
        self._clock = clock
        self._rate = rate
        self._slow_response_s = slow_response_s
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the scenario's tasks on the running loop."""
        log.info(
            "scenario %s: %d device(s), %g job(s)/s each, time scale %g",
            self.scenario,
            len(self._devices),
            self._rate,
            self._clock.time_scale,
        )
        for device in self._devices:
            rng = random.Random(self._rng.getrandbits(64))  # noqa: S311 - per device, repeatable
            if self.scenario in (Scenario.STEADY, Scenario.FAULTS, Scenario.VENDOR):
                vendor = self.scenario is Scenario.VENDOR
                if device.repository is not None:
                    device.repository.vendor = vendor
                self._spawn(self._steady(device, rng, vendor))
            if self.scenario is Scenario.FAULTS:
                self._spawn(self._faults(device, random.Random(rng.getrandbits(64))))  # noqa: S311
            if self.scenario is Scenario.BURST:
                for engine in (device.repository, device.scanner):
                    if engine is not None:
                        engine.log_level = logging.DEBUG  # thousands of jobs: a summary instead
                for _ in range(BURST_CONCURRENCY):
                    self._spawn(self._burst(device, random.Random(rng.getrandbits(64))))  # noqa: S311
        if self.scenario is Scenario.BURST:
            self._spawn(self._burst_report())

    async def stop(self) -> None:
        """Stop submitting jobs and injecting faults."""
        pending = set(self._tasks)
        while pending:
            # Cancelled again if a cancellation got lost on the way (it must never hang a stop).
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=1.0)
        self._tasks.clear()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coro))

    async def _steady(self, device: SimDevice, rng: random.Random, vendor: bool) -> None:
        deck: list[str] = []
        while True:
            await asyncio.sleep(rng.expovariate(self._rate))
            if device.role is Role.SCAN_SERVER:
                deck = deck or steady_deck(rng)
                device.submit_job(job_plan(deck.pop(), rng, vendor=vendor))
            else:
                device.submit_job(scan_job_plan(rng, vendor=vendor))

    async def _burst(self, device: SimDevice, rng: random.Random) -> None:
        while True:
            if not device.events.subscriptions:
                await asyncio.sleep(BURST_IDLE_S)  # nobody listens: no point burning a core
                continue
            if device.role is Role.SCAN_SERVER:
                await device.submit_job(job_plan("ok", rng, fast=True)).wait()
            else:
                await device.submit_job(scan_job_plan(rng, fast=True)).wait()
            await device.events.wait_writable()

    async def _burst_report(self) -> None:
        def totals() -> tuple[int, int]:
            jobs = sum(d.jobs_finished for d in self._devices)
            sent = sum(s.delivered for d in self._devices for s in d.events.subscriptions)
            return jobs, sent

        jobs, sent = totals()
        while True:
            await asyncio.sleep(BURST_REPORT_S)
            now_jobs, now_sent = totals()
            log.info("burst: %d jobs ended, %d notifications delivered in the last %g s",
                     now_jobs - jobs, now_sent - sent, BURST_REPORT_S)  # fmt: skip
            jobs, sent = now_jobs, now_sent

    async def _faults(self, device: SimDevice, rng: random.Random) -> None:
        faults = [self._restart, self._end_subscriptions, self._malformed, self._wrong_identifier, self._slow]
        i = rng.randrange(len(faults))
        while True:
            await self._clock.sleep(FAULT_INTERVAL_S)
            await faults[i % len(faults)](device, rng)
            i += 1

    # --- the faults -----------------------------------------------------------------------------

    async def _restart(self, device: SimDevice, rng: random.Random) -> None:
        log.info("fault: %s restarts", device.friendly_name)
        await device.restart()

    async def _end_subscriptions(self, device: SimDevice, rng: random.Random) -> None:
        log.info(
            "fault: %s ends its %d subscription(s)", device.friendly_name, len(device.events.subscriptions)
        )
        for sub in device.events.subscriptions:
            device.events.end(
                sub, SubscriptionEndStatus.SOURCE_CANCELLING, "simulated fault: source cancelling"
            )

    def _sample_event(self, device: SimDevice, state: str = "Processing") -> Message:
        if device.role is Role.SCAN_SERVER:
            status = JobStatus(
                str(uuid.uuid4()),
                state,
                (JobStateReason.NONE,),
                (FilterStatus(ns.FILTER_FILESHARE, FilterState.PENDING),),
                0,
                self._clock.now(),
            )
            return PostScanJobStatusEvent(Headers(), status)
        return JobStatusEvent(Headers(), ScanJobStatus(1, state, (), 0, self._clock.now()))

    def _raw_for(self, sub: Subscription, message: Message, identifier: str | None) -> bytes:
        header = Headers(new_message_id(), sub.notify_to.address, identifier=identifier)
        return encode(dataclasses.replace(message, header=header))  # type: ignore[type-var]

    async def _malformed(self, device: SimDevice, rng: random.Random) -> None:
        log.info("fault: %s sends malformed notifications", device.friendly_name)
        for sub in device.events.subscriptions:
            good = self._raw_for(sub, self._sample_event(device), sub.notify_to.identifier)
            device.events.publish_raw(good[: len(good) * 2 // 3], sub)  # truncated: not XML
            bogus = self._raw_for(
                sub, self._sample_event(device, JobState.PROCESSING), sub.notify_to.identifier
            )
            device.events.publish_raw(bogus.replace(b">Processing<", b">Bogus<"), sub)  # schema-invalid

    async def _wrong_identifier(self, device: SimDevice, rng: random.Random) -> None:
        log.info("fault: %s sends notifications with a wrong wse:Identifier", device.friendly_name)
        wrong = uuid.UUID(int=rng.getrandbits(128), version=4).urn
        for sub in device.events.subscriptions:
            device.events.publish_raw(self._raw_for(sub, self._sample_event(device), wrong), sub)

    async def _slow(self, device: SimDevice, rng: random.Random) -> None:
        log.info("fault: %s answers slowly (%g s) for a while", device.friendly_name, self._slow_response_s)
        device.slow_response_s = self._slow_response_s
        try:
            await self._clock.sleep(FAULT_INTERVAL_S / 2)
        finally:
            device.slow_response_s = 0.0
