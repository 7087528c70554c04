"""`wsdmon watch --json --store postgresql://…` (issue 14, item 3): follow every site of a shared store.

No engine runs here: the collectors of the sites write the store; this reads it (SELECT only) and
prints each device and job change as `watch` does, with the `site` that saw it. First everything the
store holds (marked "replayed"), then live: NOTIFY says which site's jobs or which device changed,
and that site's jobs updated since the newest one shown (less a few seconds) are read again; a job
is printed when it differs from what was printed for it. A re-read of every site every
CATCH_UP_INTERVAL_S covers a notification missed while (re)connecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wsdmon.core import JobKey, JobRecord

__all__ = ["CATCH_UP_INTERVAL_S", "follow_shared_store"]

log = logging.getLogger(__name__)

CATCH_UP_INTERVAL_S = 10.0
RECONNECT_DELAY_S = 2.0


@dataclass(frozen=True, slots=True)
class _Change:
    """What the printer takes for a job (the engine's JobChange has these two fields)."""

    record: JobRecord
    accepted: bool = True


class _Follower:
    def __init__(self, view: Any, printer: Any) -> None:
        self.view = view
        self.printer = printer
        self.shown: dict[tuple[str, JobKey], JobRecord] = {}
        self.newest: dict[str, float] = {}  # site → the newest last_update shown (epoch seconds)

    def show_devices(self, rows: list[tuple[str, Any]]) -> None:
        for site, device in rows:
            self.printer.site = site
            self.printer.device_changed(device)

    def show_jobs(self, rows: list[tuple[str, JobRecord]]) -> None:
        for site, record in rows:
            key = (site, record.key)
            if self.shown.get(key) == record:
                continue
            self.shown[key] = record
            if record.last_update is not None:
                self.newest[site] = max(self.newest.get(site, 0.0), record.last_update.timestamp())
            self.printer.site = site
            self.printer.job_changed(_Change(record))

    async def catch_up(self, site: str | None = None) -> None:
        """Read again the jobs of `site` (default: every site the store has) updated since the newest
        shown there, less JOBS_SLACK_S; a site not shown yet from its first job."""
        from wsdmon.store.pg_view import JOBS_SLACK_S

        sites = [site] if site is not None else await asyncio.to_thread(self.view.sites)
        for name in sites:
            since = self.newest.get(name)
            epoch = since - JOBS_SLACK_S if since is not None else None
            self.show_jobs(await asyncio.to_thread(self.view.jobs_since, name, epoch))


async def follow_shared_store(
    location: Any, printer: Any, stop: asyncio.Event, say: Callable[..., None], duration: float | None
) -> int:
    """Print every site's devices and jobs, then follow them until `stop` or `duration`."""
    from wsdmon.headless import EXIT_CANNOT_START, EXIT_OK
    from wsdmon.store import StoreError
    from wsdmon.store.pg_follow import ChangeKind, follow
    from wsdmon.store.pg_view import SharedView

    try:
        view = await asyncio.to_thread(SharedView, location.text, str(location))
    except StoreError as exc:
        say(f"cannot read the store {location}: {exc}", error=True)
        return EXIT_CANNOT_START
    follower = _Follower(view, printer)
    try:
        printer.replaying = True
        try:
            follower.show_devices(await asyncio.to_thread(view.devices))
            follower.show_jobs(await asyncio.to_thread(view.jobs_since))
        finally:
            printer.replaying = False

        async def live() -> None:
            while True:
                try:
                    async for change in follow(location.text):
                        if change.kind is ChangeKind.DEVICE and isinstance(change.id, str):
                            follower.show_devices(
                                await asyncio.to_thread(view.devices, change.site, change.id)
                            )
                        elif change.kind is ChangeKind.JOBS:
                            await follower.catch_up(change.site)
                except Exception as exc:  # the server went away: say so once, then try again
                    log.warning("following %s: %s; trying again", location, exc)
                await asyncio.sleep(RECONNECT_DELAY_S)

        async def safety_net() -> None:
            while True:
                await asyncio.sleep(CATCH_UP_INTERVAL_S)
                with contextlib.suppress(StoreError):
                    await follower.catch_up()

        tasks = [asyncio.ensure_future(live()), asyncio.ensure_future(safety_net())]
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    except StoreError as exc:
        say(f"cannot read the store {location}: {exc}", error=True)
        return EXIT_CANNOT_START
    finally:
        await asyncio.to_thread(view.close)
    return EXIT_OK
