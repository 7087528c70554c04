"""The job table's delegate (widgets/job_delegate.py) paints plain cells itself: what the user sees
must be what QStyledItemDelegate paints, pixel for pixel (colours, icons, italics, alignment,
elision), and the style keeps painting the selected row."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from PySide6.QtCore import QEvent, QItemSelectionModel, Qt
from PySide6.QtGui import QHelpEvent, QImage, QPalette
from PySide6.QtWidgets import QApplication, QStyledItemDelegate, QToolTip

from wsdmon.models import Column, DeviceTreeModel, JobFilterProxyModel, JobTableModel, QuickFilter
from wsdmon.models.jobs import ITEM_FLAGS
from wsdmon.widgets import JobTableWidget
from wsdmon.widgets.job_delegate import JobCellDelegate
from wsdmon.widgets.theme import dark_palette

from .factory import sample_jobs
from .make_screenshots import sample_devices


def _table(qtbot, width: int = 1300):
    devices = DeviceTreeModel()
    devices.upsert(sample_devices())
    model = JobTableModel(devices.device)
    model.apply_changes(sample_jobs(routine=12))
    proxy = JobFilterProxyModel()
    proxy.setSourceModel(model)
    widget = JobTableWidget(proxy, devices)
    qtbot.addWidget(widget)
    widget._keep = (devices, model)
    header = widget.view.horizontalHeader()
    for column in Column:  # every column, the narrow ones too (elided texts)
        header.setSectionHidden(column, False)
    header.resizeSection(Column.TOKEN, 90)
    header.resizeSection(Column.FILTERS, 70)
    widget.resize(width, 520)
    widget.show()
    qtbot.waitExposed(widget)
    return widget, model, proxy


def _shot(widget) -> QImage:
    viewport = widget.view.viewport()
    viewport.repaint()
    return viewport.grab().toImage()


def _with_styled_delegate(widget) -> QImage:
    """The same viewport painted by Qt's own delegate."""
    fast = widget.view.itemDelegate()
    plain = QStyledItemDelegate(widget.view)
    widget.view.setItemDelegate(plain)
    try:
        return _shot(widget)
    finally:
        widget.view.setItemDelegate(fast)


def _assert_same(fast: QImage, styled: QImage) -> None:
    assert fast.size() == styled.size()
    if fast != styled:
        diff = [
            (x, y)
            for y in range(fast.height())
            for x in range(fast.width())
            if fast.pixel(x, y) != styled.pixel(x, y)
        ]
        pytest.fail(f"{len(diff)} pixels differ, the first at {diff[:5]}")


def _assert_fast_and_same(widget, model_class, monkeypatch) -> None:
    """The table's plain rows are painted from the model's cells (model_class.paint_row, in one pass
    by JobTableView), and the viewport looks as Qt's own view and delegate paint it."""
    assert isinstance(widget.view.itemDelegate(), JobCellDelegate)
    fast_rows = []
    real = model_class.paint_row
    monkeypatch.setattr(model_class, "paint_row", lambda self, row: fast_rows.append(row) or real(self, row))
    fast = _shot(widget)
    assert len(fast_rows) > 5  # the plain rows went the fast way
    _assert_same(fast, _with_styled_delegate(widget))


def test_the_job_table_uses_the_fast_delegate_and_paints_what_qt_paints(qtbot, monkeypatch):
    widget, _, _ = _table(qtbot)
    _assert_fast_and_same(widget, JobFilterProxyModel, monkeypatch)


