"""Issue 13, the window side: the health icon of each device (fed through the bridge as the engine
will: EngineListener.health_changed), Diagnose… from the device list's context menu and the Devices
menu, the raw-log links of its evidence, Copy report and the bundle button, the network self-check
(Tools menu; at start only a status-bar note), and the job table's "Save support bundle…"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QSettings, Qt
from PySide6.QtGui import QAction, QGuiApplication, QHelpEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QToolTip

from wsdmon.core.devices import DeviceRecord
from wsdmon.core.health import HealthCheck, HealthFinding, HealthResult
from wsdmon.core.selfcheck import CheckId, Finding, Verdict
from wsdmon.models import Direction, RawLogEntry, Role, health_report_text, role_data
from wsdmon.store import IncomingMessage

from .factory import SERVER, SERVER2, sample_jobs
from .health_samples import MFP, RECEPTION, SUBSCRIBE_FAULT_ID, sample_health
from .make_diagnose_screenshots import make_diagnose_screenshots
from .make_screenshots import NOW, build_demo
from .test_app import make, run, until
from .test_window_actions import _close
from .test_window_actions import _filled as _app

# The offscreen platform cannot raise a window (a dialog opened again, a tooltip) or grab the keyboard
# (a context menu's popup): it says so, and that is all.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)")

EXPECTED = {  # endpoint → (verdict, the health icon's tooltip)
    SERVER: (
        Verdict.PROBLEM,
        "Health: Problem — Subscription: The device refused the subscription: "
        "its table of subscribers is full.",
    ),
    SERVER2: (
        Verdict.WARNING,
        "Health: Warning — Discovery: The device answers a probe sent to its address, but its multicast "
        "never reached this computer.",
    ),
    MFP: (Verdict.OK, "Health: OK — nothing wrong was seen"),
    RECEPTION: (
        Verdict.UNKNOWN,
        "Health: Not known yet — Discovery: Nothing has been seen yet that tells either way.",
    ),
}


def _feed_health(app: Any, fault_id: int = SUBSCRIBE_FAULT_ID) -> None:
    for health in sample_health(fault_id).values():
        app.bridge.health_changed(health)  # what the engine calls on its listener
    app.bridge.flush()


def _tooltip_at(view: Any, pos: QPoint) -> str:
    QToolTip.hideText()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    return QToolTip.text()


def _shield_pixels(tree: Any, endpoint: str, colour: tuple[int, int, int]) -> int:
    """How many pixels of the health icon's spot in the painted tree have the shield's colour."""
    index = tree.model().index_of(endpoint)
    spot = tree.health_delegate.icon_rect(tree.visualRect(index))
    image = tree.viewport().grab().toImage()
    count = 0
    for x in range(spot.left(), spot.right() + 1):
        for y in range(spot.top(), spot.bottom() + 1):
            c = image.pixelColor(x, y)
            if max(abs(c.red() - colour[0]), abs(c.green() - colour[1]), abs(c.blue() - colour[2])) < 40:
                count += 1
    return count


def test_health_icon_role_and_tooltip_for_each_verdict(qapp, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        tree = app.window.device_tree
        try:
            index = app.devices.index_of(SERVER)
            assert role_data(index, Role.HEALTH) is None  # no report yet: no icon
            before = _tooltip_at(tree, tree.health_delegate.icon_rect(tree.visualRect(index)).center())
            _feed_health(app)
            for endpoint, (verdict, text) in EXPECTED.items():
                index = app.devices.index_of(endpoint)
                assert role_data(index, Role.HEALTH) is verdict, endpoint
                assert role_data(index, Role.HEALTH_TEXT) == text
                assert text in role_data(index, Qt.ItemDataRole.ToolTipRole)  # the row's tooltip too
                name = role_data(index, Qt.ItemDataRole.DisplayRole)
                assert role_data(index, Qt.ItemDataRole.AccessibleTextRole) == f"{name}; {text}"  # said too
                # Over the icon, the tooltip is the health line alone.
                spot = tree.health_delegate.icon_rect(tree.visualRect(index))
                assert _tooltip_at(tree, spot.center()) == text
            assert before != EXPECTED[SERVER][1]
            # The icons are painted at the name's end, and the state icon and text keep their place.
            assert _shield_pixels(tree, SERVER, (0xD9, 0x30, 0x25)) > 30
            assert _shield_pixels(tree, MFP, (0x2E, 0x9D, 0x4F)) > 30
            assert _shield_pixels(tree, SERVER2, (0xE3, 0x74, 0x00)) > 30
            assert (
                role_data(app.devices.index_of(RECEPTION), Qt.ItemDataRole.DisplayRole) == "Reception scanner"
            )
        finally:
            _close(app)

    run(qapp, scenario)


def test_a_report_that_comes_before_its_device_shows_once_the_device_does(qapp, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        try:
            new = "urn:uuid:00000000-0000-4000-8000-00000000abcd"
            health = sample_health()[SERVER]
            app.bridge.health_changed(type(health)(new, health.at, health.results))
            app.bridge.device_changed(DeviceRecord(new, friendly_name="Late MFP"))
            app.bridge.flush()
            assert role_data(app.devices.index_of(new), Role.HEALTH) is Verdict.PROBLEM
        finally:
            _close(app)

    run(qapp, scenario)


def _context_menu_action(tree: Any, endpoint: str, name: str) -> QAction:
    """Right-click the device's row of the real tree; the menu's entry named `name`."""
    index = tree.model().index_of(endpoint)
    tree.setCurrentIndex(index)
    tree.customContextMenuRequested.emit(tree.visualRect(index).center())
    menu = next(m for m in tree.findChildren(QMenu) if m.isVisible())
    action = menu.findChild(QAction, name)
    assert isinstance(action, QAction), [a.objectName() for a in menu.actions()]
    menu.hide()
    return action


def _click_link(qtbot: Any, browser: Any, href: str) -> None:
    """Click the anchor `href` in a QTextBrowser where it is drawn."""
    doc = browser.document()
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(doc)
                cursor.setPosition(fragment.position() + 1)
                browser.ensureCursorVisible()
                pos = browser.cursorRect(cursor).center()
                qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, pos=pos)
                return
            it += 1
        block = block.next()
    raise AssertionError(f"no link {href}")


def test_diagnose_from_the_device_menu_reports_each_check_links_copies_and_closes(qapp, qtbot, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        window = app.window
        # The refused Subscribe's fault, as the journal keeps it.
        (fault_id,) = app.journal.append_messages(
            [
                IncomingMessage(
                    NOW, SERVER, None, "urn:t/Fault", None, "fault", b"<Fault><Reason>full</Reason></Fault>"
                )
            ]
        )
        try:
            _feed_health(app, fault_id)
            entries = [
                RawLogEntry(NOW, Direction.IN, "10.20.0.15", "urn:t/Other", 400, 9000 + n) for n in range(5)
            ]
            fault = RawLogEntry(NOW, Direction.IN, "10.20.0.15", "urn:t/Fault", 512, fault_id)
            app.raw_log.append([*entries, fault, *entries[:2]])
            _context_menu_action(window.device_tree, SERVER, "diagnose").trigger()
            dialog = window.diagnosis.dialogs[SERVER]
            await until(dialog.isVisible, "the Diagnose dialog")
            assert not dialog.isModal()
            assert dialog.windowTitle() == "Diagnose SCANSRV-01"
            text = dialog.report.toPlainText()
            health = sample_health(fault_id)[SERVER]
            assert len(health.results) == 10
            for sentence in (
                "The device was found by multicast discovery.",
                "The device restarted.",
                "The device refused the subscription: its table of subscribers is full.",
                "The device answered some of wsdmon's requests with a fault.",
                "Nothing has been seen yet that tells either way.",
            ):
                assert sentence in text
            for check in ("Discovery", "Probe replies", "Multicast", "Addresses", "Identity", "Scan service",
                          "Subscription", "Faults", "Jobs", "Clock"):  # fmt: skip
                assert check in text
            assert "Code: wse:EventSourceUnableToProcess" in text
            assert "The device said: “Maximum number of subscriptions reached”" in text
            assert "Other computers hold its subscriptions" in text  # what to do next
            assert "Restarts: 2" in text

            qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
            copied = QGuiApplication.clipboard().text()
            assert copied == health_report_text(health, "SCANSRV-01")
            assert "[Problem] Subscription: The device refused the subscription" in copied
            assert f"Messages (journal ids): #{fault_id}" in copied

            assert not window.raw_log.isVisible()
            _click_link(qtbot, dialog.report, f"journal:{fault_id}")
            await until(window.raw_log.isVisible, "the raw log")
            current = window.raw_log.view.currentIndex()
            assert role_data(current, Role.JOURNAL_ID) == fault_id
            assert current.row() == 5
            assert "<Reason>full</Reason>" in window.raw_log.xml.toPlainText()  # its XML, from the journal
            # A message older than the log's rows: no row to select, the journal says it is gone.
            _click_link(qtbot, dialog.report, "journal:4077")
            assert not window.raw_log.view.currentIndex().isValid()
            assert window.raw_log.xml.toPlainText() == "Message #4077 is no longer kept in the journal."

            # Keyboard: Tab walks from the report through the buttons; Esc closes.
            dialog.activateWindow()
            await until(dialog.isActiveWindow, "the dialog to be active")
            dialog.report.setFocus()
            await until(lambda: qapp.focusWidget() is dialog.report, "the report to have the focus")
            seen = []
            for _ in range(8):
                qtbot.keyClick(qapp.focusWidget(), Qt.Key.Key_Tab)
                seen.append(qapp.focusWidget().objectName())
            assert {"copy-report", "save-bundle", "close"} <= set(seen)
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
            await until(lambda: SERVER not in window.diagnosis.dialogs, "Esc to close the dialog")
        finally:
            _close(app)

    run(qapp, scenario)


def test_diagnose_asks_the_engine_for_its_report_now(qapp, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        try:
            _feed_health(app)  # the last report delivered: SERVER has a problem
            fresh = sample_health()[MFP]
            asked: list[str] = []

            def health(endpoint: str) -> Any:
                asked.append(endpoint)
                return type(fresh)(endpoint, fresh.at, fresh.results)

            app.engine.health = health  # Engine.health (the health evaluation, issue 13)
            dialog = app.window.diagnosis.diagnose(SERVER)
            assert asked == [SERVER]
            assert dialog.health is not None
            assert dialog.health.verdict is Verdict.OK
            assert "The device refused the subscription" not in dialog.report.toPlainText()
            # A newer report delivered by the engine replaces what is shown.
            later = sample_health()[SERVER]
            app.bridge.health_changed(type(later)(SERVER, later.at + timedelta(minutes=1), later.results))
            app.bridge.flush()
            assert "The device refused the subscription" in dialog.report.toPlainText()
            dialog.close()
        finally:
            _close(app)

    run(qapp, scenario)


def test_devices_menu_diagnoses_the_selected_device(qapp, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        window = app.window
        try:
            action = window.diagnosis.diagnose_action
            action.trigger()  # nothing selected: a word in the status bar, no dialog
            assert window.statusBar().currentMessage() == "Select a device to diagnose"
            assert window.diagnosis.dialogs == {}
            window.device_tree.setCurrentIndex(app.devices.index_of(MFP))
            action.trigger()
            dialog = window.diagnosis.dialogs[MFP]
            assert dialog.isVisible()
            assert "No health report for this device yet" in dialog.report.toPlainText()
            assert not dialog.copy_button.isEnabled()
            _feed_health(app)
            assert "The device offers a scan service." in dialog.report.toPlainText()
            assert dialog.copy_button.isEnabled()
            dialog.close()
        finally:
            _close(app)

    run(qapp, scenario)


def _zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


async def _answer_bundle(app: Any, path: Path) -> None:
    dialog = app.window.bundle_dialog
    assert isinstance(dialog, QFileDialog)
    assert dialog.isVisible()
    dialog.selectFile(str(path))
    dialog.accept()
    await until(lambda: "Saved the support bundle" in app.window.statusBar().currentMessage(), "the bundle")


def test_the_diagnose_dialog_saves_the_devices_bundle(qapp, qtbot, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        now = datetime.now(UTC)
        for endpoint, name in ((SERVER, "SCANSRV-01"), (SERVER2, "SCANSRV-BRANCH")):
            app.journal.upsert_device(DeviceRecord(endpoint, friendly_name=name, last_seen=now))
        app.journal.append_messages(
            IncomingMessage(now, device, None, "urn:t/StatusEvent", None, "s", b"<e/>")
            for device in (SERVER, SERVER2)
        )
        try:
            dialog = app.window.diagnosis.diagnose(SERVER2)
            qtbot.mouseClick(dialog.bundle_button, Qt.MouseButton.LeftButton)
            out = tmp_path / "server2.zip"
            await _answer_bundle(app, out)
            files = _zip(out)
            assert [d["endpoint"] for d in json.loads(files["devices.json"])] == [SERVER2]
            assert [e["device"] for e in json.loads(files["messages/index.json"])] == [SERVER2]
            dialog.close()
        finally:
            _close(app)

    run(qapp, scenario)


def test_job_table_menu_saves_a_bundle_of_the_selected_job(qapp, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path)
        window = app.window
        records = sample_jobs(NOW, {}, routine=4)
        app.journal.upsert_jobs(records, 0)  # as the engine folds them (more than a day old)
        for endpoint, name in ((SERVER, "SCANSRV-01"), (SERVER2, "SCANSRV-BRANCH")):
            app.journal.upsert_device(DeviceRecord(endpoint, friendly_name=name, last_seen=NOW))
        try:
            table = window.job_table
            chosen = next(r for r in records if r.key.device == SERVER2)
            assert table.select_key(chosen.key)
            view = table.view
            pos = view.visualRect(view.currentIndex()).center()
            view.customContextMenuRequested.emit(pos)  # right-click on the job
            menu = next(m for m in table.findChildren(QMenu) if m.isVisible())
            action = menu.findChild(QAction, "save-bundle")
            assert isinstance(action, QAction)
            assert action.text() == "Save support bundle…"
            menu.hide()
            action.trigger()
            out = tmp_path / "job.zip"
            await _answer_bundle(app, out)
            assert (
                window.statusBar().currentMessage()
                == f"Saved the support bundle to {out}: 1 jobs, 0 messages"
            )
            files = _zip(out)
            jobs = json.loads(files["jobs.json"])
            assert [j["job_token"] for j in jobs] == [chosen.key.job_token]
            assert [d["endpoint"] for d in json.loads(files["devices.json"])] == [SERVER2]
            assert "the jobs chosen" in files["README.txt"].decode()
        finally:
            _close(app)

    run(qapp, scenario)


_HOLD_PORT = (
    "import socket, sys\n"
    "s = socket.socket()\n"
    "s.bind(('127.0.0.1', 0))\n"
    "s.listen()\n"
    "print(s.getsockname()[1], flush=True)\n"
    "sys.stdin.read()\n"
)


def _port_holder() -> tuple[subprocess.Popen[str], int]:
    """Another program (a python process) listening on a TCP port of loopback."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD_PORT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.communicate()  # waits, and closes its pipes


