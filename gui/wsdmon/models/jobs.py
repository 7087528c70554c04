"""JobTableModel: one row per post-scan job, fed by the bridge with core JobRecords.

Live updates are cheap at 100,000 rows and 1,000 events/s because the model (not the proxy) keeps
the sort order: rows live in a list sorted by (sort key, arrival sequence), so finding a job is a
bisect, a new job lands at its sorted place with one beginInsertRows per contiguous run (a single one
in the usual case: sorted by time or by arrival), and an update that keeps its place is only a
dataChanged. Updates are coalesced: `apply_changes` marks rows dirty and a short timer (or `flush`)
emits dataChanged per contiguous dirty run; only rows whose sort key moved cost a layout change.
The proxy in job_filter.py forwards sort() here, so QSortFilterProxyModel never calls back into
Python once per comparison.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette

from wsdmon.core import JobKey, JobRecord

from . import format as fmt
from .devices import DeviceKind, DeviceRow
from .icons import icon
from .job_columns import (
    FAILED_OUTCOMES,
    HEADER_TIPS,
    HEADERS,
    OUTCOME_ICONS,
    Column,
    Outcome,
    outcome,
    primary_key,
)
from .job_text import filter_text, filters_tooltip, reasons_tooltip, state_tooltip, summary_text
from .meanings import Kind, is_vendor
from .roles import Role

__all__ = ["Column", "DeviceLookup", "JobTableModel", "Outcome", "outcome"]

DeviceLookup = Callable[[str], DeviceRow | None]
_Index = QModelIndex | QPersistentModelIndex
_CTX = "JobTableModel"


class JobTableModel(QAbstractTableModel):
    """Post-scan jobs as a table; the bridge calls `apply_changes`, views read through `Role`."""

    counts_changed = Signal(int, int, int)  # total, active, failed

    def __init__(
        self,
        device_lookup: DeviceLookup | None = None,
        parent: QObject | None = None,
        *,
        update_interval_ms: int = 20,
    ) -> None:
        super().__init__(parent)
        self._lookup = device_lookup
        self._recs: list[JobRecord] = []  # sorted ascending by self._keys
        self._keys: list[tuple[Any, ...]] = []
        self._keyof: dict[JobKey, tuple[Any, ...]] = {}
        self._seq: dict[JobKey, int] = {}
        self._next_seq = 0
        self._pending: dict[JobKey, JobRecord] = {}
        self._sort_column = -1
        self._descending = False
        self._active = self._failed = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(update_interval_ms)
        self._timer.timeout.connect(self.flush)
        self._colors: tuple[QColor, QColor] | None = None

    # --- the bridge's API ------------------------------------------------------------------------

    def apply_changes(self, records: Sequence[JobRecord]) -> None:
        """New jobs are inserted now (one beginInsertRows per contiguous run); updates are coalesced
        and shown by the next `flush` (the update timer calls it within `update_interval_ms`)."""
        new: dict[JobKey, JobRecord] = {}
        for rec in records:
            if rec.key in self._keyof:
                self._pending[rec.key] = rec
            else:
                new[rec.key] = rec
        if new:
            self._insert(list(new.values()))
            self._emit_counts()
        if self._pending and not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Show every coalesced update now: dataChanged per dirty run, a layout change if rows moved."""
        self._timer.stop()
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        moved: list[tuple[JobKey, JobRecord, tuple[Any, ...]]] = []
        n = len(self._keys)
        for k, rec in pending.items():
            pos = bisect_left(self._keys, self._keyof[k])
            self._count(self._recs[pos], -1)
            self._count(rec, +1)
            new_key = (*self._primary(rec), self._seq[k])
            keys = self._keys
            if (pos == 0 or keys[pos - 1] < new_key) and (pos == n - 1 or new_key < keys[pos + 1]):
                self._recs[pos], keys[pos], self._keyof[k] = rec, new_key, new_key
            else:
                moved.append((k, rec, new_key))
        if moved:
            self._relayout(lambda: self._move(moved))
        rows = sorted(self._row_of(k) for k in pending)
        self._emit_changed_runs(rows)
        self._emit_counts()

    def set_records(self, records: Iterable[JobRecord]) -> None:
        """Replace everything (history load): one model reset."""
        self.beginResetModel()
        self._timer.stop()
        self._pending.clear()
        self._recs, self._keys, self._keyof, self._seq = [], [], {}, {}
        self._active = self._failed = 0
        self._next_seq = 0
        keyed = []
        for rec in records:
            self._seq[rec.key] = seq = self._next_seq
            self._next_seq += 1
            keyed.append(((*self._primary(rec), seq), rec))
            self._count(rec, +1)
        self._store_sorted(keyed)
        self.endResetModel()
        self._emit_counts()

    def remove_jobs(self, keys: Iterable[JobKey]) -> None:
        """Drop jobs (retention); one beginRemoveRows per row, from the bottom up."""
        self.flush()
        rows = sorted((self._row_of(k) for k in set(keys) if k in self._keyof), reverse=True)
        for row in rows:
            pos = self._pos(row)
            self.beginRemoveRows(QModelIndex(), row, row)
            rec = self._recs.pop(pos)
            del self._keys[pos], self._keyof[rec.key], self._seq[rec.key]
            self._count(rec, -1)
            self.endRemoveRows()
        if rows:
            self._emit_counts()

    def refresh_device_names(self) -> None:
        """Device names changed (a device answered its metadata): repaint or re-sort the Device column."""
        if not self._recs:
            return
        if self._sort_column == Column.DEVICE:
            self.sort(Column.DEVICE, self.sort_order())
        else:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._recs) - 1, 0))

    def palette_changed(self) -> None:
        """The palette changed (dark mode switched): recompute failure colours and repaint."""
        self._colors = None
        if self._recs:
            last = self.index(len(self._recs) - 1, len(Column) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    # --- lookups ---------------------------------------------------------------------------------

    def record(self, row: int) -> JobRecord:
        return self._recs[self._pos(row)]

    def row_of(self, key: JobKey) -> int | None:
        """The row of a job, or None when the model does not hold it."""
        return self._row_of(key) if key in self._keyof else None

    def _row_of(self, key: JobKey) -> int:
        return self._row_of_pos(bisect_left(self._keys, self._keyof[key]))

    def counts(self) -> tuple[int, int, int]:
        """(jobs, active jobs, failed jobs)."""
        return len(self._recs), self._active, self._failed

    def sort_column(self) -> int:
        return self._sort_column

    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder

    def device_name(self, endpoint: str) -> str:
        row = self._lookup(endpoint) if self._lookup is not None else None
        return row.name if row is not None and row.name else endpoint

    def _can_cancel(self, rec: JobRecord) -> bool:
        if rec.is_terminal:
            return False
        row = self._lookup(rec.key.device) if self._lookup is not None else None
        return row is None or row.kind is DeviceKind.SCAN_SERVER

    # --- Qt overrides ----------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._recs)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate(_CTX, HEADERS[Column(section)])
        if role == Qt.ItemDataRole.ToolTipRole and section in HEADER_TIPS:
            return QCoreApplication.translate(_CTX, HEADER_TIPS[Column(section)])
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort in place (Python's sort over cached keys); persistent indexes follow their jobs."""
        self.flush()

        def resort() -> None:
            self._sort_column = column if 0 <= column < len(Column) else -1
            self._descending = order == Qt.SortOrder.DescendingOrder
            self._store_sorted([((*self._primary(r), self._seq[r.key]), r) for r in self._recs])

        self._relayout(resort)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        rec = self._recs[self._pos(index.row())]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(rec, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(rec, col)
        if role == Qt.ItemDataRole.DecorationRole:
            return icon(OUTCOME_ICONS[outcome(rec)]) if col == Column.STATE else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._palette_colors()[0] if outcome(rec) in FAILED_OUTCOMES else None
        if role == Qt.ItemDataRole.ForegroundRole:
            failed = col in (Column.STATE, Column.REASONS, Column.FILTERS) and outcome(rec) in FAILED_OUTCOMES
            return self._palette_colors()[1] if failed else None
        if role == Qt.ItemDataRole.FontRole and col in (Column.CREATED, Column.COMPLETED):
            return self._server_local_font(rec, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (Column.IMAGES, Column.DURATION):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return self._custom(rec, col, role)

    # --- internals -------------------------------------------------------------------------------

    def _custom(self, rec: JobRecord, col: int, role: int) -> Any:
        if role == Role.JOB_RECORD:
            return rec
        if role == Role.JOB_KEY:
            return rec.key
        if role == Role.STATE:
            return str(rec.status.job_state)
        if role == Role.IS_FAILED:
            return outcome(rec) in FAILED_OUTCOMES
        if role == Role.IS_ACTIVE:
            return not rec.is_terminal
        if role == Role.DEVICE:
            return rec.key.device
        if role == Role.CAN_CANCEL:
            return self._can_cancel(rec)
        if role == Role.SORT:
            key = self._primary_for(rec, col)
            if col == Column.FILTERS:
                return key[0] * 1_000_000 + key[1] * 1_000 + key[2]
            return key[0] if key else None
        if role == Role.FILTER_TEXT:
            return filter_text(rec, self.device_name(rec.key.device), outcome(rec) in FAILED_OUTCOMES)
        if role == Role.IS_VENDOR:
            return col == Column.STATE and is_vendor(Kind.JOB_STATE, rec.status.job_state)
        if role == Role.UTC_TEXT and col in (Column.CREATED, Column.COMPLETED):
            s = rec.status
            return fmt.format_utc(s.job_created_time if col == Column.CREATED else s.job_completed_time)
        return None

    def _display(self, rec: JobRecord, col: int) -> str | int:
        s = rec.status
        if col == Column.DEVICE:
            return self.device_name(rec.key.device)
        if col == Column.TOKEN:
            return s.job_token
        if col == Column.STATE:
            return str(s.job_state)
        if col == Column.REASONS:
            return ", ".join(map(str, s.job_state_reasons))
        if col == Column.IMAGES:
            return s.images_received
        if col == Column.CREATED:
            return fmt.format_local(s.job_created_time, compact=True)
        if col == Column.COMPLETED:
            return fmt.format_local(s.job_completed_time, compact=True)
        if col == Column.DURATION:
            return fmt.format_duration(rec.duration_s)
        return summary_text(s.filter_statuses, short=True)

    def _tooltip(self, rec: JobRecord, col: int) -> str | None:
        s = rec.status
        if col == Column.DEVICE:
            return f"{self.device_name(rec.key.device)}\n{rec.key.device}"
        if col == Column.TOKEN:
            return s.job_token
        if col == Column.STATE:
            return state_tooltip(s.job_state)
        if col == Column.REASONS:
            return reasons_tooltip(s.job_state_reasons) or None
        if col in (Column.CREATED, Column.COMPLETED):
            dt = s.job_created_time if col == Column.CREATED else s.job_completed_time
            if dt is None:
                return None
            return "\n".join((fmt.format_local(dt), fmt.format_utc(dt), fmt.format_sent(dt)))
        if col == Column.FILTERS:
            return filters_tooltip(s.filter_statuses)
        return None

    def _server_local_font(self, rec: JobRecord, col: int) -> QFont | None:
        dt = rec.status.job_created_time if col == Column.CREATED else rec.status.job_completed_time
        if dt is None or not fmt.is_server_local(dt):
            return None
        font = QFont()
        font.setItalic(True)
        return font

    def _palette_colors(self) -> tuple[QColor, QColor]:
        if self._colors is None:
            pal = QGuiApplication.palette()
            base = pal.color(QPalette.ColorRole.Base)
            dark = base.lightness() < 128
            red = QColor(255, 110, 100) if dark else QColor(176, 32, 24)
            tint = QColor(red)
            tint.setAlpha(48 if dark else 28)
            self._colors = (tint, red)
        return self._colors

    def _primary(self, rec: JobRecord) -> tuple[Any, ...]:
        return primary_key(rec, self._sort_column, self.device_name)

    def _primary_for(self, rec: JobRecord, column: int) -> tuple[Any, ...]:
        return primary_key(rec, column, self.device_name)

    def _pos(self, row: int) -> int:
        return len(self._recs) - 1 - row if self._descending else row

    def _row_of_pos(self, pos: int) -> int:
        return len(self._recs) - 1 - pos if self._descending else pos

    def _count(self, rec: JobRecord, sign: int) -> None:
        if not rec.is_terminal:
            self._active += sign
        if outcome(rec) in FAILED_OUTCOMES:
            self._failed += sign

    def _emit_counts(self) -> None:
        self.counts_changed.emit(len(self._recs), self._active, self._failed)

    def _store_sorted(self, keyed: list[tuple[tuple[Any, ...], JobRecord]]) -> None:
        keyed.sort(key=itemgetter(0))
        self._keys = [k for k, _ in keyed]
        self._recs = [r for _, r in keyed]
        self._keyof = {r.key: k for k, r in keyed}

    def _insert(self, recs: list[JobRecord]) -> None:
        items = []
        for rec in recs:
            self._seq[rec.key] = seq = self._next_seq
            self._next_seq += 1
            items.append(((*self._primary(rec), seq), rec))
            self._count(rec, +1)
        items.sort(key=itemgetter(0))
        runs: list[tuple[int, list[tuple[tuple[Any, ...], JobRecord]]]] = []
        for item in items:
            p = bisect_left(self._keys, item[0])
            if runs and runs[-1][0] == p:
                runs[-1][1].append(item)
            else:
                runs.append((p, [item]))
        for p, run in reversed(runs):  # from the end, so earlier positions stay valid
            n, k = len(self._recs), len(run)
            first = n - p if self._descending else p
            self.beginInsertRows(QModelIndex(), first, first + k - 1)
            self._keys[p:p] = [key for key, _ in run]
            self._recs[p:p] = [rec for _, rec in run]
            for key, rec in run:
                self._keyof[rec.key] = key
            self.endInsertRows()

    def _move(self, moved: list[tuple[JobKey, JobRecord, tuple[Any, ...]]]) -> None:
        for k, rec, new_key in moved:
            pos = bisect_left(self._keys, self._keyof[k])
            del self._keys[pos], self._recs[pos]
            p = bisect_left(self._keys, new_key)
            self._keys.insert(p, new_key)
            self._recs.insert(p, rec)
            self._keyof[k] = new_key

    def _relayout(self, change: Callable[[], None]) -> None:
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        saved = [(self._recs[self._pos(i.row())].key, i.column()) for i in persistent]
        change()
        new = [self.index(self._row_of(k), c) for k, c in saved]
        self.changePersistentIndexList(persistent, new)
        self.layoutChanged.emit()

    def _emit_changed_runs(self, rows: list[int]) -> None:
        last_col = len(Column) - 1
        start = prev = rows[0]
        for row in rows[1:]:
            if row - prev > 8:  # close rows share one signal; far ones get their own
                self.dataChanged.emit(self.index(start, 0), self.index(prev, last_col))
                start = row
            prev = row
        self.dataChanged.emit(self.index(start, 0), self.index(prev, last_col))
