"""The job engines (repository.py, scanner.py) driven directly, events recorded (no sockets): every
end a plan can ask for, the §8 lifecycle shape, the repository state, the bounded history."""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

import pytest

from wsdmon.protocol import Message
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStateReason,
    JobState,
    JobStateReason,
    PostScanJobEndStateEvent,
    PostScanJobStatusEvent,
)
from wsdmon.protocol.repository import RepositoryStatusSummaryEvent
from wsdmon.protocol.scan import JobEndStateEvent, JobStatusEvent, ScannerStatusSummaryEvent
from wsdmon.simulator import FilterOutcome, FilterPlan, JobEnd, JobPlan, ScanEnd, ScanJobPlan, Timers
from wsdmon.simulator.clock import Clock
from wsdmon.simulator.repository import Repository
from wsdmon.simulator.scanner import Scanner

FS, EM, SP = ns.FILTER_FILESHARE, ns.FILTER_EMAIL, ns.FILTER_SHAREPOINT
C = FilterState.COMPLETED_SUCCESSFULLY


class Recorder:
    """Stands in for the EventSource: keeps what is published."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def publish(self, message: Message) -> int:
        self.messages.append(message)
        return 1


def engine(**timers: Any) -> tuple[Repository, Recorder]:
    recorder = Recorder()
    repository = Repository(recorder, Clock(100_000.0), random.Random(1), Timers(**timers), "test")  # type: ignore[arg-type]
    return repository, recorder


def filters(*outcomes: FilterOutcome) -> tuple[FilterPlan, ...]:
    return tuple(FilterPlan(d, o) for d, o in zip((FS, EM, SP), outcomes, strict=False))


S, W, E, F = FilterOutcome.SUCCESS, FilterOutcome.WARNING, FilterOutcome.ERROR, FilterOutcome.FAILURE
R = JobStateReason
CW, CE, X = FilterState.COMPLETED_WITH_WARNINGS, FilterState.COMPLETED_WITH_ERRORS, FilterState.CANCELED
DONE, ABORTED = JobState.COMPLETED, JobState.ABORTED
# name → (plan, end state, reason, final filter states; None: some Canceled, which depends on timing)
CASES = {
    "success": (JobPlan(filters=filters(S, S)), DONE, R.POST_SCAN_JOB_COMPLETED_SUCCESSFULLY, [C, C]),
    "warning": (JobPlan(filters=filters(S, W)), DONE, R.POST_SCAN_JOB_COMPLETED_WITH_WARNINGS, [C, CW]),
    "error": (JobPlan(filters=filters(E, W)), DONE, R.POST_SCAN_JOB_COMPLETED_WITH_ERRORS, [CE, CW]),
    "failure": (JobPlan(filters=filters(S, F, S)), ABORTED, R.POST_SCAN_JOB_PROCESSING_FAILED, [C, CE, X]),
    "failure-continue": (
        JobPlan(filters=filters(F, S), continue_on_error=True),
        DONE,
        R.POST_SCAN_JOB_COMPLETED_WITH_ERRORS,
        [CE, C],
    ),
    "cancel": (
        JobPlan(filters=filters(S, S), end=JobEnd.CANCEL),
        JobState.CANCELED,
        R.POST_SCAN_JOB_CANCELED,
        None,
    ),
    "timeout": (JobPlan(end=JobEnd.TIMEOUT), ABORTED, R.POST_SCAN_JOB_TIMED_OUT, [X]),
    "create": (JobPlan(end=JobEnd.CREATE_FAILURE), ABORTED, R.CREATE_POST_SCAN_JOB_FAILED, [X]),
    "send-image": (JobPlan(images=4, end=JobEnd.SEND_IMAGE_FAILURE), ABORTED, R.SEND_IMAGE_FAILED, [X]),
    "no-valid": (
        JobPlan(end=JobEnd.NO_VALID_INSTRUCTIONS),
        ABORTED,
        R.NO_VALID_POST_SCAN_INSTRUCTIONS_FOUND,
        [X],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_planned_end(name: str) -> None:
    plan, state, reason, filter_states = CASES[name]

    async def body() -> None:
        repository, recorder = engine()
        job = repository.submit(plan)
        end = await asyncio.wait_for(job.wait(), 10)
        assert end.job_completed_state is state
        assert end.job_completed_state_reasons == (reason,)
        if filter_states is not None:
            assert [f.state for f in end.filter_completed_statuses] == filter_states
        else:
            assert FilterState.CANCELED in [f.state for f in end.filter_completed_statuses]
        statuses = [m.job_status for m in recorder.messages if isinstance(m, PostScanJobStatusEvent)]
        ends = [m for m in recorder.messages if isinstance(m, PostScanJobEndStateEvent)]
        summaries = [m.state for m in recorder.messages if isinstance(m, RepositoryStatusSummaryEvent)]
        # §8: Creating first; images one by one; the final full status, then the end state, once.
        assert statuses[0].job_state is JobState.CREATING
        images = [s.images_received for s in statuses]
        assert images == sorted(images)
        assert all(b - a <= 1 for a, b in itertools.pairwise(images))
        assert statuses[-1].job_state is state
        assert statuses[-1].job_completed_time is not None
        assert all(s.job_completed_time is None for s in statuses[:-1])
        assert len(ends) == 1
        assert recorder.messages.index(ends[0]) > recorder.messages.index(
            next(
                m
                for m in recorder.messages
                if isinstance(m, PostScanJobStatusEvent) and m.job_status.is_terminal
            )
        )
        assert summaries == ["Processing", "Idle"]
        assert repository.active_jobs == ()
        assert [j.token for j in repository.history] == [job.token]

    asyncio.run(body())


def test_timeout_follows_the_ten_minute_rule_in_spec_time() -> None:
    async def body() -> None:
        repository, _ = engine()
        job = repository.submit(JobPlan(end=JobEnd.TIMEOUT, images=1))
        await job.wait()
        assert job.completed is not None
        assert (job.completed - job.created).total_seconds() >= 600

    asyncio.run(body())


def test_filter_reasons_default_by_dialect() -> None:
    async def body() -> None:
        repository, _ = engine()
        plan = JobPlan(filters=(FilterPlan(FS, E), FilterPlan(EM, W), FilterPlan(SP, E, "acme:Quota")))
        end = await repository.submit(plan).wait()
        assert [f.reasons for f in end.filter_completed_statuses] == [
            (FilterStateReason.FILE_SHARE_ACCESS_DENIED,),
            (FilterStateReason.INVALID_SMTP_SERVER,),
            ("acme:Quota",),
        ]

    asyncio.run(body())


def test_cancel_concurrent_jobs_history_bound_and_tokens() -> None:
    async def body() -> None:
        repository, recorder = engine(history_depth=2)
        slow = repository.submit(JobPlan(images=1, image_interval_s=1e9, token="slow-token"))
        quick = [repository.submit(JobPlan(images=1)) for _ in range(3)]
        await asyncio.gather(*(j.wait() for j in quick))
        assert [j.token for j in repository.active_jobs] == ["slow-token"]
        assert len(repository.history) == 2  # bounded
        with pytest.raises(ValueError, match="already active"):
            repository.submit(JobPlan(token="slow-token"))
        assert repository.cancel("slow-token")
        assert not repository.cancel("unknown")
        end = await asyncio.wait_for(slow.wait(), 5)
        assert end.job_completed_state is JobState.CANCELED
        summaries = [m.state for m in recorder.messages if isinstance(m, RepositoryStatusSummaryEvent)]
        assert summaries == ["Processing", "Idle"]  # it stayed Processing while any job was active

    asyncio.run(body())


def test_close_stops_running_jobs_without_events() -> None:
    async def body() -> None:
        repository, recorder = engine()
        job = repository.submit(JobPlan(images=1, image_interval_s=1e9))
        await asyncio.sleep(0)
        count = len(recorder.messages)
        await repository.close()
        assert job.done.cancelled()
        assert len(recorder.messages) == count

    asyncio.run(body())


@pytest.mark.parametrize(
    ("end", "state", "reason", "scans"),
    [
        (ScanEnd.COMPLETED, "Completed", "None", 3),
        (ScanEnd.CANCELED, "Canceled", "JobCanceledAtDevice", 1),
        (ScanEnd.ABORTED, "Aborted", "ImageTransferError", 1),
    ],
)
def test_scan_jobs(end: ScanEnd, state: str, reason: str, scans: int) -> None:
    async def body() -> None:
        recorder = Recorder()
        scanner = Scanner(recorder, Clock(100_000.0), random.Random(2), "test")  # type: ignore[arg-type]
        job = scanner.submit(ScanJobPlan(scans=3, end=end))
        result = await asyncio.wait_for(job.wait(), 5)
        assert (result.job_completed_state, result.job_completed_state_reasons) == (state, (reason,))
        assert result.scans_completed == scans
        kinds = [type(m) for m in recorder.messages]
        assert kinds[0] is JobStatusEvent
        assert kinds.count(JobEndStateEvent) == 1
        states = [
            m.summary.scanner_state for m in recorder.messages if isinstance(m, ScannerStatusSummaryEvent)
        ]
        assert states == ["Processing", "Idle"]
        second = scanner.submit(ScanJobPlan(scans=1))
        assert second.job_id == job.job_id + 1
        await second.wait()

    asyncio.run(body())