@pytest.mark.parametrize("quick", [QuickFilter.ALL, QuickFilter.FAILED])
def test_selected_and_filtered_rows_look_as_qt_paints_them(qtbot, quick):
    widget, _, proxy = _table(qtbot, width=900)
    widget.set_quick_filter(quick)
    widget.view.setFocus()
    widget.view.selectionModel().setCurrentIndex(
        proxy.index(1, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    _assert_same(_shot(widget), _with_styled_delegate(widget))


def test_a_changed_font_and_column_width_are_measured_again(qtbot):
    widget, _, _ = _table(qtbot)
    _shot(widget)
    font = widget.view.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    widget.view.setFont(font)
    widget.view.horizontalHeader().resizeSection(Column.DEVICE, 60)
    widget.view.horizontalHeader().resizeSection(Column.STATE, 150)
    _assert_same(_shot(widget), _with_styled_delegate(widget))


def test_a_dark_palette_repaints_in_its_colours(qtbot):
    widget, _, _ = _table(qtbot)
    light = _shot(widget)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.palette()
    dark_base = dark_palette().color(QPalette.ColorRole.Base)
    app.setPalette(dark_palette())
    try:
        qtbot.waitUntil(lambda: widget.view.viewport().palette().color(QPalette.ColorRole.Base) == dark_base)
        qtbot.wait(20)
        dark = _shot(widget)
        assert dark != light
        _assert_same(dark, _with_styled_delegate(widget))
    finally:
        app.setPalette(before)
    qtbot.waitUntil(lambda: widget.view.viewport().palette().color(QPalette.ColorRole.Base) != dark_base)
    qtbot.wait(20)
    _assert_same(_shot(widget), light)


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen: the tooltip raised
def test_cell_tooltips_still_come_from_the_model(qtbot):
    widget, model, proxy = _table(qtbot)
    view = widget.view
    index = proxy.index(0, Column.TOKEN)
    rect = view.visualRect(index)
    QApplication.sendEvent(
        view.viewport(),
        QHelpEvent(QEvent.Type.ToolTip, rect.center(), view.viewport().mapToGlobal(rect.center())),
    )
    assert QToolTip.isVisible()
    assert QToolTip.text() == model.record(0).status.job_token
    QToolTip.hideText()


def test_live_updates_repaint_the_changed_cells(qtbot):
    widget, model, proxy = _table(qtbot)
    _shot(widget)
    row = 0
    rec = model.record(row)
    changed = dataclasses.replace(
        rec,
        status=dataclasses.replace(rec.status, images_received=rec.status.images_received + 41),
        last_update=rec.last_update + timedelta(seconds=1),
    )
    model.apply_changes([changed], now=True)
    assert proxy.index(model.row_of(changed.key), Column.IMAGES).data(Qt.ItemDataRole.DisplayRole) == (
        rec.status.images_received + 41
    )
    _assert_same(_shot(widget), _with_styled_delegate(widget))


def test_every_job_cell_is_enabled_selectable_and_childless(qtbot):
    """The job models answer flags() in C++ (QAbstractTableModel's, asked once per painted cell)."""
    widget, model, proxy = _table(qtbot)
    widget.set_quick_filter(QuickFilter.FAILED)  # a mapped proxy index too
    for index in (model.index(0, Column.STATE), proxy.index(0, Column.TOKEN)):
        assert index.isValid()
        assert index.flags() == ITEM_FLAGS
    assert model.flags(model.index(-1, 0)) == Qt.ItemFlag.NoItemFlags
    assert proxy.flags(proxy.index(-1, 0)) == Qt.ItemFlag.NoItemFlags


def _cells(model: JobTableModel) -> list[dict]:
    return [model.paint_cell(row, col) for row in range(model.rowCount()) for col in range(len(Column))]


def test_a_job_updated_live_looks_as_if_its_row_were_built_afresh(qtbot):
    """A row's look reuses the cells an update leaves alone (device, token, times, kind): after each
    step of a job's life, in progress, server-local times, failed, every cell equals a fresh build."""
    devices = DeviceTreeModel()
    devices.upsert(sample_devices())
    jobs = sample_jobs()
    processing = next(j for j in jobs if j.status.job_state == "Processing")
    live = JobTableModel(devices.device)
    live.apply_changes(jobs, now=True)
    _cells(live)  # every row has a look now
    steps = []
    rec = processing
    filters = processing.status.filter_statuses
    for change in (
        {"images_received": processing.status.images_received + 1},
        {},  # a repeat: nothing but the time of the update
        {"filter_statuses": (dataclasses.replace(filters[0], state="Completed"), *filters[1:])},
        {"job_state_reasons": ("acme:Throttled",)},
        {"job_created_time": processing.status.job_created_time.replace(tzinfo=None)},  # server local
        {"unknown_since": processing.last_update},  # the job's fate is unknown (core.jobs rule 7)
        {"unknown_since": None, "job_state": "Aborted", "job_completed_time": processing.last_update},
        {"images_received": 99},
    ):
        unknown = {"unknown_since": change.pop("unknown_since")} if "unknown_since" in change else {}
        rec = dataclasses.replace(
            rec,
            status=dataclasses.replace(rec.status, **change),
            last_update=rec.last_update + timedelta(seconds=1),
            **unknown,
        )
        steps.append(rec)
    for step in steps:
        live.apply_changes([step], now=True)
        fresh = JobTableModel(devices.device)
        fresh.apply_changes([step if j.key == step.key else j for j in jobs], now=True)
        assert _cells(live) == _cells(fresh)
    row = live.row_of(rec.key)
    assert live.paint_cell(row, Column.IMAGES)[Qt.ItemDataRole.DisplayRole] == 99
    assert Qt.ItemDataRole.BackgroundRole in live.paint_cell(row, Column.DEVICE)  # failed: tinted


def test_a_right_to_left_table_looks_as_qt_paints_it(qtbot):
    widget, _, _ = _table(qtbot)
    _shot(widget)
    widget.view.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    qtbot.wait(10)
    _assert_same(_shot(widget), _with_styled_delegate(widget))


def test_a_shared_stores_paged_table_uses_the_fast_delegate_and_paints_what_qt_paints(
    qtbot, tmp_path, monkeypatch
):
    """The window on a shared store pages its jobs from the store (PagedJobModel): its plain cells
    are painted from the model's cells too (a full repaint took 38 ms of the GUI thread with Qt's
    delegate at 1,000 events/s, bench/bench_latency_pg.py), and look the same."""
    from tests.job_samples import sample_jobs as many_jobs
    from wsdmon.models.paged_jobs import PagedJobModel
    from wsdmon.store import Journal
    from wsdmon.store.job_pages import SqliteJobPages

    path = tmp_path / "journal.sqlite3"
    with Journal(path, site="pc") as journal:
        journal.upsert_jobs(list(many_jobs(200, devices=6)), 0)
    devices = DeviceTreeModel()
    devices.upsert(sample_devices())
    pages = SqliteJobPages(path)
    model = PagedJobModel(pages, devices.device)
    widget = JobTableWidget(model, devices)
    qtbot.addWidget(widget)
    widget._keep = (devices, model)
    header = widget.view.horizontalHeader()
    for column in Column:
        header.setSectionHidden(column, False)
    header.resizeSection(Column.TOKEN, 90)
    widget.resize(1300, 520)
    widget.show()
    qtbot.waitExposed(widget)
    try:
        _assert_fast_and_same(widget, PagedJobModel, monkeypatch)
        # A live re-read of the store that changed none of the jobs on screen: their rows are
        # copied from the view's row atlas, not painted again (the store keeps their records).
        atlas = widget.view._atlas
        assert atlas is not None
        made, fetches = atlas.made, model.fetches
        model.store_changed(False)
        model.flush()
        qtbot.waitUntil(lambda: model.fetches > fetches)  # the rows on screen were read again
        assert widget.view.verticalHeader().count() == model.rowCount() > 0
        _assert_same(_shot(widget), _with_styled_delegate(widget))
        assert widget.view._atlas is atlas
        assert atlas.made == made
        widget.view.setFocus()
        widget.view.selectionModel().setCurrentIndex(
            model.index(2, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )
        _assert_same(_shot(widget), _with_styled_delegate(widget))
    finally:
        pages.close()


def test_full_caches_drop_their_older_half_not_the_rows_on_screen(qtbot, monkeypatch):
    """The job model's cells and the delegate's text layouts are bounded: when full, the older half
    goes (models/bounded.py), so the rows just painted keep theirs (emptied all at once, the next
    repaint rebuilt every row on screen: a 10-14 ms repaint in the latency bench)."""
    from wsdmon.models import bounded, jobs

    monkeypatch.setattr(jobs, "_LOOKS_MAX", 8)
    widget, model, _ = _table(qtbot)
    cells = [model.paint_row(row) for row in range(model.rowCount())]
    assert model.rowCount() > 8
    # the last rows asked are kept as they were; the first ones were dropped and are built anew
    assert all(model.paint_row(row) is cells[row] for row in range(model.rowCount() - 4, model.rowCount()))
    assert model.paint_row(0) is not cells[0]
    assert model.paint_row(0) == cells[0]
    cache = {n: n for n in range(10)}
    bounded.make_room(cache, 10)
    assert list(cache) == [5, 6, 7, 8, 9]  # down to half, the newest kept
    bounded.make_room(cache, 10)
    assert len(cache) == 5  # not full: untouched
    _assert_same(_shot(widget), _with_styled_delegate(widget))
