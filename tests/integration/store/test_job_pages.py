"""The page query's contract on both stores (store.job_pages): counts, the order of every sort column
both ways with ties in stored order (the same order as the in-memory table's), filters, search,
paging boundaries, positions, one job with its timeline; and old stores migrating their jobs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from tests.job_samples import USERS, device_endpoint, sample_jobs
from tests.pg import PgCluster
from wsdmon.core import JobKey, JobKind, JobRecord
from wsdmon.models.job_columns import Column, sort_values
from wsdmon.store import Journal, open_store
from wsdmon.store.codec import dumps, encode_job_record
from wsdmon.store.job_pages import JobFilter, JobPages, JobSort, PgJobPages, Quick, SortKey, SqliteJobPages
from wsdmon.store.pg_schema import MIGRATIONS as PG_MIGRATIONS
from wsdmon.store.pg_schema import migrate as pg_migrate
from wsdmon.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate

from .stores import KINDS, Backend

N = 400
RECS = list(sample_jobs(N, devices=12))
_SORTS = {
    SortKey.DEVICE: Column.DEVICE,
    SortKey.TOKEN: Column.TOKEN,
    SortKey.STATE: Column.STATE,
    SortKey.REASONS: Column.REASONS,
    SortKey.IMAGES: Column.IMAGES,
    SortKey.CREATED: Column.CREATED,
    SortKey.COMPLETED: Column.COMPLETED,
    SortKey.DURATION: Column.DURATION,
    SortKey.FILTERS: Column.FILTERS,
    SortKey.KIND: Column.KIND,
    SortKey.SITE: Column.SITE,  # one site: the stored order
}


def _name(endpoint: str, site: str = "") -> str:
    """Device names that do not sort as their endpoints do (one site here: the same at every site)."""
    return f"Scanner {99 - int(endpoint[-2:]):02d}"


@pytest.fixture(scope="module", params=KINDS)
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """RECS in a store of each kind, written once for the module: the tests on `pages` only read."""

    def database() -> str:
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        return cluster.new_database()

    backend = Backend(request.param, tmp_path_factory.mktemp("pages"), database)
    store = backend.open(site="floor-3")
    store.upsert_jobs(RECS, 0)  # through the writer: the index columns are the writer's
    store.close()
    return backend


@pytest.fixture
def pages(written: Backend) -> Iterator[JobPages]:
    """A fresh reader per test (it learns the counts as it reads) over the module's written store."""
    p: JobPages = (
        SqliteJobPages(written.location) if written.kind == "sqlite" else PgJobPages(written.location, "test")
    )
    yield p
    p.close()


def _keys(recs: list[JobRecord]) -> list[tuple[str, str, int]]:
    return [(r.key.device, r.key.job_token, r.key.generation) for r in recs]


def _reference(recs: list[JobRecord], key: SortKey, descending: bool) -> list[JobRecord]:
    """The in-memory table's order: its sort values, ties in arrival order, descending reversed."""
    if key is SortKey.NONE:
        order = list(range(len(recs)))
    else:
        values = sort_values(recs, _SORTS[key], _name)
        order = sorted(range(len(recs)), key=values.__getitem__)
    out = [recs[i] for i in order]
    return out[::-1] if descending else out


def _all(p: JobPages, flt: JobFilter, sort: JobSort, block: int = 97) -> list[JobRecord]:
    out: list[JobRecord] = []
    while True:
        page = p.page(flt, sort, len(out), block)
        out += page
        if len(page) < block:
            return out


@pytest.mark.parametrize("key", list(SortKey))
def test_every_sort_order_both_ways_is_the_in_memory_tables_with_stable_ties(
    pages: JobPages, key: SortKey
) -> None:
    for descending in (False, True):
        sort = JobSort(key, descending, _name)
        got = _all(pages, JobFilter(), sort)
        assert _keys(got) == _keys(_reference(RECS, key, descending)), (key, descending)
    assert pages.count(JobFilter()) == N  # now known: the far half is read from the other end
    for descending in (False, True):
        sort = JobSort(key, descending, _name)
        got = _all(pages, JobFilter(), sort)
        assert _keys(got) == _keys(_reference(RECS, key, descending)), (key, descending, "counted")


