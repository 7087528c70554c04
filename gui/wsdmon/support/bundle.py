"""The support bundle: one zip of what a technician needs to see why scanning fails, readable
without wsdmon (text, JSON, XML). See README_TEXT for its parts.

make_bundle() blocks (it reads the journal on a read-only connection of its own and writes the
zip): run it in an executor from the window, directly from the command line. The zip is written
to `<out>.part` and renamed when complete, so a failure leaves no half bundle. A journal that is
missing, damaged or unreadable gives BundleError with one line saying so, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wsdmon import __version__
from wsdmon.core.health import DeviceHealth
from wsdmon.core.jobs import JobKey, JobRecord
from wsdmon.store import JournalError, read_jobs
from wsdmon.store.devices import load_devices
from wsdmon.store.export import write_records
from wsdmon.store.opening import damage_of

from .environment import environment
from .health_report import health_json, health_text
from .journal_health import health_from_journal, judged_at
from .redact import REDACTED_KINDS, Redactor

__all__ = [
    "DEFAULT_HOURS",
    "HEALTH_JSON",
    "HEALTH_TEXT",
    "BundleError",
    "BundleOptions",
    "BundleResult",
    "make_bundle",
]

DEFAULT_HOURS = 24.0  # the period a bundle covers unless told otherwise
HEALTH_TEXT = "health-report.txt"
HEALTH_JSON = "health-report.json"
_ACTION_NAME_MAX = 60  # characters of the action's last segment kept in a message's file name
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class BundleError(Exception):
    """The bundle cannot be made; the message is one line saying why and what to do."""


@dataclass(frozen=True, slots=True)
class BundleOptions:
    journal: Path
    output: Path
    devices: Sequence[str] = ()  # endpoints (urn:uuid) or unambiguous friendly names; () = all
    hours: float = DEFAULT_HOURS
    redact: bool = False
    # The jobs chosen (the window's job table): only these, whatever their age; () = every job of the
    # devices chosen that was updated in the period.
    jobs: Sequence[JobKey] = ()
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class BundleResult:
    path: Path
    devices: int
    jobs: int
    messages: int


@dataclass
class _Device:
    row: dict[str, Any]

    @property
    def endpoint(self) -> str:
        return str(self.row["endpoint"])


_JSON_COLUMNS = ("device_category", "roles", "xaddrs", "services", "state")


def _devices(conn: sqlite3.Connection) -> list[_Device]:
    trust = dict(conn.execute("SELECT endpoint, sha256 FROM trust").fetchall())
    cursor = conn.execute("SELECT * FROM devices ORDER BY endpoint")
    names = [d[0] for d in cursor.description]
    out = []
    for values in cursor:
        row: dict[str, Any] = dict(zip(names, values, strict=True))
        for column in _JSON_COLUMNS:
            if column not in row:  # a journal of the schema before (state came with v5)
                continue
            with contextlib.suppress(TypeError, ValueError):  # a damaged cell is shown as stored
                row[column] = json.loads(row[column])
        row["trusted_sha256"] = trust.get(row["endpoint"])
        out.append(_Device(row))
    return out


def _choose(devices: list[_Device], wanted: Sequence[str]) -> set[str] | None:
    """The endpoints asked for (by endpoint or by unambiguous friendly name), None for all."""
    if not wanted:
        return None
    chosen: set[str] = set()
    for text in wanted:
        if any(d.endpoint == text for d in devices):
            chosen.add(text)
            continue
        named = [d.endpoint for d in devices if str(d.row.get("friendly_name") or "").lower() == text.lower()]
        if len(named) == 1:
            chosen.add(named[0])
        elif named:
            raise BundleError(f"{len(named)} devices are named {text!r}: give one of {', '.join(named)}")
        else:
            raise BundleError(f"no device {text!r} in the journal (give its endpoint urn:uuid:… or its name)")
    return chosen


def _messages(
    conn: sqlite3.Connection, since: datetime, chosen: set[str] | None
) -> Iterator[tuple[Any, ...]]:
    sql = (
        "SELECT id, arrival, device, subscription, action, message_id, summary, raw FROM messages"
        " WHERE arrival_epoch >= ? ORDER BY id"
    )
    for row in conn.execute(sql, (since.timestamp(),)):
        if chosen is None or row[2] in chosen:
            yield row


def _jobs_json(records: list[JobRecord], names: Callable[[str], str]) -> list[Any]:
    """export.write_records' JSON (the same fields as File ▸ Export table…), as a value."""
    with tempfile.TemporaryDirectory(prefix="wsdmon-bundle-") as folder:
        path = Path(folder) / "jobs.json"
        write_records(path, "json", records, names)
        return list(json.loads(path.read_text(encoding="utf-8")))