def test_network_selfcheck_from_the_tools_menu_on_loopback(qapp, qtbot, tmp_path):
    async def scenario() -> None:
        app = _app(qapp, tmp_path, "--interface", "lo")  # never join a group on another interface
        window = app.window
        try:
            tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
            entry = next(a for a in tools.actions() if a.text() == "Network &self-check…")
            entry.trigger()
            dialog = window.diagnosis.selfcheck_dialog
            assert dialog is not None
            assert dialog.isVisible()
            assert not dialog.isModal()
            await until(lambda: len(dialog.results) == 4, "the self-check's results")
            assert [r.check for r in dialog.results] == [
                CheckId.INTERFACES,
                CheckId.DISCOVERY_PORT,
                CheckId.NOTIFY_PORT,
                CheckId.MULTICAST,  # the dialog also listens a few seconds; start-up does not
            ]
            text = dialog.report.toPlainText()
            assert "No WS-Discovery multicast from another host arrived while listening." in text
            assert "0 message(s) in 4 s" in text
            assert "lo: 127.0.0.1" in text
            assert "TCP 0 can be used." in text  # --notify-port 0
            assert "Discovery port" in text
            qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
            assert QGuiApplication.clipboard().text().startswith("Network self-check\n\n[")
            first = dialog.results
            qtbot.mouseClick(dialog.again_button, Qt.MouseButton.LeftButton)  # Run again
            assert dialog.report.toPlainText().strip() == "Checking…"
            assert not dialog.again_button.isEnabled()
            await until(lambda: dialog.results is not first, "the second run's results")
            assert [r.check for r in dialog.results] == [r.check for r in first]
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
            await until(lambda: window.diagnosis.selfcheck_dialog is None, "Esc to close it")
        finally:
            _close(app)

    run(qapp, scenario)


