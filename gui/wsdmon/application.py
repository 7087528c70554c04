"""The window's composition for a single PC (Application): the journal, the engine, the bridge, the
models, the window, discovery and the tray notifier, wired; for `--demo` also the built-in
simulator. Wiring only: behaviour lives in the layers it wires. How the window process starts and
ends around it (the journal's lock, the first paint, start-up problems, --quit-after) is app.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wsdmon import __version__

if TYPE_CHECKING:  # imported when needed: the window shows before these load
    from wsdmon.bridge import QtBridge
    from wsdmon.net.engine import Engine
    from wsdmon.store import Journal, OpenedJournal

__all__ = ["Application", "JournalDamagedError", "journal_path", "start_demo_simulator"]

log = logging.getLogger(__name__)

# The demo: one DSM scan server and one WSD scanner on loopback, a job every two seconds or so.
# Real time (scale 1): the times a technician reads are the wall clock's. The steady scenario's
# timed-out job therefore needs the spec's full 10 minutes to appear.
DEMO_RATE_JOBS_PER_S = 0.5
DEMO_TIME_SCALE = 1.0
# run_window loads the journal, the engine and the network stack once the window is painted; a
# window that is not painted by then (never exposed: minimised, another desktop) waits no longer.
FIRST_PAINT_WAIT_S = 1.0


class JournalDamagedError(Exception):
    """The journal was found damaged while it was loaded (Application.start)."""


class Application:
    """Everything the window needs, wired: journal, engine, bridge, models, window, discovery, the
    tray notifier (and for the demo the simulator). `start()` / `stop()` run on the qasync loop;
    tests drive it directly. Settings come from QSettings (Edit ▸ Preferences…); command-line
    options override them for the session."""

    # Set by attach(), after the window's first paint when run_window starts the app.
    opened: OpenedJournal
    journal: Journal
    bridge: QtBridge
    engine: Engine

    def __init__(
        self, qt_app: Any, args: Any, *, settings: Any = None, opened: Any = None, journal_later: bool = False
    ) -> None:
        """The window and its (empty) models; then, unless `journal_later`, attach() with `opened`
        (or the journal of `args`, opened here). run_window passes journal_later=True and attaches
        after the window's first paint: the engine, the network stack and the parsers load then."""
        from PySide6.QtCore import QSettings

        from wsdmon.first_paint import FirstPaint
        from wsdmon.models import DeviceTreeModel, EngineStatus, JobTableModel, RawLogModel
        from wsdmon.widgets import (
            FailureNotifier,
            MainWindow,
            Preferences,
            ThemeFollower,
            WindowHooks,
            app_icon,
        )

        qt_app.setWindowIcon(app_icon())
        self.theme = ThemeFollower(qt_app)
        self.args = args
        self.qt_app = qt_app
        self._default_settings = settings is None
        self.settings = settings if settings is not None else QSettings()
        self.preferences = Preferences.load(self.settings)
        self.devices = DeviceTreeModel()
        self.jobs = JobTableModel(self.devices.device)
        self.raw_log = RawLogModel()
        self.status = EngineStatus()
        # Multicast discovery unless --no-discovery; the demo needs no network at all.
        self.multicast = not (args.no_discovery or args.demo)
        self.discovery: Any = None
        self._probing = 0
        # The hooks reach the engine through self: it is attached after the window is built.
        hooks = WindowHooks(
            cancel_job=self._cancel_job,
            raw_xml_for=self._raw_xml_for,
            export=self._export,
            save_bundle=self._save_bundle,
            reprobe=self.reprobe if (self.multicast or args.probe) else None,
            refresh_device=self._refresh_device,
            resubscribe_device=self._resubscribe_device,
            trust_certificate=self.trust_certificate,
            device_health=self._device_health,
            run_selfcheck=self._run_selfcheck,
            open_shared=self._open_shared,
        )
        self.shared_windows: Any = None  # File ▸ Open shared history…'s windows (shared_app.py)
        self.window = MainWindow(
            jobs=self.jobs,
            devices=self.devices,
            raw_log=self.raw_log,
            status=self.status,
            settings=self.settings,
            hooks=hooks,
            version=__version__,
        )
        self.first_paint = FirstPaint(self.window)
        overridden = {"interfaces"} if args.interface else set()
        if args.notify_port is not None:
            overridden.add("notify_port")
        self.window.set_overridden(overridden)
        self.notifier = FailureNotifier(
            self.window, self.jobs.device_name, enabled=self.preferences.notify_failures
        )
        self.window.set_notifications_available(self.notifier.available)
        self.notifier.job_activated.connect(self.window.select_job_key)
        self.window.preferences_changed.connect(self._on_preferences_changed)
        self.simulator: Any = None
        if not journal_later:
            if opened is None:  # tests build an Application directly; run_window attaches later
                from wsdmon.store import open_journal

                opened = open_journal(journal_path(args), datetime.now(UTC))
            self.attach(opened)

    async def show_first(self) -> None:
        """Show the window (its models still empty) and return once it is painted, or after
        FIRST_PAINT_WAIT_S (a window that is never exposed must not hold the start back)."""
        painted: asyncio.Future[float] = asyncio.get_running_loop().create_future()

        def on_painted(at: float) -> None:
            if not painted.done():
                painted.set_result(at)

        self.first_paint.painted.connect(on_painted)
        self.window.show()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(painted, FIRST_PAINT_WAIT_S)

    def attach(self, opened: OpenedJournal) -> None:
        """The opened journal, the bridge into the models and the engine (not started yet)."""
        from wsdmon.bridge import QtBridge
        from wsdmon.net.engine import Engine, EngineConfig

        args = self.args
        self.opened = opened
        self.journal = opened.journal
        self.bridge = QtBridge(self.jobs, self.devices, self.raw_log, self.status)
        notify_port = args.notify_port
        if notify_port is None:
            notify_port = 0 if args.demo else self.preferences.notify_port
        config = EngineConfig(
            notify_port=notify_port,
            notify_port_fallback=args.notify_port is None,  # asked for on the command line: that one
            notify_bind="127.0.0.1" if args.demo else "0.0.0.0",  # noqa: S104 - devices must reach us
            notify_host="127.0.0.1" if args.demo else args.notify_host,
            device_urls=tuple(args.device),
            trusted_fingerprints=tuple(args.trust_fingerprint),
        )
        self.engine = Engine(config, self.journal, self.bridge)
        self.bridge.jobs_failed.connect(self.notifier.jobs_failed)

    async def _open_shared(self, location: str) -> Any:
        """File ▸ Open shared history…: a window of its own (its layout in QSettings "wsdmon-shared"
        unless settings were given); this window's monitor goes on."""
        from wsdmon.shared_app import SharedWindows

        given = None if self._default_settings else self.settings
        self.shared_windows = self.shared_windows or SharedWindows(self.qt_app, given)
        return await self.shared_windows.open(location)

    def _cancel_job(self, key: Any) -> Any:
        return self.engine.cancel_job(key)

    def _refresh_device(self, endpoint: str) -> Any:
        return self.engine.refresh(endpoint)

    def _resubscribe_device(self, endpoint: str) -> Any:
        return self.engine.resubscribe(endpoint)

    def _raw_xml_for(self, journal_id: int) -> str | None:
        raw = self.engine.raw_message(journal_id)
        return raw.decode("utf-8", "replace") if raw is not None else None

    async def _export(self, path: str, kind: str, records: Sequence[Any]) -> int:
        """File ▸ Export table…: the jobs shown, with the device names shown; returns how many."""
        from wsdmon.store.export import write_records

        # The names are looked up here, on the GUI thread: the models are not for the writer thread.
        names = {ep: self.jobs.device_name(ep) for ep in {r.key.device for r in records}}

        def write() -> int:
            return write_records(Path(path), kind, list(records), lambda ep: names.get(ep, ep)).written

        return await asyncio.get_running_loop().run_in_executor(None, write)

    def _device_health(self, endpoint: str) -> Any:  # Diagnose…: DeviceHealth | None
        return self.engine.health(endpoint)  # type: ignore[attr-defined,unused-ignore]  # issue 13

    async def _run_selfcheck(self, listen: bool) -> Any:
        """Tools ▸ Network self-check… (listen: a few seconds for multicast) and the start-up check."""
        from wsdmon.window_selfcheck import run_window_selfcheck

        interfaces = self.discovery_interfaces()
        return await run_window_selfcheck(self.engine.sink, self.args, interfaces, listen=listen)

    async def _save_bundle(self, path: str, device: str | None, jobs: Sequence[Any] = ()) -> Any:
        """File ▸ Save support bundle… (the device and job menus': one device, the jobs chosen): the
        last 24 hours of the journal, off the loop; returns the BundleResult (BundleError: why not)."""
        from wsdmon.support import BundleOptions, make_bundle

        devices = (device,) if device else tuple(dict.fromkeys(k.device for k in jobs))
        options = BundleOptions(self.journal.path, Path(path), devices=devices, jobs=tuple(jobs))
        return await asyncio.get_running_loop().run_in_executor(None, make_bundle, options)

    async def start(self) -> None:
        """Restore from the journal, start listening and discovering, show the window. Raises
        JournalDamagedError when the journal turns out damaged while it is loaded (then nothing was
        started, and nothing was written to it: call abandon(), not stop())."""
        from wsdmon.store import is_damage

        try:
            await self.engine.start()
        except Exception as exc:
            if is_damage(exc):
                raise JournalDamagedError(str(exc)) from exc
            raise
        self.bridge.watch_failures()  # the journal replay is done: from now on failures are news
        # The jobs restored from the journal live as long as the app: take them out of the cyclic
        # garbage collector's full passes (at 100,000 jobs one pass stalls the window ~0.15 s).
        gc.collect()
        gc.freeze()
        if self.args.demo:
            self.simulator = await start_demo_simulator(self.engine)
        await self.start_discovery()
        await self.apply_retention()
        self.window.show()
        self._report_start_notes()
        if self.multicast:  # the ports discovery needs; a note in the status bar only if one is not ok
            self.window.diagnosis.check_at_start()

    def _report_start_notes(self) -> None:
        """Say what start-up had to work around: a damaged journal moved aside, a busy notify port."""
        from wsdmon.widgets.startup import show_moved_aside, show_port_fallback

        opened = self.opened
        if opened.moved_aside is not None:
            # The log line is for technicians reading a terminal or a service log.
            log.warning(
                "the journal %s was damaged (%s): kept unchanged as %s; a new journal was started",
                self.journal.path,
                opened.damage,
                opened.moved_aside,
            )
            self.moved_aside_notice = show_moved_aside(
                self.window, self.journal.path, opened.moved_aside, opened.damage
            )
        wanted = self.engine.sink.wanted_port
        if wanted is not None:
            log.warning(
                "notify port %d is in use (another wsdmon or `wsdmon watch`?): listening on port %d",
                wanted,
                self.engine.sink.port,
            )
            show_port_fallback(self.window, wanted, self.engine.sink.port)

    def abandon(self) -> None:
        """Drop an Application whose start() failed on a damaged journal: close the journal
        without writing to it (the damaged file must stay as it is)."""
        self.bridge.stop()
        self.journal.close()
        self.window.hide()  # shown since the first paint; hidden, not closed: the app goes on
        self.window.deleteLater()

    async def stop(self) -> None:
        try:
            if self.shared_windows is not None:
                await self.shared_windows.stop_all()
            await self.stop_discovery()
            await self.engine.stop()
            if self.simulator is not None:
                await self.simulator.stop()
        finally:
            self.bridge.stop()
            self.journal.close()
            # The window holds hooks bound to this object (a reference cycle): delete it through Qt
            # now, in order, rather than whenever the garbage collector breaks the cycle (Qt's
            # teardown would then call into models whose Python side is already cleared).
            self.window.hide()
            self.window.deleteLater()

    # --- discovery ------------------------------------------------------------------------------

    def discovery_interfaces(self) -> list[str]:
        """--interface as given; else the interfaces chosen in Preferences, as their addresses
        (portable: interface names differ between Qt and the OS on Windows); [] = all."""
        if self.args.interface:
            return list(self.args.interface)
        from PySide6.QtNetwork import QNetworkInterface

        addresses: list[str] = []
        for name in self.preferences.interfaces:
            iface = QNetworkInterface.interfaceFromName(name)
            if not iface.isValid():
                log.warning("interface %s from the settings is not present", name)
                continue
            addresses += [e.ip().toString() for e in iface.addressEntries() if not e.ip().isNull()]
        if self.preferences.interfaces and not addresses:
            log.warning("none of the chosen interfaces is present: discovering on all of them")
        return addresses

    async def start_discovery(self) -> None:
        """Multicast discovery (unless off) and the directed probes of --probe. Never raises: what
        went wrong is shown in the status bar."""
        from wsdmon.net.wiring import Discovery

        if not self.multicast and not self.args.probe:
            return
        discovery = Discovery(self.engine, interfaces=self.discovery_interfaces(), multicast=self.multicast)
        try:
            await discovery.start()  # its first multicast Probe goes out here
        except (OSError, ValueError) as exc:
            log.warning("discovery could not start: %s", exc)
            self.status.update(discovery_error=str(exc))
            return
        self.discovery = discovery
        self.status.update(discovery_error=discovery.error or "")
        self.engine.spawn(self._probe_round(multicast=False))

    async def stop_discovery(self) -> None:
        discovery, self.discovery = self.discovery, None
        if discovery is not None:
            await discovery.stop()

    def reprobe(self) -> None:
        """F5: multicast a Probe again and repeat the directed probes; busy while answers may come."""
        if self.discovery is not None:
            self.engine.spawn(self._probe_round(multicast=True))

    async def _probe_round(self, *, multicast: bool) -> None:
        from wsdmon.net.discovery import MATCH_TIMEOUT_S

        discovery = self.discovery
        if discovery is None:
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._probing += 1
        self.status.update(discovering=True)
        try:
            if multicast:
                await discovery.reprobe()
            answers = await asyncio.gather(
                *(discovery.probe_host(target) for target in self.args.probe), return_exceptions=True
            )
            for target, answer in zip(self.args.probe, answers, strict=True):
                if isinstance(answer, BaseException):
                    log.warning("directed probe of %s failed: %s", target, answer)
                    self.window.report_probe(target, None, str(answer) or type(answer).__name__)
                else:
                    self.window.report_probe(target, answer)
            # Multicast answers come within MATCH_TIMEOUT_S (their random delay): stay busy till then.
            await asyncio.sleep(max(0.0, MATCH_TIMEOUT_S - (loop.time() - started)))
        finally:
            self._probing -= 1
            if self._probing == 0:
                self.status.update(discovering=False)

    async def _restart_discovery(self) -> None:
        await self.stop_discovery()
        self.status.update(discovery_error="")
        await self.start_discovery()

    # --- certificates, retention, preferences ---------------------------------------------------

    def trust_certificate(self, endpoint: str, fingerprint: str) -> None:
        """The user compared and accepted a device's certificate: pin it and read the device again."""
        self.engine.accept_fingerprint(endpoint, fingerprint)
        self.engine.spawn(self.engine.refresh(endpoint))

    async def apply_retention(self, now: datetime | None = None) -> int:
        """Apply the retention preferences now (the engine also applies them hourly): journal rows
        and finished jobs past them go, from the engine and from the table."""
        p = self.preferences
        self.engine.config.retention = timedelta(days=p.retention_days) if p.retention_days else None
        self.engine.config.max_messages = p.max_messages or None
        now = now or datetime.now(UTC)
        deleted = self.engine.apply_retention(now)
        if self.engine.config.retention is not None:
            self.jobs.remove_jobs(self.jobs.finished_before(now - self.engine.config.retention))
        return deleted

    def _on_preferences_changed(self, preferences: Any) -> None:
        old, self.preferences = self.preferences, preferences
        self.notifier.set_enabled(preferences.notify_failures)
        if (preferences.retention_days, preferences.max_messages) != (old.retention_days, old.max_messages):
            self.engine.spawn(self.apply_retention())
        if preferences.interfaces != old.interfaces and self.multicast and not self.args.interface:
            self.engine.spawn(self._restart_discovery())


async def start_demo_simulator(engine: Any) -> Any:
    """The built-in simulated scan server and scanner on loopback, added to the engine by URL (no
    multicast needed, works with no network at all)."""
    from wsdmon.simulator import Role, Scenario, Simulator, SimulatorConfig

    sim = Simulator(
        SimulatorConfig(
            role=Role.BOTH,
            devices=1,
            scenario=Scenario.STEADY,
            rate=DEMO_RATE_JOBS_PER_S,
            time_scale=DEMO_TIME_SCALE,
            host="127.0.0.1",
            discovery=False,
            wsd_port=0,
            name="Demo",
            stable_identity=True,  # the demo's journal keeps its history: same devices every run
        )
    )
    await sim.start()
    for device in sim.devices:
        engine.spawn(engine.add_device_url(device.metadata_url, device.endpoint))
    return sim


def journal_path(args: Any) -> Path:
    """--journal, else the demo's own journal for --demo, else the user's default one."""
    from wsdmon.store import default_journal_path, demo_journal_path

    if args.journal is not None:
        return Path(args.journal)
    return demo_journal_path() if args.demo else default_journal_path()
