"""Whether each site's collector is heard from (core.sites), on a shared PostgreSQL store: a
collector's store writes a heartbeat and, when it closes cleanly, its stop; the viewer judges each
site on the server's clock, and the window's site node says when a collector is silent or stopped
(its devices are then as the collector last said), and no more once it is heard again."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.gui.shared_sample import fill_shared_store, sample_window
from tests.gui.test_app import run, until
from tests.integration.store.test_collect_pg import _viewer
from tests.pg import PgCluster
from wsdmon import shared_follow
from wsdmon.core.sites import CollectorState
from wsdmon.store import open_store
from wsdmon.store.pg_view import SharedView
from wsdmon.store.postgres import PostgresStore

pytestmark = pytest.mark.timeout(120)


def _open(dsn: str, tmp_path: Path, site: str) -> PostgresStore:
    store = open_store(dsn, site=site, spool_path=tmp_path / f"spool-{site}.sqlite3")
    assert isinstance(store, PostgresStore)
    return store


def test_a_collectors_heartbeat_and_clean_stop_are_read_by_the_viewer(
    tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str
) -> None:
    branch = _open(pg_dsn, tmp_path, "branch")
    quick = _open(pg_dsn, tmp_path, "annex")  # opened and closed at once: it never said it was alive
    quick.close()
    floor = _open(pg_dsn, tmp_path, "floor-3")
    view = SharedView(_viewer(pg_cluster, pg_dsn), "desk")  # SELECT only
    try:
        branch.heartbeat()  # as the collector's loop does every 30 s
        floor.heartbeat()
        judged = view.collectors()
        assert set(judged) == {"branch", "floor-3"}
        assert {c.state for c in judged.values()} == {CollectorState.LIVE}
        beat = judged["branch"].at
        assert abs(time.time() - beat.timestamp()) < 5  # the server's clock, seconds
        branch.close()
        stopped = view.collectors()["branch"]
        assert stopped.state is CollectorState.STOPPED
        assert stopped.at >= beat
        time.sleep(1.5)  # no heartbeat since: silent after a second, here
        silent = view.collectors(silent_after_s=1.0)["floor-3"]
        assert (silent.state, silent.at) == (CollectorState.SILENT, judged["floor-3"].at)
        assert view.collectors()["floor-3"].state is CollectorState.LIVE  # within 90 s
    finally:
        view.close()
        floor.close()
        branch.close()


def test_the_window_says_which_sites_collector_is_silent_or_stopped(
    qapp: Any, tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_shared_store(pg_dsn, tmp_path)
    branch, floor = _open(pg_dsn, tmp_path, "branch"), _open(pg_dsn, tmp_path, "floor-3")
    branch.heartbeat()
    floor.heartbeat()
    viewer = _viewer(pg_cluster, pg_dsn)
    monkeypatch.setattr(shared_follow, "CATCH_UP_INTERVAL_S", 0.3)  # the safety re-read judges them

    async def scenario() -> None:
        async with sample_window(qapp, tmp_path, viewer) as shared:
            model = shared.devices

            def node(site: str) -> Any:
                return next(
                    model.index(r, 0)
                    for r in range(model.rowCount())
                    if model.index(r, 0).data().startswith(site + " ")
                )

            assert [model.index(r, 0).data() for r in range(3)] == ["annex (1)", "branch (2)", "floor-3 (2)"]
            assert node("branch").data(Qt.ItemDataRole.DecorationRole) is None

            shared.follower.silent_after_s = 1.0
            branch.close()  # a clean stop
            await until(
                lambda: "collector stopped at " in node("branch").data(), "branch's collector stopped"
            )
            await until(
                lambda: "collector silent since " in node("floor-3").data(), "floor-3's collector silent"
            )
            assert node("branch").data().startswith("branch (2) — collector stopped at ")
            assert node("annex").data() == "annex (1)"  # a site that never said: nothing said of it
            assert node("floor-3").data(Qt.ItemDataRole.DecorationRole) is not None
            tip = node("floor-3").data(Qt.ItemDataRole.ToolTipRole).splitlines()
            assert tip[0] == "Site floor-3: 2 devices"
            assert tip[1].startswith("Its collector has been silent since ")
            assert tip[1].endswith(": its devices are shown as it last said")
            # The status bar names them, whatever part of the tree is scrolled into view.
            status = shared.window.findChild(QLabel, "status-shared")
            assert status.text().startswith("Collector not heard from: branch, floor-3 · Shared view of ")
            lines = status.toolTip().splitlines()
            assert lines[0].startswith("The collector of site branch stopped at ")
            assert lines[1].startswith("The collector of site floor-3 has been silent since ")
            assert "The collector of site" in shared.window.statusBar().currentMessage()

            shared.follower.silent_after_s = 60.0
            floor.heartbeat()  # its next heartbeat
            await until(lambda: node("floor-3").data() == "floor-3 (2)", "floor-3's collector heard again")
            assert node("floor-3").data(Qt.ItemDataRole.DecorationRole) is None
            assert status.text().startswith("Collector not heard from: branch · Shared view of ")

    try:
        run(qapp, scenario)
    finally:
        floor.close()
        branch.close()
