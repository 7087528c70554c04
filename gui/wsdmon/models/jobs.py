"""JobTableModel: one row per post-scan job, fed by the bridge with core JobRecords.

Live updates are cheap at 100,000 rows and 1,000 events/s because the model (not the proxy) keeps
the sort order. Every job gets an arrival sequence number `seq` once; per seq the model keeps the
latest record and its sort value in the current column, and `_order` lists the seqs sorted by
(sort value, seq). Finding a job is a bisect over `_order`; a new job lands at its sorted place with
one beginInsertRows per contiguous run (a single one in the usual case: sorted by time or by
arrival), and an update that keeps its place is only a dataChanged. Updates are coalesced:
`apply_changes` marks rows dirty and a short timer (or `flush`) emits dataChanged per contiguous
dirty run; only rows whose sort value moved cost a layout change. A re-sort computes one value per
row with one list comprehension (shared value objects, so no garbage-collector pass is triggered)
and sorts the seqs with that list's __getitem__ as the key: stable, so ties stay in arrival order.
The proxy in job_filter.py forwards sort() here, so QSortFilterProxyModel never calls back into
Python once per comparison.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QGuiApplication

from wsdmon.core import JobKey, JobRecord

from .bounded import make_room
from .device_key import endpoint_of, job_device_key
from .devices import DeviceKind, DeviceRow
from .job_cells import (
    ITEM_FLAGS,
    NCOLS,
    PAINT_ROLES,
    TOOLTIP,
    build_cells,
    cell_tooltip,
    header_data,
    record_role,
)
from .job_columns import (
    FAILED_OUTCOMES,
    Column,
    Outcome,
    outcome,
    sort_value,
    sort_values,
)
from .job_text import filter_text
from .palette import failure_colors
from .roles import Role

__all__ = ["ITEM_FLAGS", "Column", "DeviceLookup", "JobTableModel", "Outcome", "outcome"]

DeviceLookup = Callable[[str], DeviceRow | None]
_Index = QModelIndex | QPersistentModelIndex
_CTX = "JobTableModel"

_ROLES = frozenset({*PAINT_ROLES, TOOLTIP, *map(int, Role)})
_USER = int(Qt.ItemDataRole.UserRole)
_LOOKS_MAX = 1024  # rows whose cells are cached: a few screens' worth (the older half go when full)
_MISSING = object()
# A few moved rows go as remove + insert (about 1 ms each at 100,000 rows through the proxy and the
# view); more go as one layout change (about 4 ms at 100,000 rows, however many moved).
MOVES_AS_ROWS_MAX = 3


class _Look:
    """What a repaint asks of one row, computed once per record (records are immutable): per
    column, the value of every role a delegate paints with (absent = None)."""

    __slots__ = ("cells", "outcome", "rec")

    def __init__(self, rec: JobRecord, cells: tuple[dict[int, Any], ...]) -> None:
        self.rec = rec
        self.cells = cells
        self.outcome = outcome(rec)


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
        self._recs: list[JobRecord] = []  # by seq: the latest record of each job
        self._values: list[Any] = []  # by seq: its sort value in the current sort column
        # seqs ascending by (sort value, seq); rows read it from the end when descending
        self._order: list[int] = []
        self._seq: dict[JobKey, int] = {}
        self._pending: dict[JobKey, JobRecord] = {}
        self._sort_column = -1
        self._descending = False
        self._active = self._failed = 0
        self._failed_at: list[datetime] = []  # last updates of the failed jobs, sorted (failed_since)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(update_interval_ms)
        self._timer.timeout.connect(self.flush)
        self._colors: tuple[QColor, QColor] | None = None
        self._looks: dict[int, _Look] = {}
        self._italic: QFont | None = None
        self._selected: JobKey | None = None

    # --- the bridge's API ------------------------------------------------------------------------

    def apply_changes(self, records: Sequence[JobRecord], *, now: bool = False) -> None:
        """New jobs are inserted now (one beginInsertRows per contiguous run). Updates are shown now
        when `now` (the bridge's batch is the one coalescing step between the feed and the table),
        else coalesced and shown by the next `flush` (the update timer calls it within
        `update_interval_ms`, for callers that do not batch)."""
        new: dict[JobKey, JobRecord] = {}
        for rec in records:
            if rec.key in self._seq:
                self._pending[rec.key] = rec
            else:
                new[rec.key] = rec
        if new:
            self._insert(list(new.values()))
            if not now or not self._pending:
                self._emit_counts()
        if now:
            self.flush()
        elif self._pending and not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Show every coalesced update now: dataChanged per dirty run, a layout change if rows moved."""
        self._timer.stop()
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        values, order, key = self._values, self._order, self._key
        moved: list[tuple[int, Any]] = []
        seqs: list[int] = []
        last = len(order) - 1
        for k, rec in pending.items():
            seq = self._seq.get(k)
            if seq is None:  # removed meanwhile
                continue
            seqs.append(seq)
            self._count(self._recs[seq], -1)
            self._count(rec, +1)
            self._recs[seq] = rec
            new = sort_value(rec, self._sort_column, self.device_name)
            if new == values[seq]:
                continue  # the usual case: its place is unchanged
            pos = bisect_left(order, (values[seq], seq), key=key)
            new_key = (new, seq)
            if (pos == 0 or key(order[pos - 1]) < new_key) and (pos == last or new_key < key(order[pos + 1])):
                values[seq] = new
            else:
                moved.append((seq, new))
        if moved:
            self._move(moved)
        if seqs:
            self._emit_changed_runs(sorted(map(self._row_of_seq, seqs)))
        self._emit_counts()

    def set_records(self, records: Iterable[JobRecord]) -> None:
        """Replace everything (history load): one model reset."""
        self.beginResetModel()
        self._timer.stop()
        self._pending.clear()
        self._looks.clear()
        self._recs = list({rec.key: rec for rec in records}.values())
        self._seq = {rec.key: seq for seq, rec in enumerate(self._recs)}
        self._active = self._failed = 0
        self._failed_at.clear()
        for rec in self._recs:
            self._count(rec, +1)
        self._resort()
        self.endResetModel()
        self._emit_counts()

    def set_selected_key(self, key: JobKey | None) -> None:
        """The job the view has selected. When a few jobs' sort values change so that they must
        move, the model removes and re-inserts their rows: the proxy then re-filters only those rows
        (a layout change makes it re-filter every row). The selected job moves with a layout change
        instead, so that the selection follows it. The selected job is also pinned in the proxy's
        quick filters (job_text.FLAG_PINNED): its filter text changes, so both rows are announced."""
        if key == self._selected:
            return
        old, self._selected = self._selected, key
        for k in (old, key):
            row = self.row_of(k) if k is not None else None
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, 0), [int(Role.FILTER_TEXT)])

    def remove_jobs(self, keys: Iterable[JobKey]) -> None:
        """Drop jobs (retention): one beginRemoveRows per contiguous run of rows, from the bottom up."""
        self.flush()
        gone = {self._seq[k] for k in set(keys) if k in self._seq}
        if not gone:
            return
        rows = sorted(map(self._row_of_seq, gone), reverse=True)
        runs: list[list[int]] = []
        for row in rows:
            if runs and runs[-1][-1] == row + 1:
                runs[-1].append(row)
            else:
                runs.append([row])
        for run in runs:
            first, last = run[-1], run[0]
            self.beginRemoveRows(QModelIndex(), first, last)
            lo, hi = (
                (len(self._order) - 1 - last, len(self._order) - 1 - first)
                if self._descending
                else (first, last)
            )
            del self._order[lo : hi + 1]
            self.endRemoveRows()
        # Renumber the survivors (arrival order is kept), so seqs stay dense list indexes.
        renumber: dict[int, int] = {}
        recs: list[JobRecord] = []
        values: list[Any] = []
        for seq, rec in enumerate(self._recs):
            if seq in gone:
                self._count(rec, -1)
                del self._seq[rec.key]
                continue
            renumber[seq] = len(recs)
            self._seq[rec.key] = len(recs)
            recs.append(rec)
            values.append(self._values[seq])
        self._recs, self._values = recs, values
        self._order = [renumber[seq] for seq in self._order]
        self._looks.clear()
        self._emit_counts()

    def refresh_device_names(self) -> None:
        """Device names changed (a device answered its metadata): repaint or re-sort the Device column."""
        self._looks.clear()
        if not self._recs:
            return
        if self._sort_column == Column.DEVICE:
            self.flush()
            self._relayout(self._resort)
        else:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._recs) - 1, 0))

    def palette_changed(self) -> None:
        """The palette changed (dark mode switched): recompute failure colours and repaint."""
        self._colors = None
        self._looks.clear()
        if self._recs:
            last = self.index(len(self._recs) - 1, len(Column) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    # --- lookups ---------------------------------------------------------------------------------

    def record(self, row: int) -> JobRecord:
        return self._recs[self._order[self._pos(row)]]

    def row_of(self, key: JobKey) -> int | None:
        """The row of a job, or None when the model does not hold it."""
        seq = self._seq.get(key)
        return None if seq is None else self._row_of_seq(seq)

    def finished_before(self, cutoff: datetime) -> list[JobKey]:
        """Jobs no longer active whose last update is older than `cutoff` (retention)."""
        return [r.key for r in self._recs if not r.is_active and r.last_update < cutoff]

    def failed_since(self, cutoff: datetime) -> int:
        """How many finished jobs failed at or after `cutoff` (their last update): the status bar's
        "Failed (24 h)", as a whole history's count says little about today."""
        return len(self._failed_at) - bisect_left(self._failed_at, cutoff)

    def counts(self) -> tuple[int, int, int]:
        """(jobs, active jobs, failed jobs)."""
        return len(self._recs), self._active, self._failed

    def sort_column(self) -> int:
        return self._sort_column

    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder

    def device_name(self, key: str) -> str:
        """The name shown for a device key (device_key.py; a single PC's: the endpoint)."""
        row = self._lookup(key) if self._lookup is not None else None
        return row.display_name if row is not None and row.name else endpoint_of(key)

    def _can_cancel(self, rec: JobRecord) -> bool:
        if not rec.is_active:
            return False
        row = self._lookup(job_device_key(rec.key)) if self._lookup is not None else None
        return row is None or row.kind is DeviceKind.SCAN_SERVER

    # --- Qt overrides ----------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else NCOLS

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return header_data(section, orientation, role)

    # No flags() here: QAbstractTableModel's answers ITEM_FLAGS (enabled, selectable, never has
    # children) in C++, and a repaint asks it once per cell.

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort in place; persistent indexes follow their jobs. The rows are always kept sorted, so
        sorting again by the same column and order costs nothing, and the other order of the same
        column is only a layout change (the rows are read from the other end)."""
        self.flush()
        column = column if 0 <= column < len(Column) else -1
        descending = order == Qt.SortOrder.DescendingOrder
        if column == self._sort_column:
            if descending != self._descending:
                self._relayout(lambda: setattr(self, "_descending", descending))
            return

        def resort() -> None:
            self._sort_column = column
            self._descending = descending
            self._resort()

        self._relayout(resort)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid():
            return None
        return self._value(self._order[self._pos(index.row())], index.column(), role)

    def multiData(
        self,
        index: _Index,
        roleDataSpan: QModelRoleDataSpan | QModelRoleData,
    ) -> None:
        """All the roles a delegate asks for one cell in one call (Qt 6's QStyledItemDelegate asks
        seven): one crossing into Python per painted cell instead of seven."""
        if not index.isValid():
            for item in roleDataSpan:  # type: ignore[union-attr]
                item.clearData()
            return
        self.fill_cell(index.row(), index.column(), roleDataSpan)

    def paint_cell(self, row: int, col: int) -> dict[int, Any]:
        """What a repaint shows in one cell of a valid (row, column): role → value of the painted
        roles (job_cells.build_cells; absent = None). The job table's delegate reads it directly."""
        return self.paint_row(row)[col]

    def paint_row(self, row: int) -> Sequence[dict[int, Any]]:
        """The painted roles of every cell of a valid row, by column (the job table paints a plain
        row from them in one pass: JobTableView)."""
        seq = self._order[self._pos(row)]
        rec = self._recs[seq]
        look = self._looks.get(seq)
        if look is None or look.rec is not rec:
            look = self._look(seq, rec)
        return look.cells

    def fill_cell(self, row: int, col: int, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """multiData for a valid (row, column); the proxy calls it directly when it does not filter."""
        seq = self._order[self._pos(row)]
        rec = self._recs[seq]
        look = self._looks.get(seq)
        if look is None or look.rec is not rec:
            look = self._look(seq, rec)
        cell = look.cells[col]
        for item in roleDataSpan:  # type: ignore[union-attr]
            role = item.role()
            value = cell.get(role, _MISSING)
            if value is _MISSING:
                value = self._value(seq, col, role) if role in _ROLES else None
            item.setData(value)

    def _value(self, seq: int, col: int, role: int) -> Any:
        rec = self._recs[seq]
        if role >= _USER:
            return self._custom(rec, col, role)
        if role == TOOLTIP:
            return cell_tooltip(rec, col, self.device_name)
        look = self._looks.get(seq)
        if look is None or look.rec is not rec:
            look = self._look(seq, rec)
        return look.cells[col].get(role)

    # --- internals -------------------------------------------------------------------------------

    def _custom(self, rec: JobRecord, col: int, role: int) -> Any:
        if role == Role.JOB_RECORD:
            return rec
        if role == Role.CAN_CANCEL:
            return self._can_cancel(rec)
        if role == Role.FILTER_TEXT:
            failed, pinned = outcome(rec) in FAILED_OUTCOMES, rec.key == self._selected
            return filter_text(rec, self.device_name(job_device_key(rec.key)), failed, pinned=pinned)
        return record_role(rec, col, role, self.device_name)

    def _look(self, seq: int, rec: JobRecord) -> _Look:
        # Its last look (the looks go when names or palette change), out of the cache: the new one
        # goes in as the newest.
        before = self._looks.pop(seq, None)
        make_room(self._looks, _LOOKS_MAX)
        previous = None if before is None else (before.rec, before.outcome, before.cells)
        cells = build_cells(rec, self.device_name, self._palette_colors(), self._italic_font, previous)
        look = self._looks[seq] = _Look(rec, cells)
        return look

    def _italic_font(self) -> QFont:
        if self._italic is None:
            self._italic = QFont()
            self._italic.setItalic(True)
        return self._italic

    def _palette_colors(self) -> tuple[QColor, QColor]:
        if self._colors is None:
            self._colors = failure_colors(QGuiApplication.palette())
        return self._colors

    def _key(self, seq: int) -> tuple[Any, int]:
        """The full sort key of a job: (its sort value, its arrival sequence)."""
        return (self._values[seq], seq)

    def _resort(self) -> None:
        self._values = sort_values(self._recs, self._sort_column, self.device_name)
        self._order = sorted(range(len(self._recs)), key=self._values.__getitem__)  # stable: seq breaks ties

    def _row_of_seq(self, seq: int) -> int:
        return self._row_of_pos(bisect_left(self._order, self._key(seq), key=self._key))

    def _pos(self, row: int) -> int:
        return len(self._order) - 1 - row if self._descending else row

    def _row_of_pos(self, pos: int) -> int:
        return len(self._order) - 1 - pos if self._descending else pos

    def _count(self, rec: JobRecord, sign: int) -> None:
        if rec.is_active:
            self._active += sign
        elif outcome(rec) in FAILED_OUTCOMES:  # as the Failed quick filter: finished jobs only
            self._failed += sign
            if sign > 0:
                insort(self._failed_at, rec.last_update)
            else:
                i = bisect_left(self._failed_at, rec.last_update)
                if i < len(self._failed_at) and self._failed_at[i] == rec.last_update:
                    del self._failed_at[i]

    def _emit_counts(self) -> None:
        self.counts_changed.emit(len(self._order), self._active, self._failed)

    def _insert(self, recs: list[JobRecord]) -> None:
        first_seq = len(self._recs)
        for rec in recs:
            self._seq[rec.key] = len(self._recs)
            self._recs.append(rec)
            self._count(rec, +1)
        self._values += sort_values(recs, self._sort_column, self.device_name)
        new = sorted(range(first_seq, len(self._recs)), key=self._key)
        runs: list[tuple[int, list[int]]] = []
        order, key = self._order, self._key
        for seq in new:
            p = bisect_left(order, key(seq), key=key)
            if runs and runs[-1][0] == p:
                runs[-1][1].append(seq)
            else:
                runs.append((p, [seq]))
        for p, run in reversed(runs):  # from the end, so earlier positions stay valid
            n, k = len(order), len(run)
            first = n - p if self._descending else p
            self.beginInsertRows(QModelIndex(), first, first + k - 1)
            order[p:p] = run
            self.endInsertRows()

    def _move(self, moved: list[tuple[int, Any]]) -> None:
        """Give moved jobs their new sort values and places (see set_selected_key)."""
        selected = self._seq.get(self._selected) if self._selected is not None else None
        held = {self._order[self._pos(i.row())] for i in self.persistentIndexList()}
        if selected is not None:
            held.add(selected)
        if len(moved) > MOVES_AS_ROWS_MAX or any(seq in held for seq, _ in moved):
            self._relayout(lambda: self._reinsert(moved, signal=False))
        else:
            self._reinsert(moved, signal=True)

    def _reinsert(self, moved: list[tuple[int, Any]], *, signal: bool) -> None:
        order, key = self._order, self._key
        for seq, new in moved:
            pos = bisect_left(order, key(seq), key=key)
            if signal:
                row = self._row_of_pos(pos)
                self.beginRemoveRows(QModelIndex(), row, row)
            del order[pos]
            if signal:
                self.endRemoveRows()
            self._values[seq] = new
            pos = bisect_left(order, key(seq), key=key)
            if signal:
                row = len(order) - pos if self._descending else pos
                self.beginInsertRows(QModelIndex(), row, row)
            order.insert(pos, seq)
            if signal:
                self.endInsertRows()

    def _relayout(self, change: Callable[[], None]) -> None:
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        saved = [(self._order[self._pos(i.row())], i.column()) for i in persistent]
        change()
        new = [self.index(self._row_of_seq(seq), c) for seq, c in saved]
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
