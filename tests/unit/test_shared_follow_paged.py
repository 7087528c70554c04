"""The window's follower of a shared store pages its jobs (issue 14): it reads no job itself, it
tells the window's feed whose jobs changed, and the feed has the paged job table re-read them
(shared_follow.PagedJobsSink); `watch`'s follower reads and hands on the rows (JobRowsSink)."""

import asyncio
from typing import Any

from wsdmon.shared_app import SharedFeed
from wsdmon.shared_follow import SharedFollower


class View:
    location = "postgresql://db/wsdmon"

    def __init__(self) -> None:
        self.job_reads = 0

    def message_heads(self) -> dict[str, int]:
        return {}

    def devices(self, site: str | None = None, endpoint: str | None = None) -> list[Any]:
        return []

    def health(self, site: str | None = None, endpoint: str | None = None) -> list[Any]:
        return []

    def sites(self) -> list[str]:
        return ["a", "b"]

    def collectors(self, silent_after_s: float) -> dict[str, Any]:
        return {}

    def jobs_since(self, *args: Any) -> list[Any]:
        self.job_reads += 1
        return []


class Bridge:
    def __init__(self) -> None:
        self.stored = 0

    def jobs_stored(self, added: bool = True) -> None:
        self.stored += 1


def test_the_windows_follower_reads_no_job_and_has_the_paged_table_re_read() -> None:
    view, bridge = View(), Bridge()
    feed = SharedFeed(bridge, decor=None)
    follower = SharedFollower(view, "", feed, paged=True)

    async def run() -> None:
        await follower.load()
        await follower.catch_up("a")
        await follower.catch_up()

    asyncio.run(run())
    assert view.job_reads == 0
    assert bridge.stored == 3  # the load, then each re-read the notifications and the safety net ask
    assert not hasattr(feed, "jobs_changed")  # no second, unused way for jobs into the window


def test_the_feed_remembers_the_raw_logs_recent_lines_only() -> None:
    """A view open for weeks: the feed's (site, message id) of each raw log line stays bounded."""
    from datetime import UTC, datetime

    from wsdmon.shared_app import MESSAGES_KEPT

    class Log:
        def __init__(self) -> None:
            self.numbers: list[int] = []

        def message_logged(self, entry: Any) -> None:
            self.numbers.append(entry.journal_id)

    log = Log()
    feed = SharedFeed(log, decor=None)
    now = datetime.now(UTC)
    total = MESSAGES_KEPT + 1000
    feed.messages_changed([("a" if i % 2 else "b", (i, now, "urn:d", "urn:a", 10)) for i in range(total)])
    assert log.numbers == list(range(total))
    assert feed.message(0) is None  # long scrolled out of the log
    assert feed.number_of("b", 0) is None
    assert feed.message(total - 1) == ("a", total - 1)
    assert feed.number_of("a", total - 1) == total - 1
    assert len(feed._messages) == len(feed._numbers) == MESSAGES_KEPT
