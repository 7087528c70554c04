"""The window's diagnosis: Devices ▸ Diagnose… and the device list's "Diagnose…" (one dialog per
device, refreshed as its health report changes), Tools ▸ Network self-check…, and the start-up port
check whose only trace, when something needs a look, is a note in the status bar that opens the
self-check's results (no dialog pops up by itself)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMainWindow, QToolButton

from wsdmon.core.health import DeviceHealth
from wsdmon.core.selfcheck import CheckResult, Verdict
from wsdmon.models import VERDICT_ICONS, DeviceTreeModel, selfcheck_name, selfcheck_sentence
from wsdmon.models.device_key import endpoint_of, site_of

from ._async import run_hook_result
from .diagnose import DiagnoseDialog, SelfCheckDialog
from .icons import icon
from .raw_log import RawLogDock

__all__ = ["Diagnosis"]

log = logging.getLogger(__name__)


class Diagnosis(QObject):
    """Owns the diagnosis actions and dialogs of one MainWindow.

    `device_health(endpoint)` and `run_selfcheck()` are the window's hooks (plain values or
    awaitables); `save_bundle(endpoint)` opens the window's bundle dialog for that device."""

    def __init__(
        self,
        window: QMainWindow,
        devices: DeviceTreeModel,
        raw_log: RawLogDock,
        *,
        selected_device: Callable[[], str | None],
        save_bundle: Callable[[str], object],
        device_health: Callable[[str], object] | None = None,
        run_selfcheck: Callable[[bool], object] | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._devices = devices
        self._raw_log = raw_log
        self._selected = selected_device
        self._save_bundle = save_bundle
        self._device_health = device_health
        self._run_selfcheck = run_selfcheck
        self.dialogs: dict[str, DiagnoseDialog] = {}
        self.selfcheck_dialog: SelfCheckDialog | None = None
        self.startup_results: list[CheckResult] | None = None
        devices.health_changed.connect(self._on_health_changed)

        self.diagnose_action = QAction(self.tr("&Diagnose…"), window)
        self.diagnose_action.setToolTip(self.tr("What is wrong with the selected device, with the evidence"))
        self.diagnose_action.triggered.connect(self._on_diagnose_triggered)
        self.selfcheck_action = QAction(self.tr("Network &self-check…"), window)
        self.selfcheck_action.setToolTip(
            self.tr("Check this computer's network: interfaces, the discovery and notify ports")
        )
        self.selfcheck_action.setEnabled(run_selfcheck is not None)
        self.selfcheck_action.triggered.connect(self._on_selfcheck_triggered)

        self.note_icon = QLabel(window)
        self.note_icon.setPixmap(icon("health-warning").pixmap(16, 16))
        self.note = QLabel(self.tr("The network self-check found something to look at"), window)
        self.note.setObjectName("status-selfcheck")
        self.note_button = QToolButton(window)
        self.note_button.setObjectName("status-selfcheck-show")
        self.note_button.setText(self.tr("Show…"))
        self.note_button.setAutoRaise(True)
        self.note_button.setToolTip(self.tr("Open the network self-check's results"))
        self.note_button.clicked.connect(lambda: self.open_selfcheck(self.startup_results))
        for widget in (self.note_icon, self.note, self.note_button):
            widget.hide()
            window.statusBar().addWidget(widget)

    # --- Diagnose… --------------------------------------------------------------------------------

    def _on_diagnose_triggered(self) -> None:
        endpoint = self._selected()
        if endpoint is not None:
            self.diagnose(endpoint)
        else:
            self._window.statusBar().showMessage(self.tr("Select a device to diagnose"), 10_000)

    def diagnose(self, key: str) -> DiagnoseDialog:
        """Open (or raise) the device's report (`key`: models.device_key): the last one the engine
        delivered at once, then the engine's answer to the device_health hook. A shared store's
        device: the report its site's collector last stored, followed live; its evidence links open
        that site's messages."""
        dialog = self.dialogs.get(key)
        if dialog is None:
            row = self._devices.device(key)
            endpoint, site = endpoint_of(key), site_of(key)
            name = row.display_name if row is not None else endpoint
            dialog = DiagnoseDialog(endpoint, name, self._window, site=site)
            if site:
                dialog.message_requested.connect(
                    lambda number, s=site: self._raw_log.show_site_message(s, number)
                )
            else:
                dialog.message_requested.connect(self._raw_log.show_message)
                dialog.bundle_requested.connect(self._save_bundle)
            dialog.finished.connect(lambda _result, k=key: self._forget(k))
            self.dialogs[key] = dialog
        dialog.set_health(self._devices.health(key))
        if self._device_health is not None and not site_of(key):
            self._ask_health(key, dialog)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _ask_health(self, endpoint: str, dialog: DiagnoseDialog) -> None:
        assert self._device_health is not None

        def done(health: object) -> None:
            if isinstance(health, DeviceHealth) and self.dialogs.get(endpoint) is dialog:
                dialog.set_health(health)

        def failed(exc: BaseException) -> None:  # the last delivered report stays shown
            log.warning("health report of %s: %s", endpoint, exc)

        try:
            result = self._device_health(endpoint)
        except Exception as exc:  # the engine could not say: keep what the bridge delivered
            failed(exc)
            return
        run_hook_result(result, done, failed)

    def _forget(self, endpoint: str) -> None:
        dialog = self.dialogs.pop(endpoint, None)
        if dialog is not None:
            dialog.deleteLater()

    def _on_health_changed(self, endpoint: str) -> None:
        dialog = self.dialogs.get(endpoint)
        health = self._devices.health(endpoint)
        if dialog is not None and health is not None:
            dialog.set_health(health)

    # --- the network self-check -------------------------------------------------------------------

    def _on_selfcheck_triggered(self) -> None:
        self.open_selfcheck()

    def open_selfcheck(self, results: list[CheckResult] | None = None) -> SelfCheckDialog | None:
        """Tools ▸ Network self-check…: run it now (or show `results`, from the start-up check)."""
        if self._run_selfcheck is None:
            return None
        dialog = self.selfcheck_dialog
        if dialog is None:
            dialog = SelfCheckDialog(self._window)
            dialog.run_requested.connect(lambda: self._run_into(dialog))
            dialog.finished.connect(lambda _result: self._drop_selfcheck())
            self.selfcheck_dialog = dialog
        if results is not None:
            dialog.set_results(results)
        else:
            self._run_into(dialog)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _drop_selfcheck(self) -> None:
        dialog, self.selfcheck_dialog = self.selfcheck_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _run_into(self, dialog: SelfCheckDialog) -> None:
        dialog.set_running()

        def done(results: object) -> None:
            if self.selfcheck_dialog is dialog:
                dialog.set_results(_results(results))

        def failed(exc: BaseException) -> None:
            log.warning("the network self-check failed: %s", exc)
            if self.selfcheck_dialog is dialog:
                dialog.set_failed(str(exc) or type(exc).__name__)

        self._call(done, failed)

    def check_at_start(self) -> None:
        """Run the self-check once (call it after the first paint); only a problem or a warning
        leaves a trace: the status bar's note, a link to the results."""
        if self._run_selfcheck is None:
            return

        def done(results: object) -> None:
            found = _results(results)
            self.startup_results = found
            worst = next((r for r in found if r.verdict is Verdict.PROBLEM), None) or next(
                (r for r in found if r.verdict is Verdict.WARNING), None
            )
            if worst is not None:
                self.note.setToolTip(f"{selfcheck_name(worst)}: {selfcheck_sentence(worst)}")
                self.note_icon.setPixmap(icon(VERDICT_ICONS[worst.verdict]).pixmap(16, 16))
            for widget in (self.note_icon, self.note, self.note_button):
                widget.setVisible(worst is not None)

        failed = lambda exc: log.warning("the start-up network self-check failed: %s", exc)  # noqa: E731
        self._call(done, failed, listen=False)  # the ports only: start-up waits for nothing

    def _call(
        self, done: Callable[[object], None], failed: Callable[[BaseException], None], *, listen: bool = True
    ) -> None:
        """Run the hook; `listen`: also listen a few seconds for multicast (the dialog, not start-up)."""
        assert self._run_selfcheck is not None
        try:
            result: Any = self._run_selfcheck(listen)
        except Exception as exc:  # said where the caller says it, never a traceback
            failed(exc)
            return
        run_hook_result(result, done, failed)


def _results(value: object) -> list[CheckResult]:
    return [r for r in value if isinstance(r, CheckResult)] if isinstance(value, list) else []
