"""The window on a shared PostgreSQL store (issue 14, item 3): two real collector processes of two
sites (floor-3, branch), each with its own simulated scan server on loopback, write one database; the
real window (offscreen), logged in as a SELECT-only viewer, shows both sites' devices and jobs, live,
with a Site column and filter, Cancel disabled with its reason and the raw XML read from the store.
And what a technician is told when the store cannot be shown, in the window, the dialog of
File ▸ Open shared history… and the real `wsdmon --store postgresql://…` process."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
import shiboken6
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialogButtonBox

from tests.gui.test_app import make, run, settings_at, until
from tests.integration.store.test_collect_pg import _collect, _viewer
from tests.integration.test_collect import JOB, scan_server
from tests.integration.wsdmon_process import environment, run_wsdmon
from tests.pg import PgCluster
from wsdmon.cli import EXIT_CANNOT_START
from wsdmon.core.health import HealthCheck, HealthFinding
from wsdmon.core.sites import CollectorState
from wsdmon.models import Column, SubscriptionState
from wsdmon.models.paged_jobs import PagedJobModel
from wsdmon.shared_app import SharedWindows
from wsdmon.shared_follow import CATCH_UP_INTERVAL_S
from wsdmon.store.pg_view import SharedView, SharedViewError, ViewProblem
from wsdmon.store.postgres import RECONNECT_INTERVAL_S

pytestmark = pytest.mark.timeout(240)

SITES = ("branch", "floor-3")


class Collector:
    """A `wsdmon collect` process, its output in a file (the test's loop is Qt's: no asyncio pipes)."""

    def __init__(self, home: Path, site: str, dsn: str, url: str) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.log = home / "collect.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                _collect(home, site, dsn, url), stdout=out, stderr=subprocess.STDOUT, env=environment(home)
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)


def _rows(shared: Any) -> list[Any]:
    proxy = shared.window.proxy
    return [proxy.record(r) for r in range(proxy.rowCount())]


def _jobs_by_site(shared: Any) -> dict[str, Any]:
    return {r.key.site: r for r in _rows(shared)}


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)")  # Diagnose's dialog
def test_two_sites_live_in_the_window(qapp: Any, tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str) -> None:
    async def scenario() -> None:
        async with scan_server() as first, scan_server() as second:
            sims = {"floor-3": first, "branch": second}
            collectors = {
                site: Collector(tmp_path / site, site, pg_dsn, sim.metadata_url) for site, sim in sims.items()
            }
            windows = SharedWindows(qapp, settings_at(tmp_path))
            try:
                for site, sim in sims.items():
                    await until(lambda sim=sim: len(sim.events.subscriptions) == 1, f"{site} subscribed")
                viewer = _viewer(pg_cluster, pg_dsn)  # SELECT only (pg_schema.roles_sql)
                shared = await windows.open(viewer)
                window = shared.window
                # Both simulators have one seed, so one endpoint: still one device per site.
                await until(lambda: shared.devices.device_count() == 2, "both sites' devices")
                rows = shared.devices.devices()
                expected = {("floor-3", first.endpoint), ("branch", second.endpoint)}
                assert {(r.site, r.endpoint) for r in rows} == expected
                assert len({r.display_name for r in rows}) == 2  # told apart by their site
                # Each as its collector knows it (schema v5): subscribed.
                await until(
                    lambda: (
                        {r.subscription for r in shared.devices.devices()} == {SubscriptionState.SUBSCRIBED}
                    ),
                    "both sites' devices subscribed, as their collectors say",
                )
                assert "2 site" in window.windowTitle()
                assert "user=desk_" in window.windowTitle()
                status = window.findChild(type(window.status_labels["devices"]), "status-shared")
                assert status is not None
                assert "2 site" in status.text()
                assert not window.reprobe_action.isEnabled()
                assert "collectors" in window.reprobe_action.toolTip()
                assert not window.preferences_action.isEnabled()
                # Each device's health as its collector judged it (schema v6): Diagnose… shows it.
                await until(
                    lambda: all(shared.devices.health(r.key) is not None for r in shared.devices.devices()),
                    "both sites' health reports, as their collectors judged them",
                )
                for row in shared.devices.devices():
                    report = shared.devices.health(row.key)
                    assert report is not None
                    assert report.endpoint == row.endpoint
                    subscription = report.result(HealthCheck.SUBSCRIPTION)
                    assert subscription is not None
                    assert subscription.finding in (
                        HealthFinding.SUBSCRIPTION_ACTIVE,
                        HealthFinding.NOT_KNOWN_YET,
                    )
                assert window.diagnosis.diagnose_action.isEnabled()
                branch_key = next(r.key for r in shared.devices.devices() if r.site == "branch")
                dialog = window.diagnosis.diagnose(branch_key)
                assert "at site branch" in dialog.heading.text()
                assert "as its site's collector has judged it since" in dialog.heading.text()
                assert "Discovery" in dialog.report.toPlainText()
                dialog.close()

                # Live: a job on each site reaches the window through NOTIFY, well before the safety
                # net's re-read would bring it.
                jobs = {site: sim.submit_job(JOB) for site, sim in sims.items()}
                for job in jobs.values():
                    await job.wait()
                ended = time.monotonic()
                await until(
                    lambda: (
                        {s: (r.key.job_token, r.ended) for s, r in _jobs_by_site(shared).items()}
                        == {s: (j.token, True) for s, j in jobs.items()}
                    ),
                    "both sites' jobs, ended",
                )
                assert time.monotonic() - ended < CATCH_UP_INTERVAL_S
                for record in _rows(shared):
                    assert (str(record.status.job_state), record.status.images_received) == ("Completed", 2)
                # Paged from the store (issue 14, item 4): the window holds the rows it shows, and the
                # follower none of the jobs.
                assert isinstance(window.proxy, PagedJobModel)
                assert not shared.follower.shown

                # The Site column shows, and the site filter keeps one site's jobs.
                header = window.job_table.view.horizontalHeader()
                assert not header.isSectionHidden(Column.SITE)
                assert header.visualIndex(Column.SITE) == header.visualIndex(Column.DEVICE) + 1
                proxy = window.proxy
                shown = {proxy.index(r, Column.SITE).data() for r in range(proxy.rowCount())}
                assert shown == set(SITES)
                combo = window.job_table.site_combo
                assert combo.isVisibleTo(window)
                assert [combo.itemText(i) for i in range(1, combo.count())] == list(SITES)
                combo.setCurrentIndex(combo.findData("branch"))
                branch = [(r.key.site, r.key.job_token) for r in _rows(shared)]
                assert branch == [("branch", jobs["branch"].token)]
                # A device picked in the tree: that site's device only, not its twin of the other site.
                combo.setCurrentIndex(0)
                floor = next(r for r in shared.devices.devices() if r.site == "floor-3")
                window.device_tree.setCurrentIndex(shared.devices.index_of(floor.key))
                assert [r.key.site for r in _rows(shared)] == ["floor-3"]

                # Cancel is the collector's: disabled, with the reason; the raw XML comes from the store.
                window.job_table.select_key(_rows(shared)[0].key)
                bundle = window.job_table.context_menu().findChild(QAction, "save-bundle")
                assert not bundle.isEnabled()
                assert "collector" in bundle.toolTip()
                cancel = window.detail.cancel_button
                assert not cancel.isEnabled()
                assert "collector of site floor-3" in cancel.toolTip()
                assert "cancel it there" in cancel.toolTip()
                timeline = window.detail.timeline_view
                timeline.setCurrentIndex(timeline.model().index(0, 0))
                await until(lambda: "Envelope" in window.detail.raw_xml.toPlainText(), "the raw XML, read")

                # The raw log lists the messages the sites stored since the window opened, each
                # with its site, and shows a message's XML read from the store.
                log_model = shared.raw_log
                await until(
                    lambda: (
                        {log_model.index(r, 2).data().split(":")[0] for r in range(log_model.rowCount())}
                        >= set(SITES)
                    ),
                    "both sites' messages in the raw log",
                )
                window.raw_log.show()
                window.raw_log.view.setCurrentIndex(log_model.index(log_model.rowCount() - 1, 0))
                await until(lambda: "Envelope" in window.raw_log.xml.toPlainText(), "a logged message's XML")

                # Export works from the models: the jobs shown, with their device names.
                out = tmp_path / "jobs.json"
                written = await shared._export(str(out), "json", _rows(shared))
                assert written == 1
                [exported] = json.loads(out.read_text())
                assert (exported["site"], exported["job_token"]) == ("floor-3", jobs["floor-3"].token)
                assert exported["device"] == floor.display_name

                # A collector stopped cleanly ends its subscriptions: the window says so of its device,
                # and the store that it stopped (its loop's heartbeat said it was alive till then).
                view = SharedView(viewer, "desk")
                try:
                    assert {s: c.state for s, c in view.collectors().items()} == dict.fromkeys(
                        SITES, CollectorState.LIVE
                    )
                    assert collectors["branch"].stop() == 0
                    stopped = {s: c.state for s, c in view.collectors().items()}
                    assert stopped == {"branch": CollectorState.STOPPED, "floor-3": CollectorState.LIVE}
                finally:
                    view.close()
                branch_key = next(r.key for r in shared.devices.devices() if r.site == "branch")
                await until(
                    lambda: shared.devices.device(branch_key).subscription is SubscriptionState.UNSUBSCRIBED,  # type: ignore[union-attr]
                    "branch's device no longer subscribed",
                )
                index = shared.devices.index_of(branch_key)
                assert index.siblingAtColumn(3).data() == "Not subscribed"
            finally:
                await windows.stop_all()
                codes = {site: c.stop() for site, c in collectors.items()}
            assert codes == dict.fromkeys(sims, 0), {s: c.text() for s, c in collectors.items()}
            assert "Traceback" not in "".join(c.text() for c in collectors.values())

    run(qapp, scenario)


def test_server_lost_while_open_keeps_the_rows_and_catches_up(
    qapp: Any, tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str
) -> None:
    """PostgreSQL stops while the window is open: the status bar says so and the rows stay; when it
    is back the view reconnects and shows what was written meanwhile."""

    async def scenario() -> None:
        async with scan_server() as sim:
            collector = Collector(tmp_path / "c", "floor-3", pg_dsn, sim.metadata_url)
            windows = SharedWindows(qapp, settings_at(tmp_path))
            try:
                await until(lambda: len(sim.events.subscriptions) == 1, "subscribed")
                first = sim.submit_job(JOB)
                await first.wait()
                shared = await windows.open(pg_dsn)
                await until(lambda: len(_rows(shared)) == 1 and _rows(shared)[0].ended, "the first job")
                status = shared.decor.state
                await asyncio.to_thread(pg_cluster.stop)
                try:
                    await until(lambda: "lost" in status.text(), "the status bar saying the store is lost")
                    assert len(_rows(shared)) == 1  # what was read stays
                    assert "\n" not in status.text()  # one line, however many libpq said
                finally:
                    await asyncio.to_thread(pg_cluster.start)
                await until(lambda: "lost" not in status.text(), "reconnected")
                assert "is back" in shared.window.statusBar().currentMessage()
                # The collector's idle connection fails its first write after the restart: that job
                # goes to its spool, replayed by its next write once RECONNECT_INTERVAL_S passed (an
                # idle collector does not replay on a timer yet: issue 14's notes), hence a third job.
                second = sim.submit_job(JOB)
                await second.wait()
                await asyncio.sleep(RECONNECT_INTERVAL_S + 0.5)
                third = sim.submit_job(JOB)
                await third.wait()
                tokens = {first.token, second.token, third.token}
                await until(
                    lambda: {r.key.job_token for r in _rows(shared) if r.ended} == tokens,
                    "the jobs written meanwhile",
                )
                assert status.text().startswith("Shared view of")
            finally:
                await windows.stop_all()
                collector.stop()

    run(qapp, scenario)


def test_open_shared_history_from_the_local_window(
    qapp: Any, tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str
) -> None:
    """File ▸ Open shared history… of a single PC's window: a wrong database, then one with no
    wsdmon tables, then a login without SELECT right are said in the dialog; a store opens in a
    window of its own beside the local one, and the password typed is shown nowhere."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # a store: the tables a collector makes
        from wsdmon.store.pg_schema import migrate

        migrate(conn)
    empty = pg_cluster.new_database()
    pg_cluster.admin("DROP ROLE IF EXISTS nobody_reads; CREATE ROLE nobody_reads LOGIN")
    no_right = pg_dsn.replace("user=postgres", "user=nobody_reads")
    host, port = "127.0.0.1", pg_cluster.port

    async def scenario() -> None:
        app = make(qapp, tmp_path)
        try:
            app.window.show()
            app.window.open_shared_action.trigger()
            dialog = app.window.shared_dialog
            assert dialog is not None
            assert dialog.isVisible()

            async def answer(location: str) -> str:
                dialog.location.setText(location)
                dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()
                await until(dialog.buttons.isEnabled, "an answer")
                return str(dialog.answer.text())

            said = await answer(f"postgresql://postgres:s3cret@{host}:{port}/no_such_db")
            assert "no such database" in said
            assert "s3cret" not in said
            assert "postgres:***@" in said
            assert "not a wsdmon history" in await answer(empty)
            assert "may not read the wsdmon tables" in await answer(no_right)
            assert app.shared_windows.windows == []
            dialog.location.setText(pg_dsn)
            dialog.buttons.button(QDialogButtonBox.StandardButton.Open).click()
            await until(lambda: bool(app.shared_windows.windows), "the shared window")
            assert app.window.shared_dialog is None or not shiboken6.isValid(dialog) or not dialog.isVisible()
            [shared] = app.shared_windows.windows
            assert shared.window.isVisible()
            assert app.window.isVisible()
            assert shared.window is not app.window
            assert "0 site" in shared.window.windowTitle()
            shared.window.close()
            await until(lambda: app.shared_windows.windows == [], "the shared window closed")
            assert app.window.isVisible()
            saved = " ".join(str(app.settings.value(k)) for k in app.settings.allKeys())
            assert "s3cret" not in saved
        finally:
            await app.stop()

    run(qapp, scenario)


