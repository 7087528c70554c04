"""Export of jobs and events (accepted messages) to CSV and JSON.

Plain blocking functions with their own read-only connection: run them in an executor, never on the
loop. They read one consistent snapshot while the journal keeps writing, write to `<out>.part` and
rename it over `out_path` only when complete, so a failed or cancelled export leaves no half file.
A row that cannot be decoded is skipped, logged and counted, never allowed to stop the export.

Times are ISO-8601 as received: a value with an offset keeps it; a naive value ("server local",
MS-BDSRR §2.2.4.1) is written without one. Message arrival times are UTC.

Text in the CSV files comes from devices on the network. A cell that a spreadsheet would run as a
formula (it begins with =, +, -, @, a tab or a carriage return, or their full-width forms: OWASP's
"CSV injection") is written with a leading apostrophe, which spreadsheets show as text and hide.
Numbers stay numbers. The JSON exports carry every value exactly as received.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from wsdmon.core.jobs import JobRecord, TimelineEntry
from wsdmon.core.names import dialect_name

from .codec import CodecError, decode_job_record, decode_timeline_entry, encode_change, loads
from .schema import connect_read_only

__all__ = [
    "EVENT_CSV_COLUMNS",
    "JOB_CSV_COLUMNS",
    "DeviceNames",
    "ExportResult",
    "Progress",
    "export_events_csv",
    "export_events_json",
    "export_jobs_csv",
    "export_jobs_json",
    "write_records",
]

_log = logging.getLogger(__name__)

PROGRESS_EVERY_ROWS = 500
Progress = Callable[[int], bool]
"""Called with the rows written so far, every PROGRESS_EVERY_ROWS rows; return False to cancel."""
DeviceNames = Callable[[str], str]
"""A device's endpoint (urn:uuid) → the name people know it by (its FriendlyName)."""