def test_counts_and_quick_filters(pages: JobPages) -> None:
    active = [r for r in RECS if r.is_active]
    failed = [r for r in RECS if not r.is_active and r.is_failed]
    completed = [r for r in RECS if not r.is_active and not r.is_failed and r.is_terminal]
    assert pages.counts() == (N, len(active), len(failed))
    assert 0 < len(failed) < N
    assert 0 < len(active) < N
    for quick, want in ((Quick.ACTIVE, active), (Quick.FAILED, failed), (Quick.COMPLETED, completed)):
        flt = JobFilter(quick=quick)
        assert pages.count(flt) == len(want)
        sort = JobSort(SortKey.STATE, True, _name)
        assert _keys(_all(pages, flt, sort)) == _keys(_reference(want, SortKey.STATE, True))
    assert pages.counts(site="elsewhere") == (0, 0, 0)
    assert pages.count(JobFilter(site="floor-3")) == N


def test_failed_since_counts_failed_jobs_by_their_last_update(pages: JobPages) -> None:
    failed = sorted(r.last_update.timestamp() for r in RECS if not r.is_active and r.is_failed)
    cutoff = failed[len(failed) // 2]
    assert pages.failed_since(cutoff) == sum(1 for t in failed if t >= cutoff)


def test_device_and_kind_filters(pages: JobPages) -> None:
    dev = device_endpoint(3)
    want = [r for r in RECS if r.key.device == dev]
    flt = JobFilter(device=dev)
    assert pages.count(flt) == len(want) > 0
    assert _keys(_all(pages, flt, JobSort(SortKey.CREATED, True))) == _keys(
        _reference(want, SortKey.CREATED, True)
    )
    scans = [r for r in RECS if r.kind is JobKind.SCAN]
    assert pages.count(JobFilter(kind=JobKind.SCAN.value)) == len(scans) > 0
    both = JobFilter(quick=Quick.FAILED, device=dev, kind=JobKind.POST_SCAN.value)
    assert pages.count(both) == sum(
        1 for r in want if r.kind is JobKind.POST_SCAN and r.is_failed and not r.is_active
    )


def test_search_is_a_case_insensitive_substring_of_the_jobs_words(pages: JobPages) -> None:
    user = USERS[2]  # CONTOSO\carol
    want = [r for r in RECS if r.job_originating_user_name == user]
    for text in ("carol", "CAROL", "aro", "toso\\car"):
        flt = JobFilter(search=text)
        assert pages.count(flt) == len(want), text
        assert _keys(_all(pages, flt, JobSort(SortKey.TOKEN))) == _keys(
            _reference(want, SortKey.TOKEN, False)
        )
    assert pages.count(JobFilter(search="job-00000123")) == 1
    assert pages.count(JobFilter(search="invalidsmtp")) == sum(
        1 for r in RECS if any(f.reasons for f in r.status.filter_statuses)
    )
    for wild in ("%", "_", "*", "?", "[a"):  # pattern characters are plain text
        assert pages.count(JobFilter(search=f"carol{wild}")) == 0, wild
    # a device whose name matches (the window passes them): its jobs, and the words' matches
    dev = device_endpoint(5)
    flt = JobFilter(search="carol", devices_named=(dev,))
    assert pages.count(flt) == sum(
        1 for r in RECS if r.key.device == dev or r.job_originating_user_name == user
    )


def test_paging_boundaries_and_positions(pages: JobPages) -> None:
    sort = JobSort(SortKey.CREATED, True)
    ref = _reference(RECS, SortKey.CREATED, True)
    assert _keys(pages.page(JobFilter(), sort, N - 3, 10)) == _keys(ref[-3:])
    assert pages.page(JobFilter(), sort, N, 10) == []
    assert pages.page(JobFilter(), sort, 0, 0) == []
    assert _keys(pages.page(JobFilter(), sort, 0, 1)) == _keys(ref[:1])
    for key in (SortKey.NONE, SortKey.DEVICE, SortKey.STATE, SortKey.COMPLETED, SortKey.DURATION):
        for descending in (False, True):
            order = _reference(RECS, key, descending)
            for row in (0, 1, 57, N // 2, N - 1):
                rec = order[row]
                got = pages.position(rec.key, JobFilter(), JobSort(key, descending, _name))
                assert got == row, (key, descending, row)
    failed = JobFilter(quick=Quick.FAILED)
    active = next(r for r in RECS if r.is_active)
    assert pages.position(active.key, failed, sort) is None
    assert pages.position(JobKey("urn:uuid:nobody", "x"), JobFilter(), sort) is None


def test_one_job_comes_with_its_timeline(pages: JobPages) -> None:
    rec = RECS[42]
    got = pages.record(rec.key)
    assert got is not None
    assert got.timeline == rec.timeline
    assert got.status == rec.status
    assert pages.page(JobFilter(), JobSort(), 42, 1)[0].timeline == ()  # pages leave it out
    assert pages.record(JobKey("urn:uuid:nobody", "x")) is None


def test_an_updated_job_moves_and_is_found_by_its_new_words(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path, site="pc") as journal:
        journal.upsert_jobs(RECS[:50], 0)
        p = SqliteJobPages(path)
        assert p.count(JobFilter(search="renamed-user")) == 0
        import dataclasses

        changed = dataclasses.replace(RECS[10], job_originating_user_name="CONTOSO\\renamed-user")
        journal.upsert_jobs([changed], 0)
        assert _keys(_all(p, JobFilter(search="renamed-user"), JobSort())) == _keys([changed])
        assert (
            p.count(JobFilter(search=RECS[10].job_originating_user_name or ""))
            == sum(1 for r in RECS[:50] if r.job_originating_user_name == RECS[10].job_originating_user_name)
            - 1
        )
        p.close()


def test_a_journal_of_schema_3_migrates_its_jobs_into_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wsdmon.store import schema

    monkeypatch.setattr(schema, "_COPY_ROWS", 7)  # the copy goes in steps: several here
    path = tmp_path / "journal.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS[:3], site="old-pc")
    for r in RECS[:30]:
        conn.execute(
            "INSERT INTO jobs (device, job_token, generation, active, last_update_epoch, record, site)"
            " VALUES (?, ?, ?, ?, ?, ?, 'old-pc')",
            (
                r.key.device,
                r.key.job_token,
                0,
                int(r.is_active),
                r.last_update.timestamp(),
                dumps(encode_job_record(r, timeline=False)),
            ),
        )
    conn.execute(
        "INSERT INTO jobs (device, job_token, generation, active, last_update_epoch, record, site)"
        " VALUES ('urn:uuid:bad', 'x', 0, 0, 0, 'not json', 'old-pc')"
    )
    conn.close()
    Journal(path, site="old-pc").close()
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    p = SqliteJobPages(path)
    got = _all(p, JobFilter(), JobSort(SortKey.STATE, False, _name))
    assert _keys(got) == _keys(_reference(RECS[:30], SortKey.STATE, False))  # the damaged row is skipped
    want = [r for r in RECS[:30] if r.job_originating_user_name == USERS[0]]
    assert p.count(JobFilter(search="alice")) == len(want)
    p.close()


def test_a_postgresql_store_of_schema_1_migrates_its_jobs_into_pages(pg_dsn: str, tmp_path: Path) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        pg_migrate(conn, PG_MIGRATIONS[:1])
        for r in RECS[:30]:
            conn.execute(
                "INSERT INTO jobs (site, device, job_token, generation, active, last_update_epoch, record)"
                " VALUES ('old', %s, %s, 0, %s, %s, %s)",
                (
                    r.key.device,
                    r.key.job_token,
                    r.is_active,
                    r.last_update.timestamp(),
                    dumps(encode_job_record(r, timeline=False)),
                ),
            )
    open_store(pg_dsn, site="old", spool_path=tmp_path / "spool.sqlite3").close()
    p = PgJobPages(pg_dsn, "test")
    got = _all(p, JobFilter(), JobSort(SortKey.DURATION, True, _name))
    assert _keys(got) == _keys(_reference(RECS[:30], SortKey.DURATION, True))
    assert all(r.key.site == "old" for r in got)
    assert p.count(JobFilter(search="alice")) == sum(
        1 for r in RECS[:30] if r.job_originating_user_name == USERS[0]
    )
    p.close()


def test_retention_takes_deleted_jobs_out_of_pages_and_search(
    backend_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    backend = Backend(backend_kind, tmp_path, lambda: request.getfixturevalue("pg_dsn"))
    store = backend.open(site="floor-3")
    store.upsert_jobs(RECS[:100], 0)
    cutoff = RECS[60].last_update
    now = cutoff + timedelta(days=1)
    while store.apply_retention(now, timedelta(days=1), None):
        pass
    kept = [r for r in RECS[:100] if r.is_active or r.last_update >= cutoff]
    p: JobPages = (
        SqliteJobPages(backend.location) if backend.kind == "sqlite" else PgJobPages(backend.location, "test")
    )
    assert _keys(_all(p, JobFilter(), JobSort())) == _keys(kept)
    assert p.count(JobFilter(search="carol")) == sum(
        1 for r in kept if r.job_originating_user_name == USERS[2]
    )
    p.close()
    store.close()


@pytest.fixture(params=KINDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("key", [SortKey.NONE, SortKey.STATE, SortKey.CREATED, SortKey.DURATION])
def test_deep_pages_skip_rows_on_the_index_and_keep_the_order(
    pages: JobPages, key: SortKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wsdmon.store import page_sql

    monkeypatch.setattr(page_sql, "DEEP_OFFSET", 30)
    failed = JobFilter(quick=Quick.FAILED)
    want = [r for r in RECS if not r.is_active and r.is_failed]
    for counted in (False, True):
        if counted:
            assert pages.count(JobFilter()) == N
            assert pages.count(failed) == len(want)
        for descending in (False, True):
            sort = JobSort(key, descending, _name)
            assert _keys(_all(pages, JobFilter(), sort, block=41)) == _keys(_reference(RECS, key, descending))
            assert _keys(_all(pages, failed, sort, block=13)) == _keys(_reference(want, key, descending))


def test_roles_granted_before_the_upgrade_keep_their_rights_on_its_new_table(pg_dsn: str) -> None:
    """The owner upgrades the schema; the collector and viewer roles it granted table by table before
    (pg_schema.roles_sql of that version) get the same rights on the new search table as on jobs:
    a collector could otherwise no longer write a job, a viewer no longer search."""
    import uuid

    collector, viewer = f"coll_{uuid.uuid4().hex[:8]}", f"view_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        pg_migrate(conn, PG_MIGRATIONS[:2])
        conn.execute(f"CREATE ROLE {collector} NOLOGIN".encode())
        conn.execute(f"CREATE ROLE {viewer} NOLOGIN".encode())
        conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON jobs TO {collector}".encode())
        conn.execute(f"GRANT SELECT ON jobs TO {viewer}".encode())
        pg_migrate(conn, PG_MIGRATIONS)

        def may(role: str, right: str) -> bool:
            row = conn.execute("SELECT has_table_privilege(%s, 'job_words', %s)", (role, right)).fetchone()
            assert row is not None
            return bool(row[0])

        assert all(may(collector, r) for r in ("SELECT", "INSERT", "UPDATE", "DELETE"))
        assert may(viewer, "SELECT")
        assert not any(may(viewer, r) for r in ("INSERT", "UPDATE", "DELETE"))


def test_a_count_up_to_a_cap_then_the_exact_count_off_the_thread(pages: JobPages) -> None:
    """count_upto stops at its cap (what the table shows first); count_later counts every match on
    a thread of its own and accept_count keeps it for the snapshot it was asked in."""
    import threading

    carol = JobFilter(search="carol")
    want = sum(1 for r in RECS if r.job_originating_user_name == "CONTOSO\\carol")
    assert want > 10
    assert pages.count_upto(carol, 10) == (10, False)
    assert pages.known_count(carol) is None
    assert pages.count_upto(carol, 1000) == (want, True)  # below the cap: exact
    failed = JobFilter(quick=Quick.FAILED, search="carol")
    got: list[tuple[int, int | None]] = []
    done = threading.Event()

    def counted(token: int, n: int | None) -> None:
        got.append((token, n))
        done.set()

    pages.snapshot()
    token = pages.count_later("rows", failed, counted)
    assert done.wait(10)
    n_failed = sum(
        1 for r in RECS if r.job_originating_user_name == "CONTOSO\\carol" and not r.is_active and r.is_failed
    )
    assert got == [(token, n_failed)]
    assert pages.accept_count(token, failed, n_failed)
    assert pages.known_count(failed) == n_failed
    pages.snapshot()  # a new snapshot: a count of the old one is of no use
    assert not pages.accept_count(token, failed, n_failed)
    assert pages.known_count(failed) is None


@pytest.mark.parametrize("key", [SortKey.NONE, SortKey.DEVICE, SortKey.SITE, SortKey.CREATED, SortKey.STATE])
def test_stream_gives_every_job_in_the_pages_order(pages: JobPages, key: SortKey) -> None:
    """An export's stream: the jobs of the filter in the order the pages give them; with their
    timelines when asked (JSON), as the detail pane reads one job."""
    flt = JobFilter(search="scan to")
    for descending in (False, True):
        sort = JobSort(key, descending, _name)
        streamed = list(pages.stream(flt, sort, timeline=False))
        assert _keys(streamed) == _keys(_all(pages, flt, sort))
        assert len(streamed) == pages.count(flt) > 0
    full = list(pages.stream(JobFilter(device=RECS[0].key.device), JobSort(), timeline=True))
    assert full[0].timeline == RECS[0].timeline
    record = pages.record(full[-1].key)
    assert record is not None
    assert full[-1].timeline == record.timeline