def _message_file(row: tuple[Any, ...], redactor: Redactor | None) -> str:
    row_id, arrival, action = row[0], str(row[1]), str(row[4])
    try:
        stamp = datetime.fromisoformat(arrival).astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    except ValueError:
        stamp = "unknown-time"
    name = action.rstrip("/").rpartition("/")[2] or "message"
    if redactor is not None:
        name = redactor.text(name)
    return f"messages/{row_id:08d}_{stamp}_{_UNSAFE.sub('_', name)[:_ACTION_NAME_MAX]}.xml"


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def make_bundle(options: BundleOptions) -> BundleResult:
    """Write the support bundle of options.output; BundleError (one line) when it cannot."""
    path = options.journal
    if not path.exists():
        raise BundleError(f"no journal at {path}: give the journal's path with --journal PATH")
    damage = damage_of(path)
    if damage is not None:
        raise BundleError(f"the journal {path} is damaged ({damage}): no bundle can be made from it")
    try:
        return _make(options)
    except JournalError as exc:
        raise BundleError(str(exc)) from exc
    except sqlite3.Error as exc:
        raise BundleError(
            f"the journal {path} cannot be read ({exc}): no bundle can be made from it"
        ) from exc


@dataclass
class _Selection:
    """What the bundle holds: the period, the devices chosen, their jobs, this computer."""

    since: datetime
    chosen: set[str] | None
    devices: list[_Device]
    records: list[JobRecord]
    jobs: list[Any]
    env: dict[str, Any]
    health: list[DeviceHealth] = field(default_factory=list)
    judged_at: datetime | None = None
    names: dict[str, str] = field(default_factory=dict)


def _make(options: BundleOptions) -> BundleResult:
    from wsdmon.store.schema import connect_read_only

    since = options.now - timedelta(hours=options.hours)
    conn = connect_read_only(options.journal)
    try:
        conn.execute("BEGIN")  # one snapshot of devices and messages
        devices = _devices(conn)
        chosen = _choose(devices, options.devices)
        devices = [d for d in devices if chosen is None or d.endpoint in chosen]
        names = {
            d.endpoint: str(d.row.get("friendly_name") or d.row.get("model_name") or d.endpoint)
            for d in devices
        }
        keys = set(options.jobs)

        def wanted(r: JobRecord) -> bool:
            if keys:
                return r.key in keys
            return r.last_update >= since and (chosen is None or r.key.device in chosen)

        every = read_jobs(options.journal)
        records = [r for r in every if wanted(r)]
        jobs = _jobs_json(records, lambda ep: names.get(ep, ep))
        selection = _Selection(since, chosen, devices, records, jobs, environment())
        selection.judged_at = judged_at(conn, options.now)
        stored, _ = load_devices(conn)
        chosen_records = [r for r in stored if chosen is None or r.endpoint in chosen]
        # Health is judged on all the chosen devices' jobs of the period, not only the jobs picked.
        period = [r for r in every if r.last_update >= since]
        selection.health = health_from_journal(conn, chosen_records, period, since, selection.judged_at)
        selection.names = names
        redactor = _collect(conn, selection) if options.redact else None
        return _write(options, conn, selection, redactor)
    finally:
        conn.close()


def _collect(conn: sqlite3.Connection, sel: _Selection) -> Redactor:
    """First pass: every user and host name the bundle would hold."""
    redactor = Redactor()
    redactor.add_host(str(sel.env.get("host_name") or ""))
    for record in sel.records:
        redactor.add_user(record.job_originating_user_name)
    redactor.collect_value([d.row for d in sel.devices])
    redactor.collect_value(sel.jobs)
    for row in _messages(conn, sel.since, sel.chosen):
        redactor.collect_text(str(row[6]))
        if isinstance(row[7], bytes):
            redactor.collect_xml(row[7])
    return redactor


_INDEX_KEYS = ("id", "arrival", "device", "subscription", "action", "message_id", "summary")


