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
