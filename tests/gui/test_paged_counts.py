"""The paged job table on a large history (issue 14, item 4), through the real widgets:

- a search paints its first rows before every match is counted (counted off the GUI thread), the
  filter line says "More than N jobs" meanwhile and the exact number once known, and the rows
  beyond grow in (FIRST_COUNT_ROWS is lowered so that a journal of a few thousand jobs is "large");
- on PostgreSQL that exact count is of the snapshot the table shows, not of what was written since;
- a click on the Site header sorts by site, and the Device sort orders each site's device by its
  name (two sites watching the same endpoints);
- File ▸ Export table… of a paged table streams the rows from the store: the same file as the
  rows read through the model (today's export) in CSV and JSON."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLocale, QPoint, QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QTableView
from pytestqt.qtbot import QtBot

from tests.job_samples import USERS, device_endpoint, sample_jobs
from tests.pg import pg_cluster, pg_dsn
from wsdmon.core import JobRecord
from wsdmon.models import (
    Column,
    DeviceTreeModel,
    EngineStatus,
    QuickFilter,
    RawLogModel,
    Role,
    paged_jobs,
    role_data,
)
from wsdmon.models.device_key import device_key, job_device_key
from wsdmon.models.paged_jobs import PagedJobModel
from wsdmon.store import Journal
from wsdmon.store.export import write_records
from wsdmon.store.job_pages import PgJobPages, SqliteJobPages
from wsdmon.widgets import MainWindow, WindowHooks

__all__ = ["pg_cluster", "pg_dsn"]  # fixtures: a throwaway PostgreSQL cluster

N = 3000
FIRST = 100  # FIRST_COUNT_ROWS in these tests
RECS = list(sample_jobs(N, devices=12))
CAROL = [r for r in RECS if r.job_originating_user_name == USERS[2]]


class GatedSqlitePages(SqliteJobPages):
    """The journal's pages whose off-thread counts wait for `gate` (the test opens it): what the
    table shows before the count is known stays on screen as long as the test looks."""

    gate = threading.Event()

    def _detached(self) -> SqliteJobPages:
        self.gate.wait(10)
        return SqliteJobPages(self.location)


class GatedPgPages(PgJobPages):
    gate = threading.Event()

    def _detached(self) -> PgJobPages:
        self.gate.wait(10)
        return PgJobPages(self._conninfo, self.location)


@pytest.fixture
def first_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paged_jobs, "FIRST_COUNT_ROWS", FIRST)
    GatedSqlitePages.gate = threading.Event()
    GatedPgPages.gate = threading.Event()


@pytest.fixture(scope="module")
def journal_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("paged-counts") / "journal.sqlite3"
    with Journal(path, site="pc") as journal:
        journal.upsert_jobs(RECS, 0)
    return path


class _Row:
    def __init__(self, name: str) -> None:
        self.name = self.display_name = name


def _window(
    qtbot: QtBot, tmp_path: Path, model: PagedJobModel, hooks: WindowHooks | None = None
) -> MainWindow:
    window = MainWindow(
        jobs=model,
        devices=DeviceTreeModel(),
        raw_log=RawLogModel(),
        status=EngineStatus(),
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
        hooks=hooks,
    )
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    return window


def _tokens(model: Any, rows: range) -> list[str]:
    return [str(model.index(r, Column.TOKEN).data()) for r in rows]


def _shown(view: QTableView) -> list[str]:
    first, last = view.rowAt(0), view.rowAt(view.viewport().height() - 1)
    last = view.model().rowCount() - 1 if last < 0 else last
    return _tokens(view.model(), range(first, last + 1))


def test_a_search_paints_its_first_rows_then_counts_every_match(
    qtbot: QtBot, journal_path: Path, tmp_path: Path, first_rows: None
) -> None:
    pages = GatedSqlitePages(journal_path)
    model = PagedJobModel(pages)
    window = _window(qtbot, tmp_path, model)
    table = window.job_table
    view = table.view
    assert len(CAROL) > FIRST
    assert not table.match_count.isVisible()  # nothing filtered: the count is the store's total

    qtbot.keyClicks(table.search, "carol")
    newest = CAROL[::-1]  # the window sorts by Created, newest first
    assert model.rowCount() == FIRST  # the first rows at once, not every match counted first
    qtbot.waitUntil(lambda: _shown(view)[:5] == [r.status.job_token for r in newest[:5]])
    assert table.match_count.isVisible()
    assert table.match_count.text() == f"More than {QLocale().toString(FIRST)} jobs"

    pages.gate.set()  # the count off the GUI thread may go on
    exact = f"{QLocale().toString(len(CAROL))} jobs"
    qtbot.waitUntil(lambda: table.match_count.text() == exact)
    assert model.rowCount() == len(CAROL)
    view.scrollToBottom()
    qtbot.waitUntil(lambda: _shown(view)[-1] == newest[-1].status.job_token)
    assert _tokens(model, range(len(CAROL))) == [r.status.job_token for r in newest]

    # A filter on top of it: counted at once when it is small, with the same words.
    qtbot.mouseClick(table.quick_buttons[QuickFilter.FAILED], Qt.MouseButton.LeftButton)
    failed = [r for r in newest if not r.is_active and r.is_failed]
    assert len(failed) <= FIRST
    assert model.rowCount() == len(failed)
    assert table.match_count.text() == f"{QLocale().toString(len(failed))} jobs"

    table.search.clear()  # Failed alone: more than FIRST again, then counted
    qtbot.waitUntil(
        lambda: (
            table.match_count.text()
            == f"{QLocale().toString(sum(1 for r in RECS if not r.is_active and r.is_failed))} jobs"
        )
    )
    qtbot.mouseClick(table.quick_buttons[QuickFilter.ALL], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: model.rowCount() == N)
    assert not table.match_count.isVisible()
    assert model.counts()[0] == N
    pages.close()
    assert not pages.counting()


def test_the_exact_count_is_of_the_snapshot_shown(
    qtbot: QtBot, pg_dsn: str, tmp_path: Path, first_rows: None
) -> None:
    """PostgreSQL: jobs written after the table took its snapshot are not in its count (the count
    is made on another connection in the same snapshot: pg_export_snapshot), until it is told."""
    from wsdmon.store import open_store

    recs = RECS[:1500]
    writer = open_store(pg_dsn, site="floor-2", spool_path=tmp_path / "spool.sqlite3")
    writer.upsert_jobs(recs, 0)
    pages = GatedPgPages(pg_dsn, "shared")
    model = PagedJobModel(pages, refresh_ms=10)
    window = _window(qtbot, tmp_path, model)
    table = window.job_table
    qtbot.keyClicks(table.search, "carol")
    carol = [r for r in recs if r.job_originating_user_name == USERS[2]]
    assert model.rowCount() == FIRST < len(carol)
    assert table.match_count.text() == f"More than {QLocale().toString(FIRST)} jobs"
    writer.upsert_jobs([r for r in RECS[1500:] if r.job_originating_user_name == USERS[2]], 0)
    pages.gate.set()
    qtbot.waitUntil(lambda: table.match_count.text() == f"{QLocale().toString(len(carol))} jobs")
    assert model.rowCount() == len(carol)
    model.store_changed()  # NOTIFY: now it reads the store as it is
    qtbot.waitUntil(lambda: table.match_count.text() == f"{QLocale().toString(len(CAROL))} jobs")
    assert model.rowCount() == len(CAROL)
    writer.close()
    pages.close()


def _click_header(qtbot: QtBot, view: QTableView, column: Column) -> None:
    header = view.horizontalHeader()
    x = header.sectionViewportPosition(column) + 5
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert header.sortIndicatorSection() == column


def test_sorting_by_site_and_by_device_of_each_site(qtbot: QtBot, pg_dsn: str, tmp_path: Path) -> None:
    """Two sites watch the same twelve endpoints; each site names its devices its own way. A click
    on Site sorts by site (then in stored order); a click on Device sorts by the name each site's
    device has, then by site: the in-memory table's order."""
    from wsdmon.store import open_store

    sites = {"floor-9": RECS[:400], "branch": RECS[400:700]}
    writers = [open_store(pg_dsn, site=site, spool_path=tmp_path / f"{site}.sqlite3") for site in sites]
    stored: list[JobRecord] = []
    for writer, (site, recs) in zip(writers, sites.items(), strict=True):
        writer.upsert_jobs(recs, 0)
        stored += [_with_site(r, site) for r in recs]
    # floor-9 names device i "Z-i", branch names it "A-(11-i)": the two sites' devices interleave.
    names = {
        device_key(device_endpoint(i), site): (f"Z-{i:02d}" if site == "floor-9" else f"A-{11 - i:02d}")
        for i in range(12)
        for site in sites
    }
    pages = PgJobPages(pg_dsn, "shared")
    model = PagedJobModel(
        pages,
        lambda k: _Row(names[k]) if k in names else None,
        known_devices=lambda: names,  # type: ignore[arg-type,return-value]
    )
    window = _window(qtbot, tmp_path, model)
    window.job_table.set_sites(list(sites))
    view = window.job_table.view
    view.horizontalHeader().setSectionHidden(Column.SITE, False)
    total = len(stored)
    qtbot.waitUntil(lambda: model.rowCount() == total)

    _click_header(qtbot, view, Column.SITE)
    by_site = sorted(stored, key=lambda r: r.key.site)  # stable: stored order within a site
    if view.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder:
        by_site = by_site[::-1]
    assert [role_data(model.index(r, 0), Role.JOB_KEY) for r in range(total)] == [r.key for r in by_site]

    _click_header(qtbot, view, Column.DEVICE)
    key = job_device_key
    by_device = sorted(stored, key=lambda r: (names[key(r.key)].casefold(), key(r.key)))
    if view.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder:
        by_device = by_device[::-1]
    assert [role_data(model.index(r, 0), Role.JOB_KEY) for r in range(total)] == [r.key for r in by_device]
    assert model.index(0, Column.DEVICE).data() == names[key(by_device[0].key)]
    for writer in writers:
        writer.close()
    pages.close()


