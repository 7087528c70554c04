"""JobFilterProxyModel: search text, quick filter (all / active / completed / failed), device, kind and
(in a view of a shared store) site filters.

All the filters compile into one QRegularExpression over the source's FILTER_TEXT role (see
job_text.filter_text), so the filtering runs in C++ and, with no filter set, never calls into Python.
Sorting is forwarded to JobTableModel.sort, which keeps its rows sorted by the same keys that its
SORT role exposes; the proxy itself stays unsorted and keeps the source's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
    Signal,
)

from wsdmon.core import JobKind, JobRecord

from .device_key import KEY_SEP
from .job_text import FLAG_ACTIVE, FLAG_COMPLETED, FLAG_FAILED, FLAG_PINNED, KIND_FLAGS, SEP
from .jobs import JobTableModel
from .roles import Role, role_data

__all__ = ["JobFilterProxyModel", "QuickFilter"]


class QuickFilter(Enum):
    ALL = "all"
    ACTIVE = "active"  # not in a terminal state
    COMPLETED = "completed"  # terminal and not failed (completed or canceled)
    FAILED = "failed"  # aborted, timed out, completed with errors, or a filter failed


_FLAGS = {
    QuickFilter.ACTIVE: FLAG_ACTIVE,
    QuickFilter.COMPLETED: FLAG_COMPLETED,
    QuickFilter.FAILED: FLAG_FAILED,
}


class JobFilterProxyModel(QSortFilterProxyModel):
    """The job table as the view shows it: filtered here, sorted by the source model."""

    filter_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._search = ""
        self._quick = QuickFilter.ALL
        self._device: str | None = None
        self._kind: JobKind | None = None
        self._site: str | None = None
        self.setFilterRole(Role.FILTER_TEXT)
        self.setSortRole(Role.SORT)
        self.setFilterKeyColumn(0)
        self.setDynamicSortFilter(True)
        self._jobs: JobTableModel | None = None
        self._unfiltered = True  # no filter set: proxy row n is source row n

    def setSourceModel(self, sourceModel: QAbstractItemModel) -> None:
        super().setSourceModel(sourceModel)
        self._jobs = sourceModel if isinstance(sourceModel, JobTableModel) else None

    # --- filters ---------------------------------------------------------------------------------

    def set_search_text(self, text: str) -> None:
        """Case-insensitive substring over device, token, state, reasons, filters."""
        if text != self._search:
            self._search = text
            self._update()

    def set_quick_filter(self, quick: QuickFilter) -> None:
        if quick is not self._quick:
            self._quick = quick
            self._update()

    def set_device_filter(self, endpoint: str | None) -> None:
        """Only jobs of one device (its endpoint, as in JobKey.device); None for all devices."""
        if endpoint != self._device:
            self._device = endpoint
            self._update()

    def set_site_filter(self, site: str | None) -> None:
        """Only jobs seen by one site's collector (JobKey.site); None for every site."""
        if site != self._site:
            self._site = site
            self._update()

    def site_filter(self) -> str | None:
        return self._site

    def set_kind_filter(self, kind: JobKind | None) -> None:
        """Only scan jobs, or only post-scan jobs; None for both."""
        if kind is not self._kind:
            self._kind = kind
            self._update()

    def kind_filter(self) -> JobKind | None:
        return self._kind

    def search_text(self) -> str:
        return self._search

    def quick_filter(self) -> QuickFilter:
        return self._quick

    def device_filter(self) -> str | None:
        return self._device

    def _update(self) -> None:
        if (
            not self._search
            and self._quick is QuickFilter.ALL
            and self._device is None
            and self._kind is None
            and self._site is None
        ):
            pattern = ""
        else:
            any_part = f"[^{SEP}]*"
            # The selected job (pinned) stays while it is selected: a job canceled from the Active
            # view must not vanish and hand its selection, and its Cancel button, to the next job.
            quick = f"(?:{_FLAGS[self._quick]}|{FLAG_PINNED})" if self._quick in _FLAGS else ""
            flags = f"{any_part}{quick}{any_part}" if quick else any_part
            if self._kind is not None:  # the kind flag is the last of the flags
                flags = f"{flags}{KIND_FLAGS[self._kind]}"
            if self._device is not None:  # a device key (device_key.py): names its site too
                device = QRegularExpression.escape(self._device)
            elif self._site:  # a site's device keys start with its name
                device = QRegularExpression.escape(self._site + KEY_SEP) + any_part
            elif self._site == "":  # this PC's own jobs: keys without a site
                device = f"[^{SEP}{KEY_SEP}]*"
            else:
                device = any_part
            search = ".*" + QRegularExpression.escape(self._search) if self._search else ""
            pattern = f"^{SEP}{flags}{SEP}{device}{SEP}{search}"
        self._unfiltered = not pattern
        options = (
            QRegularExpression.PatternOption.CaseInsensitiveOption
            | QRegularExpression.PatternOption.DotMatchesEverythingOption
        )
        self.setFilterRegularExpression(QRegularExpression(pattern, options))
        self.filter_changed.emit()

    # --- sorting ---------------------------------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if isinstance(source, JobTableModel):
            source.sort(column, order)
        else:
            super().sort(column, order)

    # --- painting --------------------------------------------------------------------------------

    def multiData(
        self,
        index: QModelIndex | QPersistentModelIndex,
        roleDataSpan: QModelRoleDataSpan | QModelRoleData,
    ) -> None:
        """Forward a delegate's roles for one cell to JobTableModel in one call (the base class
        would ask the source once per role, each time mapping the index again). Unfiltered, the
        proxy's rows are the source's: no mapping at all."""
        jobs = self._jobs
        if jobs is None:
            super().multiData(index, roleDataSpan)
        elif self._unfiltered and index.isValid():
            jobs.fill_cell(index.row(), index.column(), roleDataSpan)
        else:
            jobs.multiData(self.mapToSource(index), roleDataSpan)

    def paint_cell(self, index: QModelIndex | QPersistentModelIndex) -> dict[int, Any] | None:
        """The painted roles of a cell (JobTableModel.paint_cell), or None when the source is not a
        JobTableModel or the index is not valid."""
        cells = self.paint_row(index.row()) if index.isValid() else None
        return None if cells is None else cells[index.column()]

    def paint_row(self, row: int) -> Sequence[dict[int, Any]] | None:
        """The painted roles of a row's cells by column (JobTableModel.paint_row), or None when the
        source is not a JobTableModel or the row is not one of the proxy's."""
        jobs = self._jobs
        if jobs is None or not 0 <= row < self.rowCount():
            return None
        if self._unfiltered:
            return jobs.paint_row(row)
        source = self.mapToSource(self.index(row, 0))
        return jobs.paint_row(source.row()) if source.isValid() else None

    # --- lookups ---------------------------------------------------------------------------------

    def record(self, row: int) -> JobRecord | None:
        rec = role_data(self.index(row, 0), Role.JOB_RECORD)
        return rec if isinstance(rec, JobRecord) else None

    def row_of(self, key: object) -> int | None:
        """The proxy row of a JobKey, or None when it is filtered out or unknown."""
        source = self.sourceModel()
        if not isinstance(source, JobTableModel):
            return None
        row = source.row_of(key)  # type: ignore[arg-type]
        if row is None:
            return None
        index = self.mapFromSource(source.index(row, 0))
        return index.row() if index.isValid() else None

    def source_index(self, index: QModelIndex) -> QModelIndex:
        return self.mapToSource(index)
