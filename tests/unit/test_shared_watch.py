"""The safety-net re-read of `watch --store postgresql://…` and of the window on a shared store
(shared_follow.SharedFollower.catch_up): every site the
store has is read since the newest job shown there (less the slack), a site not shown yet from its
first job, and a job is printed again only when it changed."""

import asyncio
from dataclasses import astuple
from typing import Any

from tests.unit.store.helpers import lifecycle
from wsdmon.core import JobTable
from wsdmon.shared_follow import SharedFollower
from wsdmon.shared_watch import _PrinterSink
from wsdmon.store.pg_view import JOBS_SLACK_S


class View:
    def __init__(self, rows: dict[str, list[Any]]) -> None:
        self.rows = rows
        self.asked: list[tuple[str, float | None]] = []

    def sites(self) -> list[str]:
        return sorted(self.rows)

    def jobs_since(self, site: str, epoch: float | None, fresh: Any = None) -> list[tuple[str, Any]]:
        """As SharedView: rows the caller says it has read unchanged are not decoded (returned)."""
        self.asked.append((site, epoch))
        rows = self.rows[site]
        if fresh is not None:
            rows = [r for r in rows if fresh(site, astuple(r.key)[:3], repr(r), len(r.timeline))]
        return [(site, r) for r in rows]


class Printer:
    site: str | None = None

    def __init__(self) -> None:
        self.jobs: list[tuple[str | None, str]] = []

    def job_changed(self, change: Any) -> None:
        self.jobs.append((self.site, change.record.key.job_token))


async def _live_until(follower: SharedFollower, done: asyncio.Event) -> None:
    """Follow live until `done`, a few loop turns more (the reads it started), then stop."""
    task = asyncio.ensure_future(follower._live())
    await done.wait()
    for _ in range(5):
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_catch_up_reads_each_site_since_its_newest_job_and_prints_changes_only() -> None:
    known = lifecycle(JobTable(), "a-1")
    view = View({"a": [known], "b": []})
    printer = Printer()
    follower = SharedFollower(view, "", _PrinterSink(printer))
    follower.show_jobs([("a", known)])
    assert known.last_update is not None
    view.rows["b"] = [lifecycle(JobTable(), "b-1")]
    asyncio.run(follower.catch_up())
    assert view.asked == [("a", known.last_update.timestamp() - JOBS_SLACK_S), ("b", None)]
    assert printer.jobs == [("a", "a-1"), ("b", "b-1")]  # a-1 unchanged: not printed twice


def test_a_job_row_read_unchanged_is_not_decoded_again() -> None:
    job = lifecycle(JobTable(), "a-1")
    view = View({"a": [job]})
    printer = Printer()
    follower = SharedFollower(view, "", _PrinterSink(printer))
    asyncio.run(follower.catch_up())
    asyncio.run(follower.catch_up())
    assert printer.jobs == [("a", "a-1")]
    assert follower._fresh("a", ("dev", "a-1", 0), "same", 1)
    assert not follower._fresh("a", ("dev", "a-1", 0), "same", 1)
    assert follower._fresh("a", ("dev", "a-1", 0), "same", 2)  # a timeline entry more: changed


def test_a_burst_of_notifications_is_one_read_per_site_not_a_backlog(monkeypatch: Any) -> None:
    """A collector commits many batches a second; the follower reads a site once for all the
    notifications that came while it was reading, instead of once per notification."""
    from wsdmon.store import pg_follow
    from wsdmon.store.pg_follow import ChangeKind, StoreChange

    view = View({"a": [], "b": []})
    done = asyncio.Event()

    async def follow(conninfo: str, on_listening: Any = None) -> Any:
        for _ in range(50):
            yield StoreChange("a", ChangeKind.JOBS, 1)
        yield StoreChange("b", ChangeKind.JOBS, 1)
        done.set()
        await asyncio.Event().wait()  # the connection stays open

    monkeypatch.setattr(pg_follow, "follow", follow)
    follower = SharedFollower(view, "", _PrinterSink(Printer()))

    asyncio.run(_live_until(follower, done))
    sites = [site for site, _ in view.asked]
    assert sites.count("b") == 1
    assert 1 <= sites.count("a") <= 2  # 50 notifications: one read (or two, if one was under way)


