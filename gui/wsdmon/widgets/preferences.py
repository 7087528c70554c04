"""Preferences (Edit ▸ Preferences…): what is kept in QSettings, and the dialog that edits it.

Application reads `Preferences.load(settings)` at start; command-line options override it for that
session (the dialog says so). The column choice is the job table's own (its header state).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt
from PySide6.QtNetwork import QNetworkInterface
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

__all__ = [
    "DEFAULT_NOTIFY_PORT",
    "InterfaceChoice",
    "Preferences",
    "PreferencesDialog",
    "available_interfaces",
]

DEFAULT_NOTIFY_PORT = 6200  # = wsdmon.net.engine.DEFAULT_NOTIFY_PORT (a test keeps them equal)

# QSettings keys (Application reads them at start; the engine may take the retention ones over).
KEY_INTERFACES = "discovery/interfaces"
KEY_NOTIFY_PORT = "notify/port"
KEY_RETENTION_DAYS = "journal/retention_days"
KEY_MAX_MESSAGES = "journal/max_messages"
KEY_NOTIFY_FAILURES = "notifications/job_failed"


@dataclass(frozen=True)
class Preferences:
    """The user's settings. 0 days / 0 messages mean "no limit"; no interfaces means all."""

    interfaces: tuple[str, ...] = ()
    notify_port: int = DEFAULT_NOTIFY_PORT
    retention_days: int = 30
    max_messages: int = 200_000
    notify_failures: bool = True

    @classmethod
    def load(cls, settings: QSettings) -> Preferences:
        d = cls()

        def number(key: str, default: int, low: int, high: int) -> int:
            try:
                value = int(settings.value(key, default))  # type: ignore[call-overload]
            except (TypeError, ValueError):
                return default
            return value if low <= value <= high else default

        raw = settings.value(KEY_INTERFACES, [])
        # INI stores a one-item list as a plain string
        names = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, (list, tuple)) else []
        flag = settings.value(KEY_NOTIFY_FAILURES, d.notify_failures)
        return cls(
            interfaces=tuple(str(n) for n in names if str(n).strip()),
            notify_port=number(KEY_NOTIFY_PORT, d.notify_port, 1, 65535),
            retention_days=number(KEY_RETENTION_DAYS, d.retention_days, 0, 36500),
            max_messages=number(KEY_MAX_MESSAGES, d.max_messages, 0, 1_000_000_000),
            notify_failures=flag if isinstance(flag, bool) else str(flag).lower() in ("true", "1", "yes"),
        )

    def save(self, settings: QSettings) -> None:
        settings.setValue(KEY_INTERFACES, list(self.interfaces))
        settings.setValue(KEY_NOTIFY_PORT, self.notify_port)
        settings.setValue(KEY_RETENTION_DAYS, self.retention_days)
        settings.setValue(KEY_MAX_MESSAGES, self.max_messages)
        settings.setValue(KEY_NOTIFY_FAILURES, self.notify_failures)
        settings.sync()


@dataclass(frozen=True)
class InterfaceChoice:
    name: str  # what discovery is given (the name; Application resolves it to addresses)
    label: str  # what the list shows


def available_interfaces() -> list[InterfaceChoice]:
    """The network interfaces that are up, with their addresses (QNetworkInterface)."""
    result = []
    for iface in QNetworkInterface.allInterfaces():
        flags = iface.flags()
        if not flags & QNetworkInterface.InterfaceFlag.IsUp:
            continue
        addresses = ", ".join(e.ip().toString() for e in iface.addressEntries())
        label = iface.humanReadableName() or iface.name()
        result.append(InterfaceChoice(iface.name(), f"{label} — {addresses}" if addresses else label))
    return result


PREFERRED_WIDTH_CHARS = 84  # the dialog opens this many average characters wide


