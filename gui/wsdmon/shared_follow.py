"""Following every site of a shared PostgreSQL store (issue 14, item 3): what `watch --json --store`
prints and what the window on a shared store shows come from here. Qt-free; the reads are the
SharedView's synchronous SELECTs, run off the loop (asyncio.to_thread).

First everything the store holds (`load`), then live (`run`): NOTIFY says which site's jobs or which
device changed, and that site's jobs updated since the newest one shown (less LIVE_SLACK_S) are read
again; a job is handed on when it differs from what was handed on for it. A re-read of every site
every CATCH_UP_INTERVAL_S covers a notification missed; when the server goes away the follower says
so once (`connection_changed(error)`), tries again every RECONNECT_DELAY_S, and once it listens
again reads what it missed and says so (`connection_changed(None)`). Each site's collector is
judged at the load and at each safety re-read (its heartbeat: `collectors_changed`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol, cast, overload

from wsdmon.core import DeviceRecord, JobKey, JobRecord
from wsdmon.core.health import DeviceHealth
from wsdmon.core.sites import SILENT_AFTER_S, SiteCollector

__all__ = [
    "CATCH_UP_INTERVAL_S",
    "LIVE_SLACK_S",
    "RECONNECT_DELAY_S",
    "FollowSink",
    "JobRowsSink",
    "PagedJobsSink",
    "SharedFollower",
]

log = logging.getLogger(__name__)

CATCH_UP_INTERVAL_S = 10.0
# A notification's re-read goes back this far behind the newest job shown: a collector writes a
# site's jobs in the order it folded them, each within one commit of its arrival (milliseconds; the
# spool while the server is away is local). Reading 5 s back on each of ten notifications a second
# made every live read carry hundreds of unchanged jobs (bench/bench_latency_pg.py).
LIVE_SLACK_S = 1.0
RECONNECT_DELAY_S = 2.0


class FollowSink(Protocol):
    """Where a SharedFollower hands what it reads (on the loop's thread). The jobs go one of two
    ways, each its own protocol below: as rows (JobRowsSink: `watch` prints each) or as a notice of
    whose jobs changed (PagedJobsSink: the window's job table pages them from the store itself)."""

    def devices_changed(self, rows: Sequence[tuple[str, DeviceRecord]]) -> None: ...

    # (site, the health report its collector last judged of a device), each one that changed.
    def health_changed(self, rows: Sequence[tuple[str, DeviceHealth]]) -> None: ...

    # Each site's collector as last judged (core.sites): all of them, whenever one changed.
    def collectors_changed(self, collectors: Mapping[str, SiteCollector]) -> None: ...

    def sites_changed(self, sites: Sequence[str]) -> None: ...

    # (site, (id, arrival, device, action, size)) of messages stored since the view opened.
    def messages_changed(self, rows: Sequence[tuple[str, tuple[Any, ...]]]) -> None: ...

    # None: reading live (again); else the StoreError that interrupted it.
    def connection_changed(self, error: Exception | None) -> None: ...


class JobRowsSink(FollowSink, Protocol):
    """A sink that takes the jobs themselves: each job read that differs from the last handed on."""

    def jobs_changed(self, rows: Sequence[tuple[str, JobRecord]]) -> None: ...


class PagedJobsSink(FollowSink, Protocol):
    """A sink whose job table pages from the store (models.PagedJobModel): the follower reads no
    job, it says whose jobs changed (None: any site's) and the table reads the rows it shows."""

    # `added`: some may be new (False: the store said that none was: the rows are as many as before).
    def jobs_site_changed(self, site: str | None, added: bool = True) -> None: ...


class SharedFollower:
    """Reads `view` (store.pg_view.SharedView) and follows the NOTIFYs of `conninfo` into `sink`."""

    @overload
    def __init__(
        self, view: Any, conninfo: str, sink: JobRowsSink, *, paged: Literal[False] = False
    ) -> None: ...

    @overload
    def __init__(self, view: Any, conninfo: str, sink: PagedJobsSink, *, paged: Literal[True]) -> None: ...

    def __init__(
        self, view: Any, conninfo: str, sink: JobRowsSink | PagedJobsSink, *, paged: bool = False
    ) -> None:
        """`paged`: the jobs are not read here (a window paging them from the store: a million
        jobs never held in memory), only said to have changed (`sink` is a PagedJobsSink); else
        they are read and handed on as rows (`sink` is a JobRowsSink)."""
        self.view = view
        self.conninfo = conninfo
        self.sink: FollowSink = sink
        self.paged = paged
        # The overloads pair the flag with the sink's kind: each job path has the sink it calls.
        self._rows_sink = None if paged else cast(JobRowsSink, sink)
        self._pages_sink = cast(PagedJobsSink, sink) if paged else None
        self.shown: dict[tuple[str, JobKey], JobRecord] = {}
        # What each job's stored row was when last read (hash of its record text, timeline length):
        # a re-read decodes only the rows that changed since.
        self._read: dict[tuple[str, tuple[Any, ...]], tuple[int, int]] = {}
        self.newest: dict[str, float] = {}  # site → the newest last_update shown (epoch seconds)
        self.sites: set[str] = set()
        self.last_message: dict[str, int] = {}  # site → the newest message id handed on (raw log)
        self.error: Exception | None = None  # the interruption last said, None while following
        self.collectors: dict[str, SiteCollector] = {}  # as last handed on
        self.health: dict[tuple[str, str], DeviceHealth] = {}  # (site, endpoint) → as last handed on
        self.silent_after_s = SILENT_AFTER_S  # a collector not heard from for this long is silent
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- handing on -----------------------------------------------------------------------------

    def _saw_sites(self, names: set[str]) -> None:
        if not names <= self.sites:
            self.sites |= names
            self.sink.sites_changed(sorted(self.sites))

    def show_devices(self, rows: Sequence[tuple[str, DeviceRecord]]) -> None:
        if rows:
            self._saw_sites({site for site, _ in rows})
            self.sink.devices_changed(rows)

    def show_health(self, rows: Sequence[tuple[str, DeviceHealth]]) -> None:
        changed = [(site, h) for site, h in rows if self.health.get((site, h.endpoint)) != h]
        for site, health in changed:
            self.health[(site, health.endpoint)] = health
        if changed:
            self.sink.health_changed(changed)

    def show_jobs(self, rows: Sequence[tuple[str, JobRecord]]) -> None:
        changed = []
        for site, record in rows:
            key = (site, record.key)
            if self.shown.get(key) == record:
                continue
            self.shown[key] = record
            if record.last_update is not None:
                self.newest[site] = max(self.newest.get(site, 0.0), record.last_update.timestamp())
            changed.append((site, record))
        if changed and self._rows_sink is not None:
            self._saw_sites({site for site, _ in changed})
            self._rows_sink.jobs_changed(changed)

    def _said(self, error: Exception | None) -> None:
        if (error is None) != (self.error is None):
            self.error = error
            self.sink.connection_changed(error)

    # --- reading --------------------------------------------------------------------------------

    async def load(self) -> None:
        """Everything the store holds now (raises StoreError); messages from now on."""
        self.last_message = await asyncio.to_thread(self.view.message_heads)
        await self.read_devices()
        await self.read_collectors()
        if self._pages_sink is not None:
            self._pages_sink.jobs_site_changed(None)
        else:
            self.show_jobs(await asyncio.to_thread(self.view.jobs_since))

    def _devices_and_health(
        self, site: str | None, endpoint: str | None
    ) -> tuple[list[tuple[str, DeviceRecord]], list[tuple[str, DeviceHealth]]]:
        return self.view.devices(site, endpoint), self.view.health(site, endpoint)

    async def read_devices(self, site: str | None = None, endpoint: str | None = None) -> None:
        """The devices of every site (or of one site / one endpoint) and their health reports, read
        together off the loop; the devices first (a report finds its device's row)."""
        rows, reports = await asyncio.to_thread(self._devices_and_health, site, endpoint)
        self.show_devices(rows)
        self.show_health(reports)

    async def read_collectors(self) -> None:
        """Judge each site's collector again (its heartbeat and stop: core.sites); handed on when
        one changed (its state, or the time of its last word)."""
        collectors = await asyncio.to_thread(self.view.collectors, self.silent_after_s)
        if collectors != self.collectors:
            self.collectors = collectors
            self.sink.collectors_changed(collectors)

    async def read_messages(self, site: str) -> None:
        """The messages a site stored since the last handed on (a batch at a time)."""
        after = self.last_message.get(site, 0)
        rows = await asyncio.to_thread(self.view.messages_since, site, after)
        if rows:
            self.last_message[site] = max(self.last_message.get(site, 0), rows[-1][0])
            self.sink.messages_changed([(site, row) for row in rows])

    async def catch_up(
        self, site: str | None = None, slack: float | None = None, *, added: bool = True
    ) -> None:
        """Read again the jobs of `site` (default: every site the store has) updated since the newest
        shown there, less `slack` (default JOBS_SLACK_S); a site not shown yet from its first job.
        `added`: whether jobs may have been added (False: the NOTIFYs said none was)."""
        from wsdmon.store.pg_view import JOBS_SLACK_S

        if self._pages_sink is not None:
            self._pages_sink.jobs_site_changed(site, added)
            return
        slack = JOBS_SLACK_S if slack is None else slack
        sites = [site] if site is not None else await asyncio.to_thread(self.view.sites)
        for name in sites:
            since = self.newest.get(name)
            epoch = since - slack if since is not None else None
            self.show_jobs(await asyncio.to_thread(self.view.jobs_since, name, epoch, self._fresh))

    def _fresh(self, site: str, key: tuple[Any, ...], record: str, entries: int) -> bool:
        """Whether a stored job row differs from when it was last read (called on the reading
        thread; two reads at once may both find a row fresh: it is then decoded twice, no harm)."""
        seen = (hash(record), entries)
        if self._read.get((site, key)) == seen:
            return False
        self._read[(site, key)] = seen
        return True

    async def _caught_up(self) -> None:
        """Listening (again): read what came meanwhile, then say the view is live."""
        from wsdmon.store import StoreError

        while True:
            try:
                await self.read_devices()
                await self.read_collectors()
                await self.catch_up()
            except StoreError as exc:  # listening, but not reading yet: once more in a moment
                self._said(exc)
                await asyncio.sleep(RECONNECT_DELAY_S)
                continue
            self._said(None)
            return

    def _listening(self) -> None:
        # What was committed between the last read and LISTEN (the load, or before an interruption)
        # came with no notification for us: read it, then say the view is live.
        task = asyncio.ensure_future(self._caught_up())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _live(self) -> None:
        from wsdmon.store.pg_follow import follow

        while True:
            pending: dict[tuple[str, Any, Any], Any] = {}
            wake = asyncio.Event()
            worker = asyncio.ensure_future(self._apply(pending, wake))
            try:
                async for change in follow(self.conninfo, on_listening=self._listening):
                    # Coalesced: a burst of notifications (a collector commits many batches a
                    # second) is one read per site and kind, not a backlog of reads behind it.
                    key = _coalesce_key(change)
                    pending[key] = _coalesced(pending.get(key), change)
                    wake.set()
            except Exception as exc:  # the server went away: say so once, then try again
                if self.error is None:
                    log.warning("following %s: %s; trying again", self.view.location, exc)
                self._said(exc)
            finally:
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
            await asyncio.sleep(RECONNECT_DELAY_S)

    async def _apply(self, pending: dict[tuple[str, Any, Any], Any], wake: asyncio.Event) -> None:
        """Read what the pending notifications name, oldest first, until cancelled."""
        from wsdmon.store import StoreError
        from wsdmon.store.pg_follow import ChangeKind

        while True:
            await wake.wait()
            wake.clear()
            while pending:
                change = pending.pop(next(iter(pending)))
                try:
                    if change.kind is ChangeKind.DEVICE and isinstance(change.id, str):
                        await self.read_devices(change.site, change.id)
                    elif change.kind is ChangeKind.JOBS:
                        await self.catch_up(change.site, LIVE_SLACK_S, added=change.added != 0)
                    elif change.kind is ChangeKind.MESSAGES:
                        await self.read_messages(change.site)
                except StoreError as exc:  # a read failed while the notifications still come
                    self._said(exc)
                    continue
                if self.error is not None:
                    self._said(None)

    async def _safety_net(self) -> None:
        from wsdmon.store import StoreError
        from wsdmon.store.pg_view import JOBS_SLACK_S

        while True:
            await asyncio.sleep(CATCH_UP_INTERVAL_S)
            try:
                # Back over the whole interval since the last safety read, and the usual slack more:
                # whatever a live read missed in between is read here.
                await self.catch_up(slack=CATCH_UP_INTERVAL_S + JOBS_SLACK_S)
                await self.read_collectors()  # a heartbeat missed, or a stop: said within this round
            except StoreError as exc:
                self._said(exc)

    async def run(self) -> None:
        """Follow until cancelled."""
        tasks = [asyncio.ensure_future(self._live()), asyncio.ensure_future(self._safety_net())]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in (*tasks, *self._tasks):
                task.cancel()
            await asyncio.gather(*tasks, *self._tasks, return_exceptions=True)


def _coalesced(first: Any, then: Any) -> Any:
    """One pending change for two that one read answers: the first (its place in the queue), with
    the jobs both added (None, not said, if either did not say)."""
    if first is None:
        return then
    if first.added is None or then.added is None:
        return dataclasses.replace(first, added=None)
    return dataclasses.replace(first, added=first.added + then.added)


def _coalesce_key(change: Any) -> tuple[str, Any, Any]:
    """Notifications that one read answers: a site's jobs, a site's messages, one device."""
    from wsdmon.store.pg_follow import ChangeKind

    return (change.site, change.kind, change.id if change.kind is ChangeKind.DEVICE else None)