def _write(
    options: BundleOptions, conn: sqlite3.Connection, sel: _Selection, redactor: Redactor | None
) -> BundleResult:
    def clean(value: Any) -> Any:
        return redactor.value(value) if redactor is not None else value

    out = options.output
    part = out.with_name(out.name + ".part")
    index: list[dict[str, Any]] = []
    try:
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for row in _messages(conn, sel.since, sel.chosen):
                raw = row[7] if isinstance(row[7], bytes) else str(row[7]).encode("utf-8")
                entry: dict[str, Any] = {"file": _message_file(row, redactor)}
                if redactor is not None:
                    raw, well_formed = redactor.xml(raw)
                    if not well_formed:
                        entry["note"] = "not well-formed XML: redacted as text"
                zf.writestr(entry["file"], raw)
                entry.update(clean(dict(zip(_INDEX_KEYS, row[:7], strict=True))))
                index.append(entry)
            zf.writestr("messages/index.json", _dump(index))
            zf.writestr("devices.json", _dump(clean([d.row for d in sel.devices])))
            zf.writestr("jobs.json", _dump(clean(sel.jobs)))
            zf.writestr("environment.json", _dump(clean(sel.env)))
            report, document = _health(sel)
            zf.writestr(HEALTH_TEXT, redactor.text(report) if redactor is not None else report)
            zf.writestr(HEALTH_JSON, _dump(clean(document)))
            zf.writestr("README.txt", readme(options, sel.since, sel.chosen, redactor))
        os.replace(part, out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise BundleError(f"cannot write {out}: {reason}: choose another folder or file name") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        raise
    return BundleResult(out, len(sel.devices), len(sel.jobs), len(index))


_HEALTH_HEAD = """\
Health of each device, judged from the journal as of {at} (UTC), the last message it holds.
Made offline: what only a running monitor sees (discovery, probe replies, multicast, faults to
requests, restarts) is "not known" here; `wsdmon doctor` checks those live.
"""


def _health(sel: _Selection) -> tuple[str, dict[str, Any]]:
    """health-report.txt and health-report.json."""
    at = (sel.judged_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    lines = [_HEALTH_HEAD.format(at=at)]
    for health in sel.health:
        lines += health_text(health, sel.names.get(health.endpoint))
    if not sel.health:
        lines.append("No device in the journal.")
    document = {
        "wsdmon": __version__,
        "source": "journal",
        "judged_at": at,
        "problem": any(h.verdict.value == "problem" for h in sel.health),
        "devices": [health_json(h, sel.names.get(h.endpoint)) for h in sel.health],
    }
    return "\n".join(lines) + "\n", document


def readme(
    options: BundleOptions, since: datetime, chosen: set[str] | None, redactor: Redactor | None
) -> str:
    """README.txt: what the bundle covers and what each file is."""
    devices = "all devices" if chosen is None else f"{len(chosen)} device(s) chosen with --device"
    lines = [
        "wsdmon support bundle",
        "=====================",
        "",
        f"Made {options.now.astimezone(UTC).isoformat(timespec='seconds')} (UTC) from the journal of wsdmon.",
        f"Period: the last {options.hours:g} hours"
        f" (since {since.astimezone(UTC).isoformat(timespec='seconds')}), {devices}.",
        "Every file is plain text, JSON or XML (UTF-8): no wsdmon is needed to read it.",
        "",
        "Files",
        "-----",
        "README.txt          this file",
        "environment.json    wsdmon and Python versions, the operating system, Qt's version when",
        "                    the bundle was made from the window (null from the command line), this",
        "                    computer's network interfaces and addresses. No environment variables.",
        "devices.json        the devices as the journal keeps them: metadata (names, model, serial,",
        "                    firmware), XAddrs, hosted services with their addresses, when first and last",
        "                    seen, the SHA-256 fingerprint of an HTTPS certificate the user trusted,",
        "                    and what the monitor last knew of each (state, written at state_at):",
        "                    online or why not, the error reading it, each service's subscription",
        "                    (and its error), the state and conditions the device reported.",
        "jobs.json           the jobs updated in the period (or the jobs chosen, whatever their",
        "                    age, when the bundle was made for chosen jobs), each with its timeline",
        "                    of observations (the same fields as File > Export table... as JSON).",
        "messages/           the raw XML of each message the journal accepted in the period, one file",
        "                    per message: <journal id>_<arrival time, UTC>_<action>.xml.",
        "messages/index.json one entry per message file: its id, arrival time, device, subscription,",
        "                    action, WS-Addressing MessageID and wsdmon's one-line summary.",
        "health-report.txt  each device's health: one line per check (verdict, what was seen,",
        "                    the evidence, what to do next), judged from the journal as of its last",
        "                    message; checks only a running monitor can make say NOT KNOWN.",
        "health-report.json the same as JSON (the fields of `wsdmon doctor --json`'s devices).",
        "",
        "wsdmon's log: wsdmon keeps no log file. It writes its log to the standard error of the",
        "process (the terminal, or the service manager's journal); it is not in this bundle. To",
        "include one, run `wsdmon --log-level INFO 2> wsdmon.log` and send that file as well.",
        "",
    ]
    if redactor is None:
        lines += [
            "Redaction: none. This bundle holds user names, host names and addresses as they were",
            "received. Make it with --redact to replace them before sending it outside your organisation.",
        ]
    else:
        lines += [
            "Redaction: on (--redact). In every file, including the raw XML, each of these values was",
            "replaced by a token; the same value always gives the same token, so what belongs",
            "together still can be seen (e.g. every job of user-1):",
            "",
        ]
        lines += [f"  {kind}-N  {what}" for kind, what in REDACTED_KINDS.items()]
        lines += [
            "",
            "Kept as they are: device names (FriendlyName), manufacturer, model, serial number and",
            "firmware, scan profile names (PSP_DisplayName) and job names, endpoint and message",
            "UUIDs (other than version-1 UUIDs' MAC part), times, states, and XML namespace URIs;",
            "but any user or host name found elsewhere is replaced inside these too. The messages",
            "were parsed and written again as UTF-8 XML with their comments removed; their",
            "content is otherwise unchanged. Tokens used: "
            + (", ".join(f"{n} {kind}" for kind, n in redactor.used()) or "none"),
        ]
    return "\n".join(lines) + "\n"
