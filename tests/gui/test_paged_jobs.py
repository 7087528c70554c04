"""PagedJobModel (models/paged_jobs.py) through a real QTableView on a journal of a few thousand jobs:
what the view shows is read page by page, scrolling fetches the rows it reaches, sort / filter /
search change the rows, a live change appears and the selection stays on its job."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from tests.job_samples import USERS, device_endpoint, sample_jobs
from tests.pg import pg_cluster, pg_dsn
from wsdmon.core import JobKey, JobRecord
from wsdmon.models import Column, QuickFilter, Role, role_data
from wsdmon.models.paged_jobs import PagedJobModel
from wsdmon.store import Journal
from wsdmon.store.job_pages import SqliteJobPages

__all__ = ["pg_cluster", "pg_dsn"]  # fixtures: a throwaway PostgreSQL cluster

N = 3000
RECS = list(sample_jobs(N, devices=12))


@pytest.fixture(autouse=True)
def count_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every count here is made at once (N is below the cap): the counts made off the GUI thread
    for a large store are test_paged_counts.py's."""
    from wsdmon.models import paged_jobs

    monkeypatch.setattr(paged_jobs, "FIRST_COUNT_ROWS", 10 * N)


@pytest.fixture(scope="module")
def journal_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("paged") / "journal.sqlite3"
    with Journal(path, site="pc") as journal:
        journal.upsert_jobs(RECS, 0)
    return path


@pytest.fixture
def table(
    qtbot: QtBot, journal_path: Path, tmp_path: Path
) -> Iterator[tuple[QTableView, PagedJobModel, Path]]:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(journal_path.read_bytes())  # a journal of its own: live tests write to it
    pages = SqliteJobPages(path)
    model = PagedJobModel(pages, refresh_ms=10, write_lag_ms=300)
    view = _shown_view(qtbot, model)
    yield view, model, path
    pages.close()


def _shown_view(qtbot: QtBot, model: PagedJobModel) -> QTableView:
    """A table view of the model, 1000×600, shown and exposed."""
    view = QTableView()
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.setModel(model)
    view.show()
    qtbot.waitExposed(view)
    return view


def _shown(view: QTableView) -> list[str]:
    """The tokens of the rows the view paints now."""
    first = view.rowAt(0)
    last = view.rowAt(view.viewport().height() - 1)
    last = view.model().rowCount() - 1 if last < 0 else last
    model = view.model()
    return [str(model.index(r, Column.TOKEN).data()) for r in range(first, last + 1)]


def test_opening_reads_only_the_first_block(table: tuple[QTableView, PagedJobModel, Path]) -> None:
    view, model, _ = table
    assert model.rowCount() == N
    assert model.fetches == 1
    assert _shown(view)[:3] == [r.status.job_token for r in RECS[:3]]
    assert model.counts() == (
        N,
        sum(r.is_active for r in RECS),
        sum(1 for r in RECS if not r.is_active and r.is_failed),
    )


