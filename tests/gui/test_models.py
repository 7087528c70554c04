"""JobTableModel, JobFilterProxyModel and DeviceTreeModel: qtmodeltester, batching, filters, sorting."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt

from wsdmon.core import JobTable
from wsdmon.models import (
    Column,
    DeviceKind,
    DeviceRow,
    DeviceTreeModel,
    FilterStatusModel,
    JobFilterProxyModel,
    JobTableModel,
    QuickFilter,
    RawLogModel,
    Role,
    SubscriptionState,
    TimelineModel,
    job_detail,
    role_data,
)
from wsdmon.protocol.dsm import JobStatus

from .factory import SERVER, SERVER2, sample_jobs
from .make_screenshots import raw_entries, sample_devices


def _bump(rec, **changes):  # a later observation of the same job
    status = dataclasses.replace(rec.status, **changes)
    return dataclasses.replace(rec, status=status, last_update=rec.last_update + timedelta(seconds=1))


@pytest.fixture
def jobs():
    return sample_jobs(routine=4)


@pytest.fixture
def model(qtbot, jobs):
    devices = DeviceTreeModel()
    devices.upsert(sample_devices())
    m = JobTableModel(devices.device)
    m.apply_changes(jobs)
    m._devices = devices  # keep it alive with the model
    return m


def test_job_model_passes_modeltester_through_inserts_updates_sorts(qtmodeltester, jobs):
    m = JobTableModel()
    qtmodeltester.check(m)
    m.apply_changes(jobs[:3])
    qtmodeltester.check(m)
    m.apply_changes(jobs[3:])
    m.apply_changes([_bump(jobs[0], images_received=99)])
    m.flush()
    qtmodeltester.check(m)
    m.sort(Column.STATE, Qt.SortOrder.DescendingOrder)
    m.apply_changes([_bump(jobs[1], job_state="Aborted")])
    m.flush()
    qtmodeltester.check(m)
    m.remove_jobs([jobs[2].key])
    qtmodeltester.check(m)


def test_proxy_passes_modeltester_with_filters(qtmodeltester, model):
    proxy = JobFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.set_quick_filter(QuickFilter.FAILED)
    qtmodeltester.check(proxy)
    proxy.set_search_text("smtp")
    qtmodeltester.check(proxy)


def test_new_jobs_arrive_in_one_insert_per_batch(qtbot, jobs):
    m = JobTableModel()
    inserts = []
    m.rowsInserted.connect(lambda parent, first, last: inserts.append((first, last)))
    m.apply_changes(jobs)
    assert inserts == [(0, len(jobs) - 1)]
    m.sort(Column.CREATED, Qt.SortOrder.DescendingOrder)
    newer = [
        dataclasses.replace(
            j,
            key=dataclasses.replace(j.key, job_token=f"new-{i}"),
            status=dataclasses.replace(
                j.status, job_token=f"new-{i}", job_created_time=j.status.job_created_time + timedelta(days=1)
            ),
        )
        for i, j in enumerate(jobs[:3])
        if j.status.job_created_time is not None and j.status.job_created_time.tzinfo is not None
    ]
    inserts.clear()
    m.apply_changes(newer)
    assert inserts == [(0, len(newer) - 1)]  # newest first: one contiguous run at the top


def test_updates_are_coalesced_until_flush(qtbot, model, jobs):
    changed = []
    model.dataChanged.connect(lambda tl, br, roles=(): changed.append((tl.row(), br.row())))
    for n in range(5):
        model.apply_changes([_bump(jobs[0], images_received=10 + n)])
    assert changed == []  # nothing before the timer
    qtbot.waitUntil(lambda: bool(changed), timeout=1000)
    row = model.row_of(jobs[0].key)
    assert changed == [(row, row)]
    assert model.index(row, Column.IMAGES).data() == 14


def test_updates_applied_now_show_at_once_without_the_model_timer(qtbot, model, jobs):
    """The bridge's batch is the one coalescing step (issue 14, item 5): its updates are shown in
    the same call, in one signal per run, and no model timer is left to fire a second batch."""
    changed = []
    model.dataChanged.connect(lambda tl, br, roles=(): changed.append((tl.row(), br.row())))
    counts = []
    model.counts_changed.connect(lambda *c: counts.append(c))
    model.apply_changes([_bump(j, images_received=j.status.images_received + 7) for j in jobs[:3]], now=True)
    assert changed == [(0, 2)]
    assert len(counts) == 1
    assert not model._timer.isActive()
    assert [model.index(r, Column.IMAGES).data() for r in range(3)] == [
        j.status.images_received + 7 for j in jobs[:3]
    ]


def test_flush_emits_one_signal_per_run(qtbot, model, jobs):
    changed = []
    model.dataChanged.connect(lambda tl, br, roles=(): changed.append((tl.row(), br.row())))
    model.apply_changes([_bump(j, images_received=j.status.images_received + 1) for j in jobs[:3]])
    model.flush()
    assert len(changed) == 1
    assert changed[0] == (0, 2)


def test_roles_and_display(model, jobs):
    failed = next(j for j in jobs if j.status.job_token.startswith("0f3b5e21"))
    row = model.row_of(failed.key)
    index = model.index(row, Column.FILTERS)
    assert index.data() == "3/3 done, 2 failed"
    assert index.data(Role.JOB_RECORD) is failed
    assert index.data(Role.JOB_KEY) == failed.key
    assert index.data(Role.IS_FAILED) is True
    assert index.data(Role.IS_ACTIVE) is False
    assert index.data(Role.DEVICE) == SERVER
    assert model.index(row, Column.DEVICE).data() == "SCANSRV-01"
    assert model.index(row, Column.STATE).data(Qt.ItemDataRole.DecorationRole) is not None
    assert model.index(row, Column.STATE).data(Qt.ItemDataRole.BackgroundRole) is not None
    tip = model.index(row, Column.CREATED).data(Qt.ItemDataRole.ToolTipRole)
    assert "UTC" in tip
    assert "-08:00" in tip
    vendor = next(j for j in jobs if j.status.job_token == "acme-000417")
    vrow = model.row_of(vendor.key)
    assert model.index(vrow, Column.STATE).data() == "acme:Quarantined"
    assert "acme:Quarantined (vendor)" in model.index(vrow, Column.STATE).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(vrow, Column.STATE).data(Role.IS_VENDOR) is True
    assert model.index(vrow, Column.CREATED).data(Qt.ItemDataRole.FontRole).italic()  # server local
    assert model.counts() == (len(jobs), 2, 2)


def test_can_cancel_only_active_jobs_of_scan_servers(qtbot, jobs):
    active = next(j for j in jobs if j.status.job_state == "Processing")
    devices = DeviceTreeModel()
    m = JobTableModel(devices.device)
    m.apply_changes(jobs)
    row = m.row_of(active.key)
    assert m.index(row, 0).data(Role.CAN_CANCEL) is True  # unknown device: assume a scan server
    devices.upsert([DeviceRow(active.key.device, DeviceKind.SCAN_DEVICE, "scanner")])
    assert m.index(row, 0).data(Role.CAN_CANCEL) is False
    done = next(j for j in jobs if j.status.job_state == "Completed")
    assert m.index(m.row_of(done.key), 0).data(Role.CAN_CANCEL) is False


def _column(proxy, column):
    return [proxy.index(r, column).data(Role.SORT) for r in range(proxy.rowCount())]


@pytest.mark.parametrize("column", list(Column))
@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_every_column_sorts_by_its_sort_role(model, column, order):
    proxy = JobFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.sort(column, order)
    keys = _column(proxy, column)
    assert keys == sorted(keys, reverse=order == Qt.SortOrder.DescendingOrder)


def test_sort_meanings(model):
    proxy = JobFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.sort(Column.STATE, Qt.SortOrder.AscendingOrder)
    states = [proxy.index(r, Column.STATE).data() for r in range(proxy.rowCount())]
    assert states.index("Processing") < states.index("Completed") < states.index("Aborted")
    assert states[-1] == "acme:Quarantined"  # vendor states after the lifecycle
    proxy.sort(Column.IMAGES, Qt.SortOrder.AscendingOrder)
    images = [proxy.index(r, Column.IMAGES).data() for r in range(proxy.rowCount())]
    assert images == sorted(images)  # numerically
    proxy.sort(Column.CREATED, Qt.SortOrder.AscendingOrder)
    records = [role_data(proxy.index(r, 0), Role.JOB_RECORD) for r in range(proxy.rowCount())]
    created = [rec.status.job_created_time for rec in records]
    aware = [c for c in created if c.tzinfo is not None]
    assert aware == sorted(aware)  # chronologically, across offsets


@pytest.mark.parametrize(
    ("quick", "expected"),
    [
        (QuickFilter.ALL, 10),
        (QuickFilter.ACTIVE, 2),
        (QuickFilter.FAILED, 2),
        (QuickFilter.COMPLETED, 6),
    ],
)
def test_quick_filters(model, quick, expected):
    proxy = JobFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.set_quick_filter(quick)
    assert proxy.rowCount() == expected


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("smtp", {"0f3b5e21-77c4-4d0e-9a51-3c2b1a0f9e8d"}),  # a filter reason
        ("TIMEDOUT", {"3c9e1d7a-5b2f-4a6e-8c0d-4e5f6a7b8c9d"}),  # a job reason, any case
        ("quarantined", {"acme-000417"}),  # a vendor state
        ("e4f5a6b7", {"e4f5a6b7-c8d9-4e0f-a1b2-c3d4e5f6a7b8"}),  # a token
        ("2 failed", {"0f3b5e21-77c4-4d0e-9a51-3c2b1a0f9e8d"}),  # the filter summary
    ],
)
def test_search_text(model, text, tokens):
    proxy = JobFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.set_search_text(text)
    assert {proxy.index(r, Column.TOKEN).data() for r in range(proxy.rowCount())} == tokens


def test_search_by_device_name_and_device_filter(model):
    proxy = JobFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.set_search_text("scansrv-branch")
    by_name = proxy.rowCount()
    proxy.set_search_text("")
    proxy.set_device_filter(SERVER2)
    assert proxy.rowCount() == by_name > 0
    assert all(proxy.index(r, 0).data(Role.DEVICE) == SERVER2 for r in range(proxy.rowCount()))
    proxy.set_quick_filter(QuickFilter.ACTIVE)
    assert {proxy.index(r, Column.STATE).data() for r in range(proxy.rowCount())} == {"Processing"}
    proxy.set_device_filter(None)
    proxy.set_quick_filter(QuickFilter.ALL)
    assert proxy.rowCount() == model.rowCount()


def test_filter_follows_live_updates(qtbot, model, jobs):
    proxy = JobFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.set_quick_filter(QuickFilter.ACTIVE)
    before = proxy.rowCount()
    active = next(j for j in jobs if j.status.job_state == "Processing")
    model.apply_changes([_bump(active, job_state="Completed")])
    model.flush()
    assert proxy.rowCount() == before - 1


def test_device_tree_model(qtmodeltester):
    m = DeviceTreeModel()
    qtmodeltester.check(m)
    rows = sample_devices()
    m.upsert(rows[:2])
    qtmodeltester.check(m)
    m.upsert(rows[2:])
    m.upsert([dataclasses.replace(rows[0], subscription=SubscriptionState.ERROR, name="renamed")])
    qtmodeltester.check(m)
    assert m.device_count() == 4
    assert m.device(rows[0].endpoint).name == "renamed"
    servers = m.index(0, 0)
    assert servers.data() == "Scan servers (2)"
    assert m.rowCount(servers) == 2
    first = m.index(0, 0, servers)
    assert first.data() == "renamed"
    assert first.data(Role.STATE) == "error"
    assert first.data(Qt.ItemDataRole.DecorationRole) is not None
    assert m.parent(first) == servers
    m.upsert([dataclasses.replace(rows[0], kind=DeviceKind.SCAN_DEVICE)])  # turned out a scanner
    qtmodeltester.check(m)
    assert m.rowCount(m.index(1, 0)) == 3
    m.remove([rows[1].endpoint])
    qtmodeltester.check(m)
    assert m.device_count() == 3
    assert m.index_of(rows[0].endpoint).isValid()
    assert not m.index_of("nope").isValid()
    assert m.rowCount(QModelIndex()) == 3  # scan servers, scan devices, not reached


def test_detail_models(qtmodeltester):
    journal: dict[int, str] = {}
    jobs = sample_jobs(journal=journal)
    failed = next(j for j in jobs if j.status.job_token.startswith("0f3b5e21"))
    detail = job_detail(failed, "SCANSRV-01")
    filters = FilterStatusModel()
    filters.set_filters(detail.filters)
    qtmodeltester.check(filters)
    assert filters.rowCount() == 3
    assert filters.index(1, 0).data(Role.IS_FAILED) is True
    timeline = TimelineModel()
    timeline.set_timeline(failed.timeline[:1])
    timeline.set_timeline(failed.timeline)  # grows by inserts
    qtmodeltester.check(timeline)
    assert len(failed.timeline) >= 3
    timeline.set_timeline((failed.timeline[0], *failed.timeline[2:]), 1)  # trimmed: row 1 removed
    qtmodeltester.check(timeline)
    assert timeline.rowCount() == len(failed.timeline) - 1
    assert timeline.index(0, 0).data(Role.JOURNAL_ID) in journal
    raw = RawLogModel(max_entries=5)
    raw.append(raw_entries(journal, jobs))
    qtmodeltester.check(raw)
    assert raw.rowCount() == 5


def test_job_detail_from_a_real_message():
    from .test_widgets import record_from_corpus

    rec = record_from_corpus("postscanjobstatusevent-vendor.xml")
    d = job_detail(rec, "x")
    assert d.state.vendor
    assert d.state.value == "acme:Quarantined"
    assert [m.vendor for m in d.reasons] == [True, False]
    assert d.created is not None
    assert d.created.server_local
    assert d.completed is not None
    assert not d.completed.server_local
    assert d.filters[0].reasons[0].vendor


def test_jobstatus_is_what_the_model_holds():
    assert JobStatus.__slots__  # the record's status is the protocol type, read through roles
    assert JobTable().jobs == {}


def _expected_order(records, arrival, column, descending, name):
    from wsdmon.models.job_columns import sort_value

    keys = sorted(records, key=lambda k: (sort_value(records[k], column, name), arrival[k]))
    return keys[::-1] if descending else keys


@pytest.mark.parametrize("seed", range(6))
def test_model_order_matches_a_reference_through_random_operations(qtbot, seed):
    """Inserts, updates that move rows (with and without the view's selected job among them),
    re-sorts, order flips, removals: the rows always equal a plain sort by (value, arrival)."""
    import random

    rng = random.Random(seed)
    pool = sample_jobs(routine=30)
    m = JobTableModel()
    moves = []
    m.rowsMoved.connect(lambda *a: moves.append(a))  # never used: moves are remove + insert
    records, arrival = {}, {}
    column, descending = -1, False
    states = ["Pending", "Processing", "Completed", "Aborted", "Canceled", "acme:Held"]
    for step in range(60):
        action = rng.choice(["insert", "update", "update", "sort", "flip", "remove", "select"])
        if action == "insert" and pool:
            batch = [pool.pop() for _ in range(min(len(pool), rng.randint(1, 5)))]
            for rec in batch:
                arrival[rec.key] = step * 100 + len(arrival)
                records[rec.key] = rec
            m.apply_changes(batch)
        elif action == "update" and records:
            batch = []
            for key in rng.sample(list(records), min(len(records), rng.randint(1, 6))):
                rec = _bump(
                    records[key],
                    job_state=rng.choice(states),
                    images_received=rng.randint(0, 9),
                )
                records[key] = rec
                batch.append(rec)
            m.apply_changes(batch)
            m.flush()
        elif action == "sort":
            column = rng.choice(list(Column))
            descending = rng.random() < 0.5
            m.sort(column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        elif action == "flip":
            descending = not descending
            m.sort(column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        elif action == "remove" and records:
            gone = rng.sample(list(records), min(len(records), rng.randint(1, 3)))
            for key in gone:
                del records[key], arrival[key]
            m.remove_jobs(gone)
        elif action == "select" and records:
            m.set_selected_key(rng.choice(list(records)))
        m.flush()
        shown = [m.record(r).key for r in range(m.rowCount())]
        assert shown == _expected_order(records, arrival, column, descending, m.device_name), (step, action)
        assert all(m.row_of(k) == r for r, k in enumerate(shown))
    assert not moves


def test_selected_job_keeps_its_persistent_index_when_it_moves(qtbot, jobs):
    m = JobTableModel()
    m.apply_changes(jobs)
    m.sort(Column.STATE, Qt.SortOrder.AscendingOrder)
    target = next(j for j in jobs if j.status.job_state == "Processing")
    other = next(j for j in jobs if j.status.job_state == "Completed")
    from PySide6.QtCore import QPersistentModelIndex

    held = QPersistentModelIndex(m.index(m.row_of(target.key), 0))
    layouts, removals = [], []
    m.layoutChanged.connect(lambda *a: layouts.append(a))
    m.rowsRemoved.connect(lambda *a: removals.append(a))
    m.apply_changes([_bump(other, job_state="Pending")])  # nobody holds it: remove + insert
    m.flush()
    assert (len(layouts), len(removals)) == (0, 1)
    m.apply_changes([_bump(target, job_state="Aborted")])  # held: a layout change keeps the index
    m.flush()
    assert (len(layouts), len(removals)) == (1, 1)
    assert held.isValid()
    assert m.record(held.row()).key == target.key
    m.set_selected_key(other.key)
    m.apply_changes([_bump(other, job_state="Aborted")])
    m.flush()
    assert len(layouts) == 2


def test_a_lost_job_is_no_longer_active_and_shows_why(model, jobs, qtbot):
    from wsdmon.models.detail import job_detail
    from wsdmon.widgets import DetailPane

    active = next(j for j in jobs if j.status.job_state == "Processing")
    table = JobTable()
    table.jobs[active.key] = active
    (change,) = table.mark_lost(active.key.device, [], active.last_update + timedelta(1), active.last_update)
    before = model.counts()
    model.apply_changes([change.record])
    model.flush()
    row = model.row_of(active.key)
    index = model.index(row, Column.STATE)
    assert index.data(Role.IS_ACTIVE) is False
    assert index.data(Role.CAN_CANCEL) is False
    assert model.counts() == (before[0], before[1] - 1, before[2])
    assert index.data(Qt.ItemDataRole.DecorationRole) is not None
    assert job_detail(change.record, "SCANSRV-01").outcome_icon == "job-lost"
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.show_record(change.record)
    assert "Lost: the server no longer reports this job" in pane.section_text("JobState")
    assert "Processing" in pane.section_text("JobState")
