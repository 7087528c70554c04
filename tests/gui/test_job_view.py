"""The job table paints its plain rows in one pass (widgets/job_view.py): whatever it paints must be
what QTableView and QStyledItemDelegate paint, pixel for pixel — a partial repaint of scattered rows,
a hovered row, a scrolled table, hidden columns, no grid — and the rows the style draws (selected,
current, hovered) still go through Qt."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QItemSelectionModel, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QBrush, QColor, QHoverEvent, QImage, QLinearGradient, QPainter, QPalette, QRegion
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from wsdmon.models import Column, JobFilterProxyModel
from wsdmon.widgets.job_view import JobTableView

from .test_job_delegate import _assert_same, _shot, _table, _with_styled_delegate


def _render(widget, region: QRegion) -> QImage:
    """The viewport painted for `region` only (a paint event of that region), on a blank image."""
    viewport = widget.view.viewport()
    image = QImage(viewport.size(), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.magenta)  # what no paint reached stays magenta in both
    painter = QPainter(image)
    viewport.render(painter, QPoint(0, 0), region)
    painter.end()
    return image


def _render_styled(widget, region: QRegion) -> QImage:
    fast = widget.view.itemDelegate()
    widget.view.setItemDelegate(QStyledItemDelegate(widget.view))
    try:
        return _render(widget, region)
    finally:
        widget.view.setItemDelegate(fast)


def _row_rect(view, row: int) -> QRect:
    return QRect(0, view.rowViewportPosition(row), view.viewport().width(), view.rowHeight(row))


def test_the_job_table_is_a_job_table_view_painting_plain_rows_in_one_pass(qtbot):
    widget, _, _ = _table(qtbot)
    view = widget.view
    assert isinstance(view, JobTableView)
    before = view.fast_rows
    _shot(widget)
    assert view.fast_rows - before >= 10  # every row on screen: none is selected or hovered


def test_a_repaint_of_scattered_rows_paints_what_qt_paints_there(qtbot):
    """A live update repaints the rows it changed: a region of several rectangles, cells cut by its
    edges; alternate rows among them."""
    widget, _, _ = _table(qtbot, width=1000)
    view = widget.view
    region = QRegion(_row_rect(view, 1)).united(_row_rect(view, 4)).united(_row_rect(view, 5))
    region = region.united(QRect(130, view.rowViewportPosition(8) + 3, 200, 30))  # cut cells, two rows
    fast = _render(widget, region)
    assert fast.pixelColor(0, view.rowViewportPosition(2) + 2) == Qt.GlobalColor.magenta  # not painted
    _assert_same(fast, _render_styled(widget, region))


def test_a_hovered_row_and_a_current_row_without_focus_look_as_qt_paints_them(qtbot):
    widget, _, proxy = _table(qtbot, width=1000)
    view = widget.view
    view.setMouseTracking(True)
    view.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover, True)
    view.selectionModel().setCurrentIndex(
        proxy.index(6, Column.STATE), QItemSelectionModel.SelectionFlag.NoUpdate
    )
    rect = view.visualRect(proxy.index(3, Column.DEVICE))
    at = QPointF(rect.center())
    QApplication.sendEvent(view.viewport(), QHoverEvent(QEvent.Type.HoverEnter, at, at, QPointF(-1, -1)))
    assert view.indexAt(rect.center()).row() == 3
    _assert_same(_shot(widget), _with_styled_delegate(widget))
    QApplication.sendEvent(
        view.viewport(), QHoverEvent(QEvent.Type.HoverLeave, QPointF(-1, -1), QPointF(-1, -1), at)
    )
    _assert_same(_shot(widget), _with_styled_delegate(widget))


def test_a_scrolled_table_with_hidden_columns_and_no_grid_looks_as_qt_paints_it(qtbot):
    widget, _, _ = _table(qtbot, width=700)
    view = widget.view
    header = view.horizontalHeader()
    header.setSectionHidden(Column.TOKEN, True)
    header.setSectionHidden(Column.KIND, True)
    header.moveSection(header.visualIndex(Column.IMAGES), 0)  # a user dragged a column first
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().maximum() // 2)
    view.verticalScrollBar().setValue(3)
    qtbot.wait(10)
    _assert_same(_shot(widget), _with_styled_delegate(widget))
    view.setShowGrid(False)
    _assert_same(_shot(widget), _with_styled_delegate(widget))


def test_a_filtered_table_paints_the_rows_it_shows(qtbot):
    widget, model, proxy = _table(qtbot)
    proxy.set_search_text(model.record(3).status.job_token[:8])
    assert 0 < proxy.rowCount() < model.rowCount()
    _assert_same(_shot(widget), _with_styled_delegate(widget))
    assert isinstance(proxy, JobFilterProxyModel)
    assert proxy.paint_row(proxy.rowCount()) is None  # past the last row: Qt's path, not a crash


class _PanelStyle(QProxyStyle):
    """A style whose row panel is not one colour (a line under every cell of the alternate rows)
    and whose grid is translucent: both must still look as Qt paints them."""

    def __init__(self, *, panel: bool = False, grid_alpha: int = 255) -> None:
        super().__init__("Fusion")
        self._panel, self._grid_alpha = panel, grid_alpha

    def drawPrimitive(self, element, option, painter, widget=None):
        super().drawPrimitive(element, option, painter, widget)
        alternate = QStyleOptionViewItem.ViewItemFeature.Alternate
        if (
            self._panel
            and element == QStyle.PrimitiveElement.PE_PanelItemViewRow
            and isinstance(option, QStyleOptionViewItem)
            and option.features & alternate
        ):
            rect = option.rect
            painter.fillRect(QRect(rect.left(), rect.bottom(), rect.width(), 1), Qt.GlobalColor.red)

    def styleHint(self, hint, option=None, widget=None, data=None):
        value = super().styleHint(hint, option, widget, data)
        if hint == QStyle.StyleHint.SH_Table_GridLineColor:
            color = QColor.fromRgba(value & 0xFFFFFFFF)
            color.setAlpha(self._grid_alpha)
            rgba = color.rgba()
            return rgba - (1 << 32) if rgba >= 1 << 31 else rgba  # a C int
        return value


def test_alternate_rows_are_filled_as_the_style_fills_them(qtbot):
    """Fusion's row panel is nothing on a plain row and one colour on an alternate one: the view
    fills that colour under each alternate row at once instead of asking the style per cell."""
    widget, _, _ = _table(qtbot, width=1000)
    view = widget.view
    assert view.alternatingRowColors()
    _shot(widget)
    alternate = view._panels[True]
    assert view._panels[False] is False  # nothing drawn under a plain row
    assert isinstance(alternate, QColor)
    assert alternate == view.palette().color(QPalette.ColorRole.AlternateBase)
    y = view.rowViewportPosition(1) + 1
    assert _shot(widget).pixelColor(3, y) == alternate  # left of any text
    _assert_same(_shot(widget), _with_styled_delegate(widget))


def test_a_style_with_its_own_row_panel_and_grid_is_painted_as_qt_paints_it(qtbot):
    widget, _, _ = _table(qtbot, width=1000)
    view = widget.view
    widget._styles = styles = (_PanelStyle(panel=True), _PanelStyle(grid_alpha=120))  # not the view's
    for style in styles:
        view.setStyle(style)
        qtbot.wait(10)
        _assert_same(_shot(widget), _with_styled_delegate(widget))
        assert view._panels[True] is True  # the style's own panel, per cell
    view.setGridStyle(Qt.PenStyle.DashLine)  # a dashed grid shows what is under it
    _assert_same(_shot(widget), _with_styled_delegate(widget))


def _changed(rec, *, images: int = 41):
    return dataclasses.replace(
        rec,
        status=dataclasses.replace(rec.status, images_received=rec.status.images_received + images),
        last_update=rec.last_update + timedelta(seconds=1),
    )


def test_rows_that_did_not_change_are_copied_and_a_changed_job_is_painted_again(qtbot):
    """The view keeps its plain rows as painted (row_atlas.py): a repaint copies a row whose job did
    not change, paints a changed job's row again, and a new job that moves every row below it (and
    swaps their colours) still shows what Qt paints."""
    widget, model, _ = _table(qtbot, width=1000)
    view = widget.view
    _shot(widget)
    atlas = view._atlas
    assert atlas is not None
    painted = atlas.made
    assert painted >= 10  # every row on screen
    _assert_same(_shot(widget), _with_styled_delegate(widget))
    assert view._atlas is atlas  # Qt's delegate painted in between: its own rows, not the atlas
    assert atlas.made == painted  # copied, not painted again
    model.apply_changes([_changed(model.record(2))], now=True)
    fast = _shot(widget)
    assert atlas.made == painted + 1  # the changed job's row alone
    _assert_same(fast, _with_styled_delegate(widget))
    newest = model.record(0)
    key = dataclasses.replace(newest.key, job_token="uuid:0b0e0d0c-new")
    new = dataclasses.replace(
        newest,
        key=key,
        status=dataclasses.replace(newest.status, job_token=key.job_token),
        first_seen=newest.first_seen + timedelta(minutes=5),
        last_update=newest.last_update + timedelta(minutes=5),
    )
    model.apply_changes([new], now=True)
    assert model.row_of(new.key) is not None
    _assert_same(_shot(widget), _with_styled_delegate(widget))


def _newer_job(rec, n: int):
    """A new job, created after `rec`: sorted above it, it moves the rows below and swaps colours."""
    key = dataclasses.replace(rec.key, job_token=f"uuid:0b0e0d0c-new-{n}")
    return dataclasses.replace(
        rec,
        key=key,
        status=dataclasses.replace(rec.status, job_token=key.job_token),
        first_seen=rec.first_seen + timedelta(minutes=5 + n),
        last_update=rec.last_update + timedelta(minutes=5 + n),
    )


def test_a_job_in_progress_is_painted_over_its_last_look_only_where_it_changed(qtbot):
    """A job in progress changes a cell or two: its row is painted over its last look in that
    colour, only the cells that changed (RowAtlas.take), in both colours as new jobs above it swap
    them, then whole when it fails (every cell tinted); with the style's own panel per cell too.
    Each time the viewport is what Qt paints, pixel for pixel."""
    widget, model, _ = _table(qtbot, width=1000)
    view = widget.view
    _shot(widget)
    rec = model.record(3)
    newest = model.record(0)
    total = 0
    for n in range(6):
        atlas = view._atlas  # a new one when the rows outgrow the viewport (a scroll bar)
        assert atlas is not None
        made, patched = atlas.made, atlas.patched
        rec = _changed(rec, images=1)
        model.apply_changes([rec], now=True)
        _assert_same(_shot(widget), _with_styled_delegate(widget))
        if view._atlas is atlas and n % 2 == 0:  # its last look in this colour was painted here
            assert (atlas.made - made, atlas.patched - patched) == (1, 1), n  # the Images cell alone
        total += view._atlas.patched - patched if view._atlas is atlas else 0
        model.apply_changes([_newer_job(newest, n)], now=True)  # every row below moves: colours swap
        _assert_same(_shot(widget), _with_styled_delegate(widget))
    assert total >= 2
    atlas = view._atlas
    assert atlas is not None
    patched = atlas.patched
    failed = dataclasses.replace(
        rec,
        status=dataclasses.replace(
            rec.status, job_state="Aborted", job_state_reasons=("PostScanJobTimedOut",)
        ),
    )
    model.apply_changes([failed], now=True)
    _assert_same(_shot(widget), _with_styled_delegate(widget))
    assert atlas.patched == patched  # a new look of every cell: painted whole
    widget._styles = style = _PanelStyle(panel=True)
    view.setStyle(style)
    qtbot.wait(10)
    _shot(widget)
    atlas = view._atlas
    assert atlas is not None
    rec = _changed(failed, images=1)
    model.apply_changes([rec], now=True)
    _assert_same(_shot(widget), _with_styled_delegate(widget))
    assert atlas.patched >= 1


def test_a_resized_column_or_another_palette_paints_the_rows_again(qtbot):
    widget, _, _ = _table(qtbot, width=1000)
    view = widget.view
    _shot(widget)
    before = view._atlas
    view.horizontalHeader().resizeSection(Column.STATE, 160)
    _assert_same(_shot(widget), _with_styled_delegate(widget))
    assert view._atlas is not before  # the rows are laid out anew
    before = view._atlas
    palette = view.palette()
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#d8ecd8"))
    view.setPalette(palette)
    _assert_same(_shot(widget), _with_styled_delegate(widget))
    assert view._atlas is not before


def test_a_background_that_is_not_one_colour_is_painted_where_the_rows_show(qtbot):
    """A slot of the atlas is filled with the viewport's background first: a gradient cannot be, so
    the rows are drawn in place (as a device pixel ratio other than 1 does)."""
    widget, _, _ = _table(qtbot, width=1000)
    view = widget.view
    palette = view.viewport().palette()
    gradient = QLinearGradient(0, 0, 0, 400)
    gradient.setColorAt(0, QColor("#ffffff"))
    gradient.setColorAt(1, QColor("#c0c0ff"))
    palette.setBrush(QPalette.ColorRole.Base, QBrush(gradient))
    view.viewport().setPalette(palette)
    fast = _shot(widget)
    assert view._atlas is None
    assert view.fast_rows > 0
    _assert_same(fast, _with_styled_delegate(widget))


class _Bot:
    """What _table needs of qtbot, in a process of its own (_at_scale)."""

    def addWidget(self, widget) -> None:
        pass

    def waitExposed(self, widget) -> None:
        QTest.qWaitForWindowExposed(widget)


def _at_scale() -> None:
    """Run by test_a_scaled_screen_paints_what_qt_paints in a process whose QT_SCALE_FACTOR is set."""
    app = QApplication([])
    app.setStyle("Fusion")
    widget, model, _ = _table(_Bot(), width=1000)
    view = widget.view
    print("ratio", view.viewport().devicePixelRatioF())
    _assert_same(_shot(widget), _with_styled_delegate(widget))
    model.apply_changes([_changed(model.record(2))], now=True)
    _assert_same(_shot(widget), _with_styled_delegate(widget))
    print("atlas", view._atlas is not None, "fast rows", view.fast_rows)
    widget.close()


@pytest.mark.parametrize("scale", ["1.5", "2"])
def test_a_scaled_screen_paints_what_qt_paints(scale):
    """A device pixel ratio other than 1 (a laptop at 150 % or 200 %) is set before Qt starts: in a
    process of its own. Its rows are drawn where they show, and look as Qt paints them."""
    env = {**os.environ, "QT_SCALE_FACTOR": scale, "QT_QPA_PLATFORM": "offscreen"}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    code = "from tests.gui.test_job_view import _at_scale; _at_scale()"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"ratio {float(scale)}" in done.stdout
    assert "atlas False fast rows" in done.stdout
    assert int(done.stdout.rsplit(" ", 1)[1]) >= 10


def test_the_row_atlas_reuses_the_slot_shown_least_recently(qapp):
    from wsdmon.widgets.row_atlas import ATLAS_BYTES_MAX, RowAtlas

    assert RowAtlas.slots_for(1366, 21, 30) == 2 * 31 + 2  # both colours of every row, and a spare
    assert RowAtlas.slots_for(4000, 30, 200) == 0  # not a screen's worth within ATLAS_BYTES_MAX
    assert ATLAS_BYTES_MAX < 4000 * 30 * 4 * 201
    atlas = RowAtlas((), 100, 10, 3, QColor("white"))
    rows = [(f"row {n}",) for n in range(4)]  # cells: kept alive by the atlas while in a slot
    slots = [atlas.allocate(rows[n], False) for n in range(3)]
    assert sorted(slots) == [0, 1, 2]
    assert atlas.find(rows[0], False) == slots[0]  # shown again: now the most recent
    assert atlas.find(rows[0], True) is None  # the other colour is another picture
    assert atlas.allocate(rows[3], False) == slots[1]  # row 1's slot: shown least recently
    assert atlas.find(rows[1], False) is None
    assert atlas.made == 4
