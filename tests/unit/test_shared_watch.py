"""The safety-net re-read of `watch --store postgresql://…` and of the window on a shared store
(shared_follow.SharedFollower.catch_up): every site the
store has is read since the newest job shown there (less the slack), a site not shown yet from its
first job, and a job is printed again only when it changed."""

import asyncio
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

    def jobs_since(self, site: str, epoch: float | None) -> list[tuple[str, Any]]:
        self.asked.append((site, epoch))
        return [(site, r) for r in self.rows[site]]


class Printer:
    site: str | None = None

    def __init__(self) -> None:
        self.jobs: list[tuple[str | None, str]] = []

    def job_changed(self, change: Any) -> None:
        self.jobs.append((self.site, change.record.key.job_token))


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
