"""What one observation changed in a job, as typed values for the timeline (worded in models/).

A Change names the JobStatus element that changed and its values as sent (vendor values as given);
the journal stores them, and models/job_text.py turns them into words through tr(). Journals written
before changes were typed hold English lines: those come back as Change(ChangeField.TEXT, new=line)
and are shown verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from wsdmon.protocol.dsm import JobStatus

__all__ = ["LOST", "NO_CHANGE", "STALE", "Change", "ChangeField", "describe"]


class ChangeField(Enum):
    """What a Change is about."""

    JOB_STATE = "job-state"  # old → new (old None: the job's first observation)
    JOB_STATE_REASONS = "job-state-reasons"  # details: the reasons now (empty: none)
    IMAGES_RECEIVED = "images-received"  # old → new (old None: the first observation)
    FILTER = "filter"  # subject: the filter's dialect URI; old → new state; details: its reasons
    JOB_COMPLETED_TIME = "job-completed-time"  # new: ISO-8601 as sent
    NO_CHANGE = "no-change"  # an observation that repeated what was known
    STALE = "stale"  # older than what is shown (core.jobs rule 3): changed nothing
    LOST = "lost"  # the server reports the job neither as active nor in its history (rule 5)
    # wsdmon asked the server to cancel the job: new = CancelResult value; details = (code, reason)
    # of a refusal, or (the one-line error,) when no answer came
    CANCEL_REQUESTED = "cancel-requested"
    # The scanner raised / cleared a condition while the job ran. subject: the condition's Id;
    # new: its Name (cleared: the name if known); details: (Component, Severity) when raised.
    CONDITION_RAISED = "condition-raised"
    CONDITION_CLEARED = "condition-cleared"
    TEXT = "text"  # a line stored by an older wsdmon, shown as it was written


@dataclass(frozen=True, slots=True)
class Change:
    """One line of a timeline entry: which element, from what, to what, as sent."""

    field: ChangeField
    old: str | None = None
    new: str | None = None
    subject: str | None = None  # FILTER: the dialect
    details: tuple[str, ...] = ()  # JOB_STATE_REASONS, FILTER: the reasons, as sent


NO_CHANGE = Change(ChangeField.NO_CHANGE)
STALE = Change(ChangeField.STALE)
LOST = Change(ChangeField.LOST)


def describe(old: JobStatus | None, new: JobStatus) -> tuple[Change, ...]:
    """What `new` changed from `old` (None: the job's first observation)."""
    if old is None:
        return (
            Change(ChangeField.JOB_STATE, None, str(new.job_state)),
            Change(ChangeField.IMAGES_RECEIVED, None, str(new.images_received)),
        )
    out = []
    if old.job_state != new.job_state:
        out.append(Change(ChangeField.JOB_STATE, str(old.job_state), str(new.job_state)))
    if old.job_state_reasons != new.job_state_reasons:
        out.append(Change(ChangeField.JOB_STATE_REASONS, details=tuple(map(str, new.job_state_reasons))))
    if old.images_received != new.images_received:
        out.append(Change(ChangeField.IMAGES_RECEIVED, str(old.images_received), str(new.images_received)))
    before = {f.dialect: f for f in old.filter_statuses}
    for f in new.filter_statuses:
        prev = before.get(f.dialect)
        if prev is None or prev.state != f.state or prev.reasons != f.reasons:
            was = str(prev.state) if prev is not None else None
            out.append(Change(ChangeField.FILTER, was, str(f.state), f.dialect, tuple(map(str, f.reasons))))
    if old.job_completed_time != new.job_completed_time and new.job_completed_time is not None:
        out.append(Change(ChangeField.JOB_COMPLETED_TIME, new=new.job_completed_time.isoformat()))
    return tuple(out) or (NO_CHANGE,)
