"""Composition root: QApplication, the qasync loop, the engine, the bridge and the window; for
`--demo` also the built-in simulator. Wiring only: behaviour lives in the layers it wires."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wsdmon import __version__
from wsdmon.cli import main_watch, parse_args

__all__ = ["Application", "main", "run_window", "start_demo_simulator"]

log = logging.getLogger(__name__)

# The demo: one DSM scan server and one WSD scanner on loopback, a job every two seconds or so.
# Real time (scale 1): the times a technician reads are the wall clock's. The steady scenario's
# timed-out job therefore needs the spec's full 10 minutes to appear.
DEMO_RATE_JOBS_PER_S = 0.5
DEMO_TIME_SCALE = 1.0


def main(argv: Sequence[str] | None = None) -> int:
    """`wsdmon` entry point."""
    args = parse_args(argv)
    if args.command == "watch":
        return main_watch(args)
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


class Application:
    """Everything the window needs, wired: journal, engine, bridge, models, window (and for the
    demo the simulator). `start()` / `stop()` run on the qasync loop; tests drive it directly."""

    def __init__(self, qt_app: Any, args: Any) -> None:
        from PySide6.QtCore import QSettings

        from wsdmon.bridge import QtBridge
        from wsdmon.models import DeviceTreeModel, EngineStatus, JobTableModel, RawLogModel
        from wsdmon.net.engine import DEFAULT_NOTIFY_PORT, Engine, EngineConfig
        from wsdmon.store import Journal, default_journal_path
        from wsdmon.widgets import MainWindow, WindowHooks, app_icon

        qt_app.setWindowIcon(app_icon())
        self.args = args
        self._demo_dir = tempfile.TemporaryDirectory(prefix="wsdmon-demo-") if args.demo else None
        path = args.journal or (
            Path(self._demo_dir.name) / "journal.sqlite3"
            if self._demo_dir is not None
            else default_journal_path()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(path)
        self.devices = DeviceTreeModel()
        self.jobs = JobTableModel(self.devices.device)
        self.raw_log = RawLogModel()
        self.status = EngineStatus()
        self.bridge = QtBridge(self.jobs, self.devices, self.raw_log, self.status)
        notify_port = args.notify_port
        if notify_port is None:
            notify_port = 0 if args.demo else DEFAULT_NOTIFY_PORT
        config = EngineConfig(
            notify_port=notify_port,
            notify_bind="127.0.0.1" if args.demo else "0.0.0.0",  # noqa: S104 - devices must reach us
            notify_host="127.0.0.1" if args.demo else args.notify_host,
            device_urls=tuple(args.device),
            trusted_fingerprints=tuple(args.trust_fingerprint),
        )
        self.engine = Engine(config, self.journal, self.bridge)
        hooks = WindowHooks(
            cancel_job=self.engine.cancel_job,
            raw_xml_for=self._raw_xml_for,
            export=self._export,
            refresh_device=self.engine.refresh,
            resubscribe_device=self.engine.resubscribe,
        )
        self.window = MainWindow(
            jobs=self.jobs,
            devices=self.devices,
            raw_log=self.raw_log,
            status=self.status,
            settings=QSettings(),
            hooks=hooks,
            version=__version__,
        )
        self.simulator: Any = None

    def _raw_xml_for(self, journal_id: int) -> str | None:
        raw = self.engine.raw_message(journal_id)
        return raw.decode("utf-8", "replace") if raw is not None else None

    async def _export(self, path: str, kind: str, records: Sequence[Any]) -> None:
        from wsdmon.store.export import write_records

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, write_records, Path(path), kind, list(records))

    async def start(self) -> None:
        await self.engine.start()
        if self.args.demo:
            self.simulator = await start_demo_simulator(self.engine)
        self.window.show()

    async def stop(self) -> None:
        try:
            await self.engine.stop()
            if self.simulator is not None:
                await self.simulator.stop()
        finally:
            self.bridge.stop()
            self.journal.close()
            if self._demo_dir is not None:
                self._demo_dir.cleanup()


async def run_window(qt_app: Any, args: Any) -> int:
    """Build everything, show the window, run until it closes (or --quit-after), tear down."""
    closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_last_window_closed() -> None:
        if not closed.done():
            closed.set_result(None)

    qt_app.lastWindowClosed.connect(on_last_window_closed)
    application = Application(qt_app, args)
    try:
        await application.start()
        if args.quit_after is None:
            await closed
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(closed), args.quit_after)
            if args.screenshot is not None and not closed.done():
                application.window.grab().save(str(args.screenshot))
            application.window.close()
    finally:
        await application.stop()
    return 0


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
        )
    )
    await sim.start()
    for device in sim.devices:
        engine.spawn(engine.add_device_url(device.metadata_url, device.endpoint))
    return sim
