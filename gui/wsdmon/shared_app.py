"""Composition of the window on a shared PostgreSQL store (issue 14, item 3): `wsdmon --store
postgresql://…` and File ▸ Open shared history…. Wiring only, as app.py is for a single PC.

No engine, no discovery, no notify port and no journal lock: the collectors of the sites write the
store; this reads it (SELECT only, store.pg_view.SharedView) and shows it in the same MainWindow,
models and bridge as a single PC's window. Taking no lock is deliberate: a viewer writes nothing
on this PC, so it opens beside a local window (one process: File ▸ Open shared history… opens a
second window and the local monitor goes on) or beside another viewer.

The feed (SharedFeed) is the one seam between the store and the window: a SharedFollower (Qt-free:
reads off the loop, NOTIFY, safety re-read, reconnect) hands devices, messages and which site's jobs
changed to it, and it hands them to the QtBridge through the bridge's own methods, each device keyed
by its site; the job table pages the jobs from the store itself (JobKey.site names a job's site).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings

from wsdmon.core import DeviceRecord
from wsdmon.core.feed import RawEntry
from wsdmon.core.health import DeviceHealth
from wsdmon.core.sites import SiteCollector
from wsdmon.shared_follow import SharedFollower

__all__ = ["SharedFeed", "SharedWindow", "SharedWindows", "run_shared_window"]

log = logging.getLogger(__name__)

# The shared window keeps its own window layout (its Site column, its sizes) apart from the
# single-PC window's: a second QSettings application name under the same organisation.
SHARED_SETTINGS_APP = "wsdmon-shared"
MESSAGES_KEPT = 4096  # raw log lines whose (site, message id) the feed remembers (the log shows 2,000)


class SharedFeed:
    """The follower's sink for the window (a shared_follow.PagedJobsSink): devices to the bridge
    (keyed by site), a site's changed jobs as a notice to the paged job table (it reads the rows it
    shows from the store), sites and the connection's state to the window's decor."""

    def __init__(self, bridge: Any, decor: Any) -> None:
        self.bridge = bridge
        self.decor = decor
        # The raw log knows a message by one number: this view's, for (site, the site's message id),
        # kept for the last MESSAGES_KEPT lines (the raw log shows fewer; a view open for weeks
        # must not grow with every message the sites store).
        self._next = 0
        self._messages: OrderedDict[int, tuple[str, int]] = OrderedDict()
        self._numbers: dict[tuple[str, int], int] = {}

    def message(self, number: int) -> tuple[str, int] | None:
        """(site, message id) of a raw log line's number (None: not a recent line)."""
        return self._messages.get(number)

    def number_of(self, site: str, message_id: int) -> int | None:
        """The raw log line's number of a site's message (None: not among the recent lines)."""
        return self._numbers.get((site, message_id))

    def messages_changed(self, rows: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        for site, (message_id, arrival, device, action, size) in rows:
            number, self._next = self._next, self._next + 1
            self._messages[number] = (site, message_id)
            self._numbers[(site, message_id)] = number
            while len(self._messages) > MESSAGES_KEPT:
                self._numbers.pop(self._messages.popitem(last=False)[1], None)
            peer = f"{site}: {device}"
            self.bridge.message_logged(RawEntry(arrival, device, action, "", number, size, peer))

    def devices_changed(self, rows: Sequence[tuple[str, DeviceRecord]]) -> None:
        for site, device in rows:
            self.bridge.site_device_changed(site, device)

    def health_changed(self, rows: Sequence[tuple[str, DeviceHealth]]) -> None:
        for site, health in rows:
            self.bridge.site_health_changed(site, health)

    def collectors_changed(self, collectors: Mapping[str, SiteCollector]) -> None:
        self.bridge.site_collectors_changed(collectors)
        self.decor.set_collectors(collectors)

    def jobs_site_changed(self, site: str | None, added: bool = True) -> None:
        """A site's jobs changed in the store: the paged job table re-reads what it shows (and
        re-counts its rows if jobs may have been added)."""
        self.bridge.jobs_stored(added)

    def sites_changed(self, sites: Sequence[str]) -> None:
        self.decor.set_sites(sites)

    def connection_changed(self, error: Exception | None) -> None:
        if error is None:
            log.warning("following %s again", self.decor.location)
        self.decor.connection_changed(None if error is None else _detail(error))


def _detail(error: BaseException) -> str:
    """One line for the status bar (libpq's messages run over several)."""
    text = str(getattr(error, "detail", "") or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class _CloseWatcher(QObject):
    """Calls `closed` when the window is closed (MainWindow has no signal for it)."""

    def __init__(self, window: Any, closed: Any) -> None:
        super().__init__(window)
        self._closed = closed
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            self._closed()
        return False


class SharedWindow:
    """One shared view: models, bridge, window and the follower of an opened SharedView."""

    def __init__(  # noqa: PLR0917 - what a shared view is made of
        self, qt_app: Any, view: Any, pages: Any, conninfo: str, settings: Any, opener: Any
    ) -> None:
        """`conninfo`: the location as given (the LISTEN connection needs it; never shown). `pages`:
        the store's job pages (store.job_pages.PgJobPages): the job table reads the rows it shows
        from the store, so a history of a million jobs is never held in memory."""
        from wsdmon.bridge import QtBridge
        from wsdmon.models import DeviceTreeModel, EngineStatus, RawLogModel
        from wsdmon.models.paged_jobs import PagedJobModel
        from wsdmon.widgets import MainWindow, WindowHooks, app_icon
        from wsdmon.widgets.shared_view import SharedWindowDecor

        from . import __version__

        qt_app.setWindowIcon(app_icon())
        self.view = view
        self.devices = DeviceTreeModel(by_site=True)  # a node per site
        self.pages = pages
        self.jobs = PagedJobModel(
            pages, self.devices.device, known_devices=lambda: [r.key for r in self.devices.devices()]
        )
        self.raw_log = RawLogModel()
        self.status = EngineStatus()
        self.bridge = QtBridge(self.jobs, self.devices, self.raw_log, self.status)
        hooks = WindowHooks(
            export=self._export,
            raw_xml_for=self._raw_log_xml,  # the raw log's lines: numbered by the feed
            site_raw_xml_for=self._raw_xml,
            site_message_number=self._message_number,
            open_shared=opener,
        )
        self.window = MainWindow(
            jobs=self.jobs,
            devices=self.devices,
            raw_log=self.raw_log,
            status=self.status,
            settings=settings,
            hooks=hooks,
            version=__version__,
        )
        self.decor = SharedWindowDecor(self.window, conninfo)  # shows it masked (redact_dsn)
        self.feed = SharedFeed(self.bridge, self.decor)
        self.follower = SharedFollower(view, conninfo, self.feed, paged=True)
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._watcher = _CloseWatcher(self.window, self._on_closed)
        self._following: asyncio.Future[None] | None = None

    def _on_closed(self) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    async def start(self) -> None:
        """Everything the store holds now into the window, show it, then follow live."""
        await self.follower.load()
        self.bridge.flush()
        self.window.show()
        self._following = asyncio.ensure_future(self.follower.run())

    async def stop(self) -> None:
        following, self._following = self._following, None
        if following is not None:
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
        await asyncio.to_thread(self.view.close)
        self.pages.close()  # on the GUI thread, as every read of it
        self.bridge.stop()
        self.window.hide()
        # Deleted by Qt on this (the GUI) thread: left to Python, their timers could be freed by a
        # garbage collection that happens to run on a reader thread ("Timers cannot be stopped from
        # another thread").
        for qobject in (self.window, self.bridge, self.jobs, self.devices, self.raw_log, self.status):
            qobject.deleteLater()

    async def _raw_xml(self, site: str, message_id: int) -> str | None:
        """A timeline entry's message, read from the store (SELECT on messages)."""
        result: str | None = await asyncio.to_thread(self.view.raw_message, site, message_id)
        return result

    def _message_number(self, site: str, message_id: int) -> int | None:
        return self.feed.number_of(site, message_id)  # the feed is made after the window

    def _raw_log_xml(self, number: int) -> Any:
        """A raw log line's message (an awaitable: read from the store off the loop)."""
        found = self.feed.message(number)
        if found is None:
            return None
        return self._raw_xml(*found)

    async def _export(self, path: str, kind: str, records: Sequence[Any]) -> int:
        """File ▸ Export table…: the jobs shown, named as the table names them."""
        from wsdmon.models import job_device_key
        from wsdmon.models.paged_export import ExportRows
        from wsdmon.store.export import write_records

        if isinstance(records, ExportRows):  # the paged table's: streamed from the store as written

            def write() -> int:
                return write_records(Path(path), kind, records, records.device_name).written

            return await asyncio.get_running_loop().run_in_executor(None, write)
        names: dict[str, str] = {}
        for r in records:  # one endpoint under two sites has one name: the device names itself
            names.setdefault(r.key.device, self.jobs.device_name(job_device_key(r.key)))

        def write_list() -> int:
            return write_records(Path(path), kind, list(records), lambda ep: names.get(ep, ep)).written

        return await asyncio.get_running_loop().run_in_executor(None, write_list)


def _open_pages(location: str, shown: str) -> Any:
    """The store's job pages (a connection of their own), or SharedViewError with the reason."""
    from wsdmon.store import StoreError
    from wsdmon.store.job_pages import PgJobPages
    from wsdmon.store.pg_view import SharedViewError, ViewProblem

    try:
        return PgJobPages(location, shown)
    except StoreError as exc:  # the view's connection just worked: the server went away meanwhile
        raise SharedViewError(ViewProblem.UNREACHABLE, shown, str(exc)) from None


class SharedWindows:
    """The shared views open in this process; `open(location)` is File ▸ Open shared history…'s hook."""

    def __init__(self, qt_app: Any, settings: Any = None) -> None:
        self.qt_app = qt_app
        self.settings = settings
        self.windows: list[SharedWindow] = []
        self._tasks: set[asyncio.Future[Any]] = set()

    async def open(self, location: str) -> SharedWindow:
        """Connect (raising store.pg_view.SharedViewError with the reason), then show the window."""
        from wsdmon.store.locations import has_password, redact_dsn
        from wsdmon.store.pg_view import SharedView

        shown = redact_dsn(location)
        if has_password(location):
            log.warning(
                "the location %s carries a password: keep it in ~/.pgpass or a service file instead", shown
            )
        view = await asyncio.to_thread(SharedView, location, shown)
        settings = self.settings if self.settings is not None else QSettings("wsdmon", SHARED_SETTINGS_APP)
        pages = None
        try:
            pages = await asyncio.to_thread(_open_pages, location, shown)
            shared = SharedWindow(self.qt_app, view, pages, location, settings, self.open)
            await shared.start()
        except BaseException:
            await asyncio.to_thread(view.close)
            if pages is not None:
                pages.close()
            raise
        self.windows.append(shared)
        task = asyncio.ensure_future(self._close_when_closed(shared))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return shared

    async def _close_when_closed(self, shared: SharedWindow) -> None:
        await shared.closed
        if shared in self.windows:
            self.windows.remove(shared)
            await shared.stop()

    async def stop_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        windows, self.windows = self.windows, []
        for shared in windows:
            await shared.stop()


async def run_shared_window(qt_app: Any, args: Any) -> int:
    """`wsdmon --store postgresql://…`: open the shared view, run until its window closes (or
    --quit-after). A location that cannot be shown is said in a dialog and one log line (the
    location masked), exit code 2."""
    from wsdmon.cli import EXIT_CANNOT_START, EXIT_OK
    from wsdmon.store.pg_view import SharedViewError
    from wsdmon.widgets.shared_view import SharedTexts
    from wsdmon.widgets.startup import show_startup_problem

    given = {"--probe": args.probe, "--device": args.device, "--interface": args.interface}
    ignored = [option for option, value in given.items() if value]
    if args.notify_port is not None:
        ignored.append("--notify-port")
    if ignored:
        log.warning(
            "%s: ignored in a view of a shared store (the sites' collectors watch the devices)",
            ", ".join(ignored),
        )
    from wsdmon.app import _last_window_closed, run_until_closed  # one definition each, app.py's

    closed = _last_window_closed(qt_app)
    windows = SharedWindows(qt_app)
    location = args.journal
    try:
        try:
            shared = await windows.open(location.text)
        except SharedViewError as exc:
            log.error("cannot open the shared history %s: %s", location, exc.detail)
            texts = SharedTexts()
            await show_startup_problem(
                texts.problem_title(),
                texts.problem(exc.problem, str(location), exc.detail),
                close_after_s=args.quit_after,
            )
            return EXIT_CANNOT_START
        await run_until_closed(shared.window, closed, args)
    finally:
        await windows.stop_all()
    return EXIT_OK