def _with_site(rec: JobRecord, site: str) -> JobRecord:
    import dataclasses

    from wsdmon.core import JobKey

    k = rec.key
    return dataclasses.replace(rec, key=JobKey(k.device, k.job_token, k.generation, site))


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_export_of_a_paged_table_streams_the_rows_shown(
    qtbot: QtBot, journal_path: Path, tmp_path: Path, suffix: str
) -> None:
    """File ▸ Export table… on a paged table (a search and the Device sort): the file is the same as
    the one written from the rows read through the model, one by one (the export before)."""
    names = {device_endpoint(i): f"Floor {i % 4} MFP {i}" for i in range(12)}
    exported: list[object] = []

    def export(path: str, kind: str, records: Any) -> int:
        exported.append(records)
        return write_records(Path(path), kind, records, records.device_name).written

    pages = SqliteJobPages(journal_path)
    model = PagedJobModel(
        pages,
        lambda k: _Row(names[k]) if k in names else None,
        known_devices=lambda: names,  # type: ignore[arg-type,return-value]
    )
    window = _window(qtbot, tmp_path, model, WindowHooks(export=export))
    table = window.job_table
    qtbot.keyClicks(table.search, "scan to")
    _click_header(qtbot, table.view, Column.DEVICE)
    qtbot.waitUntil(lambda: model.matched()[1])  # every match counted (off the GUI thread)
    shown = model.rowCount()
    assert 0 < shown < N

    out = tmp_path / f"jobs.{suffix}"
    window.export_action.trigger()
    dialog = window.export_dialog
    assert isinstance(dialog, QFileDialog)
    dialog.selectNameFilter(dialog.nameFilters()[1 if suffix == "json" else 0])
    dialog.selectFile(str(out))
    dialog.accept()
    qtbot.waitUntil(out.exists)
    assert window.statusBar().currentMessage() == f"Exported {shown} jobs to {out}"
    assert type(exported[0]).__name__ == "ExportRows"  # streamed, not a list read through the model

    before = tmp_path / f"before.{suffix}"
    rows = [role_data(model.index(r, 0), Role.JOB_RECORD) for r in range(shown)]
    write_records(before, suffix, rows, lambda ep: names.get(ep, ep))
    assert out.read_text(encoding="utf-8") == before.read_text(encoding="utf-8")

    # The shared window's own export hook writes the streamed rows the same way.
    import asyncio

    from wsdmon.shared_app import SharedWindow

    shared_out = tmp_path / f"shared.{suffix}"
    streamed = table.visible_records(timeline=suffix == "json")
    written = asyncio.run(SharedWindow._export(None, str(shared_out), suffix, streamed))  # type: ignore[arg-type]
    assert written == shown
    assert shared_out.read_text(encoding="utf-8") == before.read_text(encoding="utf-8")
    pages.close()


