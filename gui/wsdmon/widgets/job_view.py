"""JobTableView: the job table's QTableView, painting its plain rows in one pass.

At 1,000 events/s the job table repaints its whole viewport dozens of times a second (a new job
moves the rows). QTableView::paintEvent calls the item delegate once per cell; with a delegate in
Python each call crosses into Python with a QPainter, a copied QStyleOptionViewItem and a
QModelIndex (about 12 µs a cell on the benchmark machine before anything is drawn: 240 cells, 2.9 ms
of a 9.7 ms repaint). This view paints the rows whose cells are plain in one Python loop instead,
with the same steps QTableView::paintEvent and QTableViewPrivate::drawCell take for them (Qt 6):

- per cell, the style's PE_PanelItemViewRow with the row's Alternate feature, then the delegate's
  plain cell (JobCellDelegate.draw_plain, from the model's painted roles: JobTableModel.paint_row,
  JobFilterProxyModel.paint_row, PagedJobModel.paint_row). Where the style's panel draws nothing
  (Fusion's, on a row that is not an alternate one) it is not asked, and where it is one colour the
  row is filled with it once (found by drawing the panel on a small image: `_panel`);
- then the grid in the grid pen (SH_Table_GridLineColor, the view's grid style): a line under each
  row and one right of each column, across the area being painted, and the left line a style asks
  for when the vertical header is hidden (SH_Table_AlwaysDrawLeftTopGridLines).

A plain row is painted once into a slot of an image of rows (row_atlas.py) and copied to the screen
from there while its job does not change: a new job moves every row, and a repaint that copies 30
rows and paints the 5 that changed costs half of one that paints them all. The slots are filled
with the viewport's background first, so this is only where that is one colour and the device
pixel ratio is 1 (else the rows are drawn where they show).

A row that is not plain goes to QTableView::paintEvent itself, with a paint event for its area only:
a selected row, the current row, the row under the pointer or last hovered, and a row the model
cannot give (a shared store's page that cannot be read). Everything else does too: a right-to-left
or disabled view, an editor open, another delegate, a model without paint_row. Taking a row that
is plain through Qt's path costs time, never looks. tests/gui/test_job_view.py compares whole
viewports against QTableView::paintEvent pixel for pixel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QEvent, QLineF, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QCursor,
    QHoverEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QRegion,
)
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyleOptionViewItem, QTableView, QWidget

from wsdmon.models import Column

from .job_delegate import JobCellDelegate
from .row_atlas import RowAtlas

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["JobTableView"]

_PANEL = QStyle.PrimitiveElement.PE_PanelItemViewRow
_ALTERNATE = QStyleOptionViewItem.ViewItemFeature.Alternate
# What sets or clears QAbstractItemView's hover index (viewportEvent; a mouse move: checkMouseMove).
_HOVER_SET = frozenset({QEvent.Type.HoverEnter, QEvent.Type.HoverMove, QEvent.Type.MouseMove})
_HOVER_CLEAR = frozenset({QEvent.Type.HoverLeave, QEvent.Type.Leave})
_ANCHOR = int(Column.TOKEN)  # a cell every look of a job shares: it names the job in the row atlas


class _RowPass:
    """What one repaint draws its plain rows with (JobTableView._paint_plain): on the viewport, or
    into the row atlas."""

    __slots__ = ("_active", "_draw", "_draw_panel", "_features", "_option", "_panels", "_view")

    def __init__(
        self,
        view: JobTableView,
        option: QStyleOptionViewItem,
        delegate: JobCellDelegate,
        panels: dict[bool, QColor | bool],
        *,
        active: bool,
        plain_features: Any,
    ) -> None:
        self._view = view
        self._option = option
        self._panels = panels
        self._active = active
        self._features = (plain_features, plain_features | _ALTERNATE)
        self._draw_panel, self._draw = view.style().drawPrimitive, delegate.draw_plain

    def draw_row(
        self,
        painter: QPainter,
        cells: Sequence[dict[int, Any]],
        row: int,
        *,
        y: int,
        height: int,
        columns: list[tuple[int, int, int]],
        alternate: bool,
        over: QColor | None = None,
    ) -> None:
        """One plain row's cells at `y`, as QTableView draws them: the row panel, then each cell.
        `over`: only these columns, over the row as painted before on a background of that colour
        (each cell's area gets the background, the row's panel and the cell, as the whole row does)."""
        option, view, active, draw = self._option, self._view, self._active, self._draw
        option.features = self._features[alternate]
        panel = self._panels.get(alternate)
        if panel is None:
            panel = self._panels[alternate] = view._panel(option)
        plain = panel is not True and panel is not False
        if plain and over is None and columns:
            # A panel of one colour is filled under the row's cells at once: over the grid's pixels
            # between them too, which the grid (solid and opaque, or none) then covers as ever.
            x0 = columns[0][1]
            painter.fillRect(x0, y, columns[-1][1] + columns[-1][2] - x0, height, panel)
        for column, x, cell_width in columns:
            if over is not None:
                painter.fillRect(x, y, cell_width, height, over)
                if plain:
                    painter.fillRect(x, y, cell_width, height, panel)
            if panel is True:
                option.rect = QRect(x, y, cell_width, height)
                self._draw_panel(_PANEL, option, painter, view)
            rect = (x, y, cell_width, height)
            draw(painter, option, cells[column], at=(row, column), rect=rect, active=active)


class JobTableView(QTableView):
    """The job table (see the module's doc). `fast_rows` counts the rows painted in one pass (tests
    and benchmarks read it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The row QAbstractItemView shows as hovered: it keeps the index of the last hover event
        # (privately), which follows its job when rows move under a still pointer.
        self._hover = QPersistentModelIndex()
        self.fast_rows = 0
        self._atlas: RowAtlas | None = None  # plain rows as painted (row_atlas.py)
        self._panels: dict[bool, QColor | bool] = {}  # alternate → _panel, for _panels_key
        self._panels_key: tuple[Any, ...] | None = None

    def viewportEvent(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in _HOVER_SET:
            at = cast(QHoverEvent | QMouseEvent, event).position().toPoint()
            self._hover = QPersistentModelIndex(self.indexAt(at))
        elif kind in _HOVER_CLEAR:
            self._hover = QPersistentModelIndex()
        return super().viewportEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        delegate = self.itemDelegate()
        paint_row = getattr(self.model(), "paint_row", None)
        if (
            paint_row is None
            or not isinstance(delegate, JobCellDelegate)
            or self.isRightToLeft()
            or not self.isEnabled()
            or self.state() == QAbstractItemView.State.EditingState
            or self.verticalHeader().sectionsHidden()
        ):
            super().paintEvent(event)
            return
        styled = self._paint_plain(event.region(), paint_row, delegate)
        if styled is not None:
            styled = styled.intersected(event.region())
            if not styled.isEmpty():
                super().paintEvent(QPaintEvent(styled))

    def _styled_rows(self, first: int, last: int) -> set[int]:
        """Rows whose look the style draws: selected (those from `first` to `last`), current (its
        focus frame), hovered; and the row under the pointer (a hover event may be on its way)."""
        rows: set[int] = set()
        selection = self.selectionModel()
        if selection is not None:
            spans = selection.selection()
            for n in range(spans.size()):
                span = spans.at(n)
                rows.update(range(max(span.top(), first), min(span.bottom(), last) + 1))
        current = self.currentIndex()
        if current.isValid():
            rows.add(current.row())
        if self._hover.isValid():
            rows.add(self._hover.row())
        viewport = self.viewport()
        if viewport.underMouse():
            under = self.rowAt(viewport.mapFromGlobal(QCursor.pos()).y())
            if under >= 0:
                rows.add(under)
        return rows

    def _paint_plain(
        self,
        region: QRegion,
        paint_row: Any,
        delegate: JobCellDelegate,
    ) -> QRegion | None:
        """Paint the plain rows of `region`; returns the area left to QTableView (the other rows),
        or None when there is nothing to paint."""
        vertical, horizontal = self.verticalHeader(), self.horizontalHeader()
        if horizontal.count() == 0 or vertical.count() == 0:
            return None
        viewport = self.viewport()
        grid = self.showGrid()
        grid_size = 1 if grid else 0
        # QTableView::paintEvent: the cells end at the headers' lengths; what is past them is blank.
        area = region.boundingRect()
        area.setBottom(min(area.bottom(), vertical.length() - vertical.offset() - 1))
        area.setRight(min(area.right(), horizontal.length() - horizontal.offset() - 1))
        if not area.isValid():
            return None
        top = vertical.visualIndexAt(area.top())
        bottom = vertical.visualIndexAt(area.bottom())
        if bottom == -1:
            bottom = vertical.count() - 1
        if top == -1 or top > bottom:
            return None
        left, columns = self._columns(area.left(), area.right(), grid_size)

        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        palette = option.palette  # drawCell: an enabled cell's palette in the Normal group
        palette.setCurrentColorGroup(QPalette.ColorGroup.Normal)
        option.palette = palette
        active = bool(option.state & QStyle.StateFlag.State_Active)
        alternating = self.alternatingRowColors()
        plain_features = option.features & ~_ALTERNATE
        rows = [vertical.logicalIndex(visual) for visual in range(top, bottom + 1)]
        styled_rows = self._styled_rows(min(rows), max(rows))
        styled = QRegion()
        width = viewport.width()
        lines: list[int] = []  # the y of each painted row's grid line
        panels = self._panels_for(option, active=active, grid=grid)
        how = _RowPass(self, option, delegate, panels, active=active, plain_features=plain_features)
        painter = QPainter(viewport)
        atlas = self._atlas_for(option, painter, active=active, grid_size=grid_size, rows=len(rows))
        # Rows copied from the atlas, (y, slot; -1: not in it yet), and those to paint into it
        # first, (row, cells, alternate), in the same order.
        copies: list[tuple[int, int]] = []
        misses: list[tuple[int, Sequence[dict[int, Any]], bool]] = []
        for visual, row in enumerate(rows, top):
            y = self.rowViewportPosition(row)
            height = self.rowHeight(row) - grid_size
            cells: Sequence[dict[int, Any]] | None = None
            if row not in styled_rows:
                cells = paint_row(row)
            if cells is None:
                styled = styled.united(QRect(0, y, width, height + grid_size))
                continue
            self.fast_rows += 1
            lines.append(y + height)
            alternate = alternating and bool(visual & 1)
            if atlas is not None and height == atlas.height:
                slot = atlas.find(cells, alternate)
                if slot is None:
                    misses.append((row, cells, alternate))
                copies.append((y, -1 if slot is None else slot))
                continue
            how.draw_row(painter, cells, row, y=y, height=height, columns=columns, alternate=alternate)
        if misses and atlas is not None:
            painted = iter(self._paint_into(atlas, how, misses))
            copies = [(y, next(painted) if slot < 0 else slot) for y, slot in copies]
        if atlas is not None:
            image, end, height = atlas.image, atlas.width, atlas.height
            for y, slot in copies:
                painter.drawPixmap(0, y, image, 0, slot * height, end, height)
        if grid:
            self._paint_grid(painter, option, area, lines, columns, top=top, left=left)
        painter.end()
        return styled

    def _paint_into(
        self, atlas: RowAtlas, how: _RowPass, misses: list[tuple[int, Sequence[dict[int, Any]], bool]]
    ) -> list[int]:
        """Paint the rows `misses` into slots of the atlas, with one painter; their slots."""
        painter = QPainter(atlas.image)
        painter.setRenderHints(atlas.token_hints)
        painter.setFont(atlas.token_font)
        height, slots, columns = atlas.height, [], atlas.columns
        for row, cells, alternate in misses:
            # The job's token cell is shared by all its looks (models.job_cells.build_cells).
            slot, before = atlas.take(cells, alternate, cells[_ANCHOR])
            slots.append(slot)
            y = slot * height
            if before is not None:  # its last look in this colour: only the cells that changed
                changed = [c for c in columns if cells[c[0]] is not before[c[0]]]
                how.draw_row(
                    painter,
                    cells,
                    row,
                    y=y,
                    height=height,
                    columns=changed,
                    alternate=alternate,
                    over=atlas.background,
                )
                continue
            painter.fillRect(0, y, atlas.width, height, atlas.background)
            how.draw_row(painter, cells, row, y=y, height=height, columns=columns, alternate=alternate)
        painter.end()
        return slots

    def _atlas_for(
        self, option: QStyleOptionViewItem, painter: QPainter, *, active: bool, grid_size: int, rows: int
    ) -> RowAtlas | None:
        """The atlas of rows for the view as it is now (a new one when anything the rows' look
        depends on changed), or None to paint the rows where they show: when the viewport's
        background is not one opaque colour (what a slot is filled with first), at a device pixel
        ratio other than 1 (a row at a fraction of a pixel is not a copy of a slot), or when a
        screen's worth of rows would not fit (RowAtlas.slots_for)."""
        viewport = self.viewport()
        background = self._background()
        if background is None or viewport.devicePixelRatioF() != 1.0:
            self._atlas = None
            return None
        horizontal = self.horizontalHeader()
        end = min(viewport.width(), horizontal.length() - horizontal.offset())
        height = self.verticalHeader().defaultSectionSize() - grid_size
        if end <= 0 or height <= 0:
            return None
        _, columns = self._columns(0, end - 1, grid_size)  # every column on screen
        font, hints = painter.font(), painter.renderHints()
        token = (
            end,
            height,
            tuple(columns),
            active,
            self._panels_key,
            background.rgba(),
            font.key(),
            option.font.key(),
            option.features.value,
            option.decorationSize.toTuple(),
            option.textElideMode.value,
            hints.value,
            id(self.itemDelegate()),
        )
        atlas = self._atlas
        if atlas is None or atlas.token != token or atlas.slots <= rows + 1:
            slots = RowAtlas.slots_for(end, height, max(rows, viewport.height() // height + 1))
            if slots == 0:
                self._atlas = None
                return None
            atlas = self._atlas = RowAtlas(token, end, height, slots, background)
            atlas.columns, atlas.token_font, atlas.token_hints = columns, font, hints
        return atlas

    def _panels_for(
        self, option: QStyleOptionViewItem, *, active: bool, grid: bool
    ) -> dict[bool, QColor | bool]:
        """The row panels' looks (`_panel`) for the view as it is now, by alternate row; kept while
        the style, palette, features, activation, scale and grid stay."""
        viewport = self.viewport()
        key = (
            grid and not self._grid_covers(option),
            id(self.style()),
            option.palette.cacheKey(),
            option.features.value,
            active,
            viewport.palette().cacheKey(),
            viewport.backgroundRole(),
            viewport.autoFillBackground(),
            viewport.devicePixelRatioF(),
        )
        if key != self._panels_key:
            self._panels_key = key
            self._panels = {}
        if key[0]:  # a grid that does not cover what it is drawn on: every panel is the style's
            self._panels[False] = self._panels[True] = True
        return self._panels

    def _panel(self, option: QStyleOptionViewItem) -> QColor | bool:
        """What the style's row panel (PE_PanelItemViewRow) draws under a plain cell with `option`'s
        features: False nothing, a colour a plain fill of the cell, True anything else (it is then
        drawn per cell, as QTableView does). Found by drawing it on a small image of the
        viewport's background: most panels draw nothing (a row that is not an alternate one) or
        one colour, and a call into the style per cell is a third of what the plain rows cost.
        True unless the viewport's background is one opaque colour, whatever the window's
        activation, on whole device pixels (what the image stands for)."""
        colour = self._background()
        ratio = self.viewport().devicePixelRatioF()
        if colour is None or ratio != int(ratio):
            return True
        background = colour.rgba()
        image = QImage(16, 12, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(colour)
        painter = QPainter(image)
        cell = QRect(2, 2, 12, 8)
        before, option.rect = option.rect, cell
        self.style().drawPrimitive(_PANEL, option, painter, self)
        option.rect = before
        painter.end()
        inside: set[int] = set()
        outside: set[int] = set()
        for y in range(image.height()):
            for x in range(image.width()):
                (inside if cell.contains(x, y) else outside).add(image.pixel(x, y))
        if outside != {background} or len(inside) != 1:
            return True
        (filled,) = inside
        return False if filled == background else QColor.fromRgba(filled)

    def _background(self) -> QColor | None:
        """The viewport's background when it is one opaque colour whatever the window's activation
        (what the viewport is filled with before a repaint), else None."""
        viewport = self.viewport()
        palette, role = viewport.palette(), viewport.backgroundRole()
        brush = palette.brush(QPalette.ColorGroup.Active, role)
        if (
            not viewport.autoFillBackground()
            or brush.style() != Qt.BrushStyle.SolidPattern
            or brush.color().alpha() != 255
            or brush != palette.brush(QPalette.ColorGroup.Inactive, role)
        ):
            return None
        return brush.color()

    def _columns(self, x0: int, x1: int, grid_size: int) -> tuple[int, list[tuple[int, int, int]]]:
        """The visual index of the first column from x `x0` to `x1` of the viewport, and those of
        them not hidden: (logical column, x, width without the grid)."""
        horizontal = self.horizontalHeader()
        left, right = horizontal.visualIndexAt(x0), horizontal.visualIndexAt(x1)
        left = 0 if left == -1 else left
        right = horizontal.count() - 1 if right == -1 else right
        columns: list[tuple[int, int, int]] = []
        for visual in range(left, right + 1):
            column = horizontal.logicalIndex(visual)
            if not horizontal.isSectionHidden(column):
                x = self.columnViewportPosition(column)
                columns.append((column, x, self.columnWidth(column) - grid_size))
        return left, columns

    def _grid_colour(self, option: QStyleOptionViewItem) -> QColor:
        """The grid's colour (QTableView::paintEvent: the style's SH_Table_GridLineColor)."""
        rgba = self.style().styleHint(QStyle.StyleHint.SH_Table_GridLineColor, option, self) & 0xFFFFFFFF
        return QColor.fromRgba(rgba)

    def _grid_covers(self, option: QStyleOptionViewItem) -> bool:
        """The grid hides what is under its lines (solid and opaque)."""
        return self.gridStyle() == Qt.PenStyle.SolidLine and self._grid_colour(option).alpha() == 255

    def _paint_grid(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        area: QRect,
        lines: list[int],
        columns: list[tuple[int, int, int]],
        *,
        top: int,
        left: int,
    ) -> None:
        """The grid lines of QTableView::paintEvent over `area`: under the painted rows (`lines`),
        right of each column, and the left/top lines a style draws when a header is hidden."""
        style = self.style()
        painter.setPen(QPen(self._grid_colour(option), 1, self.gridStyle()))
        x0, x1 = area.left(), area.right()
        for y in lines:
            painter.drawLine(QLineF(x0, y, x1, y).translated(0.5, 0.5))
        y0, y1 = area.top(), area.bottom()
        for _column, x, cell_width in columns:
            painter.drawLine(QLineF(x + cell_width, y0, x + cell_width, y1).translated(0.5, 0.5))
        if not style.styleHint(QStyle.StyleHint.SH_Table_AlwaysDrawLeftTopGridLines, option, self):
            return
        vertical, horizontal = self.verticalHeader(), self.horizontalHeader()
        if horizontal.isHidden():
            row = vertical.logicalIndex(top)
            if not vertical.isSectionHidden(row) and self.rowViewportPosition(row) == y0:
                painter.drawLine(x0, y0, x1, y0)
        if vertical.isHidden():
            column = horizontal.logicalIndex(left)
            if not horizontal.isSectionHidden(column) and self.columnViewportPosition(column) == x0:
                painter.drawLine(x0, y0, x0, y1)
