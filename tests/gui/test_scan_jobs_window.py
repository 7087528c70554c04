"""Scan jobs in the window, against the simulator with both roles on loopback: scan jobs and post-scan
jobs side by side, a selected scan job's WS-Scan elements explained, the kind filter, and a scanner
reboot that restarts its JobIds at 1 giving a new row beside the old one."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from wsdmon.core import JobKind
from wsdmon.models import Role as ModelRole
from wsdmon.models import role_data
from wsdmon.simulator import JobPlan, Role, ScanJobPlan, Scenario, Simulator, SimulatorConfig
from wsdmon.widgets.detail_pane import SCAN_SECTIONS

from .test_app import make, run, until


def test_scan_jobs_beside_post_scan_jobs_and_a_reboot_reusing_job_ids(
    qapp: Any, tmp_path: Any, qtbot: Any
) -> None:
    async def scenario() -> None:
        sim = Simulator(
            SimulatorConfig(
                role=Role.BOTH, scenario=Scenario.IDLE, host="127.0.0.1", discovery=False, wsd_port=0
            )
        )
        await sim.start()
        server, scanner = sim.device(Role.SCAN_SERVER), sim.device(Role.SCAN_DEVICE)
        await scanner.restart()  # freshly booted: its JobIds start at 1
        app = make(
            qapp,
            tmp_path,
            "--no-discovery",
            "--notify-port",
            "0",
            "--probe",
            f"127.0.0.1:{sim.discovery_port}",
        )
        try:
            await app.start()
            await until(
                lambda: all(app.devices.device(d.endpoint) is not None for d in (server, scanner)),
                "both devices",
            )
            await until(lambda: len(app.engine.jobs.jobs) == 0 and _subscribed(app, 2), "both subscribed")
            post = server.submit_job(JobPlan(images=1, image_interval_s=0.1))
            first = scanner.submit_job(ScanJobPlan(job_name="Before", scans=2, scan_interval_s=0.1))
            await post.wait()
            await first.wait()
            assert first.job_id == 1
            await until(lambda: _ended_rows(app) == 2, "both jobs ended in the table")
            kinds = {_record(app, r).kind for r in range(app.window.proxy.rowCount())}
            assert kinds == {JobKind.SCAN, JobKind.POST_SCAN}

            # Select the scan job with the mouse and read the detail pane.
            view = app.window.job_table.view
            row = next(r for r in range(app.window.proxy.rowCount()) if _record(app, r).kind is JobKind.SCAN)
            rect = view.visualRect(app.window.proxy.index(row, 1))
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            pane = app.window.detail
            assert pane.section_title("JobId") == "JobId"
            assert pane.section_title("ScansCompleted") == "ScansCompleted"
            assert not pane.section_visible("FilterStatuses")
            for name in SCAN_SECTIONS:
                assert pane.section_visible(name), name
                assert pane.section_text(name), name
            assert pane.section_text("JobId") == "1"
            assert pane.section_text("JobState").startswith("Completed — ")
            assert "(vendor" not in pane.section_text("JobState")
            assert pane.section_text("ScansCompleted").startswith("2 — ")
            assert pane.section_text("JobName").startswith("Before — ")
            assert pane.section_text("JobOriginatingUserName").startswith("alice — ")

            # The kind filter: only scan jobs.
            combo = app.window.job_table.kind_combo
            combo.setCurrentIndex(combo.findData(JobKind.SCAN))
            assert app.window.proxy.rowCount() == 1
            combo.setCurrentIndex(0)

            # The scanner reboots: JobId 1 again is a new row; the old one stays as it was.
            await scanner.restart()  # subscriptions dropped silently, a new InstanceId
            assert not scanner.events.subscriptions
            # Its Hello with the new InstanceId, as discovery hands it to the engine (no multicast here):
            await app.engine.sighting(scanner.endpoint, (scanner.metadata_url,), 1, scanner.instance_id)
            await until(lambda: len(scanner.events.subscriptions) == 1, "resubscribed after the reboot")
            second = scanner.submit_job(ScanJobPlan(job_name="After", scans=1, scan_interval_s=0.1))
            await second.wait()
            assert second.job_id == 1
            await until(lambda: _ended_rows(app) == 3, "the new scan job's row")
            scan_rows = [_record(app, r) for r in range(app.window.proxy.rowCount())]
            scan_rows = [r for r in scan_rows if r.kind is JobKind.SCAN]
            assert sorted((r.key.job_token, r.key.generation, r.job_name) for r in scan_rows) == [
                ("1", 0, "Before"),
                ("1", 1, "After"),
            ]
        finally:
            await app.stop()
            await sim.stop()

    run(qapp, scenario)


def _record(app: Any, row: int) -> Any:
    return role_data(app.window.proxy.index(row, 0), ModelRole.JOB_RECORD)


def _ended_rows(app: Any) -> int:
    return sum(1 for r in range(app.window.proxy.rowCount()) if _record(app, r).ended)


def _subscribed(app: Any, count: int) -> bool:
    from wsdmon.core import SubscriptionStatus

    services = [s for d in app.engine.devices for s in d.services]
    return len(services) == count and all(s.subscription is SubscriptionStatus.ACTIVE for s in services)