def test_a_live_change_keeps_the_rows_counted_until_the_new_count(
    qtbot: QtBot, journal_path: Path, tmp_path: Path, first_rows: None
) -> None:
    """A live re-read of a large table keeps the rows it counted (the scroll range does not fall
    back to the first rows at every change) and says "About N jobs" until the new state is
    counted; then the new job is in the rows and the count."""
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(journal_path.read_bytes())
    pages = GatedSqlitePages(path)
    pages.gate.set()
    model = PagedJobModel(pages, refresh_ms=10)
    window = _window(qtbot, tmp_path, model)
    table = window.job_table
    qtbot.keyClicks(table.search, "carol")
    active = len(CAROL)
    assert active > FIRST
    qtbot.waitUntil(lambda: table.match_count.text() == f"{QLocale().toString(active)} jobs")

    pages.gate.clear()  # the next count waits
    new = next(sample_jobs(1, start=N, devices=12))
    new = dataclasses.replace(new, job_originating_user_name=USERS[2])  # carol's
    with Journal(path, site="pc") as journal:
        journal.upsert_jobs([new], 0)
    model.store_changed()
    qtbot.waitUntil(lambda: table.match_count.text() == f"About {QLocale().toString(active)} jobs")
    assert model.rowCount() == active  # not FIRST: the rows stay while the new state is counted
    pages.gate.set()
    qtbot.waitUntil(lambda: table.match_count.text() == f"{QLocale().toString(active + 1)} jobs")
    assert model.rowCount() == active + 1
    assert str(model.index(0, Column.TOKEN).data()) == new.status.job_token  # newest first
    pages.close()


def test_a_live_change_before_the_first_count_is_known_still_counts_every_row(
    qtbot: QtBot, journal_path: Path, tmp_path: Path, first_rows: None
) -> None:
    """A live change that added no job keeps the rows' count without counting again (issue 14,
    item 5) — only when that count is exact: while the table shows its first FIRST_COUNT_ROWS rows
    and the exact count is still on its way, the change must not make FIRST the count for good."""
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(journal_path.read_bytes())
    pages = GatedSqlitePages(path)  # the gate stays shut: the exact count waits
    model = PagedJobModel(pages, refresh_ms=10)
    _window(qtbot, tmp_path, model)
    assert model.rowCount() == FIRST < N
    changed = dataclasses.replace(RECS[0], job_originating_user_name=USERS[1])
    with Journal(path, site="pc") as journal:
        journal.upsert_jobs([changed], 0)
    model.store_changed(added=False)
    qtbot.wait(100)  # the live refresh (10 ms) has run
    pages.gate.set()
    qtbot.waitUntil(lambda: model.rowCount() == N)
    pages.close()
