"""Command line: `wsdmon` (the window), `wsdmon --demo`, and the headless `wsdmon watch`.

`watch` prints one JSON object per line for every device change and every job change, so scripts
(and the engine's end-to-end tests) can follow the monitor without a window. No Qt is imported on
that path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from wsdmon import __version__

__all__ = ["build_parser", "device_json", "job_json", "main_watch", "parse_args"]

log = logging.getLogger(__name__)

_FINGERPRINT = re.compile(r"(?:[0-9a-fA-F]{2}:?){32}")


def _fingerprint(text: str) -> str:
    if not _FINGERPRINT.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a SHA-256 fingerprint (64 hex digits, colons allowed)"
        )
    return text.replace(":", "").lower()


def _probe_target(text: str) -> str:
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    if port and not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: port must be a number")
    if not (host or text):
        raise argparse.ArgumentTypeError("empty host")
    return text


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// metadata URL")
    return text


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _add_engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--probe",
        action="append",
        default=[],
        type=_probe_target,
        metavar="HOST[:PORT]",
        help="send a directed WS-Discovery probe to HOST (when multicast is blocked)",
    )
    p.add_argument(
        "--device",
        action="append",
        default=[],
        type=_url,
        metavar="URL",
        help="add a device by its metadata URL (an XAddr)",
    )
    p.add_argument(
        "--interface",
        action="append",
        default=[],
        metavar="IFACE",
        help="discover on this interface only (repeatable)",
    )
    p.add_argument("--no-discovery", action="store_true", help="no multicast discovery")
    p.add_argument(
        "--notify-port",
        type=int,
        default=None,
        metavar="PORT",
        help="TCP port for event notifications (default 6200; 0 = any free port)",
    )
    p.add_argument(
        "--notify-host",
        default=None,
        metavar="ADDR",
        help="address devices should send notifications to (default: the route to each device)",
    )
    p.add_argument("--journal", type=Path, default=None, metavar="PATH", help="journal database file")
    p.add_argument(
        "--trust-fingerprint",
        action="append",
        default=[],
        type=_fingerprint,
        metavar="SHA256",
        help="accept a self-signed HTTPS certificate with this SHA-256 fingerprint",
    )
    p.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wsdmon", description="WSD Scan Monitor")
    parser.add_argument("--version", action="version", version=f"wsdmon {__version__}")
    parser.add_argument("--demo", action="store_true", help="run against the built-in simulated devices")
    parser.add_argument(
        "--quit-after",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="close cleanly after this many seconds (smoke tests)",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        metavar="PNG",
        help="with --quit-after: save a picture of the window just before it closes",
    )
    _add_engine_options(parser)
    sub = parser.add_subparsers(dest="command")
    watch = sub.add_parser("watch", help="headless: print device and job changes")
    watch.add_argument("--json", action="store_true", required=True, help="one JSON object per line")
    watch.add_argument("--duration", type=_positive, default=None, metavar="S", help="stop after S seconds")
    _add_engine_options(watch)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def job_json(change: Any) -> dict[str, Any]:
    """The `watch` line of a job change (issue 4.10)."""
    rec = change.record
    s = rec.status
    return {
        "kind": "job",
        "device": rec.key.device,
        "job_token": s.job_token,
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
        # "scan": a WSD scanner's scan job (WS-Scan; job_token is its JobId, images_received its
        # ScansCompleted); "post-scan": a scan server's post-scan job (DSM).
        "job_kind": rec.kind.value,
        "job_name": rec.job_name,
        "job_originating_user_name": rec.job_originating_user_name,
    }


def device_json(device: Any) -> dict[str, Any]:
    """The `watch` line of a device change (issue 4.10)."""
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
        "conditions": [text for s in device.services for _, text in s.conditions],
    }


class _JsonPrinter:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._last_device: dict[str, dict[str, Any]] = {}

    def _print(self, obj: dict[str, Any]) -> None:
        self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.out.flush()

    def device_changed(self, device: Any) -> None:
        line = device_json(device)
        if self._last_device.get(device.endpoint) != line:  # only real changes
            self._last_device[device.endpoint] = line
            self._print(line)

    def job_changed(self, change: Any) -> None:
        if change.accepted:
            self._print(job_json(change))

    def message_logged(self, entry: Any) -> None:
        pass

    def message_rejected(self, reason: str, detail: str) -> None:
        log.warning("rejected: %s: %s", reason, detail)


async def _watch(args: argparse.Namespace, out: TextIO) -> int:
    from wsdmon.net.engine import DEFAULT_NOTIFY_PORT, Engine, EngineConfig
    from wsdmon.store import Journal, default_journal_path

    journal = Journal(args.journal or default_journal_path())
    config = EngineConfig(
        notify_port=DEFAULT_NOTIFY_PORT if args.notify_port is None else args.notify_port,
        notify_host=args.notify_host,
        device_urls=tuple(args.device),
        trusted_fingerprints=tuple(args.trust_fingerprint),
    )
    engine = Engine(config, journal, _JsonPrinter(out))  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has no add_signal_handler
            loop.add_signal_handler(sig, stop.set)
    try:
        await engine.start()
    except OSError as exc:
        print(f"wsdmon: {exc}", file=sys.stderr)
        journal.close()
        return 2
    from wsdmon.net.wiring import Discovery

    discovery = None
    try:
        if args.probe or not args.no_discovery:
            discovery = Discovery(engine, interfaces=args.interface, multicast=not args.no_discovery)
            await discovery.start()
            for target in args.probe:
                engine.spawn(discovery.probe_host(target))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.duration)
    finally:
        if discovery is not None:
            await discovery.stop()
        await engine.stop()
        journal.close()
    return 0


def main_watch(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Run the headless monitor until --duration passes or SIGINT/SIGTERM; exit code 0 on a clean stop."""
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_watch(args, out))
    except KeyboardInterrupt:
        return 0
