"""A system-tray notice when jobs fail, coalesced: one message for a burst of failures.

The first failure is held GATHER_MS for others to join it; after a message the next one waits at
least MIN_GAP_MS, gathering every failure meanwhile into one summary. Nothing is shown when the
desktop has no system tray (QSystemTrayIcon.isSystemTrayAvailable) or when switched off.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from wsdmon.models import job_device_key

from .icons import app_icon

__all__ = ["GATHER_MS", "MIN_GAP_MS", "FailureNotifier"]

GATHER_MS = 1500  # a burst that starts now is reported as one message
MIN_GAP_MS = 20_000  # at most one message this often; failures meanwhile are summed up
MESSAGE_MS = 10_000  # how long the desktop shows the message (a hint: desktops decide)
_LIST_MAX = 3  # devices named in a summary

ShowMessage = Callable[[str, str], object]


class FailureNotifier(QObject):
    """Call `jobs_failed(records)` (the bridge's `jobs_failed` signal); `job_activated` carries the
    JobKey of the failure a clicked message was about (the newest one, for a summary)."""

    job_activated = Signal(object)  # JobKey

    def __init__(
        self,
        window: QWidget,
        device_name: Callable[[str], str],
        *,
        enabled: bool = True,
        show: ShowMessage | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent or window)
        self._window = window
        self._device_name = device_name
        self._enabled = enabled
        self._pending: list[Any] = []
        self._last_key: Any = None
        self._next_allowed = 0.0
        self.tray: QSystemTrayIcon | None = None
        if show is None and QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip(self.tr("wsdmon — WSD Scan Monitor"))
            menu = QMenu(window)
            menu.addAction(self.tr("Show wsdmon"), self._raise_window)
            self.tray.setContextMenu(menu)
            self.tray.messageClicked.connect(self._on_message_clicked)
            self.tray.activated.connect(self._on_tray_activated)
            self.tray.setVisible(enabled)
            show = self._show_in_tray
        self._show = show
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)

    @property
    def available(self) -> bool:
        """Whether messages can be shown at all (a tray, or a test's sink)."""
        return self._show is not None

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        if self.tray is not None:
            self.tray.setVisible(enabled)
        if not enabled:
            self._pending.clear()
            self._timer.stop()

    def is_enabled(self) -> bool:
        return self._enabled

    def jobs_failed(self, records: Sequence[Any]) -> None:
        """Newly failed jobs (JobRecords); shown after GATHER_MS, or later to keep MIN_GAP_MS."""
        if not self._enabled or self._show is None or not records:
            return
        self._pending.extend(records)
        if not self._timer.isActive():
            wait_ms = max(GATHER_MS, round((self._next_allowed - time.monotonic()) * 1000))
            self._timer.start(wait_ms)

    def flush(self) -> None:
        """Show what is pending now (the timer calls it; so may tests)."""
        self._timer.stop()
        if not self._pending or self._show is None:
            return
        pending, self._pending = self._pending, []
        self._last_key = pending[-1].key
        self._next_allowed = time.monotonic() + MIN_GAP_MS / 1000
        title, body = self.message(pending)
        self._show(title, body)

    def message(self, records: Sequence[Any]) -> tuple[str, str]:
        """(title, text) of the notice for these failed jobs."""
        last = records[-1]
        if len(records) == 1:
            title = self.tr("Job failed on {0}").format(self._device_name(job_device_key(last.key)))
            return title, self._describe(last)
        per_device = Counter(self._device_name(job_device_key(r.key)) for r in records)
        named = [self.tr("{0} ({1})").format(name, n) for name, n in per_device.most_common(_LIST_MAX)]
        if len(per_device) > _LIST_MAX:
            named.append(self.tr("%n more device(s)", "", len(per_device) - _LIST_MAX))
        title = self.tr("%n jobs failed", "", len(records))
        body = self.tr("On {0}.\nLatest: {1}").format(", ".join(named), self._describe(last))
        return title, body

    def _describe(self, rec: Any) -> str:
        s = rec.status
        reasons = ", ".join(str(r) for r in s.job_state_reasons if str(r) != "None")
        text = f"{s.job_token}\n{s.job_state}" + (f": {reasons}" if reasons else "")
        failed_filters = [
            f for f in s.filter_statuses if f.reasons or "Error" in str(f.state) or "Fail" in str(f.state)
        ]
        for f in failed_filters[:2]:
            name = f.dialect.rstrip("/").rpartition("/")[2] or f.dialect
            why = ", ".join(str(r) for r in f.reasons) or str(f.state)
            text += "\n" + self.tr("{0} filter: {1}").format(name, why)
        return text

    # --- tray --------------------------------------------------------------------------------

    def _show_in_tray(self, title: str, body: str) -> None:
        if self.tray is not None:
            self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Warning, MESSAGE_MS)

    def _raise_window(self) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()

    def _on_message_clicked(self) -> None:
        self._raise_window()
        if self._last_key is not None:
            self.job_activated.emit(self._last_key)

    def _on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._raise_window()