JOB_CSV_COLUMNS = (
    "device", "device_id", "job_token", "job_state", "job_state_reasons", "images_received", "created",
    "completed", "duration_s", "filters", "psp_display_name", "user", "ended", "lost", "generation",
    "unknown_since", "site",
)  # fmt: skip
EVENT_CSV_COLUMNS = ("id", "arrival", "device", "subscription", "action", "message_id", "summary")


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export did: rows written, damaged rows skipped, and whether it was cancelled (then
    nothing was written)."""

    written: int
    skipped: int
    cancelled: bool = False


class _CancelledError(Exception):
    pass


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# --- jobs --------------------------------------------------------------------------------------


def _timeline(
    conn: sqlite3.Connection, device: str, token: str, generation: int
) -> tuple[tuple[TimelineEntry, ...], int]:
    entries: list[TimelineEntry] = []
    skipped = 0
    rows = conn.execute(
        "SELECT seq, entry FROM timeline WHERE device = ? AND job_token = ? AND generation = ? ORDER BY seq",
        (device, token, generation),
    )
    for seq, entry in rows:
        try:
            entries.append(decode_timeline_entry(loads(entry)))
        except (CodecError, TypeError) as exc:
            skipped += 1
            _log.warning("export: skipped timeline entry %s of job %r on %s: %s", seq, token, device, exc)
    return tuple(entries), skipped


def _jobs(
    conn: sqlite3.Connection, device: str | None, timeline: bool, skipped: list[int]
) -> Iterator[JobRecord]:
    where, params = ("WHERE device = ?", (device,)) if device is not None else ("", ())
    sql = f"SELECT device, job_token, generation, record FROM jobs {where} ORDER BY rowid"  # noqa: S608  # no input in it
    for dev, token, generation, record in conn.execute(sql, params):
        entries: tuple[TimelineEntry, ...] = ()
        if timeline:
            entries, bad = _timeline(conn, dev, token, generation)
            skipped[0] += bad
        try:
            yield decode_job_record(loads(record), entries)
        except (CodecError, TypeError) as exc:
            skipped[0] += 1
            _log.warning("export: skipped damaged job %r on %s: %s", token, dev, exc)


def _filters_text(record: JobRecord) -> str:
    parts = []
    for f in record.status.filter_statuses:
        reasons = f"[{','.join(map(str, f.reasons))}]" if f.reasons else ""
        parts.append(f"{dialect_name(f.dialect)}={f.state}{reasons}")
    return "; ".join(parts)


def _journal_names(conn: sqlite3.Connection) -> DeviceNames:
    """Device names as the journal last stored them (FriendlyName, else model name, else endpoint)."""
    names: dict[str, str] = {}
    for endpoint, friendly, model in conn.execute("SELECT endpoint, friendly_name, model_name FROM devices"):
        if isinstance(endpoint, str):
            names[endpoint] = str(friendly or model or endpoint)
    return lambda endpoint: names.get(endpoint, endpoint)


def _no_names(endpoint: str) -> str:
    return endpoint


_FORMULA_STARTS = tuple("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def _cell(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula (see the module docstring)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class _CsvWriter:
    """csv.writer whose text cells are made safe for spreadsheets (_cell)."""

    def __init__(self, fh: IO[str]) -> None:
        self._writer = csv.writer(fh)

    def writerow(self, row: Sequence[object]) -> None:
        self._writer.writerow([_cell(v) for v in row])


def _job_csv_row(r: JobRecord, name: DeviceNames) -> list[object]:
    s = r.status
    duration = r.duration_s
    return [
        name(r.key.device),
        r.key.device,
        r.key.job_token,
        str(s.job_state),
        "; ".join(map(str, s.job_state_reasons)),
        s.images_received,
        _iso(s.job_created_time) or "",
        _iso(s.job_completed_time) or "",
        "" if duration is None else duration,
        _filters_text(r),
        r.psp_display_name or "",
        r.job_originating_user_name or "",
        "true" if r.ended else "false",
        "true" if r.lost else "false",
        r.key.generation,
        _iso(r.unknown_since) or "",
        r.key.site,
    ]


def _job_json(r: JobRecord, name: DeviceNames) -> dict[str, object]:
    s = r.status
    return {
        "device": name(r.key.device),
        "device_id": r.key.device,
        "job_token": r.key.job_token,
        "job_state": str(s.job_state),
        "job_state_reasons": [str(x) for x in s.job_state_reasons],
        "images_received": s.images_received,
        "created": _iso(s.job_created_time),
        "completed": _iso(s.job_completed_time),
        "duration_s": r.duration_s,
        "filters": [
            {
                "name": dialect_name(f.dialect),
                "dialect": f.dialect,
                "state": str(f.state),
                "reasons": [str(x) for x in f.reasons],
            }
            for f in s.filter_statuses
        ],
        "psp_identifier": r.psp_identifier,
        "psp_display_name": r.psp_display_name,
        "user": r.job_originating_user_name,
        "ended": r.ended,
        "lost": r.lost,
        # 0 for the first job seen with this token on the device, n for its nth reuse (devices
        # reuse tokens: core.jobs rule 6).
        "generation": r.key.generation,
        "unknown_since": _iso(r.unknown_since),  # the monitor lost sight of the job then (rule 7)
        "site": r.key.site,  # the collector that saw it, in a view of a shared store ("" otherwise)
        "first_seen": _iso(r.first_seen),
        "last_update": _iso(r.last_update),
        "extensions": list(s.extensions),
        "timeline": [
            {
                "arrival": _iso(e.arrival),
                "kind": e.kind.value,
                "changes": [encode_change(c) for c in e.changes],  # typed: {"field", "old", "new"…}
                "stale": e.stale,
                "message_id": e.message_id,
                "journal_id": e.journal_id,
            }
            for e in r.timeline
        ],
        # Observations left out between the first and the latest (core.jobs.MAX_TIMELINE); the
        # events export has every message.
        "timeline_dropped": r.timeline_dropped,
    }


# --- events ------------------------------------------------------------------------------------


def _events(conn: sqlite3.Connection, device: str | None, skipped: list[int]) -> Iterator[dict[str, Any]]:
    where, params = ("WHERE device = ?", (device,)) if device is not None else ("", ())
    rows = conn.execute(
        "SELECT id, arrival, device, subscription, action, message_id, summary, raw"  # noqa: S608
        f" FROM messages {where} ORDER BY id",
        params,
    )
    for row in rows:
        row_id, arrival, dev, subscription, action, message_id, summary, raw = row
        texts_ok = all(isinstance(v, str) for v in (arrival, dev, action, summary)) and all(
            v is None or isinstance(v, str) for v in (subscription, message_id)
        )
        if not (isinstance(row_id, int) and texts_ok and isinstance(raw, bytes)):
            skipped[0] += 1
            _log.warning("export: skipped damaged message row %r", row_id)
            continue
        yield {
            "id": row_id,
            "arrival": arrival,
            "device": dev,
            "subscription": subscription,
            "action": action,
            "message_id": message_id,
            "summary": summary,
            "raw": raw,
        }


def _event_json(event: dict[str, Any]) -> dict[str, Any]:
    out = dict(event)
    raw: bytes = out.pop("raw")
    try:
        out["raw"] = raw.decode("utf-8")
    except UnicodeDecodeError:  # e.g. a UTF-16 document: keep every byte, as base64
        out["raw"] = None
        out["raw_base64"] = base64.b64encode(raw).decode("ascii")
    return out


# --- driver ------------------------------------------------------------------------------------


def _run(
    db_path: str | Path,
    out_path: str | Path,
    write: Callable[[sqlite3.Connection, IO[str], list[int], Callable[[int], None]], int],
    progress: Progress | None,
) -> ExportResult:
    out = Path(out_path)
    part = out.with_name(out.name + ".part")
    skipped = [0]

    def tick(done: int) -> None:
        if progress is not None and done % PROGRESS_EVERY_ROWS == 0 and not progress(done):
            raise _CancelledError

    conn = connect_read_only(Path(db_path))
    try:
        conn.execute("BEGIN")  # one snapshot for the whole export
        with part.open("w", encoding="utf-8", newline="") as fh:
            written = write(conn, fh, skipped, tick)
        os.replace(part, out)
    except _CancelledError:
        part.unlink(missing_ok=True)
        return ExportResult(0, skipped[0], cancelled=True)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        raise
    finally:
        conn.close()
    if skipped[0]:
        _log.warning("export to %s: %d damaged rows skipped", out, skipped[0])
    return ExportResult(written, skipped[0])


def _write_json_array(fh: IO[str], items: Iterator[dict[str, Any]], tick: Callable[[int], None]) -> int:
    # Streamed one object at a time: an export of a large journal never sits in memory whole.
    count = 0
    fh.write("[")
    for item in items:
        fh.write(",\n" if count else "\n")
        fh.write(json.dumps(item, ensure_ascii=False))
        count += 1
        tick(count)
    fh.write("\n]\n" if count else "]\n")
    return count


def export_jobs_csv(
    db_path: str | Path, out_path: str | Path, *, device: str | None = None, progress: Progress | None = None
) -> ExportResult:
    """Jobs (of one device, or all) as CSV with JOB_CSV_COLUMNS."""

    def write(conn: sqlite3.Connection, fh: IO[str], skipped: list[int], tick: Callable[[int], None]) -> int:
        writer = _CsvWriter(fh)
        writer.writerow(JOB_CSV_COLUMNS)
        name = _journal_names(conn)
        count = 0
        for record in _jobs(conn, device, False, skipped):
            writer.writerow(_job_csv_row(record, name))
            count += 1
            tick(count)
        return count

    return _run(db_path, out_path, write, progress)


def export_jobs_json(
    db_path: str | Path, out_path: str | Path, *, device: str | None = None, progress: Progress | None = None
) -> ExportResult:
    """Jobs (of one device, or all) as a JSON array, each with all its fields and its timeline."""

    def write(conn: sqlite3.Connection, fh: IO[str], skipped: list[int], tick: Callable[[int], None]) -> int:
        name = _journal_names(conn)
        return _write_json_array(fh, (_job_json(r, name) for r in _jobs(conn, device, True, skipped)), tick)

    return _run(db_path, out_path, write, progress)


def export_events_csv(
    db_path: str | Path, out_path: str | Path, *, device: str | None = None, progress: Progress | None = None
) -> ExportResult:
    """Accepted messages (of one device, or all) with their summaries as CSV, EVENT_CSV_COLUMNS."""

    def write(conn: sqlite3.Connection, fh: IO[str], skipped: list[int], tick: Callable[[int], None]) -> int:
        writer = _CsvWriter(fh)
        writer.writerow(EVENT_CSV_COLUMNS)
        count = 0
        for event in _events(conn, device, skipped):
            writer.writerow([event[c] if event[c] is not None else "" for c in EVENT_CSV_COLUMNS])
            count += 1
            tick(count)
        return count

    return _run(db_path, out_path, write, progress)


def export_events_json(
    db_path: str | Path, out_path: str | Path, *, device: str | None = None, progress: Progress | None = None
) -> ExportResult:
    """Accepted messages as a JSON array; `raw` is the XML as text (or null with `raw_base64` when
    the bytes are not UTF-8)."""

    def write(conn: sqlite3.Connection, fh: IO[str], skipped: list[int], tick: Callable[[int], None]) -> int:
        return _write_json_array(fh, (_event_json(e) for e in _events(conn, device, skipped)), tick)

    return _run(db_path, out_path, write, progress)


def write_records(
    out_path: str | Path,
    kind: str,
    records: Iterable[JobRecord],
    device_name: DeviceNames | None = None,
) -> ExportResult:
    """The jobs a view shows (its filter and order) as "csv" (JOB_CSV_COLUMNS) or "json"; for the
    window's Export action, with the device names it shows. Same columns and fields as
    export_jobs_*; written via `<out>.part`. `records` is read once, in order: a paged table's
    are streamed from the store (models.paged_export.ExportRows), never all in memory."""
    name = device_name or _no_names
    if kind not in ("csv", "json"):
        raise ValueError(f"unknown export format {kind!r} (csv or json)")
    out = Path(out_path)
    part = out.with_name(out.name + ".part")
    try:
        with part.open("w", encoding="utf-8", newline="") as fh:
            if kind == "csv":
                writer = _CsvWriter(fh)
                writer.writerow(JOB_CSV_COLUMNS)
                written = 0
                for written, r in enumerate(records, 1):  # noqa: B007 - the last number is the count
                    writer.writerow(_job_csv_row(r, name))
            else:
                written = _write_json_array(fh, (_job_json(r, name) for r in records), lambda done: None)
        os.replace(part, out)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        raise
    return ExportResult(written, 0)
