"""The device tree of the real window on a shared PostgreSQL store (issue 14): a node per site
(its name and device count, its worst device's state), its devices below it; the keyboard walks
it, and the site chosen in the tree or in the job table's Site filter is the same one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest

from tests.gui.shared_sample import JOBS_PER_DEVICE, SITES, fill_shared_store, sample_window
from tests.gui.test_app import run, until
from tests.integration.store.test_collect_pg import _viewer
from tests.pg import PgCluster
from wsdmon.models import DeviceKind, Role
from wsdmon.models.device_key import device_key

pytestmark = pytest.mark.timeout(120)


def _jobs(shared: Any) -> set[tuple[str, str]]:
    proxy = shared.window.proxy
    return {(r.key.site, r.key.device) for r in (proxy.record(i) for i in range(proxy.rowCount()))}


def test_the_shared_windows_devices_are_grouped_by_site_and_in_step_with_the_site_filter(
    qapp: Any, tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str
) -> None:
    fill_shared_store(pg_dsn, tmp_path)
    viewer = _viewer(pg_cluster, pg_dsn)

    async def scenario() -> None:
        async with sample_window(qapp, tmp_path, viewer) as shared:
            window, model, tree = shared.window, shared.devices, shared.window.device_tree
            combo = window.job_table.site_combo
            await until(lambda: len(_jobs(shared)) == 5, "every device's jobs")

            # A node per site, in name order, open, each with its count (the sample wrote no device
            # state: no worst device to show); below it its devices, the scan server first.
            top = [model.index(r, 0) for r in range(model.rowCount())]
            assert [i.data() for i in top] == ["annex (1)", "branch (2)", "floor-3 (2)"]
            assert all(tree.isExpanded(i) for i in top)
            annex, branch, floor = top
            assert branch.data(Qt.ItemDataRole.ToolTipRole) == "Site branch: 2 devices"
            assert annex.data(Qt.ItemDataRole.ToolTipRole) == "Site annex: 1 device"
            assert [model.index(r, 0, floor).data() for r in range(2)] == ["SCANSRV-01", "MFP 3rd floor"]
            assert model.group_index(DeviceKind.NOT_REACHED) == QModelIndex()  # no kinds level

            # The keyboard: from the branch node down to its server, its MFP, then floor-3's node.
            # The list getting the focus makes its first node current, unselected: that is no
            # choice of a site (the jobs of every site stay), nor is the Site filter's own focus.
            window.show()
            window.activateWindow()
            tree.setFocus()
            await until(tree.hasFocus, "the device list focused")
            await until(lambda: tree.currentIndex().isValid(), "the first node current")
            assert combo.currentIndex() == 0
            assert len(_jobs(shared)) == 5
            # Tab goes as they stand: the Site filter above the list, then the list, then the jobs'
            # search (the first of the job table's filters).
            assert combo.parentWidget() is tree.parentWidget()
            QTest.keyClick(tree, Qt.Key.Key_Backtab)
            await until(combo.hasFocus, "Shift+Tab from the list to the Site filter")
            QTest.keyClick(combo, Qt.Key.Key_Tab)
            await until(tree.hasFocus, "Tab from the Site filter to the list")
            QTest.keyClick(tree, Qt.Key.Key_Tab)
            await until(window.job_table.search.hasFocus, "Tab from the list to the job search")
            assert combo.currentIndex() == 0
            tree.setFocus()
            tree.setCurrentIndex(branch)
            assert combo.currentData() == "branch"
            assert _jobs(shared) == {("branch", ep) for ep, _, _ in SITES["branch"]}
            QTest.keyClick(tree, Qt.Key.Key_Down)
            server = SITES["branch"][0][0]
            assert tree.currentIndex().data(Role.DEVICE) == device_key(server, "branch")
            await until(lambda: _jobs(shared) == {("branch", server)}, "the branch server's jobs")
            assert combo.currentData() == "branch"  # the Site filter stays with the device's site
            QTest.keyClick(tree, Qt.Key.Key_Down)
            QTest.keyClick(tree, Qt.Key.Key_Down)
            assert tree.currentIndex() == floor
            await until(
                lambda: _jobs(shared) == {("floor-3", ep) for ep, _, _ in SITES["floor-3"]}, "floor-3"
            )
            assert combo.currentData() == "floor-3"
            QTest.keyClick(tree, Qt.Key.Key_Left)  # closes the site's node
            assert not tree.isExpanded(floor)
            QTest.keyClick(tree, Qt.Key.Key_Right)
            assert tree.isExpanded(floor)

            # The Site filter picks a site: the tree selects its node; All sites: nothing selected.
            combo.setCurrentIndex(combo.findData("annex"))
            assert tree.currentIndex() == annex
            await until(lambda: _jobs(shared) == {("annex", SITES["annex"][0][0])}, "annex's jobs")
            combo.setCurrentIndex(0)
            assert not tree.currentIndex().isValid()
            await until(lambda: len(_jobs(shared)) == 5, "every site's jobs again")
            assert window.proxy.rowCount() == 5 * JOBS_PER_DEVICE

    run(qapp, scenario)
