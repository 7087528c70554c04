"""The main window: devices | jobs | detail, the raw log dock, menus and the status bar.

Everything it shows comes from the models it is given; everything it asks for goes through the
WindowHooks it is given (app.py builds both). No global registries.
"""

from __future__ import annotations

import logging
import platform
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QByteArray, QEvent, QModelIndex, QSettings, QSize, Qt, QTimer, Signal, qVersion
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStyle,
    QWidget,
)

from wsdmon.models import (
    DeviceTreeModel,
    EngineStatus,
    JobFilterProxyModel,
    JobTableModel,
    QuickFilter,
    RawLogModel,
)

from ._async import run_hook_result
from .detail_pane import DetailPane
from .device_tree import DeviceTreeView
from .diagnosis import Diagnosis
from .hooks import WindowHooks
from .icons import app_icon, icon
from .job_table import JobTableWidget
from .preferences import Preferences, PreferencesDialog
from .raw_log import RawLogDock

if TYPE_CHECKING:  # imported when asked for / by whoever builds one: they load the store package
    from wsdmon.models.paged_jobs import PagedJobModel

    from .shared_view import OpenSharedDialog

__all__ = ["MainWindow"]

log = logging.getLogger(__name__)

_SETTINGS_VERSION = 1
STATUS_INTERVAL_MS = 250
FAILED_WINDOW = timedelta(hours=24)  # the status bar counts failures this recent
FAILED_RECOUNT_MS = 60_000  # failures age out of that window: recount this often


