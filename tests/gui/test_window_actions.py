"""What a person does in the main window, through the real widgets of the real Application: each
menu entry, shortcut and button is triggered as a user would (QAction.trigger, keys, clicks, dialogs
answered) and the test checks what they would see: the file written and its content, the dialog text,
the status bar."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from .factory import SERVER, SERVER2, sample_jobs
from .make_screenshots import NOW, sample_devices
from .test_app import make, run, until


def _filled(qapp: Any, tmp_path: Path) -> Any:
    """The real Application (no network), with the sample devices and jobs in its models."""
    app = make(qapp, tmp_path, "--no-discovery", "--notify-port", "0")
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
