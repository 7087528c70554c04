"""Every menu entry, context-menu entry, button and shortcut of the main window, triggered through
the real widgets of the real Application (QAction.trigger, keys on the window, clicks, dialogs
answered), each checked by what a person would see. The inventory test at the top fails when the
window gains an entry that no test here (or in the modules named in COVERED_ELSEWHERE) exercises."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QMenu, QMessageBox

from wsdmon import __version__
from wsdmon.core.devices import DeviceRecord
from wsdmon.models import Column, DeviceColumn, QuickFilter
from wsdmon.store import IncomingMessage

from .factory import SERVER, SERVER2, sample_jobs
from .make_screenshots import NOW, sample_devices
from .test_app import make, run, until
from .test_window_actions import _close
from .test_window_actions import _filled as _app

# Menu-bar entries ("Menu/Entry", without the & marks) and where each is exercised.
COVERED = {
    "File/Export table…": "test_window_actions.py::test_export_writes_the_jobs_shown_with_device_names",
    "File/Save support bundle…": "test_save_support_bundle_from_the_file_menu_and_the_device_menu",
    "File/Open shared history…": "test_open_shared_history_says_why_a_location_cannot_be_shown",
    "File/Quit": "test_quit_closes_the_window",
    "Edit/Preferences…": "test_preferences_from_the_menu_and_cancel_changes_nothing",
    "View/Search jobs": "test_window_actions.py::"
    "test_tab_walks_the_whole_window_to_cancel_and_esc_clears_the_search",
    "View/Raw message log": "test_raw_log_toggles_from_the_menu_and_ctrl_l",
    "View/Columns": "test_columns_menu_and_header_menu_hide_and_reset_columns",
    "Devices/Re-probe the network": "test_f5_reprobes_and_says_so",
    "Devices/Diagnose…": "test_diagnose.py::test_devices_menu_diagnoses_the_selected_device",
    "Tools/Network self-check…": "test_diagnose.py::test_network_selfcheck_from_the_tools_menu_on_loopback",
    "Help/About wsdmon": "test_about_opens_a_box_with_the_version",
}


def _menu_entries(window: Any) -> set[str]:
    entries = set()
    for top in window.menuBar().actions():
        menu = top.menu()
        assert isinstance(menu, QMenu)
        for action in menu.actions():
            if not action.isSeparator():
                entries.add(f"{top.text().replace('&', '')}/{action.text().replace('&', '')}")
    return entries


def _status(app: Any) -> str:
    return str(app.window.statusBar().currentMessage())


def test_every_menu_entry_has_a_test(qapp, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        try:
            assert _menu_entries(app.window) == set(COVERED)
            here = globals()
            for where in COVERED.values():
                module, _, name = where.rpartition("::")
                if not module:
                    assert callable(here.get(name)), where
                else:
                    assert f"def {name}(" in (Path(__file__).parent / module).read_text(encoding="utf-8"), (
                        where
                    )
        finally:
            _close(app)

    run(qapp, scenario)


def test_quit_closes_the_window(qapp, qtbot, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        try:
            closed: list[bool] = []
            qapp.lastWindowClosed.connect(lambda: closed.append(True))
            quit_action = next(a for a in app.window.findChildren(QAction) if a.text() == "&Quit")
            assert quit_action.shortcut().matches(
                QGuiApplication.keyboardModifiers() or quit_action.shortcut()
            )
            quit_action.trigger()
            assert not app.window.isVisible()
            assert closed
        finally:
            _close(app)

    run(qapp, scenario)


def test_preferences_from_the_menu_and_cancel_changes_nothing(qapp, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        try:
            changed: list[object] = []
            app.window.preferences_changed.connect(changed.append)
            app.window.preferences_action.trigger()
            dialog = app.window.preferences_dialog
            assert dialog is not None
            assert dialog.isVisible()
            assert dialog.windowTitle() == "Preferences"
            dialog.notify_port.setValue(6333)
            dialog.reject()
            assert changed == []
            assert app.preferences.notify_port != 6333
        finally:
            _close(app)

    run(qapp, scenario)


def test_raw_log_toggles_from_the_menu_and_ctrl_l(qapp, qtbot, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        window = app.window
        try:
            window.activateWindow()
            await until(window.isActiveWindow, "the window to be active")
            toggle = window.raw_log.toggleViewAction()
            assert toggle.shortcut().toString() == "Ctrl+L"
            assert not window.raw_log.isVisible()
            toggle.trigger()
            assert window.raw_log.isVisible()
            target = qapp.focusWidget() or window
            qtbot.keyClick(target, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # the shortcut
            await until(lambda: not window.raw_log.isVisible(), "Ctrl+L to hide the raw log")
        finally:
            _close(app)

    run(qapp, scenario)


def test_columns_menu_and_header_menu_hide_and_reset_columns(qapp, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        window = app.window
        header = window.job_table.view.horizontalHeader()
        try:
            window.columns_menu.aboutToShow.emit()  # View ▸ Columns fills itself when opened
            entries = {a.text(): a for a in window.columns_menu.actions() if not a.isSeparator()}
            assert {"Device", "JobToken", "JobState", "Reset columns"} <= set(entries)
            assert not header.isSectionHidden(Column.TOKEN)
            entries["JobToken"].trigger()
            assert header.isSectionHidden(Column.TOKEN)
            # The job table's header has the same chooser in its context menu.
            menu = QMenu()
            window.job_table.add_column_actions(menu)
            token = next(a for a in menu.actions() if a.text() == "JobToken")
            assert not token.isChecked()
            next(a for a in menu.actions() if a.text() == "Reset columns").trigger()
            assert not header.isSectionHidden(Column.TOKEN)
            assert header.isSectionHidden(Column.COMPLETED)  # hidden by default
        finally:
            _close(app)

    run(qapp, scenario)


def test_f5_reprobes_and_says_so(qapp, qtbot, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path, "--probe", "127.0.0.1:9")  # nothing answers there
        window = app.window
        try:
            await app.start_discovery()
            await until(lambda: not app.status.discovering, "the first probe round")
            window.activateWindow()
            await until(window.isActiveWindow, "the window to be active")
            assert window.reprobe_action.shortcut().toString() == "F5"
            qtbot.keyClick(window, Qt.Key.Key_F5)
            await until(window.discovering_label.isVisible, "the busy note")
            assert window.discovering_label.text() == "Looking for devices…"
            await until(
                lambda: "No WS-Discovery answer from 127.0.0.1:9" in _status(app), "the probe's outcome"
            )
        finally:
            await app.stop_discovery()
            _close(app)

    run(qapp, scenario)


def test_about_opens_a_box_with_the_version(qapp, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        try:
            app.window.about_action.trigger()
            box = app.window.message_box
            assert isinstance(box, QMessageBox)
            assert box.isVisible()
            assert box.windowTitle() == "About wsdmon"
            assert f"wsdmon {__version__}" in box.text()
            box.accept()
        finally:
            _close(app)

    run(qapp, scenario)


def test_device_menu_refresh_open_page_copy_address(qapp, tmp_path, monkeypatch):
    opened: list[str] = []

    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        tree = app.window.device_tree
        tree._open_url = opened.append  # the desktop's browser is not the test's to open
        refreshed: list[str] = []

        async def refresh(endpoint: str) -> None:
            refreshed.append(endpoint)

        tree._refresh = refresh
        try:
            server = sample_devices()[0]
            menu = tree.context_menu_for(server)
            actions = {a.text(): a for a in menu.actions() if not a.isSeparator()}
            assert set(actions) == {
                "Diagnose…",
                "Refresh",
                "Resubscribe",
                "Open presentation page",
                "Copy address",
                "Save support bundle…",
            }
            actions["Refresh"].trigger()
            assert _status(app) == f"Reading {server.display_name} again…"
            await until(lambda: "read again" in _status(app), "the refresh outcome")
            assert refreshed == [SERVER]
            actions["Open presentation page"].trigger()
            assert opened == [server.presentation_url]
            actions["Copy address"].trigger()
            assert QGuiApplication.clipboard().text() == server.address
            no_page = next(r for r in sample_devices() if not r.presentation_url)
            menu = tree.context_menu_for(no_page)
            assert not next(a for a in menu.actions() if a.text() == "Open presentation page").isEnabled()
        finally:
            _close(app)

    run(qapp, scenario)


def test_filter_buttons_and_combos_and_copy_buttons(qapp, qtbot, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        window = app.window
        table = window.job_table
        try:
            total = window.proxy.rowCount()
            for quick in (QuickFilter.ACTIVE, QuickFilter.COMPLETED, QuickFilter.FAILED):
                qtbot.mouseClick(table.quick_buttons[quick], Qt.MouseButton.LeftButton)
                shown = [window.proxy.record(r) for r in range(window.proxy.rowCount())]
                assert 0 < len(shown) < total, quick
                if quick is QuickFilter.ACTIVE:
                    assert all(r.is_active for r in shown)
                if quick is QuickFilter.FAILED:
                    assert all(not r.is_active for r in shown)
            qtbot.mouseClick(table.quick_buttons[QuickFilter.ALL], Qt.MouseButton.LeftButton)
            assert window.proxy.rowCount() == total
            table.device_combo.setCurrentIndex(table.device_combo.findText("SCANSRV-BRANCH"))
            assert {window.proxy.record(r).key.device for r in range(window.proxy.rowCount())} != {SERVER}
            table.device_combo.setCurrentIndex(0)
            assert window.proxy.rowCount() == total
            if hasattr(table, "kind_combo"):
                table.kind_combo.setCurrentIndex(table.kind_combo.count() - 1)
                table.kind_combo.setCurrentIndex(0)
                assert window.proxy.rowCount() == total
            record = window.proxy.record(0)
            assert table.select_key(record.key)
            copy = next(b for b in window.detail.findChildren(type(table.new_jobs)) if b.text() == "Copy")
            qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
            assert QGuiApplication.clipboard().text() == record.status.job_token
        finally:
            _close(app)

    run(qapp, scenario)


def test_device_list_header_menu_and_the_timeline_tab_with_copy_xml(qapp, qtbot, tmp_path):
    async def scenario() -> None:
        journal: dict[int, str] = {}
        app = make(qapp, tmp_path, "--no-discovery", "--notify-port", "0")
        window = app.window
        window.detail._raw_xml_for = journal.get
        app.devices.upsert(sample_devices())
        records = sample_jobs(NOW, journal)
        app.jobs.apply_changes(records)
        window.resize(1366, 768)
        window.show()
        tree = window.device_tree
        try:
            menu = tree.header_menu()
            state = next(a for a in menu.actions() if a.text() == "State")
            was_hidden = tree.isColumnHidden(DeviceColumn.STATE)
            assert state.isChecked() != was_hidden
            state.trigger()
            assert tree.isColumnHidden(DeviceColumn.STATE) != was_hidden
            assert window.job_table.select_key(records[0].key)
            window.detail.tabs.tabBar().setCurrentIndex(1)  # "Timeline & raw XML"
            assert window.detail.timeline.rowCount() == len(records[0].timeline)
            last = window.detail.timeline.rowCount() - 1
            window.detail.timeline_view.selectRow(last)
            xml = window.detail.raw_xml.toPlainText()
            assert "PostScanJob" in xml
            copy_xml = next(
                b
                for b in window.detail.findChildren(type(window.job_table.new_jobs))
                if b.text() == "Copy XML"
            )
            qtbot.mouseClick(copy_xml, Qt.MouseButton.LeftButton)
            assert QGuiApplication.clipboard().text() == xml
        finally:
            _close(app)

    run(qapp, scenario)


async def _answer_bundle(app: Any, path: Path) -> None:
    dialog = app.window.bundle_dialog
    assert isinstance(dialog, QFileDialog)
    assert dialog.isVisible()
    assert dialog.windowModality() is Qt.WindowModality.WindowModal  # the jobs keep arriving
    assert dialog.acceptMode() is QFileDialog.AcceptMode.AcceptSave
    assert dialog.selectedFiles()[0].endswith(".zip")
    dialog.selectFile(str(path))
    dialog.accept()
    await until(lambda: "Saved the support bundle" in _status(app), "the bundle's status message")


def _zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_open_shared_history_says_why_a_location_cannot_be_shown(qapp, tmp_path):
    """File ▸ Open shared history…: a text that is no PostgreSQL location, then a server that is not
    there are said in the dialog (the password typed never shown back); Cancel closes it. The
    opened view: tests/integration/store/test_shared_window.py (a real PostgreSQL)."""

    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        try:
            assert app.window.open_shared_action.isEnabled()
            app.window.open_shared_action.trigger()
            dialog = app.window.shared_dialog
            assert dialog is not None
            assert dialog.isVisible()
            assert dialog.isModal()  # window-modal: the local window's jobs keep arriving behind it
            assert "~/.pgpass" in dialog.findChildren(type(dialog.answer))[0].text()
            dialog.location.setText("my history")
            dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()
            assert "Give a PostgreSQL location" in dialog.answer.text()
            dialog.location.setText("postgresql://desk:s3cret@127.0.0.1:1/wsdmon?connect_timeout=2")
            dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()
            assert "Opening postgresql://desk:***@127.0.0.1:1/wsdmon" in dialog.answer.text()
            await until(dialog.buttons.isEnabled, "the answer")
            said = dialog.answer.text()
            assert "cannot be reached" in said
            assert "postgresql://desk:***@127.0.0.1:1/wsdmon" in said
            assert "s3cret" not in said
            assert app.shared_windows.windows == []
            dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
            assert not dialog.isVisible()
            saved = " ".join(str(app.settings.value(k)) for k in app.settings.allKeys())
            assert "s3cret" not in saved
        finally:
            _close(app)

    run(qapp, scenario)


def test_save_support_bundle_from_the_file_menu_and_the_device_menu(qapp, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        now = datetime.now(UTC)
        for endpoint, name in ((SERVER, "SCANSRV-01"), (SERVER2, "SCANSRV-BRANCH")):
            app.journal.upsert_device(DeviceRecord(endpoint, friendly_name=name, last_seen=now))
        ids = app.journal.append_messages(
            IncomingMessage(
                now, device, None, "urn:t/StatusEvent", None, f"status {n}", f"<e n='{n}'/>".encode()
            )
            for n, device in enumerate((SERVER, SERVER2, SERVER))
        )
        try:
            assert app.window.bundle_action.isEnabled()
            app.window.bundle_action.trigger()  # File ▸ Save support bundle…
            everything = tmp_path / "all.zip"
            await _answer_bundle(app, everything)
            assert _status(app) == f"Saved the support bundle to {everything}: 0 jobs, 3 messages"
            files = _zip(everything)
            assert {
                "README.txt",
                "environment.json",
                "devices.json",
                "jobs.json",
                "messages/index.json",
            } <= set(files)
            index = json.loads(files["messages/index.json"])
            assert [e["id"] for e in index] == ids
            assert [files[e["file"]] for e in index] == [b"<e n='0'/>", b"<e n='1'/>", b"<e n='2'/>"]
            assert {d["friendly_name"] for d in json.loads(files["devices.json"])} == {
                "SCANSRV-01",
                "SCANSRV-BRANCH",
            }
            assert json.loads(files["environment.json"])["qt"]["qt"]  # made in the window: Qt's version

            # The device list's menu: that device only.
            server = sample_devices()[0]
            menu = app.window.device_tree.context_menu_for(server)
            next(a for a in menu.actions() if a.text() == "Save support bundle…").trigger()
            one = tmp_path / "one.zip"
            await _answer_bundle(app, one)
            files = _zip(one)
            assert [d["endpoint"] for d in json.loads(files["devices.json"])] == [SERVER]
            assert [e["id"] for e in json.loads(files["messages/index.json"])] == [ids[0], ids[2]]

            # A place that cannot be written: a message says so, nothing is left behind.
            app.window.bundle_action.trigger()
            dialog = app.window.bundle_dialog
            assert isinstance(dialog, QFileDialog)
            bad = tmp_path / "no-such-folder" / "b.zip"
            dialog.selectFile(str(bad))
            dialog.accept()
            await until(lambda: isinstance(app.window.message_box, QMessageBox), "the error message")
            box = app.window.message_box
            assert box.windowTitle() == "Support bundle not saved"
            assert f"cannot write {bad}" in box.text()
            box.accept()
        finally:
            _close(app)

    run(qapp, scenario)
