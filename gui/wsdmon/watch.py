"""`wsdmon watch`: the headless monitor's JSON lines, one object per line for every device change and
every job change, so scripts (and the engine's end-to-end tests) can follow the monitor without a
window; with `--store postgresql://…` every site of a shared store (shared_watch.py). No Qt is
imported on this path. The command line that leads here is cli.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from wsdmon.headless import EXIT_OK, DatabaseLocation, say_on_stderr

__all__ = ["JsonPrinter", "device_json", "job_json", "main_watch"]

log = logging.getLogger(__name__)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def job_json(change: Any, device_name: str | None = None) -> dict[str, Any]:
    """The `watch` line of a job change (issue 4.10)."""
    rec = change.record
    s = rec.status
    return {
        "kind": "job",
        "device": rec.key.device,
        "device_name": device_name,
        "job_token": s.job_token,
        # A scan job's JobName, or a post-scan job's PSP_DisplayName (the name its scan profile shows).
        "job_name": rec.job_name or rec.psp_display_name,
        "user": rec.job_originating_user_name,
        "job_state": str(s.job_state),
        "job_state_reasons": [str(r) for r in s.job_state_reasons],
        "images_received": s.images_received,
        "created": _iso(s.job_created_time),
        "completed": _iso(s.job_completed_time),
        "filters": [
            {
                "name": f.dialect.rstrip("/").rpartition("/")[2] or f.dialect,
                "dialect": f.dialect,
                "state": str(f.state),
                "reasons": [str(r) for r in f.reasons],
            }
            for f in s.filter_statuses
        ],
        "ended": rec.ended,
        "lost": rec.lost,  # the server no longer reports it (neither active nor in its history)
        # Devices reuse tokens: 0 for the first job seen with this token, n for its nth reuse.
        "generation": rec.key.generation,
        # Not heard of since the monitor lost sight of the device (restart, device offline).
        "unknown_since": _iso(rec.unknown_since),
        "seen": _utc(rec.last_update),  # when the message that made this change arrived
        # "scan": a WSD scanner's scan job (WS-Scan; job_token is its JobId, images_received its
        # ScansCompleted); "post-scan": a scan server's post-scan job (DSM).
        "job_kind": rec.kind.value,
    }


def device_json(device: Any) -> dict[str, Any]:
    """The `watch` line of a device change (issue 4.10); a shared store's device also says when its
    site's collector wrote what the line says (`state_at`)."""
    at = getattr(device, "state_at", None)
    return {
        "kind": "device",
        "device": device.endpoint,
        "name": device.name,
        "roles": sorted(r.value for r in device.roles),
        "subscribed": device.subscribed,
        "online": device.online,
        "offline_reason": device.offline_reason.value if device.offline_reason else None,
        "error": str(device.error) if device.error is not None else None,  # one line; detail in the log
        # What the device last said of itself (status summary events; null until it has said it).
        "state": next((s.state for s in device.services if s.state), None),
        "state_reasons": [r for s in device.services if s.state for r in s.state_reasons],
        # A scanner's active conditions (WS-Scan DeviceCondition), values as the scanner sent them.
        "conditions": [
            {
                "id": c.condition_id,
                "name": str(c.name),
                "severity": str(c.severity),
                "component": str(c.component),
            }
            for s in device.services
            for c in s.conditions
        ],
        **({"state_at": _utc(at)} if at is not None else {}),
    }