def test_scrolling_fetches_the_rows_it_reaches(
    qtbot: QtBot, table: tuple[QTableView, PagedJobModel, Path]
) -> None:
    view, model, _ = table
    before = model.fetches
    view.scrollToBottom()
    qtbot.waitUntil(lambda: _shown(view)[-1] == RECS[-1].status.job_token)
    assert model.fetches == before + 1  # the last block only, not the ones between
    view.scrollTo(model.index(N // 2, 0), QTableView.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: _shown(view)[0] == RECS[N // 2].status.job_token)
    assert model.fetches <= before + 3
    assert role_data(model.index(N // 2, 0), Role.JOB_KEY) == RECS[N // 2].key


def test_sorting_by_a_header_click_reorders_the_rows(
    qtbot: QtBot, table: tuple[QTableView, PagedJobModel, Path]
) -> None:
    view, _model, _ = table
    view.setSortingEnabled(True)
    header = view.horizontalHeader()
    x = header.sectionViewportPosition(Column.IMAGES) + 5
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert header.sortIndicatorSection() == Column.IMAGES
    ref = sorted(RECS, key=lambda r: r.status.images_received)  # stable: ties in stored order
    if header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder:
        ref = ref[::-1]
    qtbot.waitUntil(lambda: _shown(view)[:5] == [r.status.job_token for r in ref[:5]])
    view.sortByColumn(Column.CREATED, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: _shown(view)[0] == RECS[-1].status.job_token)


def test_filters_and_search_change_the_rows(
    qtbot: QtBot, table: tuple[QTableView, PagedJobModel, Path]
) -> None:
    view, model, _ = table
    failed = [r for r in RECS if not r.is_active and r.is_failed]
    model.set_quick_filter(QuickFilter.FAILED)
    assert model.rowCount() == len(failed)
    qtbot.waitUntil(lambda: _shown(view)[:3] == [r.status.job_token for r in failed[:3]])
    assert all(role_data(model.index(r, 0), Role.IS_FAILED) for r in range(min(50, model.rowCount())))
    model.set_quick_filter(QuickFilter.ALL)
    dev = device_endpoint(4)
    model.set_device_filter(dev)
    assert model.rowCount() == sum(1 for r in RECS if r.key.device == dev)
    model.set_device_filter(None)
    model.set_search_text("Carol")
    carol = [r for r in RECS if r.job_originating_user_name == USERS[2]]
    assert model.rowCount() == len(carol)
    qtbot.waitUntil(lambda: _shown(view)[:3] == [r.status.job_token for r in carol[:3]])
    model.set_search_text("")
    assert model.rowCount() == N


def test_a_device_name_matches_a_search(qtbot: QtBot, journal_path: Path) -> None:
    class Row:
        def __init__(self, name: str) -> None:
            self.name = self.display_name = name

    names = {device_endpoint(i): f"Floor {i} MFP" for i in range(12)}
    pages = SqliteJobPages(journal_path)
    model = PagedJobModel(
        pages,
        lambda e: Row(names[e]) if e in names else None,  # type: ignore[arg-type,return-value]
        known_devices=lambda: names,
    )
    model.set_search_text("floor 7 m")
    assert model.rowCount() == sum(1 for r in RECS if r.key.device == device_endpoint(7)) > 0
    pages.close()


def test_a_live_change_appears_and_the_selection_stays_on_its_job(
    qtbot: QtBot, table: tuple[QTableView, PagedJobModel, Path]
) -> None:
    view, model, path = table
    view.sortByColumn(Column.CREATED, Qt.SortOrder.DescendingOrder)
    selected = model.record(5)
    assert selected is not None
    view.selectionModel().setCurrentIndex(
        model.index(5, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    new = next(sample_jobs(1, start=N, devices=12))
    created = RECS[-1].status.job_created_time
    assert created is not None
    new = dataclasses.replace(
        new, status=dataclasses.replace(new.status, job_created_time=created + timedelta(hours=1))
    )
    shown = RECS[-2]  # on screen: row 1
    changed = dataclasses.replace(
        shown, job_originating_user_name="CONTOSO\\zed", last_update=shown.last_update + timedelta(seconds=1)
    )
    # As in the window: the bridge announces the jobs first, the engine writes them a moment later.
    model.apply_changes([new, changed])
    assert role_data(model.index(1, 0), Role.JOB_RECORD).job_originating_user_name == "CONTOSO\\zed"
    qtbot.wait(50)
    with Journal(path, site="pc") as journal:
        journal.upsert_jobs([new, changed], 0)
    with qtbot.waitSignal(model.counts_changed, timeout=5000):
        pass
    qtbot.waitUntil(lambda: model.rowCount() == N + 1)
    qtbot.waitUntil(lambda: _shown(view)[0] == new.status.job_token)
    assert model.counts()[0] == N + 1
    assert view.selectionModel().currentIndex().row() == 6
    assert role_data(view.selectionModel().currentIndex(), Role.JOB_KEY) == selected.key
    row = model.row_of(changed.key)
    assert row == 2
    rec = model.record(row)
    assert isinstance(rec, JobRecord)
    assert rec.job_originating_user_name == "CONTOSO\\zed"
    assert model.row_of(JobKey("urn:uuid:nobody", "x")) is None
    full = model.full_record(new.key)
    assert full is not None
    assert full.timeline == new.timeline


def test_the_window_on_a_paged_table_filters_searches_and_shows_a_jobs_timeline(
    qtbot: QtBot, journal_path: Path, tmp_path: Path
) -> None:
    from PySide6.QtCore import QSettings

    from wsdmon.models import DeviceTreeModel, EngineStatus, RawLogModel
    from wsdmon.widgets import MainWindow

    devices = DeviceTreeModel()
    pages = SqliteJobPages(journal_path)
    model = PagedJobModel(
        pages, devices.device, known_devices=lambda: [r.endpoint for r in devices.devices()]
    )
    window = MainWindow(
        jobs=model,
        devices=devices,
        raw_log=RawLogModel(),
        status=EngineStatus(),
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    view = window.job_table.view
    assert view.model() is model
    assert _shown(view)[0] == RECS[-1].status.job_token  # the window sorts by Created, newest first
    active = sum(r.is_active for r in RECS)
    qtbot.waitUntil(lambda: window.status_labels["active"].text().endswith(str(active)))

    qtbot.mouseClick(window.job_table.quick_buttons[QuickFilter.FAILED], Qt.MouseButton.LeftButton)
    failed = [r for r in RECS if not r.is_active and r.is_failed]
    assert model.rowCount() == len(failed)
    qtbot.waitUntil(lambda: _shown(view)[0] == failed[-1].status.job_token)

    qtbot.keyClicks(window.job_table.search, "carol")
    both = [r for r in failed if r.job_originating_user_name == USERS[2]]
    qtbot.waitUntil(lambda: model.rowCount() == len(both))

    view.setFocus()
    view.selectionModel().setCurrentIndex(
        model.index(0, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    qtbot.waitUntil(lambda: window.detail.section_text("JobToken") == both[-1].status.job_token)
    shown = window.job_table.current_record()
    assert isinstance(shown, JobRecord)
    assert shown.timeline == both[-1].timeline  # read from the store for the detail pane
    pages.close()


def test_a_shared_store_pages_live_from_its_snapshot(qtbot: QtBot, pg_dsn: str, tmp_path: Path) -> None:
    """PostgreSQL: the table reads one snapshot until it is told the store changed (NOTIFY's
    store_changed), then shows the new job with its site."""
    from wsdmon.store import open_store
    from wsdmon.store.job_pages import PgJobPages

    recs = RECS[:500]
    writer = open_store(pg_dsn, site="floor-2", spool_path=tmp_path / "spool.sqlite3")
    writer.upsert_jobs(recs, 0)
    pages = PgJobPages(pg_dsn, "shared")
    model = PagedJobModel(pages, refresh_ms=10)
    view = _shown_view(qtbot, model)
    view.sortByColumn(Column.CREATED, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: _shown(view)[0] == recs[-1].status.job_token)
    new = RECS[600]
    writer.upsert_jobs([new], 0)
    model.set_quick_filter(QuickFilter.COMPLETED)  # re-counted, in the same snapshot
    model.set_quick_filter(QuickFilter.ALL)
    assert model.rowCount() == 500  # the snapshot: unchanged until told
    model.store_changed()
    qtbot.waitUntil(lambda: model.rowCount() == 501)
    qtbot.waitUntil(lambda: _shown(view)[0] == new.status.job_token)
    key = role_data(model.index(0, 0), Role.JOB_KEY)
    assert key == JobKey(new.key.device, new.key.job_token, 0, "floor-2")
    model.set_quick_filter(QuickFilter.FAILED)
    assert model.rowCount() == sum(1 for r in [*recs, new] if not r.is_active and r.is_failed)
    writer.close()
    pages.close()


class _Flaky:
    """The journal's pages, until `broken`: then every read fails as a lost server does."""

    def __init__(self, inner: SqliteJobPages) -> None:
        self.inner = inner
        self.broken = False

    def __getattr__(self, name: str) -> object:
        from wsdmon.store import StoreUnavailableError

        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: object) -> object:
            if self.broken:
                raise StoreUnavailableError("postgresql://desk@db/wsdmon: connection refused")
            return attr(*args)

        return call


def test_a_store_that_cannot_be_read_keeps_the_rows_shown_and_says_why_once(
    qtbot: QtBot, journal_path: Path
) -> None:
    pages = _Flaky(SqliteJobPages(journal_path))
    model = PagedJobModel(pages, refresh_ms=10)  # type: ignore[arg-type]
    errors: list[str] = []
    model.store_error.connect(errors.append)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.show()
    qtbot.waitUntil(lambda: _shown(view)[0] == RECS[0].status.job_token)
    pages.broken = True
    model.store_changed()
    qtbot.wait(50)
    model.flush()
    assert errors == ["postgresql://desk@db/wsdmon: connection refused"]  # once, not per attempt
    assert model.rowCount() == N
    assert _shown(view)[0] == RECS[0].status.job_token
    pages.broken = False
    model.set_quick_filter(QuickFilter.FAILED)
    assert model.rowCount() == sum(1 for r in RECS if not r.is_active and r.is_failed)
    pages.inner.close()


def test_a_lone_store_change_is_read_at_once_and_a_burst_once_per_interval(
    qtbot: QtBot, journal_path: Path, tmp_path: Path
) -> None:
    """NOTIFY after a quiet spell: re-read on the next turn of the loop, not an interval later (the
    shared window's latency); a burst of them: one re-read per interval, not one each."""
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(journal_path.read_bytes())
    pages = SqliteJobPages(path)
    model = PagedJobModel(pages, refresh_ms=400)
    reads: list[float] = []
    model.layoutChanged.connect(lambda *_: reads.append(time.monotonic()))
    try:
        qtbot.wait(450)  # quiet since it opened
        changed = time.monotonic()
        model.store_changed()
        qtbot.waitUntil(lambda: len(reads) == 1, timeout=300)
        assert reads[0] - changed < 0.2  # not the 400 ms interval
        for _ in range(20):
            model.store_changed()
            qtbot.wait(10)
        qtbot.waitUntil(lambda: len(reads) == 2, timeout=1000)
        assert reads[1] - reads[0] >= 0.39  # the burst waited for the interval since the last read
        qtbot.wait(450)
        assert len(reads) == 2  # one re-read for the whole burst
    finally:
        pages.close()


def test_a_live_change_that_added_no_job_is_read_without_counting_or_decoding_again(
    qtbot: QtBot, journal_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14, item 5 (latency through PostgreSQL): the store says whether a write added jobs. When
    it did not, a live re-read shows the change without counting the rows again (a count of a
    million rows costs more than the rest of a refresh) — unless the filter keeps jobs by what
    changes in them (a quick filter); the rows re-read decode only the jobs whose stored text
    changed; and the selected row, an index per column, is looked up once."""
    from wsdmon.protocol.dsm import JobState
    from wsdmon.store import page_sql
    from wsdmon.store.job_pages import JobFilter

    path = tmp_path / "journal.sqlite3"
    path.write_bytes(journal_path.read_bytes())
    pages = SqliteJobPages(path)
    calls = {"count": 0, "position": 0, "decode": 0}

    def counted(name: str, call: object) -> object:
        def wrapper(*args: object) -> object:
            # the rows of the table's filter (every job), not the status bar's active and failed
            if name not in ("count", "count_upto") or args[0] == JobFilter():
                calls["count" if name == "count_upto" else name] += 1
            return call(*args)  # type: ignore[operator]

        return wrapper

    monkeypatch.setattr(pages, "count", counted("count", pages.count))
    monkeypatch.setattr(pages, "count_upto", counted("count_upto", pages.count_upto))
    monkeypatch.setattr(pages, "position", counted("position", pages.position))
    monkeypatch.setattr(page_sql, "decode_record_row", counted("decode", page_sql.decode_record_row))
    model = PagedJobModel(pages, refresh_ms=10)
    view = _shown_view(qtbot, model)
    view.selectRow(2)
    qtbot.waitUntil(lambda: _shown(view)[0] == RECS[0].status.job_token)
    assert len(model.persistentIndexList()) > 1  # the selected row: an index per column at least
    changed = dataclasses.replace(
        RECS[0],
        job_originating_user_name="CONTOSO\\zed",
        last_update=RECS[0].last_update + timedelta(seconds=1),
    )
    try:
        with Journal(path, site="pc") as journal:
            journal.upsert_jobs([changed], 0)
        calls.update(count=0, position=0, decode=0)
        model.store_changed(added=False)
        qtbot.waitUntil(
            lambda: role_data(model.index(0, 0), Role.JOB_RECORD).job_originating_user_name == "CONTOSO\\zed"
        )
        assert calls["count"] == 0  # not counted again: as many rows as before
        assert calls["position"] == 1  # the selected job, once for all its indexes
        assert calls["decode"] == 1  # of the rows read again, only the changed job is decoded
        assert model.rowCount() == N
        assert view.selectionModel().currentIndex().row() == 2
        new = next(r for r in sample_jobs(50, start=N, devices=12) if r.is_active)
        with Journal(path, site="pc") as journal:
            journal.upsert_jobs([new], 0)
        model.store_changed(added=True)
        qtbot.waitUntil(lambda: model.rowCount() == N + 1)
        model.set_quick_filter(QuickFilter.ACTIVE)  # a job's changes move it in or out of the filter
        active = model.rowCount()
        ended = dataclasses.replace(new, status=dataclasses.replace(new.status, job_state=JobState.COMPLETED))
        assert not ended.is_active
        with Journal(path, site="pc") as journal:
            journal.upsert_jobs([ended], 0)
        model.store_changed(added=False)
        qtbot.waitUntil(lambda: model.rowCount() == active - 1)
    finally:
        pages.close()


def test_a_page_read_again_keeps_the_look_of_rows_that_did_not_change(
    qtbot: QtBot, table: tuple[QTableView, PagedJobModel, Path]
) -> None:
    """A live re-read decodes every row of its pages anew: a job that did not change keeps its cells
    (the job table copies its row as painted), a changed one shares the cells that did not change
    (the table paints only the others: widgets/row_atlas.py)."""
    view, model, path = table
    view.sortByColumn(Column.CREATED, Qt.SortOrder.DescendingOrder)
    before = [model.paint_row(r) for r in range(5)]
    shown = model.record(1)
    assert shown is not None
    more = dataclasses.replace(
        shown,
        status=dataclasses.replace(shown.status, images_received=shown.status.images_received + 3),
        last_update=shown.last_update + timedelta(seconds=1),
    )
    with Journal(path, site="pc") as journal:
        journal.upsert_jobs([more], 0)
    model.store_changed(added=False)
    qtbot.waitUntil(lambda: model.record(1) is not None and model.record(1).status == more.status)
    after = [model.paint_row(r) for r in range(5)]
    assert [a is b for a, b in zip(before, after, strict=True)] == [True, False, True, True, True]
    changed = [c for c in Column if after[1][c] is not before[1][c]]
    assert changed == [Column.IMAGES]
    assert after[1][Column.IMAGES][int(Qt.ItemDataRole.DisplayRole)] == more.status.images_received
