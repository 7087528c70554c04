"""What a person does in the main window, through the real widgets of the real Application: each
menu entry, shortcut and button is triggered as a user would (QAction.trigger, keys, clicks, dialogs
answered) and the test checks what they would see: the file written and its content, the dialog text,
the status bar."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, QLocale, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from wsdmon.core import JobTable
from wsdmon.models import Column, QuickFilter
from wsdmon.simulator import JobPlan, Role, Scenario, Simulator, SimulatorConfig

from .factory import EMAIL, FILESHARE, SERVER, SERVER2, SHAREPOINT, Step, build_job, sample_jobs
from .make_screenshots import NOW, sample_devices
from .test_app import make, run, until


def _filled(qapp: Any, tmp_path: Path, *argv: str) -> Any:
    """The real Application (no network), with the sample devices and jobs in its models."""
    app = make(qapp, tmp_path, "--no-discovery", "--notify-port", "0", *argv)
    app.devices.upsert(sample_devices())
    app.jobs.apply_changes(sample_jobs(NOW, {}, routine=4))
    app.jobs.flush()
    app.window.resize(1366, 768)
    app.window.show()
    return app


def _close(app: Any) -> None:
    app.journal.close()
    app.bridge.stop()
    app.window.hide()
    app.window.deleteLater()


async def _answer_export(app: Any, path: Path, name_filter: int | None = None) -> QFileDialog:
    app.window.export_action.trigger()  # File ▸ Export table… / Ctrl+E
    dialog = app.window.export_dialog
    assert isinstance(dialog, QFileDialog)
    assert dialog.isVisible()
    assert dialog.acceptMode() is QFileDialog.AcceptMode.AcceptSave
    if name_filter is not None:
        dialog.selectNameFilter(dialog.nameFilters()[name_filter])
    dialog.selectFile(str(path))
    dialog.accept()
    return dialog


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_export_writes_the_jobs_shown_with_device_names(qapp, tmp_path, suffix):
    """Defect 1: the export wrote nothing (an async hook never scheduled) and named devices by uuid."""

    async def scenario() -> None:
        app = _filled(qapp, tmp_path)
        try:
            out = tmp_path / f"jobs.{suffix}"
            shown = app.window.proxy.rowCount()
            await _answer_export(app, out, name_filter=1 if suffix == "json" else 0)
            await until(out.exists, "the exported file")
            await until(lambda: "Exported" in app.window.statusBar().currentMessage(), "the status message")
            assert app.window.statusBar().currentMessage() == f"Exported {shown} jobs to {out}"
            if suffix == "csv":
                with out.open(encoding="utf-8", newline="") as fh:
                    rows = list(csv.DictReader(fh))
                names = {r["device"] for r in rows}
                filters = " ".join(r["filters"] for r in rows)
                assert "http://" not in filters
                assert "email=" in filters
            else:
                rows = json.loads(out.read_text(encoding="utf-8"))
                names = {r["device"] for r in rows}
                assert {f["name"] for r in rows for f in r["filters"]} >= {"email", "fileshare"}
            assert len(rows) == shown
            assert names == {"SCANSRV-01", "SCANSRV-BRANCH"}
            assert {r["device_id"] for r in rows} == {SERVER, SERVER2}
        finally:
            _close(app)

    run(qapp, scenario)


def test_export_follows_the_filter_and_the_shortcut(qapp, tmp_path):
    async def scenario() -> None:
        app = _filled(qapp, tmp_path)
        try:
            app.window.job_table.search.setText("SCANSRV-BRANCH")
            shown = app.window.proxy.rowCount()
            assert 0 < shown < app.jobs.rowCount()
            assert app.window.export_action.shortcut().toString() == "Ctrl+E"
            out = tmp_path / "branch.csv"
            await _answer_export(app, out)
            await until(out.exists, "the exported file")
            with out.open(encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
            assert len(rows) == shown
            assert {r["device"] for r in rows} == {"SCANSRV-BRANCH"}
        finally:
            _close(app)

    run(qapp, scenario)


def test_export_to_an_unwritable_place_says_so(qapp, tmp_path):
    async def scenario() -> None:
        app = _filled(qapp, tmp_path)
        try:
            out = tmp_path / "no-such-folder" / "jobs.csv"
            await _answer_export(app, out)
            await until(lambda: isinstance(app.window.message_box, QMessageBox), "the error message")
            box = app.window.message_box
            assert box.windowTitle() == "Export failed"
            assert str(out) in box.text()
            assert "Choose another folder" in box.text()
            assert "Traceback" not in box.text()
            assert not out.exists()
            box.accept()
        finally:
            _close(app)

    run(qapp, scenario)


def test_cancel_from_the_active_view_keeps_the_job_and_says_what_the_server_answered(qapp, qtbot, tmp_path):
    """Defect 6: the canceled job left the Active view, the next job got selected with Cancel
    enabled, nothing said what the server answered, and the timeline blamed "somebody"."""

    async def scenario() -> None:
        sim = Simulator(
            SimulatorConfig(
                role=Role.SCAN_SERVER, scenario=Scenario.IDLE, host="127.0.0.1", discovery=False, wsd_port=0
            )
        )
        await sim.start()
        server = sim.device(Role.SCAN_SERVER)
        app = make(qapp, tmp_path, "--no-discovery", "--notify-port", "0", "--device", server.metadata_url)
        window = app.window
        try:
            await app.start()
            await until(lambda: app.engine.devices and app.engine.devices[0].subscribed, "the subscription")
            jobs = [server.submit_job(JobPlan(images=100, image_interval_s=0.3)) for _ in range(2)]
            await until(lambda: app.jobs.counts()[1] == 2, "two active jobs in the table")
            window.job_table.quick_buttons[QuickFilter.ACTIVE].click()
            assert window.proxy.rowCount() == 2
            window.job_table.view.selectRow(0)
            target = window.job_table.current_key()
            assert target.job_token in {j.token for j in jobs}
            questions: list[str] = []
            window.detail._confirm = lambda title, question: questions.append(question) or True
            qtbot.mouseClick(window.detail.cancel_button, Qt.MouseButton.LeftButton)
            assert target.job_token in questions[0]
            await until(lambda: "the server accepted it" in window.statusBar().currentMessage(), "the answer")
            assert target.job_token in window.statusBar().currentMessage()
            await until(lambda: not app.engine.jobs.jobs[target].is_active, "the canceled state")
            app.bridge.flush()
            app.jobs.flush()
            # Still selected and shown although it no longer matches "Active"; no other job took its place.
            assert window.job_table.current_key() == target
            assert window.detail.detail().key == target
            assert not window.detail.cancel_button.isEnabled()
            lines = [
                window.detail.timeline.index(r, 2).data() for r in range(window.detail.timeline.rowCount())
            ]
            assert any(
                str(x).startswith("Cancel requested from wsdmon at ") and "accepted" in str(x) for x in lines
            ), lines
            # Selecting the other job lets the finished one go from the Active view.
            other = next(k for k in app.engine.jobs.jobs if k != target)
            assert window.job_table.select_key(other)
            await until(lambda: window.proxy.rowCount() == 1, "the canceled job leaving the Active view")
            assert window.job_table.current_key() == other
        finally:
            await app.stop()
            await sim.stop()

    run(qapp, scenario)


def test_counts_and_words_a_technician_reads(qapp, tmp_path):
    """Defect 9: canceled filters were not named, the Failed filter listed running jobs and
    "Failed: N" counted them, and "12-05" dates were ambiguous."""

    async def scenario() -> None:
        app = _filled(qapp, tmp_path)
        window = app.window
        try:
            table = JobTable()
            failing = build_job(
                table,
                SERVER,
                "still-running-with-a-failed-filter",
                NOW - timedelta(minutes=1),
                [
                    Step(0, "Pending", ("None",), {FILESHARE: ("Pending", ()), EMAIL: ("Pending", ())}, 0),
                    Step(
                        5,
                        "Processing",
                        ("None",),
                        {FILESHARE: ("Processing", ()), EMAIL: ("CompletedWithErrors", ())},
                        2,
                    ),
                ],
            )
            two_canceled = build_job(
                table,
                SERVER,
                "one-failed-two-canceled",
                NOW - timedelta(minutes=3),
                [
                    Step(
                        0,
                        "Pending",
                        ("None",),
                        dict.fromkeys((FILESHARE, EMAIL, SHAREPOINT), ("Pending", ())),
                        0,
                    ),
                    Step(
                        9,
                        "Aborted",
                        ("None",),
                        {
                            FILESHARE: ("CompletedWithErrors", ()),
                            EMAIL: ("Canceled", ()),
                            SHAREPOINT: ("Canceled", ()),
                        },
                        1,
                        True,
                    ),
                ],
            )
            app.jobs.apply_changes([failing, two_canceled])
            app.jobs.flush()
            window._update_status()
            # Failed: finished jobs only, in the quick filter and in the status bar alike.
            window.job_table.quick_buttons[QuickFilter.FAILED].click()
            failed_rows = {window.proxy.record(r).key.job_token for r in range(window.proxy.rowCount())}
            assert "still-running-with-a-failed-filter" not in failed_rows
            assert "one-failed-two-canceled" in failed_rows
            # The status bar counts the last 24 hours (these jobs are older); the tooltip the rest.
            assert window.status_labels["failed"].text() == "Failed (24 h): 0"
            assert f"{len(failed_rows)} in the whole history" in window.status_labels["failed"].toolTip()
            just_now = dataclasses.replace(
                two_canceled,
                key=dataclasses.replace(two_canceled.key, job_token="failed-just-now"),
                last_update=datetime.now(UTC),
            )
            app.jobs.apply_changes([just_now])
            window._update_status()
            assert window.status_labels["failed"].text() == "Failed (24 h): 1"
            window.job_table.quick_buttons[QuickFilter.ACTIVE].click()
            active_rows = {window.proxy.record(r).key.job_token for r in range(window.proxy.rowCount())}
            assert "still-running-with-a-failed-filter" in active_rows
            # The Filters cell names the canceled ones.
            window.job_table.quick_buttons[QuickFilter.ALL].click()
            row = window.proxy.row_of(two_canceled.key)
            cell = window.proxy.index(row, Column.FILTERS).data()
            assert cell == "3/3 done, 1 failed, 2 canceled"
            assert window.job_table.select_key(two_canceled.key)
            assert "3/3 filters done, 1 failed, 2 canceled" in window.detail.section_text("FilterStatuses")
            # Times in the locale's own short date format (never a bare "11-23").
            created = window.proxy.index(row, Column.CREATED).data()
            local = two_canceled.status.job_created_time.astimezone()
            if QLocale().language() is QLocale.Language.C:  # no locale set: ISO 8601
                expected_date = local.strftime("%Y-%m-%d")
            else:
                expected_date = QLocale().toString(
                    QDate(local.year, local.month, local.day), QLocale.FormatType.ShortFormat
                )
            assert created.startswith(expected_date + " "), created
        finally:
            _close(app)

    run(qapp, scenario)


def test_tab_walks_the_whole_window_to_cancel_and_esc_clears_the_search(qapp, qtbot, tmp_path):
    """Defect 5: Tab entered the job table and never left (walking its cells changed the selected
    job); the detail pane and Cancel could not be reached; Esc did not clear the search."""

    async def scenario() -> None:
        app = _filled(qapp, tmp_path)
        window = app.window
        try:
            window.activateWindow()
            qtbot.waitActive(window)
            running = next(r for r in sample_jobs(NOW, {}) if r.status.job_state == "Processing")
            assert window.job_table.select_key(running.key)
            assert window.detail.cancel_button.isEnabled()
            window.search_action.trigger()  # Ctrl+F
            await until(window.job_table.search.hasFocus, "the search box to have the focus")
            qtbot.keyClicks(window.job_table.search, "SCANSRV")
            qtbot.keyClick(window.job_table.search, Qt.Key.Key_Escape)
            assert window.job_table.search.text() == ""
            assert window.job_table.current_key() == running.key
            visited = []
            for _ in range(80):
                qtbot.keyClick(qapp.focusWidget(), Qt.Key.Key_Tab)
                visited.append(qapp.focusWidget())
                assert window.job_table.current_key() == running.key  # Tab never changes the job
                if visited[-1] is window.job_table.search:
                    break
            names = [w.objectName() or type(w).__name__ for w in visited]
            table = visited.index(window.job_table.view)
            assert visited.index(window.detail.cancel_button) == table + 1, names
            assert window.detail.tabs in visited or any(w.parent() is window.detail.tabs for w in visited), (
                names
            )
            assert window.detail.token in visited, names  # the detail pane's values are reachable
            assert visited[-1] is window.job_table.search, names  # and round again: nothing traps it
            assert visited.count(window.job_table.view) == 1, names
        finally:
            _close(app)

    run(qapp, scenario)


def test_new_jobs_do_not_move_the_rows_under_the_user(qapp, qtbot, tmp_path):
    """Defect 7: new rows inserted at the top pushed the others down, and a click then selected the
    wrong job. While a job is selected the rows stay still and a button counts the new jobs."""

    async def scenario() -> None:
        app = make(qapp, tmp_path, "--no-discovery", "--notify-port", "0")
        window = app.window
        try:
            app.devices.upsert(sample_devices())
            app.jobs.apply_changes(sample_jobs(NOW, {}, routine=40))
            window.resize(1366, 768)
            window.show()
            view = window.job_table.view
            await until(lambda: view.rowAt(0) == 0, "the table laid out")
            view.scrollTo(window.proxy.index(10, 0), view.ScrollHint.PositionAtTop)
            assert window.job_table.select_key(window.proxy.record(12).key)
            selected = window.job_table.current_key()
            top_key = window.proxy.record(view.rowAt(0)).key
            y = view.visualRect(window.proxy.index(window.proxy.row_of(selected), 0)).y()
            newer = [
                dataclasses.replace(
                    r,
                    key=dataclasses.replace(r.key, job_token=f"new-{i}"),
                    status=dataclasses.replace(
                        r.status, job_token=f"new-{i}", job_created_time=NOW + timedelta(minutes=i + 1)
                    ),
                )
                for i, r in enumerate(sample_jobs(NOW, {})[:3])
            ]
            app.jobs.apply_changes(newer)  # the newest first: they land at the top
            await asyncio.sleep(0.1)
            assert window.proxy.record(view.rowAt(0)).key == top_key
            assert view.visualRect(window.proxy.index(window.proxy.row_of(selected), 0)).y() == y
            assert window.job_table.current_key() == selected
            assert window.job_table.new_jobs.isVisible()
            assert window.job_table.new_jobs.text() == "3 new jobs"
            qtbot.mouseClick(window.job_table.new_jobs, Qt.MouseButton.LeftButton)
            assert view.rowAt(0) == 0
            assert window.proxy.record(0).key.job_token.startswith("new-")
            assert not window.job_table.new_jobs.isVisible()
        finally:
            _close(app)

    run(qapp, scenario)


@pytest.mark.parametrize(
    ("language", "country", "expected"),
    [
        (QLocale.Language.English, QLocale.Country.UnitedStates, "12/28/26 5:29:20\u202fPM"),
        (QLocale.Language.German, QLocale.Country.Germany, "28.12.26 17:29:20"),
        (QLocale.Language.C, QLocale.Country.AnyCountry, "2026-12-28 17:29:20"),
    ],
)
def test_table_times_follow_the_locale(language, country, expected):
    """Item 9: "12-28" was the only date format; each viewer now reads their own (C: ISO 8601)."""
    from wsdmon.models import format as fmt

    before = QLocale()
    QLocale.setDefault(QLocale(language, country))
    fmt._locale_formats.cache_clear()
    try:
        text = fmt.format_local(datetime(2026, 12, 28, 17, 29, 20), compact=True)
        assert text.replace(" ", "\u202f") == expected.replace(" ", "\u202f")
    finally:
        QLocale.setDefault(before)
        fmt._locale_formats.cache_clear()


def test_a_device_seen_again_under_a_new_identity_is_told_apart(qapp, tmp_path):
    """Item 10: old and new "Demo Scan Server 1" (a device that came back with a new endpoint)
    looked the same in the tree, the device filter and the job table."""

    async def scenario() -> None:
        app = _filled(qapp, tmp_path)
        window = app.window
        try:
            first = sample_devices()[0]
            again = dataclasses.replace(first, endpoint="urn:uuid:0b1e2c3d-aaaa-4bbb-8ccc-123456789abc")
            assert app.devices.upsert([again])  # a name shown changed: the job table must repaint
            names = {r.endpoint: r.display_name for r in app.devices.devices()}
            assert names[first.endpoint] == "SCANSRV-01 (5f0c2a4e)"
            assert names[again.endpoint] == "SCANSRV-01 (0b1e2c3d)"
            tree_texts = {app.devices.index_of(ep).data() for ep in (first.endpoint, again.endpoint)}
            assert tree_texts == {"SCANSRV-01 (5f0c2a4e)", "SCANSRV-01 (0b1e2c3d)"}
            combo = [
                window.job_table.device_combo.itemText(i)
                for i in range(window.job_table.device_combo.count())
            ]
            assert {"SCANSRV-01 (5f0c2a4e)", "SCANSRV-01 (0b1e2c3d)"} <= set(combo)
            row = window.proxy.row_of(
                next(r.key for r in sample_jobs(NOW, {}) if r.key.device == first.endpoint)
            )
            assert window.proxy.index(row, Column.DEVICE).data() == "SCANSRV-01 (5f0c2a4e)"
            app.devices.remove([again.endpoint])  # gone again: the name needs no hint any more
            assert app.devices.device(first.endpoint).display_name == "SCANSRV-01"
        finally:
            _close(app)

    run(qapp, scenario)
