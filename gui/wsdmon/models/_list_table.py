"""A table model over a Python sequence of rows with fixed, translatable column headers: the shared
plumbing of the filter sub-table, the timeline and the raw log models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QPersistentModelIndex, Qt

_Index = QModelIndex | QPersistentModelIndex

__all__ = ["ListTableModel"]


class ListTableModel(QAbstractTableModel):
    """Subclasses set CONTEXT (translation context) and HEADERS (QT_TRANSLATE_NOOP'd titles) and keep
    their rows in `self._rows`; they implement data()."""

    CONTEXT: ClassVar[str]
    HEADERS: ClassVar[tuple[str, ...]]
    _rows: Sequence[Any]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return QCoreApplication.translate(self.CONTEXT, self.HEADERS[section])
        return None