class _PagedSink(_PrinterSink):
    """The window's side of a paged follower: which site's jobs changed, and whether jobs were added."""

    def __init__(self) -> None:
        super().__init__(Printer())
        self.said: list[tuple[str | None, bool]] = []

    def jobs_site_changed(self, site: str | None, added: bool = True) -> None:
        self.said.append((site, added))


def test_a_paged_follower_says_whether_the_coalesced_notifications_added_jobs(monkeypatch: Any) -> None:
    """Issue 14, item 5: the job table re-counts its rows only when jobs were added. A burst of
    NOTIFYs is one refresh per site: it added jobs if any of them did, or if one did not say (a
    collector of before the count, a retention that deleted jobs)."""
    from wsdmon.store import pg_follow
    from wsdmon.store.pg_follow import ChangeKind, StoreChange

    release = asyncio.Event()
    done = asyncio.Event()
    sink = _PagedSink()
    follower = SharedFollower(View({}), "", sink, paged=True)
    first_read = asyncio.Event()
    real_catch_up = follower.catch_up

    async def slow_catch_up(*args: Any, **kwargs: Any) -> None:
        await real_catch_up(*args, **kwargs)
        first_read.set()
        await release.wait()  # the notifications below come while this read is under way

    monkeypatch.setattr(follower, "catch_up", slow_catch_up)

    async def follow(conninfo: str, on_listening: Any = None) -> Any:
        yield StoreChange("a", ChangeKind.JOBS, 1, added=0)
        await first_read.wait()
        for n, added in enumerate((0, 0, 0)):
            yield StoreChange("a", ChangeKind.JOBS, 2 + n, added=added)  # images only: none added
        for n, added in enumerate((0, 2, 0)):
            yield StoreChange("b", ChangeKind.JOBS, 2 + n, added=added)  # one of them added two
        for n, added in enumerate((0, None)):
            yield StoreChange("c", ChangeKind.JOBS, 2 + n, added=added)  # one did not say
        release.set()
        done.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(pg_follow, "follow", follow)

    asyncio.run(_live_until(follower, done))
    assert sink.said == [("a", False), ("a", False), ("b", True), ("c", True)]


def test_watch_prints_a_line_when_a_sites_collector_goes_silent_stops_or_is_heard_again() -> None:
    """`watch --json --store`: a "collector" line per change of a site's collector (core.sites), not
    one per heartbeat; the follower asks the view with its own threshold of silence."""
    import io
    import json
    from datetime import UTC, datetime

    from wsdmon.core.sites import CollectorState, SiteCollector
    from wsdmon.watch import JsonPrinter

    t0, t1 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC), datetime(2026, 12, 6, 10, 0, 30, tzinfo=UTC)
    said = iter(
        [
            {"a": SiteCollector(CollectorState.LIVE, t0)},
            {"a": SiteCollector(CollectorState.LIVE, t1)},  # a heartbeat: no line
            {"a": SiteCollector(CollectorState.SILENT, t1), "b": SiteCollector(CollectorState.STOPPED, t0)},
            {"a": SiteCollector(CollectorState.LIVE, t1), "b": SiteCollector(CollectorState.STOPPED, t0)},
        ]
    )
    asked: list[float] = []

    class Judged(View):
        def collectors(self, silent_after_s: float) -> dict[str, SiteCollector]:
            asked.append(silent_after_s)
            return next(said)

    out = io.StringIO()
    follower = SharedFollower(Judged({}), "", _PrinterSink(JsonPrinter(out)))
    follower.silent_after_s = 5.0

    async def run() -> None:
        for _ in range(4):
            await follower.read_collectors()

    asyncio.run(run())
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(x["kind"], x["site"], x["state"], x["since"]) for x in lines] == [
        ("collector", "a", "live", t0.isoformat()),
        ("collector", "a", "silent", t1.isoformat()),
        ("collector", "b", "stopped", t0.isoformat()),
        ("collector", "a", "live", t1.isoformat()),
    ]
    assert asked == [5.0] * 4
