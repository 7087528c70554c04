"""RowAtlas: the job table's plain rows as painted, kept in one image, for JobTableView.

A new job moves every row of the job table, and the view repaints them all, although most of them
show what they showed a moment ago. JobTableView paints a plain row once into a slot of this image
and copies it to the screen while the row's cells (the model's, by identity: a changed job has new
ones) and the way rows look (the `token`: columns, palette, font, style...) stay the same. The slot
shown least recently is the one used again. One image, one QPainter per repaint for every row it
paints: a pixmap and a painter per row cost as much as the drawing they save.

A job in progress changes one or two cells at a time (its images, its state), and its row is
painted anew in each colour after every change (a new job above it swaps the colours). The model
shares a job's unchanged cells between its looks (models.job_cells.build_cells), so `take` hands
back the slot of the job's last look in that colour with that look's cells: the view paints only
the cells that are not the same objects, over what the slot shows.
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
        self.patched = 0  # of those, painted over the job's earlier look: only the cells that changed
        # (id of the cells, alternate) → (the cells, slot, its job's key in _latest or None); least
        # recently shown first
        self._slot_of: OrderedDict[tuple[int, bool], tuple[Any, int, tuple[int, bool] | None]] = OrderedDict()
        # (id of a job's anchor, alternate) → the key of its latest look here (only while in a slot,
        # whose cells keep the anchor alive: its id stands for it)
        self._latest: dict[tuple[int, bool], tuple[int, bool]] = {}
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

    def allocate(self, cells: object, alternate: bool, job: tuple[int, bool] | None = None) -> int:
        """A slot for these cells, which `find` did not find (the one shown least recently when none
        is free). A repaint finds every row it shows before it allocates: fewer rows than slots, so
        it never takes back a slot it copies from."""
        key = (id(cells), alternate)
        if self._free:
            slot = self._free.pop()
        else:
            old_key, (_, slot, old_job) = self._slot_of.popitem(last=False)
            if old_job is not None and self._latest.get(old_job) == old_key:
                del self._latest[old_job]
        self._slot_of[key] = (cells, slot, job)
        if job is not None:
            self._latest[job] = key
        self.made += 1
        return slot

    def take(self, cells: Any, alternate: bool, anchor: object) -> tuple[int, Any]:
        """A slot for these cells, which `find` did not find, and the cells it shows now: the slot of
        the latest look of the same job (`anchor`: one of its cells, shared by all its looks) in this
        colour when there is one (the caller paints only the cells that differ), else a slot as
        `allocate` gives (and None). That look is not shown by the repaint (its job shows these
        cells), so its slot is not one the repaint copies from."""
        job = (id(anchor), alternate)
        earlier = self._latest.get(job)
        entry = self._slot_of.pop(earlier, None) if earlier is not None else None
        if entry is None:
            return self.allocate(cells, alternate, job), None
        before, slot, _ = entry
        key = (id(cells), alternate)
        self._slot_of[key] = (cells, slot, job)
        self._latest[job] = key
        self.made += 1
        self.patched += 1
        return slot, before