def test_the_start_check_only_notes_a_held_port_in_the_status_bar(qapp, qtbot, tmp_path):
    holder, port = _port_holder()

    async def scenario() -> None:
        app = _app(qapp, tmp_path, "--interface", "lo", "--notify-port", str(port))
        window = app.window
        diagnosis = window.diagnosis
        try:
            diagnosis.check_at_start()
            await until(lambda: diagnosis.startup_results is not None, "the start-up check")
            # Start-up checks the ports only: it does not sit listening for multicast.
            assert CheckId.MULTICAST not in {r.check for r in diagnosis.startup_results}
            assert diagnosis.selfcheck_dialog is None  # no dialog pops up by itself
            assert diagnosis.note.isVisible()
            assert diagnosis.note.text() == "The network self-check found something to look at"
            assert diagnosis.note.toolTip() == f"Notify port: TCP {port} is already held by another program."
            qtbot.mouseClick(diagnosis.note_button, Qt.MouseButton.LeftButton)
            dialog = diagnosis.selfcheck_dialog
            assert dialog is not None
            notify = next(r for r in dialog.results if r.check is CheckId.NOTIFY_PORT)
            assert (notify.verdict, notify.finding) == (Verdict.PROBLEM, Finding.PORT_HELD)
            text = dialog.report.toPlainText()
            assert "Held by python" in text
            assert f"(pid {holder.pid})" in text
            assert "choose another notify port in Edit ▸ Preferences" in text
            dialog.close()
        finally:
            _close(app)

    try:
        run(qapp, scenario)
    finally:
        _stop(holder)