class PreferencesDialog(QDialog):
    """Edits a Preferences value and the job table's visible columns; read them after `accepted`."""

    def __init__(
        self,
        preferences: Preferences,
        *,
        interfaces: Sequence[InterfaceChoice] | None = None,
        columns: Sequence[tuple[str, bool]] = (),
        default_columns: Sequence[bool] = (),
        tray_available: bool = True,
        overridden: Collection[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("preferences")
        self.setWindowTitle(self.tr("Preferences"))
        self._initial = preferences
        self._default_columns = list(default_columns)
        overridden_note = self.tr("Set on the command line for this session.")

        # --- discovery -----------------------------------------------------------------------
        self.interfaces = QListWidget(self)
        self.interfaces.setObjectName("interfaces")
        choices = list(available_interfaces() if interfaces is None else interfaces)
        known = {c.name for c in choices}
        choices += [
            InterfaceChoice(n, self.tr("{0} (not present now)").format(n))
            for n in preferences.interfaces
            if n not in known
        ]
        for choice in choices:
            item = QListWidgetItem(choice.label, self.interfaces)
            item.setData(Qt.ItemDataRole.UserRole, choice.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = choice.name in preferences.interfaces
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        discovery = QGroupBox(self.tr("Discovery"), self)
        box = QVBoxLayout(discovery)
        box.addWidget(
            QLabel(self.tr("Look for devices on these interfaces (none checked: on all of them):"), discovery)
        )
        rows = max(2, min(self.interfaces.count(), 4))  # a few rows; it scrolls beyond
        self.interfaces.setMaximumHeight(self.interfaces.sizeHintForRow(0) * rows + 8)
        box.addWidget(self.interfaces)
        if "interfaces" in overridden:
            box.addWidget(self._note(overridden_note, discovery))

        # --- notifications ---------------------------------------------------------------------
        self.notify_port = QSpinBox(self)
        self.notify_port.setObjectName("notify-port")
        self.notify_port.setRange(1, 65535)
        self.notify_port.setValue(preferences.notify_port)
        self.notify_failures = QCheckBox(self.tr("Show a notification when a job fails"), self)
        self.notify_failures.setObjectName("notify-failures")
        self.notify_failures.setChecked(preferences.notify_failures)
        events = QGroupBox(self.tr("Events"), self)
        form = QFormLayout(events)
        form.addRow(self.tr("Notification port (TCP):"), self.notify_port)
        port_note = self.tr(
            "Devices send their events to this port. A change takes effect after a restart; the "
            "firewall must let it in (the installers open {0})."
        ).format(DEFAULT_NOTIFY_PORT)
        if "notify_port" in overridden:
            port_note += " " + overridden_note
        form.addRow(self._note(port_note, events))
        form.addRow(self.notify_failures)
        if not tray_available:
            self.notify_failures.setEnabled(False)
            form.addRow(
                self._note(self.tr("This desktop has no system tray to show notifications in."), events)
            )

        # --- journal -------------------------------------------------------------------------
        self.retention_days = QSpinBox(self)
        self.retention_days.setObjectName("retention-days")
        self.retention_days.setRange(0, 36500)
        self.retention_days.setSpecialValueText(self.tr("keep forever"))
        self.retention_days.setSuffix(self.tr(" days"))
        self.retention_days.setValue(preferences.retention_days)
        self.max_messages = QSpinBox(self)
        self.max_messages.setObjectName("max-messages")
        self.max_messages.setRange(0, 1_000_000_000)
        self.max_messages.setSingleStep(10_000)
        self.max_messages.setGroupSeparatorShown(True)
        self.max_messages.setSpecialValueText(self.tr("no limit"))
        self.max_messages.setValue(preferences.max_messages)
        journal = QGroupBox(self.tr("Journal"), self)
        jform = QFormLayout(journal)
        jform.addRow(self.tr("Keep messages and finished jobs for:"), self.retention_days)
        jform.addRow(self.tr("Keep at most this many messages:"), self.max_messages)
        jform.addRow(
            self._note(
                self.tr("Older entries are removed within the hour; active jobs are always kept."), journal
            )
        )

        # --- columns -------------------------------------------------------------------------
        self.columns = QListWidget(self)
        self.columns.setObjectName("columns")
        for title, visible in columns:
            item = QListWidgetItem(title, self.columns)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)
        self.columns.setMaximumHeight(self.columns.sizeHintForRow(0) * 5 + 8 if columns else 0)
        self.reset_columns = QPushButton(self.tr("Default columns"), self)
        self.reset_columns.setObjectName("reset-columns")
        self.columns_reset = False
        self.reset_columns.clicked.connect(self._on_reset_columns_clicked)
        table = QGroupBox(self.tr("Job table columns"), self)
        tbox = QHBoxLayout(table)
        tbox.addWidget(self.columns, 1)
        tbox.addWidget(self.reset_columns, 0, Qt.AlignmentFlag.AlignTop)
        table.setVisible(bool(columns))

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        restore = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(self._on_restore_defaults_clicked)

        layout = QVBoxLayout(self)
        for group in (discovery, events, journal, table):
            layout.addWidget(group)
        layout.addWidget(buttons)
        self._fit()

    def _fit(self) -> None:
        """Open wide enough to read and tall enough for every wrapped note at that width: the
        size hint of a dialog with word-wrapped labels ignores their height for its width, which
        clipped the help texts. The dialog cannot be made smaller than that either."""
        layout = self.layout()
        width = max(self.sizeHint().width(), self.fontMetrics().averageCharWidth() * PREFERRED_WIDTH_CHARS)
        height = self.sizeHint().height()
        if layout is not None and layout.hasHeightForWidth():
            height = layout.totalHeightForWidth(width)
        self.setMinimumSize(width, height)
        self.resize(width, height)

    @staticmethod
    def _note(text: str, parent: QWidget) -> QLabel:
        label = QLabel(text, parent)
        label.setWordWrap(True)
        label.setEnabled(False)  # the palette's quieter text
        return label

    def preferences(self) -> Preferences:
        """The preferences as edited."""
        names = []
        for i in range(self.interfaces.count()):
            item = self.interfaces.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                names.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return dataclasses.replace(
            self._initial,
            interfaces=tuple(names),
            notify_port=self.notify_port.value(),
            retention_days=self.retention_days.value(),
            max_messages=self.max_messages.value(),
            notify_failures=self.notify_failures.isChecked(),
        )

    def column_visibility(self) -> list[bool]:
        """One flag per job-table column, in column order."""
        return [
            self.columns.item(i).checkState() == Qt.CheckState.Checked for i in range(self.columns.count())
        ]

    def _on_reset_columns_clicked(self) -> None:
        self.columns_reset = True  # on OK the window also restores the default column widths
        for i, visible in enumerate(self._default_columns[: self.columns.count()]):
            self.columns.item(i).setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

    def _on_restore_defaults_clicked(self) -> None:
        d = Preferences()
        for i in range(self.interfaces.count()):
            self.interfaces.item(i).setCheckState(Qt.CheckState.Unchecked)
        self.notify_port.setValue(d.notify_port)
        self.retention_days.setValue(d.retention_days)
        self.max_messages.setValue(d.max_messages)
        self.notify_failures.setChecked(d.notify_failures)
