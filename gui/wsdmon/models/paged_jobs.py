"""PagedJobModel: the job table read page by page from the store (issue 14, item 4), for a history too
large to hold (a million jobs): an alternative to JobTableModel + JobFilterProxyModel with the API
the window's widgets use of both (filters, sort, row_of, record, counts).

The model holds the number of matching rows and a few blocks of BLOCK_ROWS records (the ones the
view painted last, least recently used dropped first); a row outside them is fetched when the view
asks for it, synchronously on the GUI thread: a block costs one indexed query and the decoding of
its records (a few ms, bench/bench_paging.py measures it), less than handing it across threads.

Counting every job a filter matches can take longer than the table may (a search matching 125,409
of a million jobs: 0.5-0.8 s): the model counts up to FIRST_COUNT_ROWS at once and shows those rows
(the filter line says "more than N jobs"), and the exact number is counted on a thread of its own
(store.job_pages count_later); when it is known the rows beyond grow in (rowsInserted) and
`matches_changed` says so. The status bar's total is counted the same way when a filter hides it.

Sort, filter and search changes and live changes re-count and drop the cached blocks; the view then
asks again for the rows it shows. They are a layout change, not a reset: the jobs behind persistent
indexes (the selection, the current row) are found at their new rows (store.job_pages position),
so the selection stays on its job. Live changes (`apply_changes` with the changed records, as the
bridge feeds JobTableModel, or `store_changed` for a "site X changed" notice) are coalesced for
REFRESH_MS.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

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

from wsdmon.core import JobKey, JobKind, JobRecord
from wsdmon.store.job_pages import JobFilter, JobPages, JobSort, Quick, SortKey
from wsdmon.store.port import StoreError

from .bounded import make_room
from .device_key import device_key, endpoint_of, job_device_key, site_of
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
from .job_columns import Column, outcome
from .job_filter import QuickFilter
from .paged_export import ExportRows, export_rows, relay
from .palette import failure_colors
from .roles import Role

__all__ = [
    "BLOCK_ROWS",
    "CACHED_BLOCKS",
    "FIRST_COUNT_ROWS",
    "JOB_WRITE_LAG_MS",
    "REFRESH_MS",
    "ExportRows",
    "PagedJobModel",
]

BLOCK_ROWS = 200  # rows per query: a few screens
CACHED_BLOCKS = 8  # blocks kept (least recently used dropped first)
# Rows counted at once after a filter, search or live change (an index walk of this many entries:
# a few ms); more are counted off the GUI thread meanwhile.
FIRST_COUNT_ROWS = 1_000
# Live changes coalesced this long before the model re-counts and re-reads: at most 20 re-reads a
# second under a burst (at 100 ms, notify-to-visible-row p99 through PostgreSQL was 257-270 ms at
# 1,000 notifications/s; at 50 ms 249-256 ms for 2 % more of the GUI thread: bench_latency_pg.py).
REFRESH_MS = 50
# The engine writes folded jobs every JOB_FLUSH_INTERVAL_S (2 s, net/engine.py): re-read once more
# after that, so that a job the bridge announced before the store had it appears.
JOB_WRITE_LAG_MS = 2500
# A snapshot of the store is renewed at least this often, though nobody said that jobs changed: an
# open read transaction holds back sqlite's WAL checkpoints and PostgreSQL's vacuum meanwhile.
SNAPSHOT_MAX_MS = 60_000

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
    Column.SITE: SortKey.SITE,
}
_MISSING = object()
_FAILED = object()  # what _store gives the snapshot call when it failed
_T = TypeVar("_T")
_D = TypeVar("_D")
_log = logging.getLogger(__name__)


class PagedJobModel(QAbstractTableModel):
    """Jobs of a store as a table, a few blocks at a time (see the module docstring)."""

    counts_changed = Signal(int, int, int)  # total, active, failed (of the whole store or site)
    matches_changed = Signal()  # the rows matching the filter, or whether that count is exact
    store_error = Signal(str)  # why the store cannot be read (for the status bar), once per reason
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
        write_lag_ms: int = JOB_WRITE_LAG_MS,
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
        self._timer.timeout.connect(self._refresh)
        self._refreshed = 0.0  # time.monotonic() of the last re-read
        # Whether the live changes since the last re-read may have added jobs (else the rows of a
        # filter that a job's changes cannot move in or out of it are as many as before).
        self._recount_due = False
        self._refresh_ms = refresh_ms
        self._lag_timer = QTimer(self)
        self._lag_timer.setSingleShot(True)
        self._lag_timer.setInterval(write_lag_ms)
        self._lag_timer.timeout.connect(self._after_lag)
        # Records the bridge gave that the store may not hold yet, newest per job (see apply_changes).
        self._overlay: dict[JobKey, JobRecord] = {}
        self._overlay_at: dict[JobKey, float] = {}  # when the bridge gave it (time.monotonic)
        self._kept: dict[int, JobKey] = {}  # persistent indexes' jobs whose blocks were dropped
        self.fetches = 0  # blocks read from the store (for tests and the bench)
        self._snapshot_timer = QTimer(self)
        self._snapshot_timer.setSingleShot(True)
        self._snapshot_timer.setInterval(SNAPSHOT_MAX_MS)
        self._snapshot_timer.timeout.connect(self.flush)
        self._error = ""
        self._count = 0
        self._exact = True  # whether _count is every matching job (else: at least that many)
        self._recent = False  # an inexact _count that is the exact count of a moment ago
        self._counted_filter: JobFilter | None = None  # the filter _count is of
        self._counts = (0, 0, 0)
        self._counts_exact = True  # whether _counts' total is the store's (else: still counted)
        self._relay = relay()
        if self._store(self._pages.snapshot, _FAILED) is not _FAILED:
            self._snapshot_timer.start()
            self._recount()
            self._counts = self._store(self._read_counts, (0, 0, 0))

    # --- the proxy's API: filters ----------------------------------------------------------------

    def set_quick_filter(self, quick: QuickFilter) -> None:
        if quick is not self._quick:
            self._quick = quick
            self._refilter()

    def set_device_filter(self, endpoint: str | None) -> None:
        """A device's key (models/device_key.py: its endpoint, or site and endpoint in a view of a
        shared store, where the device filter also keeps to the device's site); None for all."""
        if endpoint != self._device:
            self._device = endpoint
            self._refilter()

    def set_site_filter(self, site: str | None) -> None:
        """Only jobs seen by one site's collector; None for every site (a shared store)."""
        if site != self._site:
            self._site = site
            self._refilter()

    def site_filter(self) -> str | None:
        return self._site

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
            named = tuple(endpoint_of(k) for k in self._known() if needle in self.device_name(k).casefold())
        device_site = site_of(self._device) if self._device is not None else ""
        self._filter = JobFilter(
            quick=_QUICK[self._quick],
            device=None if self._device is None else endpoint_of(self._device),
            kind=None if self._kind is None else self._kind.value,
            search=self._search,
            site=device_site or self._site,
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
        self._relayout(recount=False)  # the same jobs in another order

    def sort_column(self) -> int:
        return self._sort_column

    def sort_order(self) -> Qt.SortOrder:
        return Qt.SortOrder.DescendingOrder if self._descending else Qt.SortOrder.AscendingOrder

    def _job_sort(self) -> JobSort:
        key = _SORT.get(Column(self._sort_column), SortKey.NONE) if self._sort_column >= 0 else SortKey.NONE
        return JobSort(key, self._descending, self._endpoint_name)

    def _endpoint_name(self, endpoint: str, site: str) -> str:
        """The Device sort's name of an endpoint seen by a site (keyed as the device list keys it)."""
        return self.device_name(device_key(endpoint, site))

    # --- counting --------------------------------------------------------------------------------

    def matched(self) -> tuple[int, bool]:
        """(rows matching the filter, whether that is all of them): (1000, False) is "more than
        1,000 jobs" while the exact count is made off the GUI thread; see `count_is_recent`."""
        return self._count, self._exact

    def count_is_recent(self) -> bool:
        """Whether an inexact count is the exact one of a moment ago (a live re-read keeps the rows
        counted before, "about N jobs", until the store's new state is counted), not a lower bound."""
        return self._recent

    def _recount(self, *, renew: bool = False) -> None:
        """The rows matching the filter: up to FIRST_COUNT_ROWS now, the exact number later. A live
        re-read (`renew`) of the same filter keeps the count it had (the scroll range stays) until
        the new one is known, rather than falling back to FIRST_COUNT_ROWS at each change."""
        flt = self._filter
        kept = (
            self._count if renew and flt == self._counted_filter and (self._exact or self._recent) else None
        )
        n, exact = self._store(
            lambda: self._pages.count_upto(flt, FIRST_COUNT_ROWS), (self._count, self._exact)
        )
        self._recent = not exact and kept is not None and kept > n
        self._count, self._exact = (kept, False) if self._recent and kept is not None else (n, exact)
        self._counted_filter = flt
        if not exact:
            self._count_later("rows", flt)

    def _count_later(self, purpose: str, flt: JobFilter) -> None:
        ref = weakref.ref(self)
        relay = self._relay

        def done(token: int, n: int | None) -> None:  # on the counting thread: to the GUI thread
            relay.counted.emit((ref, purpose, token, flt, n))

        self._store(lambda: self._pages.count_later(purpose, flt, done), 0)

    def _on_counted(self, purpose: str, token: int, flt: JobFilter, n: int | None) -> None:
        """An exact count made off the GUI thread (on it now)."""
        if n is None:
            return  # failed (logged)
        if not self._store(lambda: self._pages.accept_count(token, flt, n), False):
            # Of an older snapshot (live changes came meanwhile): a newer count is on its way; the
            # rows kept from before a live re-read take this more recent number meanwhile.
            if purpose == "rows" and flt == self._filter and self._recent and n != self._count:
                self._resize(n)
                self.matches_changed.emit()
            return
        if purpose == "rows" and flt == self._filter and not self._exact:
            self._recent = False
            self._resize(n)
            self._exact = True
            self.matches_changed.emit()
        if flt == JobFilter(site=self._site) and (purpose == "total" or not self._counts_exact):
            counts = self._store(self._read_counts, self._counts)
            if counts != self._counts:
                self._counts = counts
                self.counts_changed.emit(*counts)

    def _resize(self, n: int) -> None:
        """The rows beyond the first ones counted grow in (or go: a count made in sqlite's journal as
        it is then, or kept from before a live re-read)."""
        if n > self._count:
            self.beginInsertRows(QModelIndex(), self._count, n - 1)
            self._count = n
            self.endInsertRows()
        elif n < self._count:
            self.beginRemoveRows(QModelIndex(), n, self._count - 1)
            self._count = n
            self._blocks.clear()
            self.endRemoveRows()

    # --- live changes ----------------------------------------------------------------------------

    def apply_changes(self, records: Sequence[JobRecord], *, now: bool = False) -> None:
        """Jobs changed (the bridge's batches, as JobTableModel gets them). A job on a cached row is
        shown at once, and stays so until the store holds that update (the engine writes folded jobs
        every JOB_WRITE_LAG_MS); the store is re-read within the refresh interval and once more after
        that lag, so that new jobs and moved rows appear. (`now`: JobTableModel's; here cached
        rows are always shown at once.)"""
        if not records:
            return
        self._recount_due = True
        at = time.monotonic()
        for rec in records:
            self._overlay[rec.key] = rec
            self._overlay_at[rec.key] = at
        changed: list[int] = []
        for n, block in self._blocks.items():
            for i, old in enumerate(block):
                new = self._overlay.get(old.key)
                if new is not None and new is not old:
                    block[i] = new
                    changed.append(n * BLOCK_ROWS + i)
        for row in changed:
            self.dataChanged.emit(self.index(row, 0), self.index(row, NCOLS - 1))
        if not self._timer.isActive():
            self._timer.start(self._refresh_ms)
        if not self._lag_timer.isActive():
            self._lag_timer.start()

    def _after_lag(self) -> None:
        """The store holds what the bridge gave before the lag: forget it (bounds the overlay), re-read."""
        stale = time.monotonic() - self._lag_timer.interval() / 1000
        for key in [k for k, at in self._overlay_at.items() if at <= stale]:
            del self._overlay_at[key]
            self._overlay.pop(key, None)
        self.flush()
        if self._overlay:
            self._lag_timer.start()

    def store_changed(self, added: bool = True) -> None:
        """The store says a site's jobs changed (NOTIFY): re-read at once after a quiet spell, else
        REFRESH_MS after the last re-read (a burst costs at most one re-read per interval, and a lone
        change waits for none). `added` False: the store said that no job was added, so the rows are
        not counted again unless the filter is on what changes in a job (state, words)."""
        self._recount_due = self._recount_due or added
        if not self._timer.isActive():
            since_ms = (time.monotonic() - self._refreshed) * 1e3
            self._timer.start(max(0, int(self._refresh_ms - since_ms)))  # start(ms) sets the interval

    def flush(self) -> None:
        """Re-count and re-read now."""
        self._recount_due = True
        self._refresh()

    def _refresh(self) -> None:
        """Re-read now (the refresh timer): re-count only when jobs may have been added, or the
        filter keeps jobs by what changes in them (a quick filter on their state, a search of their
        words); a count of a million rows costs more than the rest of a refresh."""
        self._timer.stop()
        self._refreshed = time.monotonic()
        flt = self._filter
        recount = self._recount_due or flt.quick is not Quick.ALL or bool(flt.search)
        self._recount_due = False
        self._relayout(renew=True, recount=recount)
        counts = self._store(self._read_counts, self._counts)  # a sort or filter leaves them
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
            self._relayout(recount=False)
        elif self._count:
            self.dataChanged.emit(self.index(0, 0), self.index(self._count - 1, NCOLS - 1))

    def palette_changed(self) -> None:
        self._colors = None
        self._looks.clear()
        if self._count:
            self.dataChanged.emit(self.index(0, 0), self.index(self._count - 1, NCOLS - 1))

    def _relayout(self, *, recount: bool = True, renew: bool = False) -> None:
        """New filter, order or contents: re-count (unless only the order changed), drop the cached
        blocks, keep persistent indexes (selection, current row) on their jobs. `renew`: read the
        store as it is now (a new snapshot: live changes); else the rows are of the same snapshot,
        so the jobs behind the persistent indexes are found in the state the view showed."""
        # The jobs the view shows at the persistent rows, read before a new snapshot could move them.
        shown = {i.row(): self._kept_key(i.row()) for i in self.persistentIndexList()}
        if renew:
            # Without a re-count the filter's count is the same in the new snapshot: kept there, if
            # it is exact (a first count up to FIRST_COUNT_ROWS is not: counted again).
            recount = recount or not self._exact
            renewed = (
                self._pages.snapshot if recount else partial(self._pages.snapshot, self._filter, self._count)
            )
            if self._store(renewed, _FAILED) is _FAILED:
                return  # the store cannot be read: keep showing what was read (store_error said why)
            self._snapshot_timer.start()
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()  # now with the selection model's saved indexes
        keys = [
            (shown[i.row()] if i.row() in shown else self._kept_key(i.row()), i.column()) for i in persistent
        ]
        self._blocks.clear()
        self._kept.clear()
        before = (self._count, self._exact)
        if recount:
            self._recount(renew=renew)
        flt, sort = self._filter, self._job_sort()
        new: list[QModelIndex] = []

        def position(key: JobKey) -> int | None:
            return self._pages.position(key, flt, sort)

        rows: dict[JobKey, int | None] = {}  # a selected row has an index per column: one query
        for key, col in keys:
            if key is not None and key not in rows:
                rows[key] = self._store(partial(position, key), None)
            row = rows[key] if key is not None else None
            if row is not None and row < self._count and key is not None:
                self._kept[row] = key
                new.append(self.index(row, col))
            else:
                new.append(QModelIndex())
        self.changePersistentIndexList(persistent, new)
        self.layoutChanged.emit()
        if (self._count, self._exact) != before:
            self.matches_changed.emit()

    def _kept_key(self, row: int) -> JobKey | None:
        """The job at a persistent index's row as the view knows it: from the cached blocks, or kept
        when its block was dropped (re-reading the store might give the job that is there now)."""
        block = self._blocks.get(row // BLOCK_ROWS)
        if block is not None:
            at = row % BLOCK_ROWS
            return block[at].key if at < len(block) else None
        if row in self._kept:
            return self._kept[row]
        rec = self._fetch(row)
        return None if rec is None else rec.key

    # --- lookups (the proxy's and the model's API) -----------------------------------------------

    def record(self, row: int) -> JobRecord | None:
        """The job at a row, without its timeline (see `full_record`; Role.JOB_RECORD has it)."""
        return self._fetch(row) if 0 <= row < self._count else None

    def full_record(self, key: JobKey) -> JobRecord | None:
        """One job with its timeline, read from the store (the detail pane)."""
        return self._store(lambda: self._pages.record(key), None)

    def row_of(self, key: object) -> int | None:
        """The row of a job: from the cached blocks when it is there (the rows in view, no query),
        else asked of the store (a count up to its row: costs more the further down it is)."""
        if not isinstance(key, JobKey):
            return None
        for n, block in self._blocks.items():
            for i, rec in enumerate(block):
                if rec.key == key:
                    return n * BLOCK_ROWS + i
        row = self._store(lambda: self._pages.position(key, self._filter, self._job_sort()), None)
        return row if row is not None and row < self._count else None

    def export_rows(self, *, timeline: bool) -> ExportRows:
        """The rows shown (filter and order), for File ▸ Export table… (models.paged_export)."""
        keys = list(self._known()) if self._known is not None else []
        return export_rows(
            self._pages, self._filter, self._job_sort(), self._count, keys, self.device_name, timeline
        )

    def source_index(self, index: QModelIndex) -> QModelIndex:
        return index

    def counts(self) -> tuple[int, int, int]:
        return self._counts

    def failed_since(self, cutoff: datetime) -> int:
        return int(self._store(lambda: self._pages.failed_since(cutoff.timestamp(), self._site), 0))

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
        return header_data(section, orientation, role)

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

    def paint_cell(self, index: _Index) -> dict[int, Any] | None:
        """The painted roles of a cell (job_cells.build_cells, kept per record), for the job table's
        delegate; None when the index is not valid or its row cannot be read."""
        cells = self.paint_row(index.row()) if index.isValid() else None
        return None if cells is None else cells[index.column()]

    def paint_row(self, row: int) -> Sequence[dict[int, Any]] | None:
        """The painted roles of a row's cells by column (JobTableView paints a plain row in one
        pass); None when the row cannot be read."""
        rec = self._fetch(row)
        return None if rec is None else self._cells(rec)

    # --- internals -------------------------------------------------------------------------------

    def _fetch(self, row: int) -> JobRecord | None:
        if not 0 <= row < self._count:
            return None
        n = row // BLOCK_ROWS
        block = self._blocks.get(n)
        if block is None:
            page = self._store(
                lambda: self._pages.page(self._filter, self._job_sort(), n * BLOCK_ROWS, BLOCK_ROWS), None
            )
            if page is None:
                return None  # said once (store_error); asked again at the next paint
            block = page
            self.fetches += 1
            if self._overlay:
                block = [self._newest(rec) for rec in block]
            self._blocks[n] = block
            if len(self._blocks) > CACHED_BLOCKS:
                dropped, recs = self._blocks.popitem(last=False)
                for index in self.persistentIndexList():  # the selection's jobs: kept (_kept_key)
                    at = index.row() - dropped * BLOCK_ROWS
                    if 0 <= at < len(recs):
                        self._kept[index.row()] = recs[at].key
        else:
            self._blocks.move_to_end(n)
        at = row % BLOCK_ROWS
        return block[at] if at < len(block) else None

    def _store(self, call: Callable[[], _T], default: _D) -> _T | _D:
        """A read of the store; when it fails (a shared store's server away, a damaged journal) the
        table keeps what it shows, the reason is logged and told (store_error) once, and `default`
        stands in."""
        try:
            result = call()
        except StoreError as exc:
            if str(exc) != self._error:
                self._error = str(exc)
                _log.warning("job table: cannot read the store: %s", exc)
                self.store_error.emit(self._error)
            return default
        self._error = ""
        return result

    def _read_counts(self) -> tuple[int, int, int]:
        """(total, active, failed): the active and failed are small indexed counts; the total is
        the rows' count when nothing is filtered, else counted off the GUI thread (the last known
        total stands in meanwhile)."""
        everything = JobFilter(site=self._site)
        total = self._count if self._filter == everything and self._exact else None
        if total is None:
            total = self._pages.known_count(everything)
        self._counts_exact = total is not None
        if total is None:
            if self._filter != everything:  # else the rows' count is on its way
                self._count_later("total", everything)
            total = self._counts[0]
        return self._pages.counts(self._site, total)

    def _newest(self, stored: JobRecord) -> JobRecord:
        """The bridge's record of a job while the store has not caught up with it, else the store's."""
        given = self._overlay.get(stored.key)
        if given is None:
            return stored
        if stored.last_update >= given.last_update and stored.observations >= given.observations:
            del self._overlay[stored.key]  # the store holds it now
            self._overlay_at.pop(stored.key, None)
            return stored
        return given

    def _cells(self, rec: JobRecord) -> tuple[dict[int, Any], ...]:
        look = self._looks.get(rec.key)
        if look is not None and (look[0] is rec or look[0] == rec):
            # A page read again decodes every row anew: one that did not change keeps its look (the
            # job table copies its row as painted, widgets/row_atlas.py).
            return look[1]
        make_room(self._looks, CACHED_BLOCKS * BLOCK_ROWS)
        # Its last look shares the cells that did not change (the job table paints only the others).
        previous = None if look is None else (look[0], outcome(look[0]), look[1])
        cells = build_cells(rec, self.device_name, self._palette_colors(), self._italic_font, previous)
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
        if role == Role.CAN_CANCEL:
            row = self._lookup(job_device_key(rec.key)) if self._lookup is not None else None
            return rec.is_active and (row is None or row.kind is DeviceKind.SCAN_SERVER)
        return record_role(rec, col, role, self.device_name)

    def _with_timeline(self, rec: JobRecord) -> JobRecord:
        if self._overlay.get(rec.key) is rec:
            return rec  # the bridge's: it has its timeline
        if self._full is None or self._full[0] is not rec:
            self._full = (rec, self._store(lambda: self._pages.record(rec.key), None) or rec)
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
