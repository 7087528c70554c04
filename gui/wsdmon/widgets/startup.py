"""What the window says when start-up does not go as planned: the journal cannot be used, another
wsdmon already runs on the same journal, a damaged journal was moved aside, the notify port was busy.

Fatal problems get a dialog of their own (there is no main window to hold it); the others are shown
beside the running window without blocking it. Each text names the file and what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QWidget

from wsdmon.store.opening import JournalProblem

from .icons import icon

__all__ = ["StartupTexts", "show_moved_aside", "show_port_fallback", "show_startup_problem"]


class StartupTexts(QObject):
    """The words (a QObject for self.tr(), so that lupdate files them under one context)."""

    def cannot_start_title(self) -> str:
        return self.tr("wsdmon cannot start")

    def journal_unusable(self, problem: JournalProblem, path: Path, detail: str) -> str:
        if problem is JournalProblem.NEWER_SCHEMA:
            return self.tr(
                "The journal {0} was written by a newer version of wsdmon and has not been changed.\n\n"
                "Install that version again, or start this one with another journal: "
                "wsdmon --journal PATH"
            ).format(path)
        if problem is JournalProblem.DAMAGED_NOT_MOVED:
            return self.tr(
                "The journal {0} is damaged and could not be moved aside ({1}). It has not been changed.\n\n"
                "Move or rename it yourself, or start wsdmon with another journal: wsdmon --journal PATH"
            ).format(path, detail)
        return self.tr(
            "wsdmon cannot write its journal {0}: {1}.\n\n"
            "Give your user write access to that folder, or start wsdmon with a journal in a folder "
            "you can write to: wsdmon --journal PATH"
        ).format(path, detail)

    def already_running_title(self) -> str:
        return self.tr("wsdmon is already running")

    def already_running(self, path: Path, pid: int) -> str:
        return self.tr(
            "Another wsdmon (process {1}) is already running with the journal {0}. Switch to its "
            "window.\n\nTo run a second monitor, start it with its own journal: wsdmon --journal PATH"
        ).format(path, pid)

    def moved_aside_title(self) -> str:
        return self.tr("Damaged journal moved aside")

    def moved_aside(self, path: Path, moved: Path, damage: str) -> str:
        return self.tr(
            "The journal {0} was damaged ({2}). It has been kept unchanged as {1}, and wsdmon "
            "started a new, empty journal.\n\nKeep the old file for support, or delete it when it is "
            "no longer needed."
        ).format(path, moved, damage)

    def port_fallback(self, wanted: int, used: int) -> str:
        return self.tr("Notifications on port {1} (port {0} is in use)").format(wanted, used)

    def port_fallback_tip(self, wanted: int, used: int) -> str:
        return self.tr(
            "Another program, often another wsdmon or `wsdmon watch`, listens on TCP port {0}. "
            "wsdmon listens on port {1} instead and tells each device so when it subscribes. If a "
            "firewall lets only port {0} through, close the other program and restart wsdmon, or "
            "choose another notify port in Preferences."
        ).format(wanted, used)


async def show_startup_problem(
    title: str, text: str, *, critical: bool = True, close_after_s: float | None = None
) -> None:
    """A dialog on its own (no main window exists); returns when the user closes it, or after
    close_after_s (smoke tests: --quit-after)."""
    box = QMessageBox(
        QMessageBox.Icon.Critical if critical else QMessageBox.Icon.Information,
        title,
        text,
        QMessageBox.StandardButton.Ok,
    )
    box.setObjectName("startup-problem")
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_finished(_result: int) -> None:
        if not closed.done():
            closed.set_result(None)

    box.finished.connect(on_finished)
    box.open()
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(closed), close_after_s)
    finally:
        box.close()
        box.deleteLater()


def show_moved_aside(window: QWidget, path: Path, moved: Path, damage: str) -> QMessageBox:
    """A non-modal notice over the running window: where the damaged journal went."""
    texts = StartupTexts()
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        texts.moved_aside_title(),
        texts.moved_aside(path, moved, damage),
        QMessageBox.StandardButton.Ok,
        window,
    )
    box.setObjectName("journal-moved-aside")
    box.setModal(False)
    box.finished.connect(box.deleteLater)
    box.show()
    return box


def show_port_fallback(window: QMainWindow, wanted: int, used: int) -> QLabel:
    """A lasting note in the status bar: which port notifications come to, and why not the usual."""
    texts = StartupTexts()
    bar = window.statusBar()
    note = QLabel(texts.port_fallback(wanted, used), bar)
    note.setObjectName("status-notify-port")
    note.setToolTip(texts.port_fallback_tip(wanted, used))
    sign = QLabel(bar)
    sign.setPixmap(icon("error").pixmap(16, 16))
    bar.addWidget(sign)
    bar.addWidget(note)
    return note