def test_the_start_check_says_nothing_when_all_is_well_and_own_ports_are_not_a_problem(qapp, tmp_path):
    holder, port = _port_holder()
    _stop(holder)  # a port that was free a moment ago: this process takes it, as the sink would

    async def scenario() -> None:
        import socket

        mine = socket.socket()
        mine.bind(("127.0.0.1", port))
        mine.listen()
        app = _app(qapp, tmp_path, "--interface", "lo", "--notify-port", str(port))
        diagnosis = app.window.diagnosis
        try:
            diagnosis.check_at_start()
            await until(lambda: diagnosis.startup_results is not None, "the start-up check")
            notify = next(r for r in diagnosis.startup_results if r.check is CheckId.NOTIFY_PORT)
            assert (notify.verdict, notify.finding) == (Verdict.OK, Finding.PORT_FREE)
            others = [r.verdict for r in diagnosis.startup_results]
            assert diagnosis.note.isVisible() == any(v in (Verdict.PROBLEM, Verdict.WARNING) for v in others)
        finally:
            mine.close()
            _close(app)

    run(qapp, scenario)


@pytest.mark.timeout(180)
def test_the_screens_at_1366x768_show_every_name_whole_and_the_dialogs_fit(tmp_path):
    """On a real X server: the shield did not push device names into "Reception scan…" (the device
    list is wider for it), the report of ten checks fits without scrolling, the dialogs fit."""
    facts = make_diagnose_screenshots(tmp_path)
    assert facts["window_fits"], facts
    assert facts["note_visible"], facts
    assert facts["clipped_names"] == [], facts
    assert facts["report_fits"], facts
    assert facts["report_lines"] == 10, facts
    assert not facts["report_scrolls"], facts
    assert facts["selfcheck_fits"], facts
    for name in ("window-1366x768", "device-tree", "report", "selfcheck"):
        assert (tmp_path / f"diagnose-{name}.png").stat().st_size > 3_000, name


