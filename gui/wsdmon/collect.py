"""`wsdmon collect`: the monitor without a window, as a long-running service for one site.

Discovery, subscriptions, the notification sink and the journal run as in the window, until SIGTERM
or SIGINT; then every subscription is ended with Unsubscribe, the journal is flushed and closed, and
the exit status is 0. Logs go to stderr (service.py: journal-friendly under systemd); the first line
says what runs where (site, notify port, interfaces, journal). Under a Type=notify unit systemd
hears READY=1 once the engine listens and STOPPING=1 when the stop begins. No Qt is imported.

On Windows the logs go to stderr as well; wsdmon.exe run as a start-up task has none, and then
logs to a file beside the journal (collector.sqlite3 → collector.log). Writing to the Windows event
log is not done.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from typing import Any

from wsdmon.headless import EXIT_OK, Running, journal_location, run_headless, stop_on_signals
from wsdmon.net.engine import EngineListener
from wsdmon.service import configure_service_logging, sd_notify

__all__ = ["main_collect", "start_line"]

log = logging.getLogger(__name__)


class _ServiceLog(EngineListener):
    """The engine's listener for a service: a log line when a device is subscribed, goes offline
    or comes back, and when a job ends; rejected notifications as warnings; other job changes at
    debug level."""

    def __init__(self) -> None:
        self.replaying = False
        self._said: dict[str, tuple[bool, bool]] = {}

    def device_changed(self, device: Any) -> None:
        state = (bool(device.online), bool(device.subscribed))
        said, self._said[device.endpoint] = self._said.get(device.endpoint), state
        if self.replaying or said == state:
            return
        name = f"{device.name} ({device.endpoint})" if device.name else device.endpoint
        if not device.online:
            reason = device.offline_reason.value if device.offline_reason else "no answer"
            log.warning("%s is offline: %s", name, reason)
        elif device.subscribed:
            log.info("%s: subscribed", name)
        else:
            log.info("%s: online, not subscribed", name)

    def job_changed(self, change: Any) -> None:
        if not change.accepted or self.replaying:
            return
        record = change.record
        status = record.status
        level = logging.INFO if record.ended else logging.DEBUG
        log.log(
            level,
            "%s: job %s %s %s, %d image(s)",
            record.key.device,
            status.job_token,
            "ended" if record.ended else "is",
            status.job_state,
            status.images_received,
        )

    def message_rejected(self, reason: str, detail: str) -> None:
        log.warning("rejected a notification: %s: %s", reason, detail)


def start_line(site: str, running: Running, args: argparse.Namespace) -> str:
    """What runs where, in one line: site, notify port, interfaces, journal."""
    if args.no_discovery:
        where = "none (no multicast discovery)"
    else:
        where = ", ".join(args.interface) if args.interface else "all"
    extra = [f"{n} {word}" for n, word in ((len(args.device), "--device"), (len(args.probe), "--probe")) if n]
    return (
        f"collecting for site {site}: notify port {running.engine.sink.port}, interfaces {where}, "
        f"journal {running.journal}" + (f" ({', '.join(extra)})" if extra else "")
    )


def _say(text: str, *, error: bool = False) -> None:
    log.log(logging.ERROR if error else logging.WARNING, "%s", text)


async def _collect(args: argparse.Namespace) -> int:
    site = args.site or socket.gethostname()
    stop = asyncio.Event()
    stop_on_signals(stop)

    where: list[str] = []  # the journal or store written, as the start line says it (no password)

    def started(running: Running) -> None:
        where.append(str(running.journal))
        line = start_line(site, running, args)
        log.info("%s", line)
        sd_notify(f"READY=1\nSTATUS={line}")

    async def stopping() -> None:
        await stop.wait()
        log.info("stopping: ending the subscriptions, closing the journal")
        sd_notify("STOPPING=1")

    announce = asyncio.get_running_loop().create_task(stopping())
    try:
        code = await run_headless(args, _ServiceLog(), stop, _say, site=site, started=started)
    finally:
        announce.cancel()
    if code == EXIT_OK:
        log.info("stopped (journal %s)", where[0] if where else journal_location(args))
    return code


def main_collect(args: argparse.Namespace) -> int:
    """Run the collector until SIGTERM/SIGINT; 0 on a clean stop, 1 when another wsdmon uses the
    journal, 2 when it cannot start (a log line says why)."""
    configure_service_logging(args.log_level, sys.stderr, journal_location(args).with_suffix(".log"))
    log.setLevel(min(logging.INFO, logging.getLogger().level))  # the start and stop lines, always
    try:
        return asyncio.run(_collect(args))
    except KeyboardInterrupt:  # Windows: Ctrl-C without a signal handler
        return EXIT_OK
