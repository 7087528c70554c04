"""What the detail pane shows for one job: a plain JobDetail (every JobStatus sub-element with its
meaning) and two small table models, FilterStatusModel and TimelineModel.

The pane reads the selected row's JobRecord through Role.JOB_RECORD and hands it to `job_detail`
and the two models' `set_record`; it never looks inside protocol types itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from wsdmon.core import JobKey, JobKind, JobRecord, ObservationKind, TimelineEntry
from wsdmon.protocol.dsm import FilterStatus

from . import format as fmt
from ._i18n import QT_TRANSLATE_NOOP
from ._list_table import ListTableModel
from .icons import icon
from .job_columns import FAILED_OUTCOMES, OUTCOME_ICONS, outcome
from .job_text import change_text, kind_text, summary_text
from .meanings import Kind, Meaning, explain, reason_kind, state_kind
from .roles import Role
from .scan_meanings import SCAN_ELEMENT_MEANINGS

__all__ = ["FilterDetail", "FilterStatusModel", "JobDetail", "TimeText", "TimelineModel", "job_detail"]

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class TimeText:
    local: str  # viewer's local time, or the value as sent + "(server local)"
    utc: str
    sent: str  # the xs:dateTime exactly as the server sent it (ISO 8601)
    server_local: bool


@dataclass(frozen=True, slots=True)
class FilterDetail:
    name: str
    dialect: str
    state: Meaning
    reasons: tuple[Meaning, ...]


@dataclass(frozen=True, slots=True)
class JobDetail:
    """The seven JobStatus sub-elements, explained, plus the job description and its outcome."""

    key: JobKey
    device_name: str
    token: str
    state: Meaning
    reasons: tuple[Meaning, ...]
    filters: tuple[FilterDetail, ...]
    filter_summary: str
    images_received: int
    created: TimeText | None
    completed: TimeText | None
    duration: str
    failed: bool
    active: bool
    ended: bool
    lost: bool  # the server no longer reports it
    outcome_icon: str  # name for icons.icon()
    psp_display_name: str
    user_name: str
    first_seen: str
    last_update: str
    kind: JobKind = JobKind.POST_SCAN
    kind_text: str = ""  # "Scan job" / "Post-scan job"
    job_name: str = ""  # a scan job's JobName

    def element_meaning(self, element: str) -> str:
        """What a scan job's JobId, ScansCompleted, JobName or JobOriginatingUserName is ("" else)."""
        source = SCAN_ELEMENT_MEANINGS.get(element) if self.kind is JobKind.SCAN else None
        return "" if source is None else QCoreApplication.translate("meanings", source)


def _time(dt: datetime | None) -> TimeText | None:
    if dt is None:
        return None
    return TimeText(fmt.format_local(dt), fmt.format_utc(dt), fmt.format_sent(dt), fmt.is_server_local(dt))


def _filter(f: FilterStatus) -> FilterDetail:
    return FilterDetail(
        fmt.dialect_name(f.dialect),
        f.dialect,
        explain(Kind.FILTER_STATE, f.state),
        tuple(explain(Kind.FILTER_STATE_REASON, r) for r in f.reasons),
    )


def job_detail(rec: JobRecord, device_name: str) -> JobDetail:
    """Explain one JobRecord for the detail pane."""
    s = rec.status
    out = outcome(rec)
    return JobDetail(
        rec.key,
        device_name,
        s.job_token,
        explain(state_kind(rec.kind), s.job_state),
        tuple(explain(reason_kind(rec.kind), r) for r in s.job_state_reasons),
        tuple(_filter(f) for f in s.filter_statuses),
        summary_text(s.filter_statuses),
        s.images_received,
        _time(s.job_created_time),
        _time(s.job_completed_time),
        fmt.format_duration(rec.duration_s),
        out in FAILED_OUTCOMES,
        rec.is_active,
        rec.ended,
        rec.lost,
        OUTCOME_ICONS[out],
        rec.psp_display_name or "",
        rec.job_originating_user_name or "",
        fmt.format_local(rec.first_seen),
        fmt.format_local(rec.last_update),
        rec.kind,
        kind_text(rec.kind),
        rec.job_name or "",
    )