def test_the_real_process_shows_a_store_and_exits_0(tmp_path: Path, pg_dsn: str) -> None:
    """`wsdmon --store …` on a store (no collector has written yet) opens the window, with no lock
    beside a local window's journal, and closes cleanly."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        from wsdmon.store.pg_schema import migrate

        migrate(conn)
    shot = tmp_path / "shared.png"
    result = run_wsdmon(
        tmp_path, "--store", pg_dsn, "--quit-after", "2", "--screenshot", str(shot), timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert shot.stat().st_size > 0
    assert not list((tmp_path / "data").rglob("*.lock"))  # no journal lock taken


def test_unreachable_store_is_said_and_exits_2(tmp_path: Path) -> None:
    """The real `wsdmon --store postgresql://…` with no server there: a dialog and one log line in
    words, the password masked, exit 2, no traceback."""
    result = run_wsdmon(
        tmp_path, "--store", "postgresql://desk:s3cret@127.0.0.1:1/wsdmon", "--quit-after", "1", timeout=60
    )
    assert result.returncode == EXIT_CANNOT_START, result.stderr
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr + result.stdout
    [line] = [ln for ln in result.stderr.splitlines() if "cannot open the shared history" in ln]
    assert "postgresql://desk:***@127.0.0.1:1/wsdmon" in line


def test_view_problems_are_typed(pg_cluster: PgCluster, pg_dsn: str) -> None:
    from wsdmon.store.pg_view import SharedView

    with pytest.raises(SharedViewError) as gone:
        SharedView("host=127.0.0.1 port=1 dbname=x connect_timeout=2", "here")
    assert gone.value.problem is ViewProblem.UNREACHABLE
    with pytest.raises(SharedViewError) as empty:
        SharedView(pg_dsn, "here")
    assert empty.value.problem is ViewProblem.NOT_A_STORE
    with pytest.raises(SharedViewError) as missing:
        SharedView(pg_dsn.replace("dbname=", "dbname=nope_"), "here")
    assert missing.value.problem is ViewProblem.NO_DATABASE
