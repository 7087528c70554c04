"""What a job is to the monitor: its key, the observations made of it, its timeline and the record
the window, the journal and the exports show (JobRecord), with what makes a job active, ended or
failed. How observations fold into records (the rules of MS-BDSRR and WS-Scan that the fields
below cite as "rule 5", "rule 6"…) is core/jobs.py's JobTable; these are the values it makes, which
every layer passes around.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from wsdmon.protocol.dsm import (
    TERMINAL_JOB_STATES,
    FilterState,
    FilterStatus,
    JobState,
    JobStatus,
    PostScanJobEndState,
)

from .changes import Change
from .job_kinds import JobKind

__all__ = [
    "FAILED_FILTER_STATES",
    "TERMINAL_FILTER_STATES",
    "JobChange",
    "JobKey",
    "JobRecord",
    "Observation",
    "ObservationKind",
    "TimelineEntry",
    "filter_summary",
]

TERMINAL_FILTER_STATES = frozenset(
    {
        FilterState.CANCELED,
        FilterState.COMPLETED_SUCCESSFULLY,
        FilterState.COMPLETED_WITH_ERRORS,
        FilterState.COMPLETED_WITH_WARNINGS,
    }
)
FAILED_FILTER_STATES = frozenset({FilterState.COMPLETED_WITH_ERRORS})
# Reasons that make a job failed: MS-BDSRR's (§2.2.5.11) and WS-Scan's ("JobStateReason element").
_FAILED_REASONS = frozenset(
    {
        "PostScanJobCompletedWithErrors",
        "PostScanJobTimedOut",
        "PostScanJobProcessingFailed",
        "JobCompletedWithErrors",
        "JobTimedOut",
    }
)


class ObservationKind(Enum):
    STATUS_EVENT = "status-event"  # PostScanJobStatusEvent / wscn JobStatusEvent
    END_STATE_EVENT = "end-state-event"  # PostScanJobEndStateEvent / wscn JobEndStateEvent
    SNAPSHOT = "snapshot"  # GetActiveJobs / GetJobHistory / GetPostScanJobElements
    CANCEL_REQUEST = "cancel-request"  # not an observation: wsdmon asked to cancel, and the answer
    DEVICE_CONDITION = "device-condition"  # the scanner raised or cleared a condition meanwhile


@dataclass(frozen=True, slots=True)
class JobKey:
    """A job is unique only within its repository (§2.2.3.28): key it by the server's endpoint; and
    a token names a job only while it lives (rule 6): `generation` is 0 for the first job seen with
    the token on that device, and grows by one for each later job that reused it."""

    device: str
    job_token: str
    generation: int = 0
    # The site whose collector saw the job (issue 14): "" in a single PC's window and journal, where
    # every job is this PC's; set by a view of a shared store, where two sites may watch one device.
    site: str = ""
    # Its hash, computed once: a key is looked up a dozen times for each event (the ledger, the
    # models, the bridge, the health index), and a dataclass hashes its fields anew at each lookup.
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.device, self.job_token, self.generation, self.site)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[JobKey], tuple[str, str, int, str]]:
        # Copied or pickled by its fields: a string's hash differs from one process to the next.
        return (JobKey, (self.device, self.job_token, self.generation, self.site))


@dataclass(frozen=True, slots=True)
class Observation:
    """One thing we learned about a job, with when it arrived (time is passed in, never read)."""

    kind: ObservationKind
    device: str
    status: JobStatus
    arrival: datetime
    message_id: str | None = None
    journal_id: int | None = None  # row of the raw message in the journal, for the raw-XML view
    psp_identifier: str | None = None
    psp_display_name: str | None = None
    job_originating_user_name: str | None = None
    instance: int | None = None  # the device's AppSequence InstanceId when it arrived, if known
    asked: datetime | None = None  # snapshots: when the request was sent (rule 6)
    job_kind: JobKind = JobKind.POST_SCAN
    job_name: str | None = None  # WS-Scan JobName (post-scan jobs have none)

    @classmethod
    def from_end_state(
        cls,
        device: str,
        end: PostScanJobEndState,
        arrival: datetime,
        message_id: str | None = None,
        journal_id: int | None = None,
    ) -> Observation:
        """The end-state event as an observation; it has no JobCreatedTime (§3.2.4.9.3.1)."""
        status = JobStatus(
            end.job_token,
            end.job_completed_state,
            end.job_completed_state_reasons,
            end.filter_completed_statuses,
            end.images_received,
            None,
            end.job_completed_time,
            end.extensions,
        )
        return cls(
            ObservationKind.END_STATE_EVENT,
            device,
            status,
            arrival,
            message_id,
            journal_id,
            end.psp_identifier,
            end.psp_display_name,
            end.job_originating_user_name,
        )


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One observation of a job as shown in the detail pane's timeline."""

    arrival: datetime
    kind: ObservationKind
    changes: tuple[Change, ...]  # what it changed, typed (worded in models/)
    stale: bool = False
    message_id: str | None = None
    journal_id: int | None = None


