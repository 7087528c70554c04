"""Composition root: `wsdmon`'s entry point (main: the headless commands, or QApplication and the
qasync loop) and how the window process starts and ends: the journal's lock, the window shown
before the journal and the engine load, start-up problems said in a dialog with an exit code,
--quit-after / --screenshot, the tear-down. What the window is wired from is application.py's
(Application, re-exported here); a shared store's window is shared_app.py's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wsdmon import __version__
from wsdmon.cli import (
    EXIT_ALREADY_RUNNING,
    EXIT_CANNOT_START,
    EXIT_OK,
    main_bundle,
    main_doctor,
    main_watch,
    parse_args,
)

from .application import Application, JournalDamagedError, journal_path, start_demo_simulator

__all__ = [
    "Application",
    "JournalDamagedError",
    "journal_path",
    "lock_journal",
    "main",
    "run_until_closed",
    "run_window",
    "start_demo_simulator",
]

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """`wsdmon` entry point."""
    args = parse_args(argv)
    if args.command == "watch":
        return main_watch(args)
    if args.command == "bundle":
        return main_bundle(args)
    if args.command == "doctor":
        return main_doctor(args)
    if args.command == "collect":
        from wsdmon.collect import main_collect  # the engine alone: nothing of Qt is loaded

        return main_collect(args)
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    import qasync  # after PySide6, so qasync binds to it (ARCHITECTURE.md)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "wsdmon"])
    assert isinstance(app, QApplication)
    app.setApplicationName("wsdmon")
    app.setOrganizationName("wsdmon")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("wsdmon")
    # Closing the window must not stop the loop under our feet: run_window tears down first
    # (unsubscribe, stop the simulator, close the journal), then returns.
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            code: int = loop.run_until_complete(run_window(app, args))
            return code
    finally:
        asyncio.set_event_loop(None)


def lock_journal(path: Path) -> tuple[Any, int | None]:
    """One window per journal: a QLockFile beside it (`<journal>.lock`). Returns the lock (held
    until it is dropped) and None, or None and the process id of the wsdmon holding it (0 if
    unknown). A lock left by a process that died is taken over (QLockFile checks the pid)."""
    from PySide6.QtCore import QLockFile

    lock = QLockFile(f"{path}.lock")
    lock.setStaleLockTime(0)  # never stale by age: only when its process is gone
    if lock.tryLock(0):
        return lock, None
    if lock.error() is not QLockFile.LockError.LockFailedError:
        raise OSError(f"cannot create the lock file {path}.lock ({lock.error().name})")
    info = lock.getLockInfo()
    pid = next((v for v in info if isinstance(v, int) and not isinstance(v, bool)), 0)
    return None, pid


async def run_window(qt_app: Any, args: Any) -> int:
    """Check the journal's lock, show the window, then (once it is painted) open the journal and
    start the engine, run until the window closes (or --quit-after), tear down. Returns the exit
    code (cli.EXIT_*): a problem at start-up is said in a dialog (and one log line), never as a
    traceback; a journal that cannot be opened is found after the first paint, so its dialog shows
    over the window, which then closes."""
    from wsdmon.headless import DatabaseLocation

    if isinstance(args.journal, DatabaseLocation):  # every site of a shared store: no engine, no lock
        from wsdmon.shared_app import run_shared_window

        return await run_shared_window(qt_app, args)
    path = journal_path(args)
    lock = None
    application: Application | None = None
    journal_opened = False
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock, holder = lock_journal(path)
            if lock is None:
                from wsdmon.widgets.startup import StartupTexts, show_startup_problem

                texts = StartupTexts()
                log.error("wsdmon is already running with the journal %s (process %s)", path, holder)
                await show_startup_problem(
                    texts.already_running_title(),
                    texts.already_running(path, holder or 0),
                    critical=False,
                    close_after_s=args.quit_after,
                )
                return EXIT_ALREADY_RUNNING
            closed = _last_window_closed(qt_app)
            application = Application(qt_app, args, journal_later=True)
            await application.show_first()
            from wsdmon.store import open_journal

            opened = open_journal(path, datetime.now(UTC))
            journal_opened = True
            live, application = application, None  # _run_application tears it down
            return await _run_application(qt_app, args, live, opened, closed)
        except Exception as exc:
            code = await _say_startup_problem(exc, path, args, network=journal_opened)
            if code is None:
                raise
            return code
    finally:
        if application is not None:  # the journal could not be opened: nothing else was started
            application.window.close()
            application.window.deleteLater()
        if lock is not None:
            lock.unlock()


async def _say_startup_problem(exc: Exception, path: Path, args: Any, *, network: bool) -> int | None:
    """The dialog (and log line) for a start-up failure, and the exit code; None: not one of them."""
    from wsdmon.store import JournalProblem, JournalUnusableError
    from wsdmon.store.opening import os_detail
    from wsdmon.widgets.startup import StartupTexts, show_startup_problem

    texts = StartupTexts()
    if isinstance(exc, JournalUnusableError):
        problem, detail = exc.problem, exc.detail
    elif isinstance(exc, OSError):  # the journal's folder, its lock, or the notify port given
        if network:  # the journal was fine: the network part failed
            log.error("cannot start: %s", exc.strerror or exc)
            await show_startup_problem(
                texts.cannot_start_title(), exc.strerror or str(exc), close_after_s=args.quit_after
            )
            return EXIT_CANNOT_START
        problem, detail = JournalProblem.UNWRITABLE, os_detail(exc)
    else:
        return None
    log.error("cannot use the journal %s: %s (start wsdmon with --journal PATH)", path, detail)
    await show_startup_problem(
        texts.cannot_start_title(),
        texts.journal_unusable(problem, path, detail),
        close_after_s=args.quit_after,
    )
    return EXIT_CANNOT_START


async def run_until_closed(window: Any, closed: asyncio.Future[None], args: Any) -> None:
    """Until the user closes the window (`closed`), or for --quit-after seconds: then a --screenshot
    of it if asked, and it is closed (the local window's and the shared window's start)."""
    if args.quit_after is None:
        await closed
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(closed), args.quit_after)
    if args.screenshot is not None and not closed.done():
        window.grab().save(str(args.screenshot))
    window.close()


def _last_window_closed(qt_app: Any) -> asyncio.Future[None]:
    """Done when the last window closes (the user closed the main window)."""
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_last_window_closed() -> None:
        if not closed.done():
            closed.set_result(None)

    qt_app.lastWindowClosed.connect(on_last_window_closed)
    return closed


async def _run_application(
    qt_app: Any, args: Any, application: Application, opened: Any, closed: asyncio.Future[None]
) -> int:
    from wsdmon.store import restart_damaged

    application.attach(opened)
    live: Application | None = application  # the one to tear down at the end
    try:
        try:
            await application.start()
        except JournalDamagedError as exc:
            # Damage the integrity check at open could not see (a journal too large to check)
            # surfaces in the first loads: move the journal aside and start again, once.
            path, live = application.journal.path, None
            application.abandon()
            application = live = Application(
                qt_app, args, opened=restart_damaged(path, datetime.now(UTC), str(exc))
            )
            await application.start()
        await run_until_closed(application.window, closed, args)
    finally:
        if live is not None:
            await live.stop()
    return EXIT_OK
