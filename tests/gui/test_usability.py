"""Preferences (dialog, QSettings, columns), the tray notice (coalesced), trusting an HTTPS
certificate from the device list, the discovery status, About."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QSettings, Qt

from wsdmon import __version__
from wsdmon.bridge import device_row
from wsdmon.core import DeviceErrorKind, DeviceRecord
from wsdmon.models import Column, DeviceKind, DeviceRow, SubscriptionState
from wsdmon.net.http import TransportError, UntrustedCertificateError
from wsdmon.widgets import FailureNotifier, PreferencesDialog, format_fingerprint
from wsdmon.widgets.preferences import InterfaceChoice, Preferences
from wsdmon.widgets.tray import MIN_GAP_MS

from .factory import SERVER, SERVER2, sample_jobs
from .make_screenshots import build_demo

FP = "3f" * 16 + "a0" * 16


def _settings(tmp_path):
    return QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)


def test_preferences_round_trip_and_defaults(tmp_path):
    settings = _settings(tmp_path)
    assert Preferences.load(settings) == Preferences()
    prefs = Preferences(
        interfaces=("eth0",), notify_port=7000, retention_days=0, max_messages=0, notify_failures=False
    )
    prefs.save(settings)
    assert Preferences.load(_settings(tmp_path)) == prefs
    settings.setValue("notify/port", "not a number")
    settings.setValue("journal/retention_days", -4)
    loaded = Preferences.load(settings)
    assert (loaded.notify_port, loaded.retention_days) == (
        Preferences().notify_port,
        Preferences().retention_days,
    )


def test_preferences_dialog_edits_everything(qtbot):
    dialog = PreferencesDialog(
        Preferences(interfaces=("wlan0",)),
        interfaces=[InterfaceChoice("eth0", "eth0 — 192.0.2.7"), InterfaceChoice("lo", "lo — 127.0.0.1")],
        columns=[("Device", True), ("JobToken", False)],
        default_columns=[True, True],
    )
    qtbot.addWidget(dialog)
    assert dialog.interfaces.count() == 3  # the saved one that is not present now is still listed
    assert "not present" in dialog.interfaces.item(2).text()
    dialog.interfaces.item(0).setCheckState(Qt.CheckState.Checked)
    dialog.interfaces.item(2).setCheckState(Qt.CheckState.Unchecked)
    dialog.notify_port.setValue(6300)
    dialog.retention_days.setValue(7)
    dialog.max_messages.setValue(50_000)
    dialog.notify_failures.setChecked(False)
    assert dialog.preferences() == Preferences(("eth0",), 6300, 7, 50_000, False)
    assert dialog.column_visibility() == [True, False]
    dialog.reset_columns.click()
    assert dialog.column_visibility() == [True, True]
    assert dialog.columns_reset
    assert dialog.retention_days.minimum() == 0
    assert dialog.retention_days.specialValueText()  # 0 = keep forever


def test_edit_preferences_saves_applies_and_announces(qtbot, tmp_path):
    settings = _settings(tmp_path)
    demo = build_demo(settings)
    window = demo.window
    qtbot.addWidget(window)
    window.show()
    window.set_notifications_available(False)
    window.set_overridden({"notify_port"})
    assert window.preferences_action.text() == "&Preferences…"
    changed = []
    window.preferences_changed.connect(changed.append)
    dialog = window.open_preferences()
    assert not dialog.notify_failures.isEnabled()  # no tray here
    visibility = dialog.column_visibility()
    assert visibility[Column.TOKEN]
    assert not visibility[Column.COMPLETED]
    dialog.columns.item(Column.TOKEN).setCheckState(Qt.CheckState.Unchecked)
    dialog.columns.item(Column.COMPLETED).setCheckState(Qt.CheckState.Checked)
    dialog.retention_days.setValue(3)
    dialog.accept()
    header = window.job_table.view.horizontalHeader()
    assert header.isSectionHidden(Column.TOKEN)
    assert not header.isSectionHidden(Column.COMPLETED)
    assert changed
    assert changed[-1].retention_days == 3
    assert Preferences.load(_settings(tmp_path)).retention_days == 3
    window.columns_menu.aboutToShow.emit()  # View ▸ Columns is the same chooser
    titles = [a.text() for a in window.columns_menu.actions() if a.isCheckable()]
    assert titles[Column.TOKEN] == "JobToken"
    assert not window.columns_menu.actions()[Column.TOKEN].isChecked()


def test_failure_notice_is_one_message_per_burst(qtbot):
    from PySide6.QtWidgets import QWidget

    window = QWidget()
    qtbot.addWidget(window)
    shown = []
    notifier = FailureNotifier(
        window, {SERVER: "SCANSRV-01", SERVER2: "SCANSRV-BRANCH"}.get, show=lambda t, b: shown.append((t, b))
    )
    failed = [j for j in sample_jobs(routine=2) if j.is_failed]
    assert len(failed) == 2
    notifier.jobs_failed(failed[:1])
    notifier.jobs_failed(failed[1:])
    assert shown == []  # gathered first
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert len(shown) == 1
    title, body = shown[0]
    assert title == "2 jobs failed"
    assert "SCANSRV-01" in body
    assert failed[-1].status.job_token in body
    notifier.jobs_failed(failed[:1])  # within MIN_GAP_MS of the last message: held back
    assert notifier._timer.remainingTime() > MIN_GAP_MS / 2
    notifier.flush()
    assert shown[-1][0] == "Job failed on SCANSRV-01"
    notifier.set_enabled(False)
    notifier.jobs_failed(failed)
    notifier.flush()
    assert len(shown) == 2


def test_single_failure_says_what_failed(qtbot):
    from PySide6.QtWidgets import QWidget

    window = QWidget()
    qtbot.addWidget(window)
    notifier = FailureNotifier(window, lambda e: "SCANSRV-01", show=lambda t, b: None)
    smtp = next(j for j in sample_jobs() if j.status.job_token.startswith("0f3b5e21"))
    title, body = notifier.message([smtp])
    assert title == "Job failed on SCANSRV-01"
    assert "PostScanJobCompletedWithErrors" in body
    assert "email filter: InvalidSMTPServer" in body


def test_untrusted_certificate_is_a_typed_fingerprint_on_the_device_error():
    error = UntrustedCertificateError("https://10.0.0.5/wsd", FP.upper(), "self-signed certificate").error
    assert (error.kind, error.fingerprint) == (DeviceErrorKind.UNTRUSTED_CERTIFICATE, FP)
    row = device_row(DeviceRecord("urn:uuid:dev", ("https://10.0.0.5/wsd",), error=error))
    assert row.untrusted_fingerprint == FP
    assert row.subscription is SubscriptionState.ERROR
    unknown = UntrustedCertificateError("https://x/", None, "expired").error
    assert device_row(DeviceRecord("urn:uuid:dev", error=unknown)).untrusted_fingerprint is None
    refused = TransportError("https://x/", "HTTP 400", kind=DeviceErrorKind.HTTP_STATUS, status=400).error
    assert device_row(DeviceRecord("urn:uuid:dev", error=refused)).untrusted_fingerprint is None


def test_trust_certificate_from_the_device_menu(qtbot, tmp_path):
    trusted, asked = [], []
    demo = build_demo(_settings(tmp_path))
    window = demo.window
    qtbot.addWidget(window)
    tree = window.device_tree
    tree._trust = lambda endpoint, fp: trusted.append((endpoint, fp))
    tree._confirm = lambda title, question: asked.append(question) or True
    row = DeviceRow(
        "urn:uuid:mfp",
        DeviceKind.SCAN_DEVICE,
        "MFP 2nd floor",
        address="https://10.0.0.5/wsd",
        subscription=SubscriptionState.ERROR,
        untrusted_fingerprint=FP,
    )
    menu = tree.context_menu_for(row)
    action = next(a for a in menu.actions() if a.objectName() == "trust-certificate")
    assert action.text() == "Trust certificate…"
    action.trigger()
    assert trusted == [("urn:uuid:mfp", FP)]
    assert format_fingerprint(FP) in asked[0]
    assert format_fingerprint(FP).count(":") == 30
    assert "\n" in format_fingerprint(FP)
    tree._confirm = lambda title, question: False
    assert tree.trust_certificate(row) is False
    assert len(trusted) == 1
    plain = dataclasses.replace(row, untrusted_fingerprint=None)
    assert not any(a.objectName() == "trust-certificate" for a in tree.context_menu_for(plain).actions())


def test_discovery_status_in_the_status_bar(qtbot, tmp_path):
    demo = build_demo(_settings(tmp_path))
    window = demo.window
    qtbot.addWidget(window)
    window.show()
    status = window._status
    assert not window.discovery_note.isVisibleTo(window)
    status.update(discovery_error="port 3702 is in use: is another WSD stack running?")
    assert window.discovery_note.isVisibleTo(window)
    assert "port 3702 is in use" in window.discovery_note.text()
    assert "--probe" in window.discovery_note.toolTip()
    status.update(discovering=True)
    assert window.discovering.isVisibleTo(window)
    status.update(discovering=False, discovery_error="")
    assert not window.discovering.isVisibleTo(window)
    assert not window.discovery_note.isVisibleTo(window)
    window.report_probe("printer.example", 0)
    assert "No WS-Discovery answer from printer.example" in window.statusBar().currentMessage()


def test_about_names_the_version(qtbot, tmp_path):
    demo = build_demo(_settings(tmp_path))
    qtbot.addWidget(demo.window)
    text = demo.window.about_text()
    assert f"wsdmon {__version__}" in text
    assert "PySide6" in text
    assert not demo.window.windowIcon().isNull()


def test_a_device_shows_its_state_and_conditions_in_the_tree(qtmodeltester):
    from wsdmon.core import Role, ScannerCondition, ServiceInfo
    from wsdmon.models import DeviceColumn, DeviceTreeModel

    scanner = ServiceInfo("http://10.0.0.7/scan", Role.SCAN_DEVICE)
    record = DeviceRecord(
        "urn:uuid:scanner", ("http://10.0.0.7/wsd",), friendly_name="Lobby scanner", services=(scanner,)
    )
    record = record.with_state(scanner.address, "Stopped", ("MediaJam",))
    jam = ScannerCondition(7, "MediaJam", "Critical", "ADF")
    lamp = ScannerCondition(8, "LampError", "Warning", "Platen")
    record = record.with_condition(scanner.address, 7, jam)
    record = record.with_condition(scanner.address, 8, lamp)
    record = record.with_condition(scanner.address, 7, None)  # the jam cleared
    row = device_row(record)
    assert (row.state, row.state_reasons) == ("Stopped", ("MediaJam",))
    assert row.conditions == (lamp,)
    model = DeviceTreeModel()
    model.upsert([row])
    qtmodeltester.check(model)
    index = model.index_of(row.endpoint)
    assert model.index(index.row(), DeviceColumn.STATE, index.parent()).data() == (
        "Stopped (Paper jam); Lamp error (LampError, Warning, Platen)"
    )
    assert index.data() == "Lobby scanner — Lamp error"  # the condition beside its name
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert "State: Stopped (Paper jam)" in tip
    assert "Condition: Lamp error (LampError, Warning, Platen)" in tip
    # Stopped with no condition: the state and its reason; idle: nothing beside the name.
    stopped = device_row(record.with_conditions(scanner.address, ()))
    model.upsert([stopped])
    assert index.data() == "Lobby scanner — Stopped: Paper jam"
    idle = device_row(
        record.with_state(scanner.address, "Idle", ("None",)).with_conditions(scanner.address, ())
    )
    model.upsert([idle])
    assert index.data() == "Lobby scanner"
    assert model.index(index.row(), DeviceColumn.STATE, index.parent()).data() == "Idle"  # no "None"
    # A vendor condition is shown as given.
    model.upsert(
        [
            device_row(
                record.with_conditions(
                    scanner.address, (ScannerCondition(9, "acme:Toner", "acme:Low", "ADF"),)
                )
            )
        ]
    )
    assert index.data() == "Lobby scanner — acme:Toner"
    assert model.headerData(DeviceColumn.STATE, Qt.Orientation.Horizontal) == "State"