@dataclass(frozen=True, slots=True)
class JobRecord:
    """Everything the monitor shows about one job: its JobStatus (a post-scan job's seven
    sub-elements, or a scan job's in the same fields), the job description fields and the job's
    timeline."""

    key: JobKey
    status: JobStatus
    first_seen: datetime
    last_update: datetime
    ended: bool = False  # the end-state event arrived
    psp_identifier: str | None = None
    psp_display_name: str | None = None
    job_originating_user_name: str | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    timeline_dropped: int = 0  # observations left out between timeline[0] and timeline[1]
    lost: bool = False  # the server no longer reports it (rule 5)
    instance_id: int | None = None  # the device's InstanceId when the job was last heard of
    unknown_since: datetime | None = None  # the monitor lost sight of the device then (rule 7)
    kind: JobKind = JobKind.POST_SCAN
    job_name: str | None = None  # WS-Scan JobName

    @property
    def observations(self) -> int:
        """How many observations the job has had, kept in the timeline or not."""
        return len(self.timeline) + self.timeline_dropped

    @property
    def is_terminal(self) -> bool:
        return self.status.job_state in TERMINAL_JOB_STATES

    @property
    def is_unfinished(self) -> bool:
        """Not known to be over: not in a terminal state, not ended, not lost (maybe unknown)."""
        return not (self.is_terminal or self.ended or self.lost)

    @property
    def is_active(self) -> bool:
        """Still running as far as anyone can tell: unfinished, and not unknown (rule 7)."""
        return self.unknown_since is None and self.is_unfinished

    @property
    def is_failed(self) -> bool:
        """Aborted, completed with errors, timed out, or any filter that failed (a cancel is not a
        failure: somebody asked for it)."""
        s = self.status
        if s.job_state == JobState.ABORTED:
            return True
        if _FAILED_REASONS.intersection(s.job_state_reasons):
            return True
        return any(f.state in FAILED_FILTER_STATES for f in s.filter_statuses)

    @property
    def duration_s(self) -> float | None:
        """Seconds from JobCreatedTime to JobCompletedTime, when both are known and comparable."""
        created, completed = self.status.job_created_time, self.status.job_completed_time
        if created is None or completed is None:
            return None
        if (created.tzinfo is None) != (completed.tzinfo is None):
            return None  # one is "server local", the other absolute: not comparable
        return (completed - created).total_seconds()


def filter_summary(filters: Iterable[FilterStatus]) -> tuple[int, int, int]:
    """(filters done, filters in all, filters failed) for a row's "2/3 filters done, 1 failed"."""
    filters = tuple(filters)
    done = sum(1 for f in filters if f.state in TERMINAL_FILTER_STATES)
    failed = sum(1 for f in filters if f.state in FAILED_FILTER_STATES)
    return done, len(filters), failed


@dataclass(frozen=True, slots=True)
class JobChange:
    """What one observation did to the table: the record after it, and whether it was new."""

    record: JobRecord
    added: bool
    accepted: bool  # False when the observation was stale or a duplicate
