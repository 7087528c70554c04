"""Widgets: the detail pane shows all seven JobStatus sub-elements of a real message, selection
survives live updates, filters and the column chooser work, cancel asks first and shows the answer."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication

from wsdmon.core import JobRecord, JobTable, Observation, ObservationKind
from wsdmon.models import Column, DeviceTreeModel, JobFilterProxyModel, JobTableModel, QuickFilter, Role
from wsdmon.protocol import decode
from wsdmon.protocol.dsm import PostScanJobStatusEvent
from wsdmon.widgets import SECTIONS, DetailPane, JobTableWidget

from .factory import sample_jobs
from .make_screenshots import build_demo, make_screenshots, sample_devices

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "valid"
ARRIVAL = datetime(2026, 11, 23, 17, 14, 42, tzinfo=UTC)


def record_from_corpus(name: str) -> JobRecord:
    """Decode a corpus message and fold it the way the engine does."""
    message = decode((CORPUS / name).read_bytes())
    assert isinstance(message, PostScanJobStatusEvent)
    table = JobTable()
    obs = Observation(
        ObservationKind.STATUS_EVENT,
        "urn:uuid:server",
        message.job_status,
        ARRIVAL,
        message.header.message_id,
        7,
    )
    return table.apply(obs).record


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("postscanjobstatusevent-*.xml")))
def test_detail_pane_shows_all_seven_sub_elements(qtbot, name):
    record = record_from_corpus(name)
    xml = (CORPUS / name).read_text()
    pane = DetailPane(device_name=lambda e: "SCANSRV-01", raw_xml_for={7: xml}.get)
    qtbot.addWidget(pane)
    pane.show_record(record, can_cancel=False)
    s = record.status
    texts = {section: pane.section_text(section) for section in SECTIONS}
    assert texts["JobToken"] == s.job_token  # verbatim, whitespace and all
    assert texts["JobState"].startswith(
        str(s.job_state) if not pane.detail().state.vendor else f"{s.job_state} (vendor extension)"
    )
    for reason in s.job_state_reasons:
        assert str(reason) in texts["JobStateReasons"]
    for f in s.filter_statuses:
        assert str(f.state) in texts["FilterStatuses"]
        for reason in f.reasons:
            assert str(reason) in texts["FilterStatuses"]
    assert texts["ImagesReceived"] == str(s.images_received)
    for section, dt in (("JobCreatedTime", s.job_created_time), ("JobCompletedTime", s.job_completed_time)):
        if dt is None:
            assert "(" in texts[section]  # "(not sent)" / "(not yet…)"
        elif dt.tzinfo is None:
            assert "server local" in texts[section]
            assert dt.isoformat() in texts[section]
        else:
            assert dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") in texts[section]
            assert dt.astimezone().strftime("%Y-%m-%d %H:%M:%S") in texts[section]
    assert pane.timeline.rowCount() == 1
    assert "JobStatus" in pane.raw_xml.toPlainText()  # pretty-printed raw XML of the event


def test_detail_pane_meanings(qtbot):
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.show_record(record_from_corpus("postscanjobstatusevent-completed.xml"))
    assert "at least one filter reported an error" in pane.section_text("JobStateReasons")
    assert "finished: the filters have processed all its documents" in pane.section_text("JobState")
    assert "e-mail (SMTP) server" in pane.section_text("FilterStatuses")
    assert pane.section_text("Duration") == "36 s"
    vendor = record_from_corpus("postscanjobstatusevent-vendor.xml")
    pane.show_record(vendor)
    assert "acme:Quarantined (vendor extension)" in pane.section_text("JobState")
    assert "Vendor extension" in pane.section_text("JobState")
    assert "acme:LicenseExpired (vendor extension)" in pane.section_text("FilterStatuses")


def test_token_copy_button(qtbot):
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.show_record(record_from_corpus("postscanjobstatusevent-vendor.xml"))
    assert pane.token.isReadOnly()
    pane._on_copy_token_clicked()
    assert QGuiApplication.clipboard().text() == "  spaced token  "


def _table(qtbot, jobs):
    devices = DeviceTreeModel()
    devices.upsert(sample_devices())
    model = JobTableModel(devices.device)
    model.apply_changes(jobs)
    proxy = JobFilterProxyModel()
    proxy.setSourceModel(model)
    widget = JobTableWidget(proxy, devices)
    qtbot.addWidget(widget)
    widget._keep = (devices, model)
    return widget, model, proxy


def _bump(rec, **changes):
    return dataclasses.replace(
        rec, status=dataclasses.replace(rec.status, **changes), last_update=rec.last_update + timedelta(1)
    )


def test_selection_survives_a_batch_of_updates(qtbot):
    jobs = sample_jobs(routine=20)
    widget, model, _ = _table(qtbot, jobs)
    widget.view.sortByColumn(Column.STATE, Qt.SortOrder.AscendingOrder)
    target = next(j for j in jobs if j.status.job_state == "Processing")
    assert widget.select_key(target.key)
    seen = []
    widget.current_job_changed.connect(seen.append)
    # A batch: the selected job moves (its state sorts elsewhere), others change, new jobs arrive.
    others = [_bump(j, images_received=j.status.images_received + 1) for j in jobs if j is not target]
    new = sample_jobs(datetime(2026, 11, 24, 9, tzinfo=UTC), routine=3)[:3]
    model.apply_changes([*others, _bump(target, job_state="Completed"), *new])
    model.flush()
    assert widget.current_key() == target.key
    assert widget.current_record().status.job_state == "Completed"
    assert seen
    assert seen[-1].status.job_state == "Completed"  # the detail pane is told
    selected = widget.view.selectionModel().selectedRows()
    assert [i.data(Role.JOB_KEY) for i in selected] == [target.key]
    widget.view.sortByColumn(Column.CREATED, Qt.SortOrder.DescendingOrder)
    assert widget.current_key() == target.key


def test_search_box_quick_filters_and_device_combo(qtbot):
    widget, model, proxy = _table(qtbot, sample_jobs())
    qtbot.keyClicks(widget.search, "smtp")
    assert proxy.rowCount() == 1
    widget.search.clear()
    qtbot.mouseClick(widget.quick_buttons[QuickFilter.FAILED], Qt.MouseButton.LeftButton)
    assert proxy.quick_filter() is QuickFilter.FAILED
    assert proxy.rowCount() == 2
    qtbot.mouseClick(widget.quick_buttons[QuickFilter.ALL], Qt.MouseButton.LeftButton)
    assert widget.device_combo.count() == 5  # "All devices" + four
    widget.device_combo.setCurrentIndex(2)
    assert proxy.device_filter() == widget.device_combo.itemData(2)
    assert 0 < proxy.rowCount() < model.rowCount()
    widget.set_device_filter(None)
    assert proxy.rowCount() == model.rowCount()


def test_column_chooser_and_header_state(qtbot):
    widget, _, _ = _table(qtbot, sample_jobs())
    header = widget.view.horizontalHeader()
    assert header.isSectionHidden(Column.COMPLETED)
    header.setSectionHidden(Column.COMPLETED, False)
    header.setSectionHidden(Column.TOKEN, True)
    state = widget.header_state()
    widget.reset_columns()
    assert not header.isSectionHidden(Column.TOKEN)
    assert widget.restore_header_state(state)
    assert header.isSectionHidden(Column.TOKEN)
    assert not header.isSectionHidden(Column.COMPLETED)


def test_site_column_only_in_a_shared_view_also_after_an_older_header_state(qtbot):
    """A header state saved before the Site column existed (ten columns) would show it in a single
    PC's window: it stays hidden there, and the column chooser does not offer it; a shared view
    (set_sites) shows it beside Device, with the site filter."""
    from PySide6.QtGui import QStandardItemModel
    from PySide6.QtWidgets import QMenu, QTableView

    older = QTableView()
    qtbot.addWidget(older)
    older.setModel(QStandardItemModel(0, 10, older))
    old_state = older.horizontalHeader().saveState()
    widget, _, _ = _table(qtbot, sample_jobs())
    header = widget.view.horizontalHeader()
    assert widget.restore_header_state(old_state)
    assert header.isSectionHidden(Column.SITE)
    menu = QMenu()
    widget.add_column_actions(menu)
    assert "Site" not in [a.text() for a in menu.actions()]
    assert not widget.site_combo.isVisibleTo(widget)
    widget.set_sites(["branch", "floor-3"])
    assert not header.isSectionHidden(Column.SITE)
    assert header.visualIndex(Column.SITE) == header.visualIndex(Column.DEVICE) + 1
    assert widget.site_combo.isVisibleTo(widget)
    assert [widget.site_combo.itemText(i) for i in range(widget.site_combo.count())][1:] == [
        "branch",
        "floor-3",
    ]
    widget.restore_header_state(old_state)
    widget.reset_columns()
    assert not header.isSectionHidden(Column.SITE)  # a shared view keeps it


def test_cancel_asks_calls_and_shows_the_answer(qtbot):
    record = next(j for j in sample_jobs() if j.status.job_state == "Processing")
    asked, calls = [], []
    pane = DetailPane(
        cancel_job=lambda key: calls.append(key) or "Canceled",
        confirm=lambda t, q: asked.append(q) or True,
    )
    qtbot.addWidget(pane)
    pane.show_record(record, can_cancel=True)
    assert pane.cancel_button.isEnabled()
    qtbot.mouseClick(pane.cancel_button, Qt.MouseButton.LeftButton)
    assert record.status.job_token in asked[0]
    assert calls == [record.key]
    assert pane.cancel_answer.text() == "Cancel requested: Canceled"


def test_cancel_declined_or_failing(qtbot):
    record = next(j for j in sample_jobs() if j.status.job_state == "Processing")

    def refuse(key):
        raise RuntimeError("dsc:ClientErrorJobTokenNotFound")

    pane = DetailPane(cancel_job=refuse, confirm=lambda t, q: False)
    qtbot.addWidget(pane)
    pane.show_record(record, can_cancel=True)
    pane.cancel_button.click()
    assert not pane.cancel_answer.text()  # declined: nothing sent
    pane._confirm = lambda t, q: True
    pane.cancel_button.click()
    assert "ClientErrorJobTokenNotFound" in pane.cancel_answer.text()


def test_cancel_disabled_for_finished_jobs_and_scanners(qtbot):
    jobs = sample_jobs()
    pane = DetailPane(cancel_job=lambda key: "x")
    qtbot.addWidget(pane)
    pane.show_record(next(j for j in jobs if j.status.job_state == "Completed"), can_cancel=True)
    assert not pane.cancel_button.isEnabled()
    pane.show_record(next(j for j in jobs if j.status.job_state == "Processing"), can_cancel=False)
    assert not pane.cancel_button.isEnabled()
    pane.show_record(None)
    assert not pane.cancel_button.isEnabled()


def test_main_window_wiring_and_settings(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    demo = build_demo(settings)
    window = demo.window
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    labels = window.status_labels
    assert labels["devices"].text() == "Devices: 4"
    assert labels["active"].text() == "Active jobs: 2"
    assert "Rejected: 1" in labels["rejected"].text()
    window.search_action.trigger()
    qtbot.waitUntil(window.job_table.search.hasFocus, timeout=2000)
    assert window.search_action.shortcut().toString() == "Ctrl+F"
    assert window.export_action.shortcut().toString() == "Ctrl+E"
    assert window.reprobe_action.shortcut().toString() == "F5"
    failed = next(r for r in demo.records if r.status.job_token.startswith("0f3b5e21"))
    assert window.job_table.select_key(failed.key)
    assert window.detail.section_text("JobToken") == failed.status.job_token
    window.splitter.setSizes([150, 700, 500])
    sizes = window.splitter.sizes()
    window.close()
    again = build_demo(settings).window
    qtbot.addWidget(again)
    again.resize(1366, 768)
    again.show()
    assert again.splitter.sizes() == sizes


def test_device_tree_selects_the_device_filter(qtbot, tmp_path):
    demo = build_demo(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window = demo.window
    qtbot.addWidget(window)
    tree = window.device_tree
    server = demo.devices.index_of(sample_devices()[1].endpoint)
    tree.setCurrentIndex(server)
    assert window.proxy.device_filter() == sample_devices()[1].endpoint
    menu = tree.context_menu_for(sample_devices()[0])
    copy = next(a for a in menu.actions() if a.objectName() == "copy-address")
    copy.trigger()
    assert QGuiApplication.clipboard().text() == sample_devices()[0].address


def test_screenshots_script(qtbot, tmp_path):
    paths = make_screenshots(tmp_path / "shots", tmp_path / "settings.ini")
    from PySide6.QtGui import QImage

    image = QImage(str(paths[0]))
    assert (image.width(), image.height()) == (1366, 768)
    assert all(QImage(str(p)).width() > 300 for p in paths[1:])


def test_widgets_never_import_protocol_or_net():
    for path in (ROOT / "gui" / "wsdmon" / "widgets").glob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("wsdmon.protocol", "wsdmon.net")), f"{path.name} imports {name}"


@pytest.mark.timeout(120)
def test_demo_screenshots_script(qapp, tmp_path):
    """The README's pictures: the demo (engine + simulator) at 1366×768, and the detail pane of a
    job whose e-mail filter failed."""
    from PySide6.QtGui import QImage

    from .make_demo_screenshots import make_demo_screenshots

    paths = make_demo_screenshots(tmp_path / "shots")
    assert [p.name for p in paths] == [
        "main-window.png",
        "detail-pane.png",
        "detail-timeline.png",
        "detail-scan-job.png",
        "main-window-dark.png",
    ]
    for path in (paths[0], paths[4]):
        image = QImage(str(path))
        assert (image.width(), image.height()) == (1366, 768)
    assert QImage(str(paths[1])).width() >= 500


def test_a_busy_jobs_trimmed_timeline_keeps_the_selected_event_and_says_what_is_left_out(qtbot):
    from wsdmon.core.jobs import MAX_TIMELINE

    first = record_from_corpus("postscanjobstatusevent-vendor.xml")
    table = JobTable()
    table.jobs[first.key] = first

    def more(n: int, start: int) -> JobRecord:
        rec = first
        for i in range(start, start + n):
            status = dataclasses.replace(first.status, images_received=first.status.images_received + i)
            obs = Observation(
                ObservationKind.STATUS_EVENT,
                first.key.device,
                status,
                ARRIVAL + timedelta(seconds=i),
                f"m{i}",
                i,
            )
            rec = table.apply(obs).record
        return rec

    pane = DetailPane()
    qtbot.addWidget(pane)
    rec = more(MAX_TIMELINE - 1, 1)
    pane.show_record(rec)
    assert "Every event" in pane.timeline_intro.text()
    view, model = pane.timeline_view, pane.timeline
    view.selectRow(MAX_TIMELINE - 3)
    chosen = model.entry(MAX_TIMELINE - 3)
    removed, inserted, reset = [], [], []
    model.rowsRemoved.connect(lambda *a: removed.append(a[1:]))
    model.rowsInserted.connect(lambda *a: inserted.append(a[1:]))
    model.modelReset.connect(lambda: reset.append(True))
    rec = more(5, MAX_TIMELINE)
    pane.show_record(rec)
    assert rec.timeline_dropped == 5
    assert model.rowCount() == MAX_TIMELINE
    assert (removed, inserted, reset) == ([(1, 5)], [(MAX_TIMELINE - 5, MAX_TIMELINE - 1)], [])
    assert model.entry(view.currentIndex().row()) == chosen  # the selected event stays selected
    assert model.entry(0) == rec.timeline[0]
    assert "5 events in between are left out" in pane.timeline_intro.text()
    assert f"latest {MAX_TIMELINE - 1}" in pane.timeline_intro.text()
