"""RowAtlas: the job table's plain rows as painted, kept in one image, for JobTableView.

A new job moves every row of the job table, and the view repaints them all, although most of them
show what they showed a moment ago. JobTableView paints a plain row once into a slot of this image
and copies it to the screen while the row's cells (the model's, by identity: a changed job has new
ones) and the way rows look (the `token`: columns, palette, font, style...) stay the same. The slot
shown least recently is the one used again. One image, one QPainter per repaint for every row it
paints: a pixmap and a painter per row cost as much as the drawing they save.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtGui import QColor, QPixmap

__all__ = ["ATLAS_BYTES_MAX", "RowAtlas"]

# What the rows' image may take. Enough for twice the rows of a full-HD table (both the even and
# the odd colour of each row: a new job swaps them); a larger screen keeps fewer.
ATLAS_BYTES_MAX = 24 * 1024 * 1024


class RowAtlas:
    """Slots of `height` pixels across `width`, each holding one painted row; `token` is what the
    rows' look depends on besides their cells (a different one needs a new atlas)."""

    def __init__(
        self, token: tuple[Any, ...], width: int, height: int, slots: int, background: QColor
    ) -> None:
        self.token = token
        self.width = width
        self.height = height
        self.slots = slots
        self.background = background
        self.image = QPixmap(width, height * slots)
        # What JobTableView paints its rows with: every column on screen (logical, x, width), and
        # its painter's font and render hints (part of the token).
        self.columns: list[tuple[int, int, int]] = []
        self.token_font: Any = None
        self.token_hints: Any = None
        self.made = 0  # rows painted into it (tests and benchmarks read it)
        # (id of the cells, alternate) → (the cells, slot); least recently shown first
        self._slot_of: OrderedDict[tuple[int, bool], tuple[object, int]] = OrderedDict()
        self._free = list(range(slots - 1, -1, -1))

    @staticmethod
    def slots_for(width: int, height: int, rows_shown: int) -> int:
        """How many slots to keep for a table that shows `rows_shown` rows: both colours of each,
        within ATLAS_BYTES_MAX; 0 when not even one screen's worth fits."""
        wanted = 2 * (rows_shown + 1) + 2
        fits = ATLAS_BYTES_MAX // max(1, width * height * 4)
        slots = min(wanted, fits)
        return slots if slots > rows_shown + 1 else 0

    def find(self, cells: object, alternate: bool) -> int | None:
        """The slot showing these cells in this colour, or None. (A slot keeps its cells alive, so
        their id stands for them while it is here.)"""
        key = (id(cells), alternate)
        entry = self._slot_of.get(key)
        if entry is None:
            return None
        self._slot_of.move_to_end(key)
        return entry[1]

    def allocate(self, cells: object, alternate: bool) -> int:
        """A slot for these cells, which `find` did not find (the one shown least recently when none
        is free). A repaint finds every row it shows before it allocates: fewer rows than slots, so
        it never takes back a slot it copies from."""
        key = (id(cells), alternate)
        slot = self._free.pop() if self._free else self._slot_of.popitem(last=False)[1][1]
        self._slot_of[key] = (cells, slot)
        self.made += 1
        return slot
