"""JobCellDelegate: paints the job table's plain cells itself, as QStyledItemDelegate would.

At 1,000 events/s the job table repaints its whole viewport many times a second (every new job
shifts the rows). QStyledItemDelegate lays each cell's text out with a fresh QTextLayout, asks the
model for seven roles and walks the style's item layout, per cell and per repaint. This delegate
asks the job model for the cell it already keeps (JobTableModel.paint_cell, or a shared store's
PagedJobModel.paint_cell: the values of the painted roles, built once per record) and draws it with
what it caches between repaints: the style's icon and text rectangles per column geometry, and each
text laid out (and elided) once as a prepared QStaticText per (column, size, text, font). It reads
as few QStyleOptionViewItem fields as it can: in PySide each enum-valued field costs about 4 µs to
read.

Only plain cells take this path. A cell that is selected, current with focus, hovered, being
edited or disabled, in a right-to-left layout, or whose model keeps no cell for it (a proxy over
another model, a row of a shared store that cannot be read) is painted by QStyledItemDelegate
itself, so every look the style gives those stays (highlight, focus frame).
What the fast path draws is what QCommonStyle's CE_ItemViewItem draws for a plain cell (Qt 6:
QCommonStylePrivate::viewItemDrawText, calculateElidedText): the background brush (the failed-job
tint), the icon in the style's decoration rectangle, the text in the cell's foreground or the
palette's Text colour, in its font and alignment, elided in the view's elide mode, its line centred
in whole pixels. tests/gui/test_job_delegate.py compares both paths pixel for pixel. Tooltips,
accessibility and size hints are the base class's, from the model's roles as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QPointF, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPalette,
    QStaticText,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from wsdmon.models.bounded import make_room
from wsdmon.models.job_cells import ALIGNMENT, BACKGROUND, DECORATION, DISPLAY, FONT, FOREGROUND

if TYPE_CHECKING:
    from wsdmon.models import JobFilterProxyModel
    from wsdmon.models.paged_jobs import PagedJobModel

__all__ = ["JobCellDelegate"]

# A cell's text laid out (None: no text), its offset in the cell, its icon's rectangle and alignment,
# and its font when not the view's.
_Piece = tuple[QStaticText | None, int, int, QRect, Qt.AlignmentFlag, QFont | None]

_Index = QModelIndex | QPersistentModelIndex
_S = QStyle.StateFlag
# States whose look the style draws (highlight, focus frame, hover): QStyledItemDelegate paints them.
_STYLED = (_S.State_Selected | _S.State_HasFocus | _S.State_MouseOver | _S.State_Editing).value
_ENABLED = _S.State_Enabled.value
_ACTIVE = _S.State_Active.value
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)  # QStyledItemDelegate's default
_ALL_FONT_ATTRIBUTES = 0xFFFFFFFF  # QFont::AllPropertiesResolved (PySide has no such enum member)
_PIECES_MAX = 4096  # cached cells' layouts: many screens' worth; the older half go when full
_GEOMETRIES_MAX = 256  # cached (column, size, icon, alignment, font) layouts
# What makes the cached layouts or colours stale (the view is told; a style switch for dark mode too).
_STALE_EVENTS = frozenset(
    {
        QEvent.Type.FontChange,
        QEvent.Type.StyleChange,
        QEvent.Type.PaletteChange,
        QEvent.Type.LayoutDirectionChange,
        QEvent.Type.ApplicationFontChange,
        QEvent.Type.ApplicationPaletteChange,
        QEvent.Type.ScreenChangeInternal,  # another screen's DPI
    }
)


class JobCellDelegate(QStyledItemDelegate):
    """The job table's delegate (see the module's doc): plain cells drawn from cached pieces."""

    def __init__(self, proxy: JobFilterProxyModel | PagedJobModel, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._proxy = proxy
        self._view = view
        self._geometries: dict[tuple[Any, ...], tuple[QRect, QRect]] = {}
        self._pieces: dict[tuple[Any, ...], _Piece] = {}
        self._fonts: dict[int, tuple[QFont, QFont]] = {}  # id → (a cell's font, resolved)
        self._margin = 0
        self._fresh = False  # the caches below match the view's font, style, palette, direction
        self._font = QFont()
        self._ltr = True
        self._text_colors = (QColor(), QColor())  # the palette's Text: inactive, active window
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _STALE_EVENTS:
            self.clear_cache()
        return False

    def clear_cache(self) -> None:
        """Forget the cached layouts and colours (the font, style, palette or direction changed)."""
        self._geometries.clear()
        self._pieces.clear()
        self._fonts.clear()
        self._fresh = False

    def _refresh(self) -> None:
        view = self._view
        self._font = QFont(view.font())
        self._ltr = view.layoutDirection() == Qt.LayoutDirection.LeftToRight
        self._margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
        palette = view.palette()
        text = QPalette.ColorRole.Text
        self._text_colors = (
            palette.color(QPalette.ColorGroup.Inactive, text),
            palette.color(QPalette.ColorGroup.Active, text),
        )
        self._fresh = True

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        if not self._fresh:
            self._refresh()
        state = option.state.value
        cell = None
        if not state & _STYLED and state & _ENABLED and self._ltr:
            cell = self._proxy.paint_cell(index)
        if cell is None:
            super().paint(painter, option, index)
            return
        x, y, width, height = cast(tuple[int, int, int, int], option.rect.getRect())  # one call, not four
        active = bool(state & _ACTIVE)
        self.draw_plain(
            painter, option, cell, at=(index.row(), index.column()), rect=(x, y, width, height), active=active
        )

    def draw_plain(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        cell: dict[int, Any],
        *,
        at: tuple[int, int],
        rect: tuple[int, int, int, int],
        active: bool,
    ) -> None:
        """Draw the plain cell `at` (row, column) of the view's model, whose painted roles are `cell`,
        in `rect` (x, y, width, height) as QStyledItemDelegate would; `active`: the view's window is
        active (State_Active). `option` (the view's; its rect need not be the cell's) is read only
        to lay out a text not drawn before (its rect is then set to `rect`)."""
        if not self._fresh:
            self._refresh()
        get = cell.get
        value = get(DISPLAY)
        icon = get(DECORATION)
        align = get(ALIGNMENT, _LEFT)
        font = get(FONT)
        x, y, width, height = rect
        key = (at[1], width, height, value, icon is not None, align, 0 if font is None else id(font))
        piece = self._pieces.get(key)
        if piece is None:
            index = self._proxy.index(*at)
            option.rect = QRect(x, y, width, height)  # the view's row loop sets it only for a panel
            piece = self._piece(key, option, index, value=value, align=align, font=font)
        text, dx, dy, icon_rect, icon_align, text_font = piece
        # No painter.save()/restore(): the pen is all this changes (and the font of a cell in
        # another font, put back), and the view sets its own pen for the grid; the style's paint
        # (above) saves and restores as ever.
        background = get(BACKGROUND)
        if background is not None:
            painter.fillRect(x, y, width, height, background)
        if icon is not None:
            icon.paint(painter, icon_rect.translated(x, y), icon_align)
        if text is not None:
            foreground = get(FOREGROUND)
            painter.setPen(self._text_colors[active] if foreground is None else foreground)
            if text_font is None:
                painter.drawStaticText(x + dx, y + dy, text)
            else:  # QPainter draws a QStaticText in its own font
                before = painter.font()
                painter.setFont(text_font)
                painter.drawStaticText(x + dx, y + dy, text)
                painter.setFont(before)

    def _piece(
        self,
        key: tuple[Any, ...],
        option: QStyleOptionViewItem,
        index: _Index,
        *,
        value: Any,
        align: int,
        font: QFont | None,
    ) -> _Piece:
        """What a cell of this column, size, text, icon, alignment and font draws, made once."""
        geometry_key = key[:3] + key[4:]  # all but the text
        geometry = self._geometries.get(geometry_key)
        if geometry is None:
            geometry = self._geometry(geometry_key, option, index)
        icon_rect, text_rect = geometry
        text, dx, dy = None, 0, 0
        shown_font = self._font if font is None else self._resolved(font, self._font)
        if value is not None and value != "":
            text, dx, dy = self._text(value, font=shown_font, text_rect=text_rect, align=align, option=option)
        make_room(self._pieces, _PIECES_MAX)
        piece = self._pieces[key] = (
            text,
            dx,
            dy,
            icon_rect,
            option.decorationAlignment,
            None if font is None else shown_font,
        )
        return piece

    def _resolved(self, font: QFont, base: QFont) -> QFont:
        """A cell's font (FontRole: italic) completed by the view's, as initStyleOption does."""
        entry = self._fonts.get(id(font))
        if entry is None or entry[0] is not font:
            resolved = font.resolve(base)
            # Every attribute set: on a painter of another device (JobTableView's row atlas) the
            # ones not set would come from that device's font, not the view's.
            resolved.setResolveMask(_ALL_FONT_ATTRIBUTES)
            entry = self._fonts[id(font)] = (font, resolved)
        return entry[1]

    def _geometry(
        self, key: tuple[Any, ...], option: QStyleOptionViewItem, index: _Index
    ) -> tuple[QRect, QRect]:
        """The style's icon and text rectangles for a cell of this geometry, relative to the cell."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        view = self._view
        style = view.style()
        origin = opt.rect.topLeft()
        icon = style.subElementRect(QStyle.SubElement.SE_ItemViewItemDecoration, opt, view)
        text = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, view)
        if len(self._geometries) >= _GEOMETRIES_MAX:
            self._geometries.clear()
        geometry = self._geometries[key] = (
            icon.translated(-origin.x(), -origin.y()),
            text.translated(-origin.x(), -origin.y()),
        )
        return geometry

    def _text(
        self,
        value: Any,
        *,
        font: QFont,
        text_rect: QRect,
        align: int,
        option: QStyleOptionViewItem,
    ) -> tuple[QStaticText, int, int]:
        """The cell's text elided as QCommonStyle elides it for one line, as a prepared QStaticText
        (QPainter draws it from its cached glyph positions), and where it goes relative to the cell
        (QCommonStylePrivate::viewItemDrawText and calculateElidedText: the text rectangle less the
        focus frame's margin; elided when its natural width is more than that; the line's height
        rounded, centred in whole pixels)."""
        margin = self._margin
        inner = text_rect.adjusted(margin, 0, -margin, 0)
        text_option = QTextOption()
        text_option.setWrapMode(QTextOption.WrapMode.ManualWrap)
        text_option.setTextDirection(Qt.LayoutDirection.LeftToRight)
        text_option.setAlignment(Qt.AlignmentFlag(align) & Qt.AlignmentFlag.AlignHorizontal_Mask)
        shown = self.displayText(value, option.locale)
        layout = _layout(shown, font, text_option, inner.width())
        line = layout.lineAt(0)
        if line.isValid() and line.naturalTextWidth() > inner.width():
            elide = option.textElideMode
            shown = QFontMetrics(font).elidedText(shown, elide, inner.width())
            layout = _layout(shown, font, text_option, inner.width())
        height = round(layout.boundingRect().height())
        top = inner.y() + (inner.height() - height) // 2  # QStyle::alignedRect, AlignVCenter
        static = QStaticText(shown)
        static.setTextFormat(Qt.TextFormat.PlainText)
        static.setTextOption(text_option)
        static.setTextWidth(inner.width())
        static.setPerformanceHint(QStaticText.PerformanceHint.AggressiveCaching)
        static.prepare(font=font)
        return static, inner.x(), top


def _layout(text: str, font: QFont, text_option: QTextOption, width: int) -> QTextLayout:
    """One line of text laid out in `width` (QCommonStylePrivate::viewItemTextLayout, one line):
    its natural width says whether to elide, its height where the line goes."""
    layout = QTextLayout(text, font)
    layout.setTextOption(text_option)
    layout.beginLayout()
    line = layout.createLine()
    if line.isValid():
        line.setLineWidth(width)
        line.setPosition(QPointF(0, 0))
    layout.endLayout()
    return layout
