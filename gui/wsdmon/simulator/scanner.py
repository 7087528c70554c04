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
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from wsdmon.protocol import Headers
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.scan import (
    Component,
    ConditionName,
    DeviceCondition,
    DeviceConditionCleared,
    JobEndState,
    JobEndStateEvent,
    JobState,
    JobStateReason,
    JobStatus,
    JobStatusEvent,
    ScannerState,
    ScannerStateReason,
    ScannerStatus,
    ScannerStatusConditionClearedEvent,
    ScannerStatusConditionEvent,
    ScannerStatusSummaryEvent,
    Severity,
    StatusSummary,
)
from wsdmon.protocol.scan_ticket import ScanTicket

from .clock import Clock
from .eventing import EventSource
from .plans import ScanEnd, ScanJobPlan
from .postscan import stop_jobs, vendor_element

__all__ = ["CLIENT_JOB_IDLE_TIMEOUT_S", "EVENT_ACTIONS", "HISTORY_SIZE", "ScanJob", "Scanner"]

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
HISTORY_SIZE = 50  # ended jobs GetJobHistory lists, newest first
# A client job whose images nobody asks for ends Aborted (JobTimedOut) after this many real seconds
# (not the job clock's: a client's pace does not follow --time-scale).
CLIENT_JOB_IDLE_TIMEOUT_S = 60.0
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
    # jobs a client created (CreateScanJob): its token, ticket and how many images it will give
    token: str | None = None
    ticket: ScanTicket | None = None
    images: int = 0
    idle: asyncio.TimerHandle | None = None

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
        self._history: deque[ScanJob] = deque(maxlen=HISTORY_SIZE)

    @property
    def active_jobs(self) -> tuple[ScanJob, ...]:
        return tuple(self._active.values())

    @property
    def history(self) -> tuple[ScanJob, ...]:
        """Ended jobs, newest first."""
        return tuple(reversed(self._history))

    def find(self, job_id: int) -> ScanJob | None:
        """An active or ended job by JobId."""
        job = self._active.get(job_id)
        return job if job is not None else next((j for j in self._history if j.job_id == job_id), None)

    def status(self) -> ScannerStatus:
        """The scanner's ScannerStatus now (GetScannerElements)."""
        reasons = (ScannerStateReason.NONE,) if not self._conditions else ()
        return ScannerStatus(self._clock.now(), self.state, reasons, tuple(self._conditions.values()))

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
        """A reboot: JobIds start over at 1, as real scanners' do (wsdmon must tell the new jobs
        apart), and the job history kept in memory is gone with it."""
        self._next_id = 1
        self._history.clear()

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

    def create_client_job(self, ticket: ScanTicket, images: int) -> ScanJob:
        """A job a client created with CreateScanJob: Pending until its images are retrieved."""
        description = ticket.job_description
        plan = ScanJobPlan(description.job_name, description.job_originating_user_name, images, 0.0)
        job = ScanJob(self._next_id, plan, self._clock.now(), token=uuid.uuid4().urn, ticket=ticket)
        job.images = images
        self._next_id += 1
        self._active[job.job_id] = job
        log.log(
            self.log_level, "%s: scan job %d created by a client (%d image(s))", self.name, job.job_id, images
        )
        self._emit(job)
        self._update_state()
        self._arm_idle(job)
        return job

    def image_taken(self, job: ScanJob) -> None:
        """A client retrieved the job's next image: ScansCompleted grows; the last one ends the job."""
        job.scans += 1
        if job.scans >= job.images:
            self._finish(job, JobState.COMPLETED, JobStateReason.NONE)
            return
        job.state, job.reasons = JobState.PROCESSING, (JobStateReason.JOB_SCANNING_AND_TRANSFERRING,)
        self._emit(job)
        self._arm_idle(job)

    def image_starting(self, job: ScanJob) -> None:
        """A client asked for the job's next image: the scanner scans (first image: Processing)."""
        if job.state != JobState.PROCESSING:
            job.state, job.reasons = JobState.PROCESSING, (JobStateReason.JOB_SCANNING,)
            self._emit(job)
        self._arm_idle(job)

    def cancel(self, job: ScanJob) -> None:
        """CancelJob: the job ends Canceled (a running device job stops where it is)."""
        if job.task is not None:
            job.task.cancel()
        self._finish(job, JobState.CANCELED, JobStateReason.NONE)

    def _arm_idle(self, job: ScanJob) -> None:
        if job.idle is not None:
            job.idle.cancel()
        loop = asyncio.get_running_loop()
        job.idle = loop.call_later(CLIENT_JOB_IDLE_TIMEOUT_S, self._idle_timeout, job)

    def _idle_timeout(self, job: ScanJob) -> None:
        if job.job_id in self._active:
            log.warning("%s: scan job %d: the client stopped retrieving images", self.name, job.job_id)
            self._finish(job, JobState.ABORTED, JobStateReason.JOB_TIMED_OUT)

    def _finish(self, job: ScanJob, state: JobState, reason: JobStateReason) -> JobEndState:
        """End `job`: final JobStatusEvent, JobEndStateEvent, into the history."""
        if job.idle is not None:
            job.idle.cancel()
            job.idle = None
        job.state, job.reasons = state, (reason,)
        job.completed = self._clock.now()
        self._emit(job)
        end_state = job.end_state()
        self._source.publish(JobEndStateEvent(_NO_HEADERS, end_state))
        self._active.pop(job.job_id, None)
        self._history.append(job)
        log.log(
            self.log_level,
            "%s: scan job %d ended %s (%s), %d scan(s)",
            self.name,
            job.job_id,
            state,
            reason,
            job.scans,
        )
        self.finished += 1
        if not job.done.done():
            job.done.set_result(end_state)
        self._update_state()
        return end_state

    async def close(self) -> None:
        """Stop every running scan job where it is."""
        for job in self._active.values():
            if job.idle is not None:
                job.idle.cancel()
        await stop_jobs(self._active)

    def _emit(self, job: ScanJob) -> None:
        self._source.publish(JobStatusEvent(_NO_HEADERS, job.status()))

    async def _run(self, job: ScanJob) -> None:
        plan = job.plan
        if plan.end is ScanEnd.STUCK:
            # The stuck-job fault: one JobStatusEvent (Processing, scanning), then no progress and
            # no end; GetActiveJobs lists it until the device stops or reboots.
            job.state, job.reasons = JobState.PROCESSING, (JobStateReason.JOB_SCANNING,)
            self._emit(job)
            self._update_state()
            log.info("%s: scan job %d is stuck (fault): no more events, no end", self.name, job.job_id)
            await asyncio.get_running_loop().create_future()  # only a stop or a reboot cancels it
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
        state, reason = _ENDS[plan.end]
        self._finish(job, state, reason)

    def _update_state(self) -> None:
        state = ScannerState.PROCESSING if self._active else ScannerState.IDLE
        if state == self.state:
            return
        self.state = state
        log.log(self.log_level, "%s: scanner %s", self.name, state)
        summary = StatusSummary(state, (ScannerStateReason.NONE,))
        self._source.publish(ScannerStatusSummaryEvent(_NO_HEADERS, summary))
