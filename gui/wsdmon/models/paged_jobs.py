"""PagedJobModel: the job table read page by page from the store (issue 14, item 4), for a history too
large to hold (a million jobs): an alternative to JobTableModel + JobFilterProxyModel with the API
the window's widgets use of both (filters, sort, row_of, record, counts).

The model holds the number of matching rows and a few blocks of BLOCK_ROWS records (the ones the
view painted last, least recently used dropped first); a row outside them is fetched when the view
asks for it, synchronously on the GUI thread: a block costs one indexed query and the decoding of
its records (a few ms, bench/bench_paging.py measures it), less than handing it across threads.

Sort, filter and search changes and live changes re-count and drop the cached blocks; the view then
asks again for the rows it shows. They are a layout change, not a reset: the jobs behind persistent
indexes (the selection, the current row) are found at their new rows (store.job_pages position),
so the selection stays on its job. Live changes (`apply_changes` with the changed records, as the
bridge feeds JobTableModel, or `store_changed` for a "site X changed" notice) are coalesced for
REFRESH_MS.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
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

from wsdmon.core import JobKey, JobKind, JobRecord
from wsdmon.store.job_pages import JobFilter, JobPages, JobSort, Quick, SortKey

from . import format as fmt
from .devices import DeviceKind, DeviceRow
from .job_cells import ITEM_FLAGS, NCOLS, PAINT_ROLES, TOOLTIP, build_cells, cell_tooltip
from .job_columns import FAILED_OUTCOMES, HEADER_TIPS, HEADERS, Column, outcome, scalar_sort_value, sort_value
from .job_filter import QuickFilter
from .meanings import is_vendor, state_kind
from .palette import failure_colors
from .roles import Role

__all__ = ["BLOCK_ROWS", "CACHED_BLOCKS", "REFRESH_MS", "PagedJobModel"]

BLOCK_ROWS = 200  # rows per query: a few screens
CACHED_BLOCKS = 8  # blocks kept (least recently used dropped first)
REFRESH_MS = 100  # live changes coalesced this long before the model re-counts and re-reads

_CTX = "JobTableModel"
_Index = QModelIndex | QPersistentModelIndex
_USER = int(Qt.ItemDataRole.UserRole)
_ROLES = frozenset({*PAINT_ROLES, TOOLTIP, *map(int, Role)})
_QUICK = {
    QuickFilter.ALL: Quick.ALL,
    QuickFilter.ACTIVE: Quick.ACTIVE,
    QuickFilter.COMPLETED: Quick.COMPLETED,
    QuickFilter.FAILED: Quick.FAILED,
}
_SORT = {
    Column.DEVICE: SortKey.DEVICE,
    Column.TOKEN: SortKey.TOKEN,
    Column.STATE: SortKey.STATE,
    Column.REASONS: SortKey.REASONS,
    Column.IMAGES: SortKey.IMAGES,
    Column.CREATED: SortKey.CREATED,
    Column.COMPLETED: SortKey.COMPLETED,
    Column.DURATION: SortKey.DURATION,
    Column.FILTERS: SortKey.FILTERS,
    Column.KIND: SortKey.KIND,
}
_MISSING = object()


class PagedJobModel(QAbstractTableModel):
    """Jobs of a store as a table, a few blocks at a time (see the module docstring)."""

    counts_changed = Signal(int, int, int)  # total, active, failed (of the whole store or site)
    filter_changed = Signal()

    def __init__(
        self,
        pages: JobPages,
        device_lookup: Callable[[str], DeviceRow | None] | None = None,
        parent: QObject | None = None,
        *,
        known_devices: Callable[[], Iterable[str]] | None = None,
        site: str | None = None,
        refresh_ms: int = REFRESH_MS,
    ) -> None:
        super().__init__(parent)
        self._pages = pages
        self._lookup = device_lookup
        self._known = known_devices
        self._quick = QuickFilter.ALL
        self._device: str | None = None
        self._kind: JobKind | None = None
        self._search = ""
        self._site = site
        self._filter = JobFilter(site=site)
        self._sort_column = -1
        self._descending = False
        self._blocks: OrderedDict[int, list[JobRecord]] = OrderedDict()
        self._looks: dict[JobKey, tuple[JobRecord, tuple[dict[int, Any], ...]]] = {}
        self._colors: tuple[QColor, QColor] | None = None
        self._italic: QFont | None = None
        self._full: tuple[JobRecord, JobRecord] | None = None  # a page's record, and it with its timeline
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.flush)
        self.fetches = 0  # blocks read from the store (for tests and the bench)
        self._count = self._pages.count(self._filter)
        self._counts = self._pages.counts(site)

    # --- the proxy's API: filters ----------------------------------------------------------------

    def set_quick_filter(self, quick: QuickFilter) -> None:
        if quick is not self._quick:
            self._quick = quick
            self._refilter()

    def set_device_filter(self, endpoint: str | None) -> None:
        if endpoint != self._device:
            self._device = endpoint
            self._refilter()

    def set_kind_filter(self, kind: JobKind | None) -> None:
        if kind is not self._kind:
            self._kind = kind
            self._refilter()

    def set_search_text(self, text: str) -> None:
        """Case-insensitive substring of the job's words (store.job_index.search_text) or of its
        device's name."""
        if text != self._search:
            self._search = text
            self._refilter()

    def quick_filter(self) -> QuickFilter:
        return self._quick

    def device_filter(self) -> str | None:
        return self._device

    def kind_filter(self) -> JobKind | None:
        return self._kind

    def search_text(self) -> str:
        return self._search

    def _refilter(self) -> None:
        needle = self._search.casefold()
        named: tuple[str, ...] = ()
        if needle and self._known is not None:
            named = tuple(e for e in self._known() if needle in self.device_name(e).casefold())
        self._filter = JobFilter(
            quick=_QUICK[self._quick],
            device=self._device,
            kind=None if self._kind is None else self._kind.value,
            search=self._search,
            site=self._site,
            devices_named=named,
        )
        self._relayout()
        self.filter_changed.emit()

    # --- sorting ---------------------------------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        column = column if 0 <= column < len(Column) else -1
        descending = order == Qt.SortOrder.DescendingOrder
        if (column, descending) == (self._sort_column, self._descending):
            return
        self._sort_column, self._descending = column, descending
        self._relayout()

    def sort_column(self) -> int:
        return self._sort_column

    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder

    def _job_sort(self) -> JobSort:
        key = _SORT.get(Column(self._sort_column), SortKey.NONE) if self._sort_column >= 0 else SortKey.NONE
        return JobSort(key, self._descending, self.device_name)

    # --- live changes ----------------------------------------------------------------------------

    def apply_changes(self, records: Sequence[JobRecord]) -> None:
        """Jobs changed in the store (the bridge's batches): shown within the refresh interval."""
        if records and not self._timer.isActive():
            self._timer.start()

    def store_changed(self) -> None:
        """The store says a site's jobs changed (NOTIFY): re-read within the refresh interval."""
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Re-count and re-read now (what the refresh timer does)."""
        self._timer.stop()
        self._pages.changed()
        self._relayout()
        counts = self._pages.counts(self._site)  # the whole store's: a sort or filter leaves them
        if counts != self._counts:
            self._counts = counts
            self.counts_changed.emit(*counts)

    def remove_jobs(self, keys: Iterable[JobKey]) -> None:
        """Retention deleted jobs in the store: re-read."""
        if list(keys):
            self.flush()

    def set_records(self, records: Iterable[JobRecord]) -> None:
        """The history is the store's: a load only means that it may have changed."""
        self.flush()

    def set_selected_key(self, key: JobKey | None) -> None:
        """Kept for the window's API; a paged table does not pin the selected job in a quick filter."""

    def refresh_device_names(self) -> None:
        self._looks.clear()
        if self._sort_column == Column.DEVICE:
            self._relayout()
        elif self._count:
            self.dataChanged.emit(self.index(0, 0), self.index(self._count - 1, NCOLS - 1))

    def palette_changed(self) -> None:
        self._colors = None
        self._looks.clear()
        if self._count:
            self.dataChanged.emit(self.index(0, 0), self.index(self._count - 1, NCOLS - 1))

    def _relayout(self) -> None:
        """New filter, order or contents: re-count, drop the cached blocks, keep persistent indexes
        (selection, current row) on their jobs."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        keys = [(self._cached_key(i.row()), i.column()) for i in persistent]
        self._blocks.clear()
        self._count = self._pages.count(self._filter)
        flt, sort = self._filter, self._job_sort()
        new: list[QModelIndex] = []
        for key, col in keys:
            row = self._pages.position(key, flt, sort) if key is not None else None
            new.append(self.index(row, col) if row is not None and row < self._count else QModelIndex())
        self.changePersistentIndexList(persistent, new)
        self.layoutChanged.emit()

    def _cached_key(self, row: int) -> JobKey | None:
        block = self._blocks.get(row // BLOCK_ROWS)
        if block is None:
            rec = self._fetch(row)
            return None if rec is None else rec.key
        at = row % BLOCK_ROWS
        return block[at].key if at < len(block) else None

    # --- lookups (the proxy's and the model's API) -----------------------------------------------

    def record(self, row: int) -> JobRecord | None:
        """The job at a row, without its timeline (see `full_record`; Role.JOB_RECORD has it)."""
        return self._fetch(row) if 0 <= row < self._count else None

    def full_record(self, key: JobKey) -> JobRecord | None:
        """One job with its timeline, read from the store (the detail pane)."""
        return self._pages.record(key)

    def row_of(self, key: object) -> int | None:
        if not isinstance(key, JobKey):
            return None
        row = self._pages.position(key, self._filter, self._job_sort())
        return row if row is not None and row < self._count else None

    def source_index(self, index: QModelIndex) -> QModelIndex:
        return index

    def counts(self) -> tuple[int, int, int]:
        return self._counts

    def failed_since(self, cutoff: datetime) -> int:
        return self._pages.failed_since(cutoff.timestamp(), self._site)

    def finished_before(self, cutoff: datetime) -> list[JobKey]:
        """Nothing: the store applies retention to its own rows (the window then calls flush)."""
        return []

    def device_name(self, endpoint: str) -> str:
        row = self._lookup(endpoint) if self._lookup is not None else None
        return row.display_name if row is not None and row.name else endpoint

    # --- Qt overrides ----------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else NCOLS

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
        return ITEM_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid():
            return None
        rec = self._fetch(index.row())
        return None if rec is None else self._value(rec, index.column(), role)

    def multiData(self, index: _Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        rec = self._fetch(index.row()) if index.isValid() else None
        if rec is None:
            for item in roleDataSpan:  # type: ignore[union-attr]
                item.clearData()
            return
        cells = self._cells(rec)[index.column()]
        for item in roleDataSpan:  # type: ignore[union-attr]
            role = item.role()
            value = cells.get(role, _MISSING)
            if value is _MISSING:
                value = self._value(rec, index.column(), role) if role in _ROLES else None
            item.setData(value)

    # --- internals -------------------------------------------------------------------------------

    def _fetch(self, row: int) -> JobRecord | None:
        if not 0 <= row < self._count:
            return None
        n = row // BLOCK_ROWS
        block = self._blocks.get(n)
        if block is None:
            block = self._pages.page(self._filter, self._job_sort(), n * BLOCK_ROWS, BLOCK_ROWS)
            self.fetches += 1
            self._blocks[n] = block
            if len(self._blocks) > CACHED_BLOCKS:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(n)
        at = row % BLOCK_ROWS
        return block[at] if at < len(block) else None

    def _cells(self, rec: JobRecord) -> tuple[dict[int, Any], ...]:
        look = self._looks.get(rec.key)
        if look is not None and look[0] is rec:
            return look[1]
        if len(self._looks) >= CACHED_BLOCKS * BLOCK_ROWS:
            self._looks.clear()
        cells = build_cells(rec, self.device_name, self._palette_colors(), self._italic_font)
        self._looks[rec.key] = (rec, cells)
        return cells

    def _value(self, rec: JobRecord, col: int, role: int) -> Any:
        if role >= _USER:
            return self._custom(rec, col, role)
        if role == TOOLTIP:
            return cell_tooltip(rec, col, self.device_name)
        return self._cells(rec)[col].get(role)

    def _custom(self, rec: JobRecord, col: int, role: int) -> Any:
        if role == Role.JOB_RECORD:  # the detail pane's: with its timeline, read for this one job
            return self._with_timeline(rec)
        if role == Role.JOB_KEY:
            return rec.key
        if role == Role.STATE:
            return str(rec.status.job_state)
        if role == Role.IS_FAILED:
            return outcome(rec) in FAILED_OUTCOMES
        if role == Role.IS_ACTIVE:
            return rec.is_active
        if role == Role.DEVICE:
            return rec.key.device
        if role == Role.CAN_CANCEL:
            row = self._lookup(rec.key.device) if self._lookup is not None else None
            return rec.is_active and (row is None or row.kind is DeviceKind.SCAN_SERVER)
        if role == Role.SORT:
            return scalar_sort_value(sort_value(rec, col, self.device_name))
        if role == Role.IS_VENDOR:
            return col == Column.STATE and is_vendor(state_kind(rec.kind), rec.status.job_state)
        if role == Role.UTC_TEXT and col in (Column.CREATED, Column.COMPLETED):
            s = rec.status
            return fmt.format_utc(s.job_created_time if col == Column.CREATED else s.job_completed_time)
        return None

    def _with_timeline(self, rec: JobRecord) -> JobRecord:
        if self._full is None or self._full[0] is not rec:
            self._full = (rec, self._pages.record(rec.key) or rec)
        return self._full[1]

    def _italic_font(self) -> QFont:
        if self._italic is None:
            self._italic = QFont()
            self._italic.setItalic(True)
        return self._italic

    def _palette_colors(self) -> tuple[QColor, QColor]:
        if self._colors is None:
            self._colors = failure_colors(QGuiApplication.palette())
        return self._colors
