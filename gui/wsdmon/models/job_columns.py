"""The job table's columns, their headers and sort keys, and a job's outcome at a glance."""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import Enum, IntEnum
from typing import Any

from wsdmon.core import JobRecord, filter_summary
from wsdmon.protocol.dsm import JobState

from . import format as fmt
from ._i18n import QT_TRANSLATE_NOOP
from .meanings import Kind, is_vendor, lifecycle_rank

__all__ = [
    "FAILED_OUTCOMES",
    "HEADERS",
    "HEADER_TIPS",
    "OUTCOME_ICONS",
    "Column",
    "Outcome",
    "outcome",
    "primary_key",
]

_CTX = "JobTableModel"


class Column(IntEnum):
    DEVICE = 0
    TOKEN = 1
    STATE = 2
    REASONS = 3
    IMAGES = 4
    CREATED = 5
    COMPLETED = 6
    DURATION = 7
    FILTERS = 8


HEADERS = {
    Column.DEVICE: QT_TRANSLATE_NOOP(_CTX, "Device"),
    Column.TOKEN: QT_TRANSLATE_NOOP(_CTX, "JobToken"),
    Column.STATE: QT_TRANSLATE_NOOP(_CTX, "JobState"),
    Column.REASONS: QT_TRANSLATE_NOOP(_CTX, "JobStateReasons"),
    Column.IMAGES: QT_TRANSLATE_NOOP(_CTX, "Images"),
    Column.CREATED: QT_TRANSLATE_NOOP(_CTX, "Created"),
    Column.COMPLETED: QT_TRANSLATE_NOOP(_CTX, "Completed"),
    Column.DURATION: QT_TRANSLATE_NOOP(_CTX, "Duration"),
    Column.FILTERS: QT_TRANSLATE_NOOP(_CTX, "Filters"),
}
HEADER_TIPS = {
    Column.IMAGES: QT_TRANSLATE_NOOP(_CTX, "ImagesReceived: scan documents received so far"),
    Column.CREATED: QT_TRANSLATE_NOOP(_CTX, "JobCreatedTime, in your local time (UTC in the tooltip)"),
    Column.COMPLETED: QT_TRANSLATE_NOOP(_CTX, "JobCompletedTime, in your local time (UTC in the tooltip)"),
    Column.DURATION: QT_TRANSLATE_NOOP(_CTX, "From JobCreatedTime to JobCompletedTime"),
    Column.FILTERS: QT_TRANSLATE_NOOP(_CTX, "FilterStatuses: filters done, and how many failed"),
}


class Outcome(Enum):
    """What a row looks like at a glance (icon, colour, quick filter)."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELED = "canceled"
    FAILED = "failed"
    TIMED_OUT = "timed-out"
    VENDOR = "vendor"


def outcome(rec: JobRecord) -> Outcome:
    """Classify a job: failures first (a timed-out job is also failed), then vendor and lifecycle."""
    if "PostScanJobTimedOut" in rec.status.job_state_reasons:
        return Outcome.TIMED_OUT
    if rec.is_failed:
        return Outcome.FAILED
    state = rec.status.job_state
    if state == JobState.CANCELED:
        return Outcome.CANCELED
    if state == JobState.COMPLETED:
        return Outcome.COMPLETED
    return Outcome.VENDOR if is_vendor(Kind.JOB_STATE, state) else Outcome.ACTIVE


OUTCOME_ICONS = {
    Outcome.ACTIVE: "job-active",
    Outcome.COMPLETED: "job-completed",
    Outcome.CANCELED: "job-canceled",
    Outcome.FAILED: "job-failed",
    Outcome.TIMED_OUT: "job-timedout",
    Outcome.VENDOR: "job-vendor",
}
FAILED_OUTCOMES = frozenset({Outcome.FAILED, Outcome.TIMED_OUT})


def primary_key(rec: JobRecord, column: int, name: Callable[[str], str]) -> tuple[Any, ...]:
    """Sort key of a row for one column (before the arrival-sequence tie-break); () when unsorted."""
    s = rec.status
    if column == Column.DEVICE:
        return (name(rec.key.device).casefold(), rec.key.device)
    if column == Column.TOKEN:
        return (s.job_token,)
    if column == Column.STATE:
        return (lifecycle_rank(s.job_state), str(s.job_state))
    if column == Column.REASONS:
        return (", ".join(map(str, s.job_state_reasons)),)
    if column == Column.IMAGES:
        return (s.images_received,)
    if column == Column.CREATED:
        return (fmt.timestamp(s.job_created_time),)
    if column == Column.COMPLETED:
        return (fmt.timestamp(s.job_completed_time),)
    if column == Column.DURATION:
        d = rec.duration_s
        return (-math.inf if d is None else d,)
    if column == Column.FILTERS:
        done, total, failed = filter_summary(s.filter_statuses)
        return (failed, total - done, total)
    return ()