def test_start_runs_the_port_check_once_and_its_own_ports_are_no_problem(qapp, tmp_path):
    """The real start: multicast discovery on loopback only, the notify sink listening; the start-up
    check then finds both ports in use by this wsdmon, which is as it should be."""

    async def scenario() -> None:
        app = make(qapp, tmp_path, "--interface", "lo", "--notify-port", "0")
        diagnosis = app.window.diagnosis
        try:
            await app.start()
            assert app.multicast
            await until(lambda: diagnosis.startup_results is not None, "the start-up check")
            results = {r.check: r for r in diagnosis.startup_results}
            assert set(results) == {CheckId.INTERFACES, CheckId.DISCOVERY_PORT, CheckId.NOTIFY_PORT}
            notify = results[CheckId.NOTIFY_PORT]
            assert (notify.verdict, notify.finding) == (Verdict.OK, Finding.PORT_FREE)
            assert notify.target == f"TCP {app.engine.sink.port}"
            assert notify.port is not None
            assert [h.pid for h in notify.port.holders or ()] == [os.getpid()]
            attention = [r for r in results.values() if r.verdict in (Verdict.PROBLEM, Verdict.WARNING)]
            assert diagnosis.note.isVisible() == bool(attention)
            assert diagnosis.selfcheck_dialog is None  # nothing pops up by itself
        finally:
            await app.stop()

    run(qapp, scenario)


