"""What the window says at start-up when things go wrong (issue 11, item 2), through run_window as
`wsdmon` runs it: the dialog of a journal that cannot be written and of a second window on the same
journal (answered with OK), the notice of a damaged journal moved aside, and the status-bar note of
a busy notify port. The real processes are tested in tests/integration/test_startup_failures.py."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QLockFile, QSettings
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox

from tests.integration.wsdmon_process import damaged_journal, sha256
from wsdmon.app import run_window
from wsdmon.cli import EXIT_ALREADY_RUNNING, EXIT_CANNOT_START, EXIT_OK, parse_args
from wsdmon.widgets.preferences import Preferences

DEADLINE_S = 30.0


def run(qapp: Any, scenario: Callable[[], Any]) -> Any:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    try:
        return loop.run_until_complete(scenario())
    finally:
        qapp.setQuitOnLastWindowClosed(quit_on_close)
        loop.close()
        asyncio.set_event_loop(None)


async def visible(kind: type, name: str) -> Any:
    """The visible top-level widget of this type and object name, once it shows."""
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE_S
    while True:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, kind) and widget.objectName() == name and widget.isVisible():
                return widget
        if loop.time() > end:
            raise AssertionError(f"no {name} showed")
        await asyncio.sleep(0.05)


async def answer(name: str) -> str:
    """Read the dialog's text, then press OK as the user would."""
    box = await visible(QMessageBox, name)
    text = box.text()
    box.button(QMessageBox.StandardButton.Ok).click()
    return str(text)


def window_args(journal: Path, *extra: str) -> Any:
    return parse_args(["--no-discovery", "--journal", str(journal), "--quit-after", "20", *extra])


def test_a_journal_that_cannot_be_written_gets_a_dialog_naming_it_and_the_fix(qapp, tmp_path):
    (tmp_path / "a-file").write_text("in the way\n")
    journal = tmp_path / "a-file" / "journal.sqlite3"

    async def scenario() -> tuple[int, str]:
        window = asyncio.ensure_future(run_window(qapp, window_args(journal, "--notify-port", "0")))
        text = await answer("startup-problem")
        return await asyncio.wait_for(window, DEADLINE_S), text

    code, text = run(qapp, scenario)
    assert code == EXIT_CANNOT_START
    assert f"wsdmon cannot write its journal {journal}" in text
    assert f"{tmp_path / 'a-file'} is a file, not a folder" in text
    assert "wsdmon --journal PATH" in text


def test_a_second_window_on_the_same_journal_says_one_is_running(qapp, tmp_path):
    journal = tmp_path / "journal.sqlite3"
    held = QLockFile(f"{journal}.lock")  # as the first window holds it
    assert held.tryLock(0)

    async def scenario() -> tuple[int, str]:
        window = asyncio.ensure_future(run_window(qapp, window_args(journal, "--notify-port", "0")))
        text = await answer("startup-problem")
        return await asyncio.wait_for(window, DEADLINE_S), text

    try:
        code, text = run(qapp, scenario)
    finally:
        held.unlock()
    assert code == EXIT_ALREADY_RUNNING
    assert f"Another wsdmon (process {os.getpid()}) is already running with the journal {journal}" in text
    assert not journal.exists()  # it never touched the journal


def test_a_damaged_journal_is_moved_aside_and_the_window_says_where(qapp, tmp_path):
    journal = tmp_path / "journal.sqlite3"
    digest = damaged_journal(journal)

    async def scenario() -> tuple[int, str, bool]:
        window = asyncio.ensure_future(
            run_window(qapp, window_args(journal, "--notify-port", "0", "--quit-after", "3"))
        )
        box = await visible(QMessageBox, "journal-moved-aside")
        main = box.parentWidget()
        shown = isinstance(main, QMainWindow) and main.isVisible() and not box.isModal()
        text = str(box.text())
        return await asyncio.wait_for(window, DEADLINE_S), text, shown

    code, text, shown = run(qapp, scenario)
    assert code == EXIT_OK
    assert shown  # over the running window, not blocking it
    (moved,) = tmp_path.glob("journal.sqlite3.damaged-*[0-9]")
    assert sha256(moved) == digest
    assert f"The journal {journal} was damaged (database disk image is malformed)" in text
    assert f"kept unchanged as {moved}" in text


@pytest.fixture
def busy_port():
    sock = socket.socket()
    sock.bind(("0.0.0.0", 0))  # noqa: S104 - as the sink binds
    sock.listen()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_a_busy_notify_port_is_noted_in_the_status_bar(qapp, tmp_path, busy_port):
    Preferences(notify_port=busy_port).save(QSettings())  # the port chosen in Preferences is taken

    async def scenario() -> tuple[str, str]:
        window = asyncio.ensure_future(run_window(qapp, window_args(tmp_path / "j", "--quit-after", "3")))
        main = await visible(QMainWindow, "main-window")
        note = None
        while note is None:
            note = main.findChild(QLabel, "status-notify-port")
            await asyncio.sleep(0.05)
        texts = note.text(), note.toolTip()
        assert await asyncio.wait_for(window, DEADLINE_S) == EXIT_OK
        return texts

    try:
        text, tip = run(qapp, scenario)
    finally:
        QSettings().clear()
    used = int(text.split()[3])
    assert text == f"Notifications on port {used} (port {busy_port} is in use)"
    assert used != busy_port
    assert "choose another notify port in Preferences" in tip
