"""What a site's collector judged of each device's health, shown by the window on a shared store
(schema v6): the shield on the device's name and its site's node, Diagnose… with each check and its
evidence (the links open that site's messages, read from the store), followed live; `watch --json
--store` prints a "health" line. A damaged report is logged and the device shown without one; a
report of an endpoint that is no device of the site is not kept; a store of schema 5 has none."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from tests.gui.health_samples import sample_health
from tests.gui.shared_sample import SITES, fill_shared_store, sample_window
from tests.gui.test_app import run, until
from tests.gui.test_diagnose import _click_link, _context_menu_action
from tests.integration.store.test_collect_pg import _viewer
from tests.pg import PgCluster
from wsdmon.core.health import DeviceHealth, HealthCheck, HealthFinding, HealthResult
from wsdmon.core.selfcheck import Verdict
from wsdmon.models import Role
from wsdmon.models.device_key import device_key
from wsdmon.store import IncomingMessage, open_store
from wsdmon.store.pg_schema import MIGRATIONS, migrate
from wsdmon.store.pg_view import SharedView

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)"),  # offscreen
]

SERVER, MFP = (endpoint for endpoint, _, _ in SITES["branch"])
FLOOR_SERVER = SITES["floor-3"][0][0]
ANNEX = SITES["annex"][0][0]
FAULT_XML = b"<Fault><Reason>Maximum number of subscriptions reached</Reason></Fault>"
PRINTER = "urn:uuid:c0000000-0000-4000-8000-0000000000pp"  # heard by branch's collector; no device


def _problem(fault_id: int) -> DeviceHealth:
    """The sample's problem report (a full subscriber table), as branch's scan server's."""
    sample = next(h for h in sample_health(fault_id).values() if h.verdict is Verdict.PROBLEM)
    return dataclasses.replace(sample, endpoint=SERVER)


def _judge(dsn: str, tmp_path: Path) -> int:
    """As branch's collector stores it: the fault its scan server returned (a message of the site)
    and its report; a report of a printer it heard (no device row); floor-3's server all ok; annex's
    report damaged by something that is not wsdmon. Returns the fault's message id."""
    branch = open_store(dsn, site="branch", spool_path=tmp_path / "spool-b.sqlite3")
    floor = open_store(dsn, site="floor-3", spool_path=tmp_path / "spool-f.sqlite3")
    try:
        (fault_id,) = branch.append_messages(
            [IncomingMessage(datetime.now(UTC), SERVER, None, "urn:t/Fault", None, "fault", FAULT_XML)]
        )
        branch.save_device_health(_problem(fault_id))
        printer = dataclasses.replace(_problem(fault_id), endpoint=PRINTER)
        branch.save_device_health(printer)
        ok = next(h for h in sample_health().values() if h.verdict is Verdict.OK)
        floor.save_device_health(dataclasses.replace(ok, endpoint=FLOOR_SERVER))
    finally:
        branch.close()
        floor.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute('UPDATE devices SET health = \'{"v": 1, "at": 7}\' WHERE endpoint = %s', (ANNEX,))
    return fault_id


