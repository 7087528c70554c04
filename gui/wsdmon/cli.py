"""Command line: `wsdmon` (the window), `wsdmon --demo`, the headless `wsdmon watch` (its JSON lines
are watch.py's, re-exported here), `collect`, `doctor` and `bundle`.

No Qt is imported on the headless commands' path.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import re
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from wsdmon import __version__
from wsdmon.headless import EXIT_ALREADY_RUNNING, EXIT_CANNOT_START, EXIT_OK, DatabaseLocation
from wsdmon.headless import say_on_stderr as _say
from wsdmon.watch import device_json, job_json, main_watch

__all__ = [
    "EXIT_ALREADY_RUNNING",
    "EXIT_CANNOT_START",
    "EXIT_OK",
    "build_parser",
    "device_json",
    "job_json",
    "main_bundle",
    "main_doctor",
    "main_watch",
    "parse_args",
]


_FINGERPRINT = re.compile(r"(?:[0-9a-fA-F]{2}:?){32}")


def _fingerprint(text: str) -> str:
    if not _FINGERPRINT.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a SHA-256 fingerprint (64 hex digits, colons allowed)"
        )
    return text.replace(":", "").lower()


_HOSTNAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)


def _probe_target(text: str) -> str:
    """HOST, HOST:PORT, an IPv6 address, or [IPv6]:PORT; anything else is a usage error (exit 2)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ("" if not rest else None)
        ipv6 = True
    elif text.count(":") > 1:
        host, port, ipv6 = text, "", True
    else:
        host, _, port = text.partition(":") if ":" in text else (text, "", "")
        ipv6 = False
    if port is None or (port and not (port.isdigit() and 0 < int(port) <= 65535)):
        raise argparse.ArgumentTypeError(f"{text!r}: the port must be a number from 1 to 65535")
    if ipv6:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not an IPv6 address (write [ADDRESS]:PORT to give a port)"
            ) from None
    elif not _HOSTNAME.fullmatch(host):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not HOST or HOST:PORT (a host name or an IP address, "
            "e.g. 192.168.1.20 or scanner.local:3702)"
        )
    return text


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// metadata URL")
    return text


EXIT_STATUS_HELP = """exit status:
  0  stopped cleanly (also when the reader of `watch` closes its end, e.g. `| head`)
  1  another wsdmon (window, watch or collect) already runs on this journal (one per journal)
  2  bad command line, or cannot start: the journal cannot be written or is from a newer
     wsdmon, or the --notify-port given is taken"""

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _since(text: str) -> datetime | timedelta:
    """--since: a duration before now (90s, 10m, 2h, 1d) or an ISO-8601 time (local if naive)."""
    if m := _DURATION.fullmatch(text.strip()):
        return timedelta(seconds=float(m[1]) * _UNIT_S[m[2]])
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a duration (90s, 10m, 2h, 1d) nor an ISO-8601 time (2024-05-01T08:00Z)"
        ) from None
    return when if when.tzinfo is not None else when.astimezone()


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


# A URL scheme (`postgresql://…`), or a libpq key=value connection string (`host=db dbname=wsdmon`).
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_LIBPQ_KEYWORD = re.compile(r"\s*(host|hostaddr|port|dbname|user|password|service|sslmode)\s*=")


def _store_location(text: str) -> Path | DatabaseLocation:
    """--store: a journal file path, or a PostgreSQL URL / libpq keyword string (a shared store; the
    text is never repeated in an error, since it may hold a password)."""
    scheme = _URL_SCHEME.match(text)
    if (scheme and scheme[1].lower() in {"postgresql", "postgres"}) or _LIBPQ_KEYWORD.match(text):
        return DatabaseLocation(text.strip())
    if scheme:
        raise argparse.ArgumentTypeError(f"{scheme[1]}:// is not a store location: give a journal file path")
    if not text.strip():
        raise argparse.ArgumentTypeError("give a journal file path")
    return Path(text)


