"""The job table's columns, their headers and sort keys, and a job's outcome at a glance."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from enum import Enum, IntEnum
from typing import Any

from wsdmon.core import JobKind, JobRecord, filter_summary
from wsdmon.protocol.dsm import JobState

from . import format as fmt
from ._i18n import QT_TRANSLATE_NOOP
from .device_key import job_device_key
from .meanings import is_vendor, lifecycle_rank, state_kind

__all__ = [
    "FAILED_OUTCOMES",
    "HEADERS",
    "HEADER_TIPS",
    "OUTCOME_ICONS",
    "Column",
    "Outcome",
    "outcome",
    "scalar_sort_value",
    "sort_value",
    "sort_values",
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
    KIND = 9  # scan job or post-scan job (after the first nine: they keep their numbers)
    SITE = 10  # the site whose collector saw the job (a view of a shared store; hidden otherwise)


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
    Column.KIND: QT_TRANSLATE_NOOP(_CTX, "Kind"),
    Column.SITE: QT_TRANSLATE_NOOP(_CTX, "Site"),
}
HEADER_TIPS = {
    Column.IMAGES: QT_TRANSLATE_NOOP(_CTX, "ImagesReceived: scan documents received so far"),
    Column.CREATED: QT_TRANSLATE_NOOP(_CTX, "JobCreatedTime, in your local time (UTC in the tooltip)"),
    Column.COMPLETED: QT_TRANSLATE_NOOP(_CTX, "JobCompletedTime, in your local time (UTC in the tooltip)"),
    Column.DURATION: QT_TRANSLATE_NOOP(_CTX, "From JobCreatedTime to JobCompletedTime"),
    Column.FILTERS: QT_TRANSLATE_NOOP(_CTX, "FilterStatuses: filters done, and how many failed"),
    Column.KIND: QT_TRANSLATE_NOOP(
        _CTX, "Scan job (a WSD scanner's, WS-Scan) or post-scan job (a scan server's, DSM)"
    ),
    Column.SITE: QT_TRANSLATE_NOOP(_CTX, "The site whose collector saw the job (wsdmon collect --site)"),
}


class Outcome(Enum):
    """What a row looks like at a glance (icon, colour, quick filter)."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELED = "canceled"
    FAILED = "failed"
    TIMED_OUT = "timed-out"
    VENDOR = "vendor"
    LOST = "lost"  # the server no longer reports it (core.jobs rule 5)


def outcome(rec: JobRecord) -> Outcome:
    """Classify a job: failures first (a timed-out job is also failed), then vendor and lifecycle."""
    reasons = rec.status.job_state_reasons
    if "PostScanJobTimedOut" in reasons or (rec.kind is JobKind.SCAN and "JobTimedOut" in reasons):
        return Outcome.TIMED_OUT
    if rec.is_failed:
        return Outcome.FAILED
    if rec.lost:
        return Outcome.LOST
    state = rec.status.job_state
    if state == JobState.CANCELED:
        return Outcome.CANCELED
    if state == JobState.COMPLETED:
        return Outcome.COMPLETED
    return Outcome.VENDOR if is_vendor(state_kind(rec.kind), state) else Outcome.ACTIVE


OUTCOME_ICONS = {
    Outcome.ACTIVE: "job-active",
    Outcome.COMPLETED: "job-completed",
    Outcome.CANCELED: "job-canceled",
    Outcome.FAILED: "job-failed",
    Outcome.TIMED_OUT: "job-timedout",
    Outcome.VENDOR: "job-vendor",
    Outcome.LOST: "job-lost",
}
FAILED_OUTCOMES = frozenset({Outcome.FAILED, Outcome.TIMED_OUT})


# Sort values are shared objects where the value space is small (states, reason lists, device
# names): a re-sort of 100,000 rows then allocates nothing per row but the list itself, so the
# cyclic garbage collector never wakes up in the middle of it. The memos are bounded because a
# peer chooses these strings (vendor values, §1.8).
_MEMO_MAX = 4096
_STATE_KEYS: dict[str, tuple[int, str]] = {}
_REASON_KEYS: dict[tuple[str, ...], str] = {}


def _state_key(state: str) -> tuple[int, str]:
    key = _STATE_KEYS.get(state)
    if key is None:
        key = (lifecycle_rank(state), str(state))
        if len(_STATE_KEYS) < _MEMO_MAX:
            _STATE_KEYS[state] = key
    return key


def _reasons_key(reasons: tuple[str, ...]) -> str:
    key = _REASON_KEYS.get(reasons)
    if key is None:
        key = ", ".join(map(str, reasons))
        if len(_REASON_KEYS) < _MEMO_MAX:
            _REASON_KEYS[reasons] = key
    return key


def _filters_key(rec: JobRecord) -> int:
    done, total, failed = filter_summary(rec.status.filter_statuses)
    return failed * 1_000_000 + (total - done) * 1_000 + total


def _duration_key(rec: JobRecord) -> float:
    d = rec.duration_s
    return -math.inf if d is None else d


def sort_value(rec: JobRecord, column: int, name: Callable[[str], str]) -> Any:
    """Sort value of a row in one column (the arrival order breaks ties); 0 when unsorted."""
    return sort_values([rec], column, name)[0]


def sort_values(recs: Sequence[JobRecord], column: int, name: Callable[[str], str]) -> list[Any]:
    """Sort values of many rows in one column, one list comprehension per column (no per-row
    dispatch). Values of one column compare with each other and never are None."""
    if column == Column.DEVICE:
        devices: dict[str, tuple[str, str]] = {}
        keys = [job_device_key(rec.key) for rec in recs]
        for key in keys:
            if key not in devices:
                devices[key] = (name(key).casefold(), key)
        return [devices[key] for key in keys]
    if column == Column.TOKEN:
        return [rec.status.job_token for rec in recs]
    if column == Column.STATE:
        get_state = _STATE_KEYS.get
        return [get_state(r.status.job_state) or _state_key(r.status.job_state) for r in recs]
    if column == Column.REASONS:
        get_reasons = _REASON_KEYS.get
        return [
            get_reasons(r.status.job_state_reasons) or _reasons_key(r.status.job_state_reasons) for r in recs
        ]
    if column == Column.IMAGES:
        return [rec.status.images_received for rec in recs]
    if column == Column.CREATED:
        return [fmt.timestamp(rec.status.job_created_time) for rec in recs]
    if column == Column.COMPLETED:
        return [fmt.timestamp(rec.status.job_completed_time) for rec in recs]
    if column == Column.DURATION:
        return [_duration_key(rec) for rec in recs]
    if column == Column.FILTERS:
        return [_filters_key(rec) for rec in recs]
    if column == Column.KIND:
        return [rec.kind.value for rec in recs]
    if column == Column.SITE:
        return [rec.key.site for rec in recs]
    return [0] * len(recs)


def scalar_sort_value(value: Any) -> Any:
    """The SORT role's scalar: the leading part of a composite sort value (rank, casefolded name)."""
    return value[0] if isinstance(value, tuple) else value