def test_a_selfcheck_that_cannot_run_says_why_in_the_dialog(qtbot, tmp_path, caplog):
    def broken(_listen: bool) -> Any:
        raise OSError(24, "Too many open files")

    demo = build_demo(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), run_selfcheck=broken)
    qtbot.addWidget(demo.window)
    dialog = demo.window.diagnosis.open_selfcheck()
    assert dialog is not None
    assert dialog.heading.text() == "The self-check could not run: [Errno 24] Too many open files"
    assert dialog.again_button.isEnabled()
    assert "the network self-check failed" in caplog.text
    demo.window.diagnosis.check_at_start()  # at start: a log line, nothing shown
    assert not demo.window.diagnosis.note.isVisible()
    dialog.close()


@pytest.mark.parametrize("finding", list(HealthFinding))
def test_every_health_finding_has_window_words(finding: HealthFinding) -> None:
    """Diagnose… words every finding the engine can give (a missing one was a KeyError)."""
    from wsdmon.models.health_text import health_advice, health_sentence

    result = HealthResult(HealthCheck.DISCOVERY, Verdict.OK, finding)
    assert health_sentence(result).endswith(".")
    assert isinstance(health_advice(result), str)


@pytest.mark.parametrize("finding", list(Finding))
def test_every_selfcheck_finding_has_window_words(finding: Finding) -> None:
    from wsdmon.core.selfcheck import CheckResult
    from wsdmon.models.selfcheck_text import selfcheck_advice, selfcheck_sentence

    result = CheckResult(CheckId.PROBE, Verdict.OK, finding, target="x")
    assert selfcheck_sentence(result).endswith(".")
    assert isinstance(selfcheck_advice(result), str)
