"""The WS-Scan scan device role: scan jobs and the scanner's status, as WS-Scan events.

A scan job goes Pending → Processing (JobScanning, ScansCompleted counting up) → Processing
(JobTransferring) → Completed / Canceled (JobCanceledAtDevice) / Aborted (ImageTransferError),
with a JobStatusEvent on every change ("JobStatus element": the full status) and one
JobEndStateEvent at the end. The scanner is Processing while a job runs, else Idle, and sends a
ScannerStatusSummaryEvent on each change. raise_condition() / clear_condition() send the
ScannerStatusCondition(Cleared)Event of a paper jam or the like. Of the WS-Scan operations only
GetScannerElements(ScannerStatus) is answered; the others (CreateScanJob…) get
wsa:ActionNotSupported.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from wsdmon.protocol import Headers, Message
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.scan import (
    SCANNER_STATUS,
    Component,
    ConditionName,
    DeviceCondition,
    DeviceConditionCleared,
    GetScannerElementsRequest,
    GetScannerElementsResponse,
    JobEndState,
    JobEndStateEvent,
    JobState,
    JobStateReason,
    JobStatus,
    JobStatusEvent,
    ScannerElementData,
    ScannerState,
    ScannerStateReason,
    ScannerStatus,
    ScannerStatusConditionClearedEvent,
    ScannerStatusConditionEvent,
    ScannerStatusSummaryEvent,
    Severity,
    StatusSummary,
)

from .clock import Clock
from .eventing import EventSource
from .plans import ScanEnd, ScanJobPlan
from .postscan import stop_jobs, vendor_element

__all__ = ["EVENT_ACTIONS", "ScanJob", "Scanner"]

log = logging.getLogger(__name__)

EVENT_ACTIONS = (
    ns.WSCN_JOB_STATUS_EVENT,
    ns.WSCN_JOB_END_STATE_EVENT,
    ns.WSCN_SCANNER_STATUS_SUMMARY_EVENT,
    ns.WSCN_SCANNER_STATUS_CONDITION_EVENT,  # raise_condition()
    ns.WSCN_SCANNER_STATUS_CONDITION_CLEARED_EVENT,  # clear_condition()
    # offered for subscriptions (Windows subscribes to them), never sent by the simulator:
    ns.WSCN_SCAN_AVAILABLE_EVENT,
    ns.WSCN_SCANNER_ELEMENTS_CHANGE_EVENT,
)
_NO_HEADERS = Headers()
_ENDS = {
    ScanEnd.COMPLETED: (JobState.COMPLETED, JobStateReason.NONE),
    ScanEnd.CANCELED: (JobState.CANCELED, JobStateReason.JOB_CANCELED_AT_DEVICE),
    ScanEnd.ABORTED: (JobState.ABORTED, JobStateReason.IMAGE_TRANSFER_ERROR),
}


@dataclass(eq=False)
class ScanJob:
    """A scan job on the device; `done` resolves with its JobEndState."""

    job_id: int
    plan: ScanJobPlan
    created: datetime
    state: JobState | str = JobState.PENDING
    reasons: tuple[JobStateReason | str, ...] = ()
    scans: int = 0
    completed: datetime | None = None
    done: asyncio.Future[JobEndState] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    task: asyncio.Task[None] | None = None

    async def wait(self) -> JobEndState:
        """Wait for the job to end; its JobEndState."""
        return await asyncio.shield(self.done)

    def status(self) -> JobStatus:
        extensions = (vendor_element("Tray", "ADF"),) if self.plan.vendor else ()
        return JobStatus(
            self.job_id, self.state, self.reasons, self.scans, self.created, self.completed, extensions
        )

    def end_state(self) -> JobEndState:
        return JobEndState(
            self.job_id,
            self.plan.job_name,
            self.plan.user,
            self.state,
            self.reasons,
            self.scans,
            self.completed,
        )


class Scanner:
    """A WS-Scan scanner service: submit scan jobs; events go to `source`."""

    def __init__(self, source: EventSource, clock: Clock, rng: random.Random, name: str) -> None:
        self._source = source
        self._clock = clock
        self.name = name
        self.state: ScannerState | str = ScannerState.IDLE
        self.log_level = logging.INFO  # of each job's start and end (the burst scenario lowers it)
        self.finished = 0  # jobs ended so far
        self._next_id = rng.randint(1, 999)
        self._next_condition = 1
        self._conditions: dict[int, DeviceCondition] = {}
        self._active: dict[int, ScanJob] = {}

    @property
    def active_jobs(self) -> tuple[ScanJob, ...]:
        return tuple(self._active.values())

    def handlers(self) -> dict[type[Message], Callable[[Message], Message]]:
        """The WS-Scan operations this scanner answers: GetScannerElements (its status only)."""
        return {GetScannerElementsRequest: self._get_scanner_elements}  # type: ignore[dict-item]

    def _get_scanner_elements(self, request: GetScannerElementsRequest) -> Message:
        elements = []
        for name in request.requested:
            if name == SCANNER_STATUS:
                reasons = (ScannerStateReason.NONE,) if not self._conditions else ()
                status = ScannerStatus(
                    self._clock.now(), self.state, reasons, tuple(self._conditions.values())
                )
                elements.append(ScannerElementData(name, True, status))
            else:  # configuration, description, vendor elements: not simulated
                elements.append(ScannerElementData(name, False))
        return GetScannerElementsResponse(Headers.reply(request.header.message_id), tuple(elements))

    def raise_condition(
        self,
        name: ConditionName | str = ConditionName.MEDIA_JAM,
        component: Component | str = Component.ADF,
        severity: Severity | str = Severity.CRITICAL,
    ) -> int:
        """A device condition begins (a paper jam…): ScannerStatusConditionEvent. Returns its Id."""
        condition_id = self._next_condition
        self._next_condition += 1
        condition = DeviceCondition(condition_id, self._clock.now(), name, component, severity)
        self._conditions[condition_id] = condition
        log.info("%s: condition %d %s (%s, %s)", self.name, condition_id, name, severity, component)
        self._source.publish(ScannerStatusConditionEvent(_NO_HEADERS, condition))
        return condition_id

    def clear_condition(self, condition_id: int) -> None:
        """The condition ended: ScannerStatusConditionClearedEvent."""
        log.info("%s: condition %d cleared", self.name, condition_id)
        self._conditions.pop(condition_id, None)
        cleared = DeviceConditionCleared(condition_id, self._clock.now())
        self._source.publish(ScannerStatusConditionClearedEvent(_NO_HEADERS, cleared))

    def restart_job_ids(self) -> None:
        """A reboot: JobIds start over at 1, as real scanners' do (wsdmon must tell the new jobs apart)."""
        self._next_id = 1

    def submit(self, plan: ScanJobPlan | None = None) -> ScanJob:
        """Start a scan job as if someone had pressed Scan at the device."""
        plan = plan or ScanJobPlan()
        job = ScanJob(self._next_id, plan, self._clock.now())
        self._next_id += 1
        self._active[job.job_id] = job
        log.log(
            self.log_level,
            "%s: scan job %d started (%d scan(s), end: %s)",
            self.name,
            job.job_id,
            plan.scans,
            plan.end,
        )
        job.task = asyncio.get_running_loop().create_task(self._run(job), name=f"scan job {job.job_id}")
        return job

    async def close(self) -> None:
        """Stop every running scan job where it is."""
        await stop_jobs(self._active)

    def _emit(self, job: ScanJob) -> None:
        self._source.publish(JobStatusEvent(_NO_HEADERS, job.status()))

    async def _run(self, job: ScanJob) -> None:
        plan = job.plan
        self._emit(job)
        self._update_state()
        job.state, job.reasons = JobState.PROCESSING, (JobStateReason.JOB_SCANNING,)
        for n in range(1, plan.scans + 1):
            await self._clock.sleep(plan.scan_interval_s)
            if plan.end is not ScanEnd.COMPLETED and n == max(1, plan.scans // 2 + 1):
                break
            job.scans = n
            if plan.vendor and n == 1:
                job.reasons = (JobStateReason.JOB_SCANNING, "simv:DoubleFeedCheck")
            self._emit(job)
        else:
            job.reasons = (JobStateReason.JOB_TRANSFERRING,)
            self._emit(job)
            await self._clock.sleep(plan.scan_interval_s)
        job.state, reason = _ENDS[plan.end]
        job.reasons = (reason,)
        job.completed = self._clock.now()
        self._emit(job)
        end_state = job.end_state()
        self._source.publish(JobEndStateEvent(_NO_HEADERS, end_state))
        del self._active[job.job_id]
        log.log(
            self.log_level,
            "%s: scan job %d ended %s (%s), %d scan(s)",
            self.name,
            job.job_id,
            job.state,
            reason,
            job.scans,
        )
        self.finished += 1
        job.done.set_result(end_state)
        self._update_state()

    def _update_state(self) -> None:
        state = ScannerState.PROCESSING if self._active else ScannerState.IDLE
        if state == self.state:
            return
        self.state = state
        log.log(self.log_level, "%s: scanner %s", self.name, state)
        summary = StatusSummary(state, (ScannerStateReason.NONE,))
        self._source.publish(ScannerStatusSummaryEvent(_NO_HEADERS, summary))
