"""RawLogModel: the most recent raw messages (in and out), bounded, for the raw-log dock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from . import format as fmt
from ._i18n import QT_TRANSLATE_NOOP
from ._list_table import ListTableModel
from .icons import icon
from .roles import Role

__all__ = ["Direction", "RawLogEntry", "RawLogModel"]

_CTX = "RawLogModel"
_Index = QModelIndex | QPersistentModelIndex


class Direction(Enum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class RawLogEntry:
    """One message as the log lists it; its XML is fetched on demand by journal id."""

    time: datetime
    direction: Direction
    peer: str  # address of the other side
    action: str  # wsa:Action URI (or "" when unknown)
    size: int  # bytes
    journal_id: int | None = None
    rejected: str = ""  # why it was rejected (size, content type, unknown Identifier, malformed…)


_HEADERS = (
    QT_TRANSLATE_NOOP(_CTX, "Time"),
    QT_TRANSLATE_NOOP(_CTX, "Dir"),
    QT_TRANSLATE_NOOP(_CTX, "Peer"),
    QT_TRANSLATE_NOOP(_CTX, "Action"),
    QT_TRANSLATE_NOOP(_CTX, "Bytes"),
    QT_TRANSLATE_NOOP(_CTX, "Note"),
)


def _short_action(action: str) -> str:
    return action.rstrip("/").rpartition("/")[2] or action


class RawLogModel(ListTableModel):
    """Newest last; keeps at most `max_entries`, dropping the oldest in one beginRemoveRows."""

    CONTEXT = _CTX
    HEADERS = _HEADERS

    def __init__(self, parent: QObject | None = None, *, max_entries: int = 2000) -> None:
        super().__init__(parent)
        self._max = max_entries
        self._rows: list[RawLogEntry] = []

    def append(self, entries: Sequence[RawLogEntry]) -> None:
        """Add a batch of messages (the bridge calls this with what arrived since its last batch)."""
        entries = list(entries)[-self._max :]
        if not entries:
            return
        overflow = len(self._rows) + len(entries) - self._max
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            del self._rows[:overflow]
            self.endRemoveRows()
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(entries) - 1)
        self._rows.extend(entries)
        self.endInsertRows()

    def entry(self, row: int) -> RawLogEntry:
        return self._rows[row]

    def row_of(self, journal_id: int) -> int | None:
        """The row of the message with that journal id (None: not among the recent ones kept)."""
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row].journal_id == journal_id:
                return row
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e, col = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                fmt.format_local(e.time, with_date=False),
                "→" if e.direction is Direction.OUT else "←",
                e.peer,
                _short_action(e.action),
                e.size,
                e.rejected,
            )[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = {
                1: QCoreApplication.translate(_CTX, "sent")
                if e.direction is Direction.OUT
                else QCoreApplication.translate(_CTX, "received"),
                3: e.action,
                5: e.rejected,
            }.get(col)
            return tip or None
        if role == Qt.ItemDataRole.DecorationRole and col == 5 and e.rejected:
            return icon("error")
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Role.JOURNAL_ID:
            return e.journal_id
        return None
