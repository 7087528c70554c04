"""The job table paints its plain rows in one pass (widgets/job_view.py): whatever it paints must be
what QTableView and QStyledItemDelegate paint, pixel for pixel — a partial repaint of scattered rows,
a hovered row, a scrolled table, hidden columns, no grid — and the rows the style draws (selected,
current, hovered) still go through Qt."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QHoverEvent, QImage, QPainter, QRegion
from PySide6.QtWidgets import QApplication, QStyledItemDelegate

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
