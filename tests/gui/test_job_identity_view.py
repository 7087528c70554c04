"""In the window: two jobs that share a token are two rows, each with its own detail; a job whose
device is out of sight says "unknown since …", wears the lost job's icon, is not counted active and
cannot be canceled (core.jobs rules 6 and 7)."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QSettings, Qt

from wsdmon.core import JobKey, JobTable
from wsdmon.models import Column, Role
from wsdmon.models.icons import icon

from .factory import FILESHARE, SERVER, Step, build_job
from .make_screenshots import NOW, build_demo

TOKEN = "42"  # a counter token, reused after the server rebooted
OK = ("CompletedSuccessfully", ())


def _rows_of(window, token):
    proxy = window.job_table.view.model()
    return [r for r in range(proxy.rowCount()) if proxy.index(r, Column.TOKEN).data() == token]


def _click_row(qtbot, window, row):
    view = window.job_table.view
    rect = view.visualRect(view.model().index(row, Column.TOKEN))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_two_jobs_with_one_token_are_two_rows_and_an_unknown_job_says_so(qtbot, tmp_path):
    demo = build_demo(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window = demo.window
    qtbot.addWidget(window)
    window.show()
    table = JobTable()
    first_created, second_created = NOW - timedelta(hours=3), NOW - timedelta(minutes=5)
    steps = [
        Step(0, "Pending", ("None",), {FILESHARE: ("Pending", ())}, 0),
        Step(4, "Completed", ("PostScanJobCompletedSuccessfully",), {FILESHARE: OK}, 2, True),
        Step(4.2, "Completed", ("PostScanJobCompletedSuccessfully",), {FILESHARE: OK}, 2, True, True),
    ]
    first = build_job(table, SERVER, TOKEN, first_created, steps, journal_base=5000)
    running = [Step(0, "Pending", ("None",), {FILESHARE: ("Pending", ())}, 0)]
    running.append(Step(3, "Processing", ("None",), {FILESHARE: ("Processing", ())}, 1))
    table = JobTable()  # wsdmon restarted on its journal (the factory's MessageIDs repeat per token)
    table.restore([first])
    second = build_job(table, SERVER, TOKEN, second_created, running, journal_base=5100)
    assert (first.key, second.key) == (JobKey(SERVER, TOKEN, 0), JobKey(SERVER, TOKEN, 1))
    demo.jobs.apply_changes([first, second])
    demo.jobs.flush()
    _, active_before, _ = demo.jobs.counts()

    rows = _rows_of(window, TOKEN)
    assert len(rows) == 2
    shown = {}
    for row in rows:
        _click_row(qtbot, window, row)
        shown[window.detail.section_text("JobState")] = window.detail.section_text("JobCreatedTime")
    assert len(set(shown.values())) == 2  # each row shows its own job's JobCreatedTime
    assert any("Completed" in state for state in shown)
    assert any("Processing" in state for state in shown)

    # The server goes out of sight: the running job is unknown since then.
    since = NOW + timedelta(minutes=1)
    (change,) = table.mark_unknown(since, SERVER)
    demo.jobs.apply_changes([change.record])
    demo.jobs.flush()
    proxy = window.job_table.view.model()
    (row,) = [r for r in _rows_of(window, TOKEN) if proxy.index(r, 0).data(Role.JOB_KEY) == second.key]
    cell = proxy.index(row, Column.STATE)
    assert cell.data().startswith("unknown since ")
    assert "Unknown since" in cell.data(Qt.ItemDataRole.ToolTipRole)
    assert "Last state sent: Processing" in cell.data(Qt.ItemDataRole.ToolTipRole)
    expected = icon("job-lost").pixmap(16, 16).toImage()
    assert cell.data(Qt.ItemDataRole.DecorationRole).pixmap(16, 16).toImage() == expected
    assert demo.jobs.counts()[1] == active_before - 1
    _click_row(qtbot, window, row)
    assert not window.detail.cancel_button.isEnabled()