class JsonPrinter:
    """The engine's listener for `watch`: one JSON line per change. While `replaying` (the engine
    restores from the journal), lines are marked "replayed" and those seen before `since` are left
    out. A closed stdout (`| head`) calls on_closed once and silences the printer."""

    def __init__(
        self,
        out: TextIO,
        *,
        since: datetime | None = None,
        on_closed: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.out = out
        self.since = since
        self.replaying = False
        self.closed = False
        self._on_closed = on_closed
        self._clock = clock
        self._last_device: dict[tuple[str | None, str], dict[str, Any]] = {}  # (site, endpoint)
        self._names: dict[str, str] = {}
        self._last_collector: dict[str | None, str] = {}  # site → its collector's state last printed
        self.site: str | None = None  # following a shared store: the site of what is printed next

    def _print(self, obj: dict[str, Any]) -> None:
        if self.closed:
            return
        if self.site is not None:
            obj["site"] = self.site
        if self.replaying:
            seen = obj["seen"]
            if self.since is not None and (seen is None or datetime.fromisoformat(seen) < self.since):
                return
            obj["replayed"] = True
        try:
            self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
            self.out.flush()
        except (BrokenPipeError, ValueError):  # the reader is gone (ValueError: stdout was closed)
            self.closed = True
            self._on_closed()

    def device_changed(self, device: Any) -> None:
        self._names[device.endpoint] = device.name
        line = device_json(device)
        key = (self.site, device.endpoint)
        if self._last_device.get(key) != line:  # only real changes
            self._last_device[key] = line
            seen = device.last_seen if self.replaying else self._clock()
            self._print({**line, "seen": _utc(seen)})

    def collector_changed(self, collector: Any) -> None:
        """A site's collector went silent, stopped or is heard again (a shared store: core.sites);
        a new heartbeat of a live one is no change."""
        state = collector.state.value
        if self._last_collector.get(self.site) != state:
            self._last_collector[self.site] = state
            line = {"kind": "collector", "state": state, "since": _utc(collector.at)}
            self._print({**line, "seen": _utc(self._clock())})

    def job_changed(self, change: Any) -> None:
        if change.accepted:
            self._print(job_json(change, self._names.get(change.record.key.device)))

    def message_logged(self, entry: Any) -> None:
        pass

    def health_changed(self, health: Any) -> None:
        """watch prints no health lines of this PC's engine: `wsdmon doctor --json` reports each
        device's health."""

    def health_reported(self, health: Any) -> None:
        """A shared store's device's health report, as its site's collector stored it (a "health"
        line, the fields of `wsdmon doctor --json`'s devices): no doctor runs on the desk's PC, so
        this is how a script there hears what is wrong at a site. Said when a verdict or finding
        changes (the collector stores it only then)."""
        from wsdmon.support.health_report import health_json

        line = {"kind": "health", **health_json(health, self._names.get(health.endpoint))}
        self._print({**line, "seen": line["at"] if self.replaying else _utc(self._clock())})

    def message_rejected(self, reason: str, detail: str) -> None:
        log.warning("rejected: %s: %s", reason, detail)


async def _watch(args: argparse.Namespace, out: TextIO) -> int:
    from wsdmon.headless import run_headless, stop_on_signals

    stop = asyncio.Event()
    stop_on_signals(stop)
    since = args.since
    if isinstance(since, timedelta):
        since = datetime.now(UTC) - since
    printer = JsonPrinter(out, since=since, on_closed=stop.set)
    if isinstance(args.journal, DatabaseLocation):  # every site of a shared store, read-only
        from wsdmon.shared_watch import follow_shared_store

        code = await follow_shared_store(args.journal, printer, stop, say_on_stderr, args.duration)
    else:
        code = await run_headless(args, printer, stop, say_on_stderr, duration=args.duration)
    if printer.closed:
        _silence_stdout(out)
    return code


def _silence_stdout(out: TextIO) -> None:
    """The reader closed the pipe: point stdout at the null device, so the interpreter's last flush
    at exit does not fail once more (the recipe of Python's signal documentation)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)


def main_watch(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Run the headless monitor until --duration passes, SIGINT/SIGTERM, or the reader of stdout
    goes away; exit code 0 on a clean stop, 1 when another wsdmon uses the journal, 2 when it cannot
    start (a line on stderr says why)."""
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_watch(args, out))
    except KeyboardInterrupt:
        return EXIT_OK
