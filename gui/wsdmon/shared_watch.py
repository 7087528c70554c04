"""`wsdmon watch --json --store postgresql://…` (issue 14, item 3): follow every site of a shared store.

No engine runs here: the collectors of the sites write the store; this reads it (SELECT only) and
prints each device and job change as `watch` does, with the `site` that saw it, each device's health
report as its site's collector judged it (a "health" line, when a verdict or finding changes), and
each site's collector when it goes silent, stops or is heard again (a "collector" line): first everything the
store holds (marked "replayed"), then live (shared_follow.SharedFollower: NOTIFY, a safety re-read
every CATCH_UP_INTERVAL_S, reconnecting when the server went away).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wsdmon.core import DeviceRecord, JobRecord
from wsdmon.core.health import DeviceHealth
from wsdmon.core.sites import SiteCollector
from wsdmon.shared_follow import CATCH_UP_INTERVAL_S, SharedFollower

__all__ = ["CATCH_UP_INTERVAL_S", "follow_shared_store"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Change:
    """What the printer takes for a job (the engine's JobChange has these two fields)."""

    record: JobRecord
    accepted: bool = True


class _PrinterSink:
    """The follower's sink for watch's printer (a shared_follow.JobRowsSink): one line per device
    and job, naming its site."""

    def __init__(self, printer: Any) -> None:
        self.printer = printer

    def devices_changed(self, rows: Sequence[tuple[str, DeviceRecord]]) -> None:
        for site, device in rows:
            self.printer.site = site
            self.printer.device_changed(device)

    def jobs_changed(self, rows: Sequence[tuple[str, JobRecord]]) -> None:
        for site, record in rows:
            self.printer.site = site
            self.printer.job_changed(_Change(record))

    def health_changed(self, rows: Sequence[tuple[str, DeviceHealth]]) -> None:
        for site, health in rows:
            self.printer.site = site
            self.printer.health_reported(health)

    def collectors_changed(self, collectors: Mapping[str, SiteCollector]) -> None:
        for site, collector in collectors.items():
            self.printer.site = site
            self.printer.collector_changed(collector)

    def sites_changed(self, sites: Sequence[str]) -> None:
        pass  # every line names its site

    def messages_changed(self, rows: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        pass  # watch prints devices and jobs

    def connection_changed(self, error: Exception | None) -> None:
        pass  # the follower logs the interruption; the lines resume when it is over


async def follow_shared_store(
    location: Any, printer: Any, stop: asyncio.Event, say: Callable[..., None], duration: float | None
) -> int:
    """Print every site's devices and jobs, then follow them until `stop` or `duration`."""
    from wsdmon.headless import EXIT_CANNOT_START, EXIT_OK
    from wsdmon.store import StoreError
    from wsdmon.store.pg_view import SharedView

    try:
        view = await asyncio.to_thread(SharedView, location.text, str(location))
    except StoreError as exc:
        say(f"cannot read the store {location}: {exc}", error=True)
        return EXIT_CANNOT_START
    follower = SharedFollower(view, location.text, _PrinterSink(printer))
    try:
        printer.replaying = True
        try:
            await follower.load()
        finally:
            printer.replaying = False
        following = asyncio.ensure_future(follower.run())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
        finally:
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
    except StoreError as exc:
        say(f"cannot read the store {location}: {exc}", error=True)
        return EXIT_CANNOT_START
    finally:
        await asyncio.to_thread(view.close)
    return EXIT_OK