class MainWindow(QMainWindow):
    """wsdmon's window; `save_settings` runs on close, `restore_settings` in the constructor.
    `preferences_changed` carries the Preferences the user accepted (already saved)."""

    preferences_changed = Signal(object)  # Preferences

    def __init__(
        self,
        *,
        jobs: JobTableModel | PagedJobModel,
        devices: DeviceTreeModel,
        raw_log: RawLogModel,
        status: EngineStatus,
        settings: QSettings,
        hooks: WindowHooks | None = None,
        version: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("main-window")
        self.setWindowTitle(self.tr("wsdmon — WSD Scan Monitor"))
        self.setWindowIcon(app_icon())
        self._jobs = jobs
        self._devices = devices
        self._status = status
        self._settings = settings
        self._hooks = hooks or WindowHooks()
        self._version = version
        self._overridden: frozenset[str] = frozenset()
        self._notifications_available = True
        self.preferences_dialog: PreferencesDialog | None = None
        self.export_dialog: QFileDialog | None = None
        self.bundle_dialog: QFileDialog | None = None
        self.message_box: QMessageBox | None = None
        self.shared_dialog: OpenSharedDialog | None = None
        self._export_filters = ("", "")

        # A paged model (a large or shared history, issue 14) filters and sorts in the store itself.
        self.proxy: JobFilterProxyModel | PagedJobModel
        if isinstance(jobs, JobTableModel):
            self.proxy = JobFilterProxyModel(self)
            self.proxy.setSourceModel(jobs)
        else:
            self.proxy = jobs

        self.device_tree = DeviceTreeView(
            devices,
            refresh=self._hooks.refresh_device,
            resubscribe=self._hooks.resubscribe_device,
            open_url=self._hooks.open_url,
            trust_certificate=self._hooks.trust_certificate,
            confirm=self._hooks.confirm,
            parent=self,
        )
        self.device_tree.status_message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        self.device_tree.bundle_requested.connect(self.save_bundle)
        self.job_table = JobTableWidget(self.proxy, devices, self)
        self.detail = DetailPane(
            device_name=jobs.device_name,
            raw_xml_for=self._hooks.raw_xml_for,
            cancel_job=self._hooks.cancel_job,
            confirm=self._hooks.confirm,
            parent=self,
            site_raw_xml_for=self._hooks.site_raw_xml_for,
        )
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("main-splitter")
        self.splitter.addWidget(self.device_tree)
        self.splitter.addWidget(self.job_table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self._size_panes(1366)
        self.setCentralWidget(self.splitter)

        self.raw_log = RawLogDock(
            raw_log,
            self._hooks.raw_xml_for,
            self,
            site_raw_xml_for=self._hooks.site_raw_xml_for,
            site_message_number=self._hooks.site_message_number,
        )
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.raw_log)
        self.raw_log.hide()
        self.diagnosis = Diagnosis(
            self,
            devices,
            self.raw_log,
            selected_device=lambda: row.key if (row := self.device_tree.selected_device()) else None,
            save_bundle=self.save_bundle,
            device_health=self._hooks.device_health,
            run_selfcheck=self._hooks.run_selfcheck,
        )
        self.device_tree.diagnose_requested.connect(self.diagnosis.diagnose)
        self.job_table.bundle_requested.connect(self.save_jobs_bundle)

        self.job_table.current_job_changed.connect(self._on_current_job_changed)
        # Keyboard: from the jobs, Tab goes to what one does with the selected job (Cancel), then
        # into its details; the device list comes first, as it stands left.
        QWidget.setTabOrder(self.device_tree, self.job_table.search)
        QWidget.setTabOrder(self.job_table.view, self.detail.cancel_button)
        QWidget.setTabOrder(self.detail.cancel_button, self.detail.tabs)
        self.detail.cancel_answered.connect(lambda text: self.statusBar().showMessage(text, 20_000))
        self.device_tree.device_selected.connect(self.job_table.set_device_filter)
        self._build_menus()
        self._build_status_bar()
        # The counts change with nearly every batch of events: show them at most STATUS_INTERVAL_MS
        # apart (a status bar relayout per batch would cost the job table repaint time).
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(STATUS_INTERVAL_MS)
        self._status_timer.timeout.connect(self._update_status)
        jobs.counts_changed.connect(self._schedule_status)
        devices.device_count_changed.connect(self._schedule_status)
        status.changed.connect(self._update_status)  # rare (about once a second), and discovery shows at once
        self._recount = QTimer(self)
        self._recount.setInterval(FAILED_RECOUNT_MS)
        self._recount.timeout.connect(self._schedule_status)
        self._recount.start()
        self._update_status()
        self.resize(self._default_size())  # first run; restore_settings() replaces it later
        self._size_panes(self.width())
        self.restore_settings()

    # --- menus -----------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        self.export_action = QAction(self.tr("&Export table…"), self)
        self.export_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_E))
        self.export_action.setToolTip(self.tr("Save the jobs shown (filter and order) as CSV or JSON"))
        self.export_action.setEnabled(self._hooks.export is not None)
        self.export_action.triggered.connect(self._on_export_triggered)
        file_menu.addAction(self.export_action)
        self.bundle_action = QAction(self.tr("Save &support bundle…"), self)
        self.bundle_action.setToolTip(
            self.tr("Save a zip of the last 24 hours for a technician: devices, jobs, messages, versions")
        )
        self.bundle_action.setEnabled(self._hooks.save_bundle is not None)
        self.bundle_action.triggered.connect(lambda: self.save_bundle(None))
        file_menu.addAction(self.bundle_action)
        self.open_shared_action = QAction(self.tr("Open s&hared history…"), self)
        self.open_shared_action.setToolTip(self.tr("Every site's devices and jobs, from a shared database"))
        self.open_shared_action.setEnabled(self._hooks.open_shared is not None)
        self.open_shared_action.triggered.connect(self.open_shared_history)
        file_menu.addAction(self.open_shared_action)
        file_menu.addSeparator()
        quit_action = file_menu.addAction(self.tr("&Quit"), self.close)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)

        edit_menu = bar.addMenu(self.tr("&Edit"))
        self.preferences_action = QAction(self.tr("&Preferences…"), self)
        self.preferences_action.setShortcut(QKeySequence.StandardKey.Preferences)
        self.preferences_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.preferences_action.triggered.connect(self.open_preferences)
        edit_menu.addAction(self.preferences_action)

        view_menu = bar.addMenu(self.tr("&View"))
        self.search_action = QAction(self.tr("&Search jobs"), self)
        self.search_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_F))
        self.search_action.triggered.connect(self.job_table.focus_search)
        view_menu.addAction(self.search_action)
        log_action = self.raw_log.toggleViewAction()
        log_action.setText(self.tr("&Raw message log"))
        log_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_L))
        view_menu.addAction(log_action)
        self.columns_menu = view_menu.addMenu(self.tr("&Columns"))
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)

        devices_menu = bar.addMenu(self.tr("&Devices"))
        self.reprobe_action = QAction(self.tr("&Re-probe the network"), self)
        self.reprobe_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.reprobe_action.setEnabled(self._hooks.reprobe is not None)
        self.reprobe_action.triggered.connect(self._on_reprobe_triggered)
        devices_menu.addAction(self.reprobe_action)
        devices_menu.addAction(self.diagnosis.diagnose_action)

        tools_menu = bar.addMenu(self.tr("&Tools"))
        tools_menu.addAction(self.diagnosis.selfcheck_action)

        help_menu = bar.addMenu(self.tr("&Help"))
        self.about_action = help_menu.addAction(self.tr("&About wsdmon"), self._on_about_triggered)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.discovering = QProgressBar(self)
        self.discovering.setRange(0, 0)  # busy indicator while a discovery sweep runs
        self.discovering.setMaximumWidth(120)
        self.discovering.setTextVisible(False)
        self.discovering.setToolTip(self.tr("Looking for devices…"))
        self.discovering.hide()
        self.discovering_label = QLabel(self.tr("Looking for devices…"), self)
        self.discovering_label.setObjectName("status-discovering")
        self.discovering_label.hide()
        self.discovery_icon = QLabel(self)
        self.discovery_icon.setPixmap(icon("error").pixmap(16, 16))
        self.discovery_note = QLabel(self)
        self.discovery_note.setObjectName("status-discovery")
        self.discovery_note.setMinimumWidth(80)  # elided by the status bar rather than pushing
        self.status_labels: dict[str, QLabel] = {}
        bar.addWidget(self.discovering_label)
        bar.addWidget(self.discovering)
        bar.addWidget(self.discovery_icon)
        bar.addWidget(self.discovery_note, 1)
        for name in ("devices", "active", "failed", "rate", "rejected"):
            label = QLabel(self)
            label.setObjectName(f"status-{name}")
            self.status_labels[name] = label
            bar.addPermanentWidget(label)

    def _schedule_status(self, *args: object) -> None:
        if not self._status_timer.isActive():
            self._status_timer.start()

    def _update_status(self, *args: object) -> None:
        total, active, failed = self._jobs.counts()
        s = self._status
        labels = self.status_labels
        labels["devices"].setText(self.tr("Devices: %n", "", self._devices.device_count()))
        labels["active"].setText(self.tr("Active jobs: %n", "", active))
        labels["active"].setToolTip(self.tr("%n job(s) in all", "", total))
        recent = self._jobs.failed_since(datetime.now(UTC) - FAILED_WINDOW)
        labels["failed"].setText(self.tr("Failed (24 h): {0}").format(recent))
        labels["failed"].setToolTip(
            self.tr(
                "Jobs that failed in the last 24 hours; {0} in the whole history "
                "(the Failed filter lists them)"
            ).format(failed)
        )
        labels["rate"].setText(self.tr("Events/s: {0:.1f}").format(s.events_per_s))
        labels["rejected"].setText(self.tr("Rejected: {0} · Dropped: {1}").format(s.rejected, s.dropped))
        labels["rejected"].setToolTip(
            self.tr(
                "Messages refused by the notification sink (size, type, unknown subscription, malformed)"
                " and messages dropped under load"
            )
        )
        self.discovering.setVisible(s.discovering)
        self.discovering_label.setVisible(s.discovering)
        if s.discovery_error:
            self.discovery_note.setText(
                self.tr("Multicast discovery unavailable: {0}").format(s.discovery_error)
            )
            self.discovery_note.setToolTip(
                self.tr(
                    "{0}\n\nDevices on the network cannot be found automatically. Directed probes "
                    "(--probe HOST) and devices added by URL (--device URL) still work."
                ).format(s.discovery_error)
            )
        else:
            self.discovery_note.clear()
            self.discovery_note.setToolTip("")
        self.discovery_icon.setVisible(bool(s.discovery_error))
        self.discovery_note.setVisible(bool(s.discovery_error))

    # --- slots -----------------------------------------------------------------------------------

    def _on_current_job_changed(self, record: object) -> None:
        index = self.job_table.view.currentIndex()
        if record is None or not index.isValid():
            self.detail.show_record(None)
        else:
            self.detail.show_index(self.proxy.index(index.row(), 0))

    def _on_export_triggered(self) -> QFileDialog | None:
        """File ▸ Export table… (Ctrl+E): asks where (window-modal), then writes the jobs shown."""
        if self._hooks.export is None:
            return None
        self._export_filters = (self.tr("CSV (*.csv)"), self.tr("JSON (*.json)"))
        dialog = self._save_dialog(
            "export-dialog", self.tr("Export jobs"), self._export_filters, "wsdmon-jobs.csv"
        )
        dialog.filterSelected.connect(
            lambda chosen: dialog.setDefaultSuffix("json" if chosen == self._export_filters[1] else "csv")
        )
        dialog.fileSelected.connect(lambda path: self._export_to(path, dialog.selectedNameFilter()))
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def _save_dialog(self, name: str, title: str, filters: Sequence[str], file_name: str) -> QFileDialog:
        """A window-modal, non-blocking "save as" dialog (jobs keep arriving while it is open)."""
        dialog = QFileDialog(self, title)
        dialog.setObjectName(name)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setNameFilters(list(filters))
        dialog.setDefaultSuffix(file_name.rpartition(".")[2])
        dialog.selectFile(file_name)
        dialog.finished.connect(dialog.deleteLater)
        return dialog

    @staticmethod
    def _write(
        call: Callable[[], object], done: Callable[[object], None], failed: Callable[[BaseException], None]
    ) -> None:
        """Run a hook that writes a file (now or on the loop); any failure goes to `failed`."""
        try:
            result = call()
        except Exception as exc:  # any failure is what the user is told
            failed(exc)
            return
        run_hook_result(result, done, failed)

    def _export_to(self, path: str, chosen_filter: str) -> None:
        if not path or self._hooks.export is None:
            return
        is_json = path.lower().endswith(".json") or (
            chosen_filter == self._export_filters[1] and not path.lower().endswith(".csv")
        )
        fmt = "json" if is_json else "csv"
        records = self.job_table.visible_records(timeline=fmt == "json")  # CSV has no timelines
        self.statusBar().showMessage(self.tr("Exporting {0} jobs to {1}…").format(len(records), path))
        export = self._hooks.export
        self._write(
            lambda: export(path, fmt, records),
            lambda written: self._on_export_done(path, written, len(records)),
            lambda exc: self._on_export_failed(path, exc),
        )

    def _on_export_done(self, path: str, written: object, shown: int) -> None:
        count = written if isinstance(written, int) else shown
        text = (
            self.tr("Exported 1 job to {0}").format(path)
            if count == 1
            else self.tr("Exported {0} jobs to {1}").format(count, path)
        )
        self.statusBar().showMessage(text, 15_000)

    def _on_export_failed(self, path: str, exc: BaseException) -> None:
        log.warning("export to %s failed: %s", path, exc)
        self.statusBar().clearMessage()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        self.show_message(
            QMessageBox.Icon.Warning,
            self.tr("Export failed"),
            self.tr(
                "The jobs could not be written to {0}:\n{1}\n\nChoose another folder or file name."
            ).format(path, reason),
        )

    def save_jobs_bundle(self, keys: Sequence[object]) -> QFileDialog | None:
        """The job table's "Save support bundle…": those jobs, with their device (or devices)."""
        devices = {getattr(k, "device", None) for k in keys}
        return self.save_bundle(devices.pop() if len(devices) == 1 else None, keys)

    def save_bundle(self, device: str | None = None, jobs: Sequence[object] = ()) -> QFileDialog | None:
        """File ▸ Save support bundle… (device None: all devices), the device menu's entry and the job
        table's (`jobs`: those JobKeys only): asks where (window-modal, non-blocking), then writes the
        zip off the loop."""
        if self._hooks.save_bundle is None:
            return None
        dialog = self._save_dialog(
            "bundle-dialog",
            self.tr("Save support bundle"),
            [self.tr("Zip archives (*.zip)")],
            f"wsdmon-support-{datetime.now().strftime('%Y%m%d-%H%M')}.zip",
        )
        dialog.fileSelected.connect(lambda path: self._save_bundle_to(path, device, tuple(jobs)))
        self.bundle_dialog = dialog
        dialog.open()
        return dialog

    def _save_bundle_to(self, path: str, device: str | None, jobs: tuple[object, ...]) -> None:
        if not path or self._hooks.save_bundle is None:
            return
        self.statusBar().showMessage(self.tr("Saving the support bundle to {0}…").format(path))
        save = self._hooks.save_bundle
        self._write(
            lambda: save(path, device, jobs),
            lambda done: self._on_bundle_done(path, done),
            lambda exc: self._on_bundle_failed(path, exc),
        )

    def _on_bundle_done(self, path: str, result: object) -> None:
        text = self.tr("Saved the support bundle to {0}: {1} jobs, {2} messages").format(
            path, getattr(result, "jobs", 0), getattr(result, "messages", 0)
        )
        self.statusBar().showMessage(text, 15_000)

    def _on_bundle_failed(self, path: str, exc: BaseException) -> None:
        log.warning("support bundle %s failed: %s", path, exc)
        self.statusBar().clearMessage()
        self.show_message(
            QMessageBox.Icon.Warning,
            self.tr("Support bundle not saved"),
            self.tr("The support bundle could not be saved to {0}:\n{1}").format(
                path, str(exc) or type(exc).__name__
            ),
        )

    def show_message(self, kind: QMessageBox.Icon, title: str, text: str) -> QMessageBox:
        """A window-modal message that does not block the event loop (jobs keep arriving); the last
        one is `self.message_box` (tests read and close it)."""
        box = QMessageBox(kind, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("message-box")
        box.finished.connect(box.deleteLater)
        self.message_box = box
        box.open()
        return box

    def open_shared_history(self) -> OpenSharedDialog | None:
        """File ▸ Open shared history…: asks where (window-modal); it opens in a window of its own."""
        if self._hooks.open_shared is None:
            return None
        from .shared_view import OpenSharedDialog

        dialog = OpenSharedDialog(self._hooks.open_shared, self._settings, self)
        dialog.finished.connect(dialog.deleteLater)
        self.shared_dialog = dialog
        dialog.open()
        return dialog

    def _on_reprobe_triggered(self) -> None:
        if self._hooks.reprobe is not None:
            self._hooks.reprobe()

    def _on_about_triggered(self) -> None:
        box = self.show_message(QMessageBox.Icon.NoIcon, self.tr("About wsdmon"), self.about_text())
        box.setIconPixmap(app_icon().pixmap(64, 64))

    def about_text(self) -> str:
        """The About box: version, what it is, licences, and the versions a support desk asks for."""
        return self.tr(
            "<h3>wsdmon {0}</h3><p>WSD Scan Monitor: watches WSD scanners and DSM scan servers and "
            "shows every post-scan job live.</p><p>Licensed under the LGPL-3.0-or-later. "
            "Uses Qt for Python (PySide6), LGPL-3.0.</p><p><small>Qt {1} · PySide6 {2} · Python {3}"
            "</small></p>"
        ).format(self._version or "?", qVersion(), pyside_version, platform.python_version())

    # --- preferences -----------------------------------------------------------------------------

    def set_overridden(self, names: Collection[str]) -> None:
        """Preferences the command line overrides this session ("interfaces", "notify_port")."""
        self._overridden = frozenset(names)

    def set_notifications_available(self, available: bool) -> None:
        self._notifications_available = available

    def open_preferences(self) -> PreferencesDialog:
        """Edit ▸ Preferences…: opens the dialog (window-modal); OK saves and applies."""
        dialog = PreferencesDialog(
            Preferences.load(self._settings),
            columns=self.job_table.column_choices(),
            default_columns=self.job_table.default_column_visibility(),
            tray_available=self._notifications_available,
            overridden=self._overridden,
            parent=self,
        )
        dialog.accepted.connect(lambda: self._apply_preferences(dialog))
        dialog.finished.connect(dialog.deleteLater)
        self.preferences_dialog = dialog
        dialog.open()
        return dialog

    def _apply_preferences(self, dialog: PreferencesDialog) -> None:
        preferences = dialog.preferences()
        preferences.save(self._settings)
        if dialog.columns_reset:
            self.job_table.reset_columns()
        self.job_table.set_visible_columns(dialog.column_visibility())
        self.preferences_changed.emit(preferences)

    def _fill_columns_menu(self) -> None:
        self.columns_menu.clear()
        self.job_table.add_column_actions(self.columns_menu)

    def report_probe(self, target: str, answers: int | None, error: str = "") -> None:
        """A directed probe's outcome, briefly in the status bar (silent when devices answered)."""
        if answers is None:
            self.statusBar().showMessage(
                self.tr("Directed probe of {0} failed: {1}").format(target, error), 10_000
            )
        elif answers == 0:
            self.statusBar().showMessage(self.tr("No WS-Discovery answer from {0}").format(target), 10_000)

    def select_job_key(self, key: object) -> bool:
        """Show one job (a tray notice was clicked): select it, clearing filters that hide it."""
        if self.job_table.select_key(key):
            return True
        self.job_table.search.clear()
        self.job_table.set_quick_filter(QuickFilter.ALL)
        self.job_table.set_device_filter(None)
        return self.job_table.select_key(key)

    # --- settings --------------------------------------------------------------------------------

    def _default_size(self) -> QSize:
        """1366×768 (what support-desk laptops show), or the screen's free area if smaller, less
        the frame the window manager adds (its title bar would push the status bar off-screen)."""
        wanted = QSize(1366, 768)
        screen = self.screen()
        if screen is None:
            return wanted
        free = screen.availableGeometry().size()
        title = self.style().pixelMetric(QStyle.PixelMetric.PM_TitleBarHeight)
        frame = 2 * self.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth)
        return wanted.boundedTo(QSize(free.width() - frame, free.height() - title - frame))

    def _size_panes(self, width: int) -> None:
        """Devices | jobs | detail for a window `width` wide: the jobs get what the device list
        (about 16 %, at least 190 px: names, the state icon and the health shield) and the detail pane
        (about 28 %, at least 280 px) leave."""
        devices = max(190, width * 16 // 100)
        detail = max(280, width * 28 // 100)
        self.splitter.setSizes([devices, max(300, width - devices - detail), detail])

    def restore_settings(self) -> None:
        s = self._settings
        if s.value("window/version", 0, int) != _SETTINGS_VERSION:
            return
        for key, restore in (
            ("window/geometry", self.restoreGeometry),
            ("window/state", self.restoreState),
            ("window/splitter", self.splitter.restoreState),
            ("detail/splitter", self.detail.splitter.restoreState),
            ("rawlog/splitter", self.raw_log.splitter.restoreState),
            ("jobs/header", self.job_table.restore_header_state),
        ):
            value = s.value(key)
            if isinstance(value, (QByteArray, bytes)) and value:
                restore(QByteArray(value))

    def save_settings(self) -> None:
        s = self._settings
        s.setValue("window/version", _SETTINGS_VERSION)
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("detail/splitter", self.detail.splitter.saveState())
        s.setValue("rawlog/splitter", self.raw_log.splitter.saveState())
        s.setValue("jobs/header", self.job_table.header_state())
        s.sync()

    # --- Qt overrides ----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._jobs.palette_changed()  # failure colours follow light/dark mode
        super().changeEvent(event)

    def select_job_index(self, index: QModelIndex) -> None:
        self.job_table.view.setCurrentIndex(index)
