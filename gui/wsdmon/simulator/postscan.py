"""One DSM post-scan job as the scan server keeps it (MS-BDSRR §3.2.1 "MUST maintain"): status,
filter statuses, description and documents, and the protocol values built from them; and what the
scan server and the scan device (scanner.py) share: vendor elements, stopping running jobs.

The lifecycle that moves a job lives in repository.py; this module only holds and shows state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStateReason,
    FilterStatus,
    JobState,
    JobStateReason,
    JobStatus,
    PostScanJobEndState,
)
from wsdmon.protocol.repository import JobSummary
from wsdmon.protocol.repository_types import Document, JobDescription

from .plans import VENDOR_NS, FilterOutcome, JobPlan

__all__ = ["PostScanJob", "filter_result", "stop_jobs", "vendor_element"]

# Default FilterStateReasons by dialect (§2.2.5.5) when a plan gives none.
_WARNING_REASONS: dict[str, FilterStateReason] = {
    ns.FILTER_FILESHARE: FilterStateReason.FILE_SHARE_OUT_OF_DISK_SPACE,
    ns.FILTER_SHAREPOINT: FilterStateReason.SHARE_POINT_OUT_OF_DISK_SPACE,
    ns.FILTER_EMAIL: FilterStateReason.INVALID_SMTP_SERVER,
}
_ERROR_REASONS: dict[str, FilterStateReason] = {
    ns.FILTER_FILESHARE: FilterStateReason.FILE_SHARE_ACCESS_DENIED,
    ns.FILTER_SHAREPOINT: FilterStateReason.SHARE_POINT_ACCESS_DENIED,
    ns.FILTER_EMAIL: FilterStateReason.UNABLE_TO_SEND_EMAIL,
}
_OUTCOME_STATES = {
    FilterOutcome.SUCCESS: FilterState.COMPLETED_SUCCESSFULLY,
    FilterOutcome.WARNING: FilterState.COMPLETED_WITH_WARNINGS,
    FilterOutcome.ERROR: FilterState.COMPLETED_WITH_ERRORS,
    FilterOutcome.FAILURE: FilterState.COMPLETED_WITH_ERRORS,
}
# Filter states after which a filter is done (a cancel or abort leaves them as they are).
_FILTER_DONE = frozenset(
    {
        FilterState.COMPLETED_SUCCESSFULLY,
        FilterState.COMPLETED_WITH_WARNINGS,
        FilterState.COMPLETED_WITH_ERRORS,
        FilterState.CANCELED,
    }
)


def vendor_element(local: str, text: str) -> str:
    """A vendor extension element (xs:any ##other) in the simulator's vendor namespace."""
    return f'<simv:{local} xmlns:simv="{VENDOR_NS}">{text}</simv:{local}>'


class _RunningJob(Protocol):
    task: asyncio.Task[None] | None
    done: asyncio.Future[Any]


async def stop_jobs(active: Mapping[Any, _RunningJob]) -> None:
    """Stop every active job where it is: cancel its task, wait for them all, cancel `done`."""
    tasks = [j.task for j in active.values() if j.task is not None]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for job in active.values():
        job.done.cancel()


def filter_result(
    dialect: str, outcome: FilterOutcome, reason: FilterStateReason | str | None
) -> FilterStatus:
    """The final FilterStatus of a filter that ended with `outcome`."""
    if outcome is FilterOutcome.SUCCESS:
        return FilterStatus(dialect, FilterState.COMPLETED_SUCCESSFULLY)
    if reason is None and outcome is FilterOutcome.FAILURE:
        reason = FilterStateReason.SERVER_OUT_OF_MEMORY
    elif reason is None:
        table = _WARNING_REASONS if outcome is FilterOutcome.WARNING else _ERROR_REASONS
        reason = table.get(dialect, FilterStateReason.UNKNOWN_ERROR)
    return FilterStatus(dialect, _OUTCOME_STATES[outcome], (reason,))


@dataclass(eq=False)
class PostScanJob:
    """A job on the scan server. `done` resolves with its end state once it has ended."""

    token: str
    plan: JobPlan
    created: datetime
    state: JobState | str = JobState.CREATING
    reasons: tuple[JobStateReason | str, ...] = (JobStateReason.NONE,)
    filters: list[FilterStatus] = field(default_factory=list)
    images: int = 0
    documents: list[Document] = field(default_factory=list)
    completed: datetime | None = None
    cancel_requested: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Future[PostScanJobEndState] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        if not self.filters:
            self.filters = [FilterStatus(f.dialect, FilterState.PENDING) for f in self.plan.filters]

    @property
    def finished(self) -> bool:
        return self.done.done()

    async def wait(self) -> PostScanJobEndState:
        """Wait for the job to end; its PostScanJobEndState."""
        return await asyncio.shield(self.done)

    def set_filter(self, index: int, status: FilterStatus) -> None:
        self.filters[index] = status

    def cancel_open_filters(self) -> None:
        """Every filter that has not finished becomes Canceled (§3.2.4.2: stop running filters and
        cancel the ones not started)."""
        for i, f in enumerate(self.filters):
            if f.state not in _FILTER_DONE:
                self.filters[i] = FilterStatus(f.dialect, FilterState.CANCELED)

    def _extensions(self) -> tuple[str, ...]:
        if not self.plan.vendor:
            return ()
        return (vendor_element("Priority", "high"), vendor_element("Workstation", "SCAN-07"))

    def status(self) -> JobStatus:
        """The full JobStatus snapshot (§3.2.4.8: every element's current value, never a delta)."""
        return JobStatus(
            self.token,
            self.state,
            self.reasons,
            tuple(self.filters),
            self.images,
            self.created,
            self.completed,
            self._extensions(),
        )

    def description(self) -> JobDescription:
        p = self.plan
        return JobDescription(p.psp_identifier, p.psp_display_name, p.user)

    def summary(self) -> JobSummary:
        """The job as a GetActiveJobs / GetJobHistory row (§3.2.4.4: all fields filled)."""
        p = self.plan
        return JobSummary(
            self.token,
            p.psp_identifier,
            p.psp_display_name,
            p.user,
            self.state,
            self.reasons,
            tuple(self.filters),
            self.images,
        )

    def end_state(self) -> PostScanJobEndState:
        """The PostScanJobEndState of a finished job (§3.2.4.9: final values)."""
        p = self.plan
        extensions = (vendor_element("Vault", "\\\\archive\\scans"),) if p.vendor else ()
        return PostScanJobEndState(
            self.token,
            p.psp_identifier,
            p.psp_display_name,
            p.user,
            self.state,
            self.reasons,
            tuple(self.filters),
            self.images,
            self.completed,
            extensions,
        )