_F_CTX = "FilterStatusModel"
_F_HEADERS = (
    QT_TRANSLATE_NOOP(_F_CTX, "Filter"),
    QT_TRANSLATE_NOOP(_F_CTX, "State"),
    QT_TRANSLATE_NOOP(_F_CTX, "Reasons"),
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _breakable(text: str) -> str:
    """Let word wrap break CamelCase values ("SharePoint\u200bAccess\u200bDenied") in narrow panes."""
    return _CAMEL.sub("\u200b", text)


_FAILED_FILTER = "CompletedWithErrors"


def _mark(m: Meaning) -> str:
    if m.vendor:
        return QCoreApplication.translate(_F_CTX, "{0} (vendor extension)").format(m.value)
    return m.value


class FilterStatusModel(ListTableModel):
    """FilterStatuses of one job: one row per FilterStatus, with meanings."""

    CONTEXT = _F_CTX
    HEADERS = _F_HEADERS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[FilterDetail, ...] = ()

    def set_filters(self, filters: tuple[FilterDetail, ...]) -> None:
        self.beginResetModel()
        self._rows = filters
        self.endResetModel()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        f, col = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f.name
            if col == 1:
                return _breakable(_mark(f.state))
            return _breakable(", ".join(_mark(r) for r in f.reasons))
        if role == Qt.ItemDataRole.ToolTipRole:
            return f.dialect if col == 0 else "\n".join([f.state.text, *(r.text for r in f.reasons)])
        if role == Qt.ItemDataRole.DecorationRole and col == 1:
            if f.state.value == _FAILED_FILTER:
                return icon("job-failed")
            return icon("job-vendor") if f.state.vendor else None
        if role == Role.STATE:
            return f.state.value
        if role == Role.IS_FAILED:
            return f.state.value == _FAILED_FILTER
        if role == Role.IS_VENDOR:
            return f.state.vendor or any(r.vendor for r in f.reasons)
        return None


_T_CTX = "TimelineModel"
_T_HEADERS = (
    QT_TRANSLATE_NOOP(_T_CTX, "Arrived"),
    QT_TRANSLATE_NOOP(_T_CTX, "Event"),
    QT_TRANSLATE_NOOP(_T_CTX, "What changed"),
)
_KIND_NAMES = {
    ObservationKind.STATUS_EVENT: QT_TRANSLATE_NOOP(_T_CTX, "Status"),
    ObservationKind.END_STATE_EVENT: QT_TRANSLATE_NOOP(_T_CTX, "End state"),
    ObservationKind.SNAPSHOT: QT_TRANSLATE_NOOP(_T_CTX, "Snapshot"),
    ObservationKind.CANCEL_REQUEST: QT_TRANSLATE_NOOP(_T_CTX, "Cancel (wsdmon)"),
    ObservationKind.DEVICE_CONDITION: QT_TRANSLATE_NOOP(_T_CTX, "Scanner condition"),
}
# What each observation was, by job kind (the timeline's tooltip).
_MESSAGES = {
    JobKind.POST_SCAN: {
        ObservationKind.STATUS_EVENT: "PostScanJobStatusEvent",
        ObservationKind.END_STATE_EVENT: "PostScanJobEndStateEvent",
        ObservationKind.SNAPSHOT: "GetActiveJobs / GetJobHistory / GetPostScanJobElements",
        ObservationKind.DEVICE_CONDITION: "ScannerStatusCondition(Cleared)Event",
        ObservationKind.CANCEL_REQUEST: "CancelPostScanJob",
    },
    JobKind.SCAN: {
        ObservationKind.STATUS_EVENT: "JobStatusEvent",
        ObservationKind.END_STATE_EVENT: "JobEndStateEvent",
        ObservationKind.SNAPSHOT: "GetActiveJobs / GetJobHistory",
        ObservationKind.DEVICE_CONDITION: "ScannerStatusCondition(Cleared)Event",
        ObservationKind.CANCEL_REQUEST: "CancelJob",
    },
}


class TimelineModel(ListTableModel):
    """A job's timeline: one row per observation, with arrival time and what changed."""

    CONTEXT = _T_CTX
    HEADERS = _T_HEADERS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[TimelineEntry, ...] = ()
        self._dropped = 0
        self._kind = JobKind.POST_SCAN

    def set_timeline(
        self, entries: tuple[TimelineEntry, ...], dropped: int = 0, kind: JobKind = JobKind.POST_SCAN
    ) -> None:
        """Replace the rows. For the same job, entries appended become row inserts and entries the
        job record trimmed (JobRecord.timeline_dropped grew by k: rows 1..k left) become row
        removals, so the selection and the scroll position survive a busy job."""
        old, trimmed = self._rows, dropped - self._dropped
        self._dropped = dropped
        if kind is not self._kind:
            self._kind = kind
            old = ()  # another kind of job: its rows are worded otherwise
            self.beginResetModel()
            self._rows = ()
            self.endResetModel()
        if 0 < trimmed < len(old) and entries[:1] == old[:1]:
            kept = old[:1] + old[1 + trimmed :]
            if entries[: len(kept)] == kept:
                self.beginRemoveRows(QModelIndex(), 1, trimmed)
                self._rows = kept
                self.endRemoveRows()
                old = kept
        if len(entries) > len(old) and entries[: len(old)] == old:
            self.beginInsertRows(QModelIndex(), len(old), len(entries) - 1)
            self._rows = entries
            self.endInsertRows()
            return
        if entries == old:
            return
        self.beginResetModel()
        self._rows = entries
        self.endResetModel()

    def entry(self, row: int) -> TimelineEntry:
        return self._rows[row]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e, col = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return fmt.format_local(e.arrival, with_date=False)
            if col == 1:
                name = QCoreApplication.translate(_T_CTX, _KIND_NAMES[e.kind])
                return QCoreApplication.translate(_T_CTX, "{0} (stale)").format(name) if e.stale else name
            return "\n".join(change_text(c, self._kind) for c in e.changes)
        if role == Qt.ItemDataRole.ToolTipRole:
            changes = (change_text(c, self._kind) for c in e.changes)
            lines = [
                _MESSAGES[self._kind][e.kind],
                fmt.format_local(e.arrival),
                fmt.format_utc(e.arrival),
                *changes,
            ]
            if e.message_id:
                lines.append(f"MessageID: {e.message_id}")
            return "\n".join(lines)
        if role == Role.JOURNAL_ID:
            return e.journal_id
        return None
