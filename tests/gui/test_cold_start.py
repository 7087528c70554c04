"""Cold start (issue 11): `wsdmon` paints its window first and only then opens the journal and starts
the engine; a journal that cannot be opened is then said in a dialog over the window, which closes,
with the same exit code as before. The figures are bench/bench_cold_start.py's."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow

from wsdmon.app import run_window
from wsdmon.cli import EXIT_CANNOT_START, EXIT_OK

from .test_startup_dialogs import DEADLINE_S, answer, run, window_args


class PaintSpy(QObject):
    """At the main window's first paint: does the journal exist yet?"""

    def __init__(self, journal: Path) -> None:
        super().__init__()
        self.journal = journal
        self.journal_existed: bool | None = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            self.journal_existed is None
            and event.type() == QEvent.Type.Paint
            and isinstance(watched, QMainWindow)
            and watched.objectName() == "main-window"
        ):
            self.journal_existed = self.journal.exists()
        return False


def test_the_window_is_painted_before_the_journal_is_opened(qapp: Any, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    spy = PaintSpy(journal)
    qapp.installEventFilter(spy)

    async def scenario() -> int:
        window = asyncio.ensure_future(
            run_window(qapp, window_args(journal, "--notify-port", "0", "--quit-after", "2"))
        )
        return await asyncio.wait_for(window, DEADLINE_S)

    try:
        code = run(qapp, scenario)
    finally:
        qapp.removeEventFilter(spy)
    assert code == EXIT_OK
    assert spy.journal_existed is False  # painted first
    assert journal.exists()  # then opened


def test_a_journal_that_cannot_be_opened_is_said_over_the_painted_window(qapp: Any, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    journal.mkdir()  # a folder where the journal should be: sqlite cannot open it

    async def scenario() -> tuple[int, str, bool, bool]:
        window = asyncio.ensure_future(
            run_window(qapp, window_args(journal, "--notify-port", "0", "--quit-after", "20"))
        )
        loop = asyncio.get_running_loop()
        end = loop.time() + DEADLINE_S
        while not [w for w in QApplication.topLevelWidgets() if w.objectName() == "startup-problem"]:
            assert loop.time() < end, "no startup-problem dialog"
            await asyncio.sleep(0.01)
        mains = [w for w in QApplication.topLevelWidgets() if w.objectName() == "main-window"]
        shown_under = any(w.isVisible() for w in mains)
        text = await answer("startup-problem")
        code = await asyncio.wait_for(window, DEADLINE_S)
        await asyncio.sleep(0)  # the window's deleteLater
        still = any(w.isVisible() for w in QApplication.topLevelWidgets() if w.objectName() == "main-window")
        return code, text, shown_under, still

    code, text, shown_under, still = run(qapp, scenario)
    assert code == EXIT_CANNOT_START
    assert f"wsdmon cannot write its journal {journal}" in text
    assert "wsdmon --journal PATH" in text
    assert shown_under  # the window was up, painted, when the journal was found unusable
    assert not still  # and it closed with the dialog
