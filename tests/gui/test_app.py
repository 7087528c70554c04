"""Application (app.py) outside the demo: settings read at start and overridden by the command line,
discovery by directed probe (never multicast in tests: --no-discovery), F5 and the busy indicator,
the tray notice of a failed job, trusting a certificate, journal retention, preferences applied."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QSettings

from wsdmon.app import Application
from wsdmon.cli import parse_args
from wsdmon.core import JobChange
from wsdmon.net.engine import DEFAULT_NOTIFY_PORT
from wsdmon.simulator import Role, Scenario, Simulator, SimulatorConfig
from wsdmon.widgets.preferences import DEFAULT_NOTIFY_PORT as WIDGETS_DEFAULT_PORT
from wsdmon.widgets.preferences import Preferences

from .factory import sample_jobs

DEADLINE_S = 30.0


def run(qapp: Any, scenario: Callable[[], Any]) -> None:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)  # as app.main() has it: stop() tears down, then returns
    try:
        loop.run_until_complete(scenario())
    finally:
        qapp.setQuitOnLastWindowClosed(quit_on_close)
        loop.close()
        asyncio.set_event_loop(None)


async def until(condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE_S
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def settings_at(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "wsdmon.ini"), QSettings.Format.IniFormat)


def make(qapp: Any, tmp_path: Path, *argv: str, settings: QSettings | None = None) -> Application:
    args = parse_args(["--journal", str(tmp_path / "journal.sqlite3"), *argv])
    return Application(qapp, args, settings=settings or settings_at(tmp_path))


def test_default_notify_port_is_the_engines():
    assert WIDGETS_DEFAULT_PORT == DEFAULT_NOTIFY_PORT


def test_settings_are_read_at_start_and_the_command_line_overrides_them(qapp, tmp_path):
    settings = settings_at(tmp_path)
    Preferences(notify_port=6321, notify_failures=False, interfaces=("eth9",)).save(settings)

    async def scenario() -> None:
        app = make(qapp, tmp_path, "--no-discovery", settings=settings)
        assert app.engine.config.notify_port == 6321
        assert app.notifier.is_enabled() is False
        assert app.window.reprobe_action.isEnabled() is False  # nothing to probe
        assert app.discovery_interfaces() == []  # eth9 is not present: all interfaces
        app.journal.close()
        app.window.deleteLater()
        other = make(
            qapp, tmp_path, "--no-discovery", "--notify-port", "0", "--interface", "lo", settings=settings
        )
        assert other.engine.config.notify_port == 0
        assert other.discovery_interfaces() == ["lo"]
        assert other.window._overridden == {"interfaces", "notify_port"}
        other.journal.close()
        other.window.deleteLater()

    run(qapp, scenario)


@pytest.mark.timeout(90)
def test_directed_probe_finds_the_simulator_and_f5_probes_again(qapp, tmp_path):
    async def scenario() -> None:
        sim = Simulator(
            SimulatorConfig(
                role=Role.SCAN_SERVER,
                scenario=Scenario.IDLE,
                host="127.0.0.1",
                discovery=False,  # directed probes only: no multicast anywhere in the tests
                wsd_port=0,
            )
        )
        await sim.start()
        app = make(
            qapp,
            tmp_path,
            "--no-discovery",
            "--notify-port",
            "0",
            "--probe",
            f"127.0.0.1:{sim.discovery_port}",
        )
        busy: list[bool] = []
        app.status.changed.connect(lambda: busy.append(app.status.discovering))
        try:
            await app.start()
            assert app.discovery is not None
            assert app.window.reprobe_action.isEnabled()
            server = sim.device(Role.SCAN_SERVER)
            await until(lambda: app.devices.device(server.endpoint) is not None, "the probed scan server")
            assert busy[0] is True  # the busy indicator showed while probing
            await until(lambda: not app.status.discovering, "the end of the probe round")
            assert not app.window.discovering.isVisibleTo(app.window)
            busy.clear()
            app.window.reprobe_action.trigger()  # F5
            await until(lambda: app.status.discovering, "F5's probe round")
            assert app.status.discovery_error == ""
            await until(lambda: not app.status.discovering, "the end of F5's probe round")
        finally:
            await app.stop()
            await sim.stop()

    run(qapp, scenario)


def test_failed_jobs_reach_the_notifier_once_and_only_live(qapp, tmp_path):
    shown: list[tuple[str, str]] = []

    async def scenario() -> None:
        app = make(qapp, tmp_path, "--no-discovery", "--notify-port", "0")
        app.notifier._show = lambda title, body: shown.append((title, body))
        try:
            jobs = sample_jobs(routine=2)
            failed = next(j for j in jobs if j.is_failed)
            app.bridge.job_changed(JobChange(failed, added=True, accepted=True))  # a journal replay
            await app.start()  # watch_failures: from now on failures are news
            app.bridge.flush()
            app.notifier.flush()
            assert shown == []
            active = next(j for j in jobs if not j.is_terminal)
            aborted = dataclasses.replace(
                active, status=dataclasses.replace(active.status, job_state="Aborted")
            )
            app.bridge.job_changed(JobChange(aborted, added=False, accepted=True))
            app.bridge.job_changed(JobChange(aborted, added=False, accepted=True))  # seen twice
            app.bridge.flush()
            app.notifier.flush()
            assert len(shown) == 1
            assert "Job failed on" in shown[0][0]
            assert aborted.status.job_token in shown[0][1]
            app.notifier.job_activated.emit(aborted.key)  # a click on the message
            assert app.window.job_table.current_key() == aborted.key
        finally:
            await app.stop()

    run(qapp, scenario)


def test_trusting_a_certificate_pins_it_in_the_journal(qapp, tmp_path):
    async def scenario() -> None:
        app = make(qapp, tmp_path, "--no-discovery", "--notify-port", "0")
        try:
            await app.start()
            fp = "ab" * 32
            app.trust_certificate("urn:uuid:device", fp)
            assert app.journal.trusted_fingerprint("urn:uuid:device") == fp
        finally:
            await app.stop()

    run(qapp, scenario)


def test_retention_drops_old_finished_jobs_and_preferences_apply(qapp, tmp_path):
    async def scenario() -> None:
        app = make(qapp, tmp_path, "--no-discovery", "--notify-port", "0")
        try:
            await app.start()
            jobs = sample_jobs(routine=3)
            for job in jobs:
                app.bridge.job_changed(JobChange(job, added=True, accepted=True))
            app.bridge.flush()
            newest = max(j.last_update for j in jobs)
            now = newest + timedelta(days=1, hours=1)
            app.preferences = dataclasses.replace(app.preferences, retention_days=1)
            await app.apply_retention(now)
            left = {app.jobs.record(r).key for r in range(app.jobs.rowCount())}
            assert left == {j.key for j in jobs if not j.is_terminal}  # active jobs always stay
            app.window.preferences_changed.emit(dataclasses.replace(app.preferences, notify_failures=False))
            assert app.notifier.is_enabled() is False
            assert await app.apply_retention(datetime.now(UTC)) == 0
        finally:
            await app.stop()

    run(qapp, scenario)