def test_the_viewer_reads_each_sites_reports_and_leaves_a_damaged_one_out(
    tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    fill_shared_store(pg_dsn, tmp_path)
    fault_id = _judge(pg_dsn, tmp_path)
    view = SharedView(_viewer(pg_cluster, pg_dsn), "desk")  # SELECT only
    try:
        with caplog.at_level(logging.WARNING):
            reports = {(site, h.endpoint): h for site, h in view.health()}
        ((_, one),) = view.health("branch", SERVER)
        devices = {(site, d.endpoint) for site, d in view.devices()}
    finally:
        view.close()
    assert set(reports) == {("branch", SERVER), ("floor-3", FLOOR_SERVER)}
    assert reports[("branch", SERVER)] == one == _problem(fault_id)
    assert reports[("floor-3", FLOOR_SERVER)].verdict is Verdict.OK
    assert ("branch", PRINTER) not in devices  # a report made no row: the printer is no device
    assert "damaged health report of device" in caplog.text
    assert ANNEX in caplog.text


def test_a_store_of_schema_5_has_no_reports(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        migrate(conn, MIGRATIONS[:5])
    view = SharedView(pg_dsn, "older store")
    try:
        assert view.health() == []
        assert view.devices() == []
    finally:
        view.close()


def test_the_shared_window_shows_each_sites_health_and_diagnoses_with_its_evidence(
    qapp: Any, qtbot: Any, tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str
) -> None:
    fill_shared_store(pg_dsn, tmp_path)
    fault_id = _judge(pg_dsn, tmp_path)
    viewer = _viewer(pg_cluster, pg_dsn)

    async def scenario() -> None:
        async with sample_window(qapp, tmp_path, viewer) as shared:
            model, window = shared.devices, shared.window
            key = device_key(SERVER, "branch")
            await until(lambda: model.health(key) is not None, "branch's server's report")
            # The shield on the row's name and on its site's node; the tooltip names the finding.
            index = model.index_of(key)
            assert index.data(Role.HEALTH) is Verdict.PROBLEM
            tip = index.data(Qt.ItemDataRole.ToolTipRole)
            assert "Health: Problem — Subscription: The device refused the subscription" in tip
            assert index.parent().data(Role.HEALTH) is Verdict.PROBLEM
            assert model.index_of(device_key(FLOOR_SERVER, "floor-3")).data(Role.HEALTH) is Verdict.OK
            assert model.index_of(device_key(ANNEX, "annex")).data(Role.HEALTH) is None  # damaged: none

            # Diagnose… from the device's menu: the collector's report, said to be its.
            action = _context_menu_action(window.device_tree, key, "diagnose")
            assert action.isEnabled()
            assert window.diagnosis.diagnose_action.isEnabled()
            action.trigger()
            dialog = window.diagnosis.dialogs[key]
            await until(dialog.isVisible, "the Diagnose dialog")
            heading = dialog.heading.text()
            assert "SCANSRV-BRANCH" in heading
            assert f"({SERVER}) at site branch" in heading
            assert "Problem, as its site's collector has judged it since " in heading
            assert "“This computer” in the report is that collector's PC" in heading
            text = dialog.report.toPlainText()
            assert "The device refused the subscription: its table of subscribers is full." in text
            assert "The device said: “Maximum number of subscriptions reached”" in text
            assert not dialog.bundle_button.isEnabled()
            assert "wsdmon bundle" in dialog.bundle_button.toolTip()
            dialog.copy_report()
            assert "[Problem] Subscription" in QGuiApplication.clipboard().text()

            # Its evidence: the fault, a message of branch's, read from the store.
            _click_link(qtbot, dialog.report, f"journal:{fault_id}")
            await until(window.raw_log.isVisible, "the raw log")
            await until(
                lambda: "Maximum number of subscriptions reached" in window.raw_log.xml.toPlainText(),
                "the fault's XML from the store",
            )
            _click_link(qtbot, dialog.report, "journal:4077")  # the sample's restart: not stored
            await until(
                lambda: (
                    window.raw_log.xml.toPlainText()
                    == "Message #4077 of site branch is no longer kept in the shared history."
                ),
                "the message said gone",
            )

            # Live: branch's collector judges the server again (the subscriber table freed).
            store = open_store(pg_dsn, site="branch", spool_path=tmp_path / "spool-again.sqlite3")
            try:
                problem = _problem(fault_id)
                fine = HealthResult(HealthCheck.SUBSCRIPTION, Verdict.OK, HealthFinding.SUBSCRIPTION_ACTIVE)
                results = tuple(fine if r.check is HealthCheck.SUBSCRIPTION else r for r in problem.results)
                store.save_device_health(dataclasses.replace(problem, results=results))
            finally:
                store.close()
            await until(
                lambda: dialog.health is not None and dialog.health.verdict is Verdict.WARNING, "new report"
            )
            assert "Warning, as its site's collector has judged it since " in dialog.heading.text()
            assert model.index_of(key).data(Role.HEALTH) is Verdict.WARNING
            dialog.close()

    run(qapp, scenario)


def test_watch_prints_each_sites_health_reports(tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str) -> None:
    from tests.integration.wsdmon_process import run_wsdmon

    fill_shared_store(pg_dsn, tmp_path)
    fault_id = _judge(pg_dsn, tmp_path)
    done = run_wsdmon(
        tmp_path, "watch", "--json", "--store", _viewer(pg_cluster, pg_dsn), "--duration", "2", timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    health = {(x["site"], x["device"]): x for x in lines if x["kind"] == "health"}
    assert set(health) == {("branch", SERVER), ("floor-3", FLOOR_SERVER)}
    branch = health[("branch", SERVER)]
    assert (branch["verdict"], branch["name"], branch["replayed"]) == ("problem", "SCANSRV-BRANCH", True)
    subscription = next(c for c in branch["checks"] if c["check"] == "subscription")
    assert subscription["finding"] == "subscription-limit"
    assert subscription["messages"] == [fault_id]
    assert "subscribers is full" in subscription["sentence"]