def _interface(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an interface name or address is needed (e.g. eth0 or 192.168.1.5)")
    return text.strip()


_SITE_MAX_CHARS = 100


def _site(text: str) -> str:
    name = text.strip()
    if not name or len(name) > _SITE_MAX_CHARS or not name.isprintable():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a site name (1 to {_SITE_MAX_CHARS} printable characters, e.g. floor-3)"
        )
    return name


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
        type=_interface,
        metavar="IFACE",
        help="discover on this interface only (repeatable)",
    )
    p.add_argument("--no-discovery", action="store_true", help="no multicast discovery")
    p.add_argument(
        "--notify-port",
        type=int,
        default=None,
        metavar="PORT",
        help="TCP port for event notifications (default 6200, or a free port when 6200 is taken; "
        "given here it must be free; 0 = any free port)",
    )
    p.add_argument(
        "--notify-host",
        default=None,
        metavar="ADDR",
        help="address devices should send notifications to (default: the route to each device)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--journal", type=Path, default=None, metavar="PATH", help="journal database file")
    where.add_argument(
        "--store",
        dest="journal",
        type=_store_location,
        default=None,
        metavar="LOCATION",
        help="where the history is kept: a journal database file (the same as --journal), or a shared "
        "PostgreSQL store (postgresql://… or service=NAME): the window shows every site of it",
    )
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
    parser = argparse.ArgumentParser(
        prog="wsdmon",
        description="WSD Scan Monitor",
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
    watch = sub.add_parser(
        "watch",
        help="headless: print device and job changes",
        description="Print every device change and job change as one JSON object per line. At start "
        'the devices and jobs kept in the journal are printed first, marked "replayed": true; '
        'every line has "seen", the time (ISO-8601, UTC) the change was seen.',
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    watch.add_argument("--json", action="store_true", required=True, help="one JSON object per line")
    watch.add_argument("--duration", type=_positive, default=None, metavar="S", help="stop after S seconds")
    watch.add_argument(
        "--since",
        type=_since,
        default=None,
        metavar="TIME|DURATION",
        help="replay from the journal only what was seen since TIME (ISO-8601, e.g. 2024-05-01T08:00Z; "
        "local time without an offset) or in the last DURATION (e.g. 90s, 10m, 2h, 1d); "
        "'--since 0s' replays nothing. Default: replay everything",
    )
    _add_engine_options(watch)
    _add_collect_parser(sub)
    _add_bundle_parser(sub)
    _add_doctor_parser(sub)
    return parser


def _add_collect_parser(sub: Any) -> None:
    collect = sub.add_parser(
        "collect",
        help="headless service: discover devices, subscribe to them and keep their jobs in the journal",
        description="Run the monitor without a window until stopped (SIGTERM, SIGINT): discovery, "
        "subscriptions, notifications and the journal, for one site. Logs go to stderr (for the "
        "systemd journal when run by systemd); a clean stop unsubscribes from every device.",
        epilog=EXIT_STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    collect.add_argument(
        "--site",
        type=_site,
        default=None,
        metavar="NAME",
        help="the site this collector watches, kept with what it collects (default: the host name)",
    )
    _add_engine_options(collect)
    collect.set_defaults(log_level="INFO")


def _add_doctor_parser(sub: Any) -> None:
    doctor = sub.add_parser(
        "doctor",
        help="check this computer's network for WSD: interfaces, ports, probes, devices",
        description="Check the network as wsdmon uses it and print one line per check (verdict, what "
        "was seen, the evidence, what to do next). Exit status 0 when no problem was found, 1 when "
        "one was, 2 on a bad command line.",
    )
    doctor.add_argument(
        "--probe",
        action="append",
        default=[],
        type=_probe_target,
        metavar="HOST[:PORT]",
        help="send a directed WS-Discovery probe to HOST and time its answer (repeatable)",
    )
    doctor.add_argument(
        "--device",
        action="append",
        default=[],
        type=_url,
        metavar="URL",
        help="read a device's metadata from this URL (an XAddr; repeatable)",
    )
    doctor.add_argument(
        "--interface",
        action="append",
        default=[],
        metavar="IFACE",
        help="check only this interface (name or address; repeatable; default: all but loopback)",
    )
    doctor.add_argument(
        "--notify-port",
        type=int,
        default=6200,
        metavar="PORT",
        help="the notify port to check (default 6200)",
    )
    doctor.add_argument(
        "--duration",
        type=_positive,
        default=4.0,
        metavar="S",
        help="how long to wait for each probe's and device's answer, and then to watch the "
        "devices found (multicast, --probe, --device) for their health (default 4)",
    )
    doctor.add_argument("--json", action="store_true", help="print one JSON document")


def _add_bundle_parser(sub: Any) -> None:
    bundle = sub.add_parser(
        "bundle",
        help="save a support bundle (a zip of the journal's devices, jobs and messages)",
        description="Write a zip for a technician: devices, the jobs and the raw messages of the last "
        "hours from the journal, version and network interfaces; README.txt inside says what each "
        "file is. Exit status 0 when written, 2 when it cannot be (a line on stderr says why).",
    )
    bundle.add_argument(
        "--device",
        dest="bundle_devices",
        action="append",
        default=[],
        metavar="ID",
        help="only this device: its endpoint (urn:uuid:…) or its name (repeatable)",
    )
    bundle.add_argument(
        "--hours", type=_positive, default=24.0, metavar="N", help="the last N hours (default 24)"
    )
    bundle.add_argument(
        "--redact",
        action="store_true",
        help="replace user names, host names and IP/MAC/e-mail addresses by tokens (user-1, ip-1…)",
    )
    bundle.add_argument("--journal", type=Path, default=None, metavar="PATH", help="journal database file")
    bundle.add_argument(
        "-o", "--output", type=Path, required=True, metavar="FILE.zip", help="the zip to write"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main_doctor(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """`wsdmon doctor`: the network self-check, then the engine run headless for --duration on a
    temporary journal and every device's health; 0 when no problem was found, 1 when one was."""
    from wsdmon.net.selfcheck import SelfCheckOptions
    from wsdmon.support.doctor_report import has_problem, report_json, report_text

    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if not 0 <= args.notify_port <= 65535:
        _say(f"--notify-port {args.notify_port} is not a port number (0 to 65535)")
        return EXIT_CANNOT_START
    options = SelfCheckOptions(
        notify_port=args.notify_port,
        probes=tuple(args.probe),
        devices=tuple(args.device),
        interfaces=tuple(args.interface),
        wait_s=args.duration,
    )
    try:
        results, devices = asyncio.run(_doctor(options))
    except ValueError as exc:  # an empty --interface entry
        _say(str(exc))
        return EXIT_CANNOT_START
    except OSError as exc:  # the engine could not start (no notify port at all, no temporary folder)
        _say(exc.strerror or str(exc))
        return EXIT_CANNOT_START
    text = (
        json.dumps(report_json(results, devices), indent=2) + "\n"
        if args.json
        else report_text(results, devices)
    )
    out.write(text)
    out.flush()
    return 1 if has_problem(results, devices) else EXIT_OK


async def _doctor(options: Any) -> tuple[list[Any], list[Any]]:
    """The network checks, then the devices' health from the engine on a journal of its own in a
    temporary folder (removed after; the user's journal is never opened)."""
    import tempfile

    from wsdmon.net.selfcheck import run_device_health, run_selfcheck
    from wsdmon.store import Journal

    results = await run_selfcheck(options)
    with tempfile.TemporaryDirectory(prefix="wsdmon-doctor-") as folder:
        journal = Journal(Path(folder) / "journal.sqlite3")
        try:
            devices = await run_device_health(options, journal)
        finally:
            journal.close()
    return results, devices


def main_bundle(args: argparse.Namespace) -> int:
    """`wsdmon bundle`: write the support bundle; 0 when written, 2 (one line on stderr) when not."""
    from wsdmon.store import default_journal_path
    from wsdmon.support import BundleError, BundleOptions, make_bundle

    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    options = BundleOptions(
        journal=args.journal or default_journal_path(),
        output=args.output,
        devices=tuple(args.bundle_devices),
        hours=args.hours,
        redact=args.redact,
    )
    try:
        result = make_bundle(options)
    except BundleError as exc:
        _say(str(exc))
        return EXIT_CANNOT_START
    counts = ((result.devices, "device"), (result.jobs, "job"), (result.messages, "message"))
    said = ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in counts)
    print(f"wrote {result.path}: {said}" + (" (redacted)" if args.redact else ""))
    return EXIT_OK
