"""The DSM scan server: its post-scan job engine and the MS-BDSRR repository operations (§3.2.4).

Jobs follow §8 of the protocol reference: Creating → Pending while images arrive one by one →
Started → Processing, each filter Pending → Processing → Completed*, then the end state. Every
change publishes a PostScanJobStatusEvent with the full JobStatus (§3.2.4.8); the end publishes
the final status and then the PostScanJobEndStateEvent (§3.2.4.9), and moves the job from the
active list to the (bounded) history. The repository's state is Processing while any job is
active, else Idle; each change publishes a RepositoryStatusSummaryEvent (§3.2.4.7).
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import deque
from collections.abc import Callable

from wsdmon.protocol import Headers, Message, QName
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStatus,
    JobState,
    JobStateReason,
    PostScanJobEndStateEvent,
    PostScanJobStatusEvent,
    RepositoryState,
    RepositoryStateReason,
)
from wsdmon.protocol.repository import (
    CancelPostScanJobRequest,
    CancelPostScanJobResponse,
    DscFault,
    GetActiveJobsRequest,
    GetActiveJobsResponse,
    GetJobHistoryRequest,
    GetJobHistoryResponse,
    GetPostScanJobElementsRequest,
    GetPostScanJobElementsResponse,
    GetRepositoryElementsRequest,
    GetRepositoryElementsResponse,
    RepositoryStatusSummaryEvent,
    dsc_fault,
)
from wsdmon.protocol.repository_types import (
    DOCUMENTS,
    JOB_DESCRIPTION,
    JOB_STATUS,
    REPOSITORY_CONFIGURATION,
    REPOSITORY_STATUS,
    Document,
    Documents,
    Filter,
    JobElementData,
    RepositoryConfiguration,
    RepositoryElementData,
    RepositoryStatus,
)

from .clock import Clock
from .config import Timers
from .eventing import EventSource
from .plans import FilterOutcome, JobEnd, JobPlan
from .postscan import PostScanJob, filter_result, stop_jobs, vendor_element

__all__ = ["EVENT_ACTIONS", "Repository"]

log = logging.getLogger(__name__)

EVENT_ACTIONS = (
    ns.DSC_POST_SCAN_JOB_STATUS_EVENT,
    ns.DSC_POST_SCAN_JOB_END_STATE_EVENT,
    ns.DSC_REPOSITORY_STATUS_SUMMARY_EVENT,
    ns.DSC_REPOSITORY_ELEMENTS_CHANGE_EVENT,  # offered, never sent (like Windows, §7 <17>)
)
_NO_HEADERS = Headers()  # events get their headers per subscriber (eventing.py)
# The filters the repository offers (§4.1's example names them ftr:fileshare, ftr:sharepoint, ftr:email).
_CONFIGURATION = RepositoryConfiguration(
    tuple(Filter(QName(ns.FILTER_BASE, name)) for name in ("fileshare", "sharepoint", "email"))
)
_VENDOR_STATE = "simv:Quarantined"  # §1.8 KeywordNsExtensionPatternType values of the vendor scenario
_VENDOR_REASON = "simv:VirusScanPending"
_VENDOR_FILTER_STATE = "simv:Waiting"
_VENDOR_DONE_REASON = "simv:ArchivedToVault"

Handler = Callable[[Message], Message]


class _JobCanceledError(Exception):
    """The job was canceled (CancelPostScanJob, or the scenario's cancel) while it waited."""


class Repository:
    """A scan repository: submit jobs (scenarios, tests), answer the §3.2.4 operations."""

    def __init__(
        self, source: EventSource, clock: Clock, rng: random.Random, timers: Timers, name: str
    ) -> None:
        self._source = source
        self._clock = clock
        self._rng = rng
        self._timers = timers
        self.name = name
        self.vendor = False  # vendor extensions in the repository status (vendor scenario)
        self.log_level = logging.INFO  # of each job's start and end (the burst scenario lowers it)
        # Number jobs 1, 2, 3… instead of GUIDs, starting over at 1 after a reboot, as vendors
        # whose tokens are counters do: a rebooted server then reuses the tokens of its history.
        self.counter_tokens = False
        self._next_number = 1
        self.finished = 0  # jobs ended so far
        self.state: RepositoryState | str = RepositoryState.IDLE
        self._active: dict[str, PostScanJob] = {}
        self._history: deque[PostScanJob] = deque(maxlen=timers.history_depth)

    @property
    def active_jobs(self) -> tuple[PostScanJob, ...]:
        return tuple(self._active.values())

    @property
    def history(self) -> tuple[PostScanJob, ...]:
        """Finished jobs, newest first."""
        return tuple(self._history)

    def handlers(self) -> dict[type[Message], Handler]:
        """The operations this service answers, by request class."""
        return {
            GetRepositoryElementsRequest: self._get_repository_elements,  # type: ignore[dict-item]
            CancelPostScanJobRequest: self._cancel_post_scan_job,  # type: ignore[dict-item]
            GetPostScanJobElementsRequest: self._get_post_scan_job_elements,  # type: ignore[dict-item]
            GetActiveJobsRequest: self._get_active_jobs,  # type: ignore[dict-item]
            GetJobHistoryRequest: self._get_job_history,  # type: ignore[dict-item]
        }

    # --- driving jobs ---------------------------------------------------------------------------

    def submit(self, plan: JobPlan | None = None) -> PostScanJob:
        """Create a job as if a DSM device had sent CreatePostScanJob; it runs on the loop.
        `await job.wait()` gives its end state."""
        plan = plan or JobPlan()
        token = plan.token or self._new_token()
        if token in self._active:
            raise ValueError(f"job {token} is already active")
        job = PostScanJob(token, plan, self._clock.now())
        self._active[token] = job
        log.log(
            self.log_level,
            "%s: job %s created (%s, %d image(s), %s, end: %s)",
            self.name,
            token,
            plan.psp_display_name,
            plan.images,
            "+".join(f.outcome for f in plan.filters),
            plan.end,
        )
        job.task = asyncio.get_running_loop().create_task(self._run(job), name=f"job {token}")
        return job

    def _new_token(self) -> str:
        if self.counter_tokens:
            self._next_number += 1
            return str(self._next_number - 1)
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def cancel(self, token: str) -> bool:
        """Cancel an active job (as CancelPostScanJob does); False if no active job has `token`."""
        job = self._active.get(token)
        if job is None or job.cancel_requested.is_set():
            return job is not None
        log.info("%s: job %s cancel requested", self.name, token)
        job.cancel_requested.set()
        return True

    async def close(self) -> None:
        """Stop every running job where it is (the server is going away; no more events)."""
        await stop_jobs(self._active)

    async def forget_active(self) -> int:
        """A reboot: the running jobs stop where they are and are forgotten, with no end event and
        no history entry (a real server loses what it was processing). Returns how many."""
        count = 0
        while self._active:  # a job the scenario submits while the others stop goes too
            running = dict(self._active)
            count += len(running)
            await stop_jobs(running)
            for token in running:
                self._active.pop(token, None)
        self._next_number = 1  # a counter starts over (counter_tokens); the history is kept
        self.state = RepositoryState.IDLE  # no event: the subscribers are gone with the reboot
        return count

    # --- the lifecycle (§8) ---------------------------------------------------------------------

    def _emit(self, job: PostScanJob) -> None:
        self._source.publish(PostScanJobStatusEvent(_NO_HEADERS, job.status()))

    async def _pause(self, job: PostScanJob, spec_s: float) -> None:
        """Let spec time pass; _JobCanceledError if the job was canceled meanwhile."""
        if await self._clock.wait(job.cancel_requested, spec_s):
            raise _JobCanceledError

    async def _run(self, job: PostScanJob) -> None:
        if job.plan.end is JobEnd.STUCK:
            await self._stuck(job)
            return
        self._emit(job)  # Creating, ImagesReceived 0
        self._update_state()
        try:
            state, reason = await self._lifecycle(job)
        except _JobCanceledError:
            state, reason = JobState.CANCELED, JobStateReason.POST_SCAN_JOB_CANCELED
        self._finish(job, state, reason)

    async def _stuck(self, job: PostScanJob) -> None:
        """The stuck-job fault: one status event, Processing with its first filter Processing, then
        no progress and no end; GetActiveJobs lists it until the server stops or reboots."""
        job.state, job.reasons = JobState.PROCESSING, (JobStateReason.NONE,)
        if job.filters:
            job.set_filter(0, FilterStatus(job.filters[0].dialect, FilterState.PROCESSING))
        self._emit(job)
        self._update_state()
        log.info("%s: job %s is stuck (fault): no more events, no end", self.name, job.token)
        await asyncio.get_running_loop().create_future()  # only a stop or a reboot cancels it

    async def _lifecycle(self, job: PostScanJob) -> tuple[JobState, JobStateReason]:
        """Creating → Pending (images) → Started → Processing (filters); the end state and reason."""
        plan = job.plan
        await self._pause(job, plan.start_delay_s)
        if plan.end is JobEnd.CREATE_FAILURE:
            return JobState.ABORTED, JobStateReason.CREATE_POST_SCAN_JOB_FAILED
        job.state = JobState.PENDING
        self._emit(job)
        failing_image = max(1, (plan.images + 1) // 2)
        for n in range(1, plan.images + 1):
            await self._pause(job, plan.image_interval_s)
            if plan.end is JobEnd.SEND_IMAGE_FAILURE and n == failing_image:
                return JobState.ABORTED, JobStateReason.SEND_IMAGE_FAILED
            job.images = n
            job.documents.append(Document(n, plan.document_format))
            self._emit(job)
        if plan.end is JobEnd.TIMEOUT:
            # §2.2.5.11: no EndPostScanJob within 10 minutes of the last SendImage. The spec names
            # no JobState; we end it Aborted (nothing was processed), its filters Canceled.
            await self._pause(job, self._timers.job_timeout_s)
            return JobState.ABORTED, JobStateReason.POST_SCAN_JOB_TIMED_OUT
        if plan.vendor:
            job.state, job.reasons = _VENDOR_STATE, (_VENDOR_REASON,)
            self._emit(job)
            await self._pause(job, plan.image_interval_s)
        if plan.end is JobEnd.NO_VALID_INSTRUCTIONS:
            return JobState.ABORTED, JobStateReason.NO_VALID_POST_SCAN_INSTRUCTIONS_FOUND
        return await self._process(job)

    async def _process(self, job: PostScanJob) -> tuple[JobState, JobStateReason]:
        plan = job.plan
        job.state, job.reasons = JobState.STARTED, (JobStateReason.NONE,)
        self._emit(job)  # transient, seen only in an event (§2.2.5.12)
        job.state = JobState.PROCESSING
        self._emit(job)
        if plan.end is JobEnd.CANCEL:
            loop = asyncio.get_running_loop()
            loop.call_later(self._clock.real(plan.cancel_after_s), self.cancel, job.token)
        outcomes: list[FilterOutcome] = []
        for i, fp in enumerate(plan.filters):
            if plan.vendor:
                job.set_filter(i, FilterStatus(fp.dialect, _VENDOR_FILTER_STATE, ("simv:LicenseCheck",)))
                self._emit(job)
            job.set_filter(i, FilterStatus(fp.dialect, FilterState.PROCESSING))
            self._emit(job)
            await self._pause(job, fp.duration_s)
            job.set_filter(i, filter_result(fp.dialect, fp.outcome, fp.reason))
            outcomes.append(fp.outcome)
            if fp.outcome is FilterOutcome.FAILURE and not plan.continue_on_error:
                return JobState.ABORTED, JobStateReason.POST_SCAN_JOB_PROCESSING_FAILED
            self._emit(job)
        if FilterOutcome.ERROR in outcomes or FilterOutcome.FAILURE in outcomes:
            return JobState.COMPLETED, JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_ERRORS
        if FilterOutcome.WARNING in outcomes:
            return JobState.COMPLETED, JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_WARNINGS
        return JobState.COMPLETED, JobStateReason.POST_SCAN_JOB_COMPLETED_SUCCESSFULLY

    def _finish(self, job: PostScanJob, state: JobState, reason: JobStateReason) -> None:
        """End the job: final status event, end-state event, history, repository state."""
        job.cancel_open_filters()  # a cancel or abort stops running filters, cancels unstarted ones
        job.state = state
        job.reasons = (reason, _VENDOR_DONE_REASON) if job.plan.vendor else (reason,)
        job.completed = self._clock.now()
        self._emit(job)
        end_state = job.end_state()
        self._source.publish(PostScanJobEndStateEvent(_NO_HEADERS, end_state))
        self._active.pop(job.token, None)  # a reboot may have forgotten it meanwhile
        self._history.appendleft(job)
        log.log(
            self.log_level,
            "%s: job %s ended %s (%s), %d image(s)",
            self.name,
            job.token,
            state,
            reason,
            job.images,
        )
        self.finished += 1
        job.done.set_result(end_state)
        self._update_state()

    def _status(self) -> RepositoryStatus:
        extensions = (vendor_element("Load", str(len(self._active))),) if self.vendor else ()
        return RepositoryStatus(self.state, (RepositoryStateReason.NONE,), extensions)

    def _update_state(self) -> None:
        state = RepositoryState.PROCESSING if self._active else RepositoryState.IDLE
        if state == self.state:
            return
        self.state = state
        status = self._status()
        log.log(self.log_level, "%s: repository %s", self.name, state)
        self._source.publish(
            RepositoryStatusSummaryEvent(_NO_HEADERS, status.state, status.reasons, status.extensions)
        )

    # --- the operations (§3.2.4.1-§3.2.4.5) ----------------------------------------------------

    def _get_repository_elements(self, request: GetRepositoryElementsRequest) -> Message:
        elements = []
        for name in request.requested:  # one ElementData per name, in the same order (§3.2.4.1)
            if name == REPOSITORY_CONFIGURATION:
                elements.append(RepositoryElementData(name, True, _CONFIGURATION))
            elif name == REPOSITORY_STATUS:
                elements.append(RepositoryElementData(name, True, self._status()))
            else:
                elements.append(RepositoryElementData(name, False))
        return GetRepositoryElementsResponse(Headers.reply(request.header.message_id), tuple(elements))

    def _not_found(self, request: Message, token: str) -> Message:
        return dsc_fault(
            DscFault.CLIENT_ERROR_JOB_TOKEN_NOT_FOUND,
            request.header.message_id,
            "No post-scan job with this JobToken is known to the scan repository.",
            detail=token,
        )

    def _cancel_post_scan_job(self, request: CancelPostScanJobRequest) -> Message:
        # §3.2.4.2: only a job currently processing can be canceled; the outcome follows as events.
        if not self.cancel(request.job_token):
            return self._not_found(request, request.job_token)
        return CancelPostScanJobResponse(Headers.reply(request.header.message_id))

    def _get_post_scan_job_elements(self, request: GetPostScanJobElementsRequest) -> Message:
        token = request.job_token
        job = self._active.get(token) or next((j for j in self._history if j.token == token), None)
        if job is None:
            return self._not_found(request, token)
        elements = []
        for name in request.requested:
            if name == JOB_STATUS:
                elements.append(JobElementData(name, True, job.status()))
            elif name == JOB_DESCRIPTION:
                elements.append(JobElementData(name, True, job.description()))
            elif name == DOCUMENTS:
                elements.append(JobElementData(name, True, Documents(tuple(job.documents))))
            else:
                elements.append(JobElementData(name, False))
        return GetPostScanJobElementsResponse(Headers.reply(request.header.message_id), tuple(elements))

    def _get_active_jobs(self, request: GetActiveJobsRequest) -> Message:
        jobs = tuple(j.summary() for j in self._active.values())
        return GetActiveJobsResponse(Headers.reply(request.header.message_id), jobs)

    def _get_job_history(self, request: GetJobHistoryRequest) -> Message:
        jobs = tuple(j.summary() for j in self._history)
        return GetJobHistoryResponse(Headers.reply(request.header.message_id), jobs)
