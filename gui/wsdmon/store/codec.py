"""JSON codec for the folded job state: JobRecord, JobStatus, FilterStatus, TimelineEntry.

The round trip is exact: `decode_x(encode_x(v)) == v`, and the types inside come back as they went
in where the protocol can produce them. Enumerated values are stored as their text and read back
the way the protocol parser reads them (MS-BDSRR §1.8): a well-known value becomes the StrEnum
member, anything else stays a plain str (a vendor extension such as `acme:Quarantined`). Datetimes
keep their offset, or its absence: a naive value is "server local" (§2.2.4.1) and stays naive.

Every decoder raises CodecError, and only CodecError, for input it cannot turn into a valid value,
so callers can skip a damaged row with one except clause.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from wsdmon.core.changes import Change, ChangeField
from wsdmon.core.jobs import JobKey, JobKind, JobRecord, ObservationKind, ScanJobStatus, TimelineEntry
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStateReason,
    FilterStatus,
    JobState,
    JobStateReason,
    JobStatus,
)
from wsdmon.protocol.errors import ProtocolError
from wsdmon.protocol.scan import JobState as ScanJobState
from wsdmon.protocol.scan import JobStateReason as ScanJobStateReason

__all__ = [
    "RECORD_FORMAT",
    "CodecError",
    "decode_change",
    "decode_datetime",
    "decode_filter_status",
    "decode_job_record",
    "decode_job_status",
    "decode_timeline_entry",
    "dumps",
    "encode_change",
    "encode_datetime",
    "encode_filter_status",
    "encode_job_record",
    "encode_job_status",
    "encode_timeline_entry",
    "loads",
]

RECORD_FORMAT = 1  # "v" of an encoded JobRecord; bump and branch in decode_job_record when it changes

_E = TypeVar("_E", bound=StrEnum)
_KINDS = {k.value: k for k in ObservationKind}
_FIELDS = {f.value: f for f in ChangeField}
_JOB_KINDS = {k.value: k for k in JobKind}


class CodecError(ValueError):
    """A stored value that cannot be decoded (damaged row, or written by an incompatible version)."""


def dumps(value: object) -> str:
    """Compact JSON text for one encoded value (non-ASCII kept as is: it is stored as UTF-8)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Parse JSON text, raising CodecError instead of JSONDecodeError / UnicodeDecodeError."""
    try:
        return json.loads(text)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise CodecError(f"not JSON: {exc}") from None


# --- scalars -----------------------------------------------------------------------------------


def encode_datetime(value: datetime) -> str | list[object]:
    """ISO-8601 text with the value's own offset (none for naive values). `fold` is not part of
    ISO-8601; the rare fold=1 value is written as [text, 1] so it survives too."""
    text = value.isoformat()
    return [text, 1] if value.fold else text


def decode_datetime(raw: object) -> datetime:
    """The inverse of encode_datetime."""
    fold = 0
    if isinstance(raw, list) and len(raw) == 2 and raw[1] == 1:
        raw, fold = raw[0], 1
    if not isinstance(raw, str):
        raise CodecError(f"datetime must be ISO-8601 text, got {raw!r}")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise CodecError(f"not an ISO-8601 datetime: {raw!r}") from None
    return value.replace(fold=1) if fold else value


def _opt_datetime(raw: object) -> datetime | None:
    return None if raw is None else decode_datetime(raw)


def _enum_or_text(enum: type[_E], raw: object) -> _E | str:
    if not isinstance(raw, str):
        raise CodecError(f"{enum.__name__} must be text, got {raw!r}")
    member: _E | None = enum._value2member_map_.get(raw)  # type: ignore[assignment]
    return raw if member is None else member


def _text(raw: object, what: str) -> str:
    if not isinstance(raw, str):
        raise CodecError(f"{what} must be text, got {raw!r}")
    return raw


def _opt_text(raw: object, what: str) -> str | None:
    return None if raw is None else _text(raw, what)


def _texts(raw: object, what: str) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise CodecError(f"{what} must be a list, got {raw!r}")
    return tuple(_text(item, what) for item in raw)


def _int(raw: object, what: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise CodecError(f"{what} must be an integer, got {raw!r}")
    return raw


def _count(raw: object, what: str) -> int:
    value = _int(raw, what)
    if value < 0:
        raise CodecError(f"{what} must not be negative, got {value}")
    return value


def _bool(raw: object, what: str) -> bool:
    if not isinstance(raw, bool):
        raise CodecError(f"{what} must be true or false, got {raw!r}")
    return raw


def _obj(raw: object, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise CodecError(f"{what} must be a JSON object, got {type(raw).__name__}")
    return raw


def _list(raw: object, what: str) -> list[Any]:
    if not isinstance(raw, list):
        raise CodecError(f"{what} must be a list, got {type(raw).__name__}")
    return raw


# --- protocol values ---------------------------------------------------------------------------


def encode_filter_status(value: FilterStatus) -> dict[str, object]:
    return {"dialect": value.dialect, "state": str(value.state), "reasons": [str(r) for r in value.reasons]}


def decode_filter_status(raw: object) -> FilterStatus:
    obj = _obj(raw, "FilterStatus")
    try:
        return FilterStatus(
            _text(obj["dialect"], "Dialect"),
            _enum_or_text(FilterState, obj["state"]),
            tuple(_enum_or_text(FilterStateReason, r) for r in _list(obj["reasons"], "FilterStateReasons")),
        )
    except KeyError as exc:
        raise CodecError(f"FilterStatus lacks {exc}") from None
    except ProtocolError as exc:
        raise CodecError(f"invalid FilterStatus: {exc}") from None


def encode_job_status(value: JobStatus) -> dict[str, object]:
    created, completed = value.job_created_time, value.job_completed_time
    return {
        "job_token": value.job_token,
        "job_state": str(value.job_state),
        "job_state_reasons": [str(r) for r in value.job_state_reasons],
        "filter_statuses": [encode_filter_status(f) for f in value.filter_statuses],
        "images_received": value.images_received,
        "job_created_time": None if created is None else encode_datetime(created),
        "job_completed_time": None if completed is None else encode_datetime(completed),
        "extensions": list(value.extensions),
    }


def decode_job_status(raw: object, kind: JobKind = JobKind.POST_SCAN) -> JobStatus:
    """The inverse of encode_job_status; a scan job's status (kind SCAN) comes back as the
    ScanJobStatus it was, with WS-Scan's enumerations."""
    obj = _obj(raw, "JobStatus")
    scan = kind is JobKind.SCAN
    cls, states, reasons = (
        (ScanJobStatus, ScanJobState, ScanJobStateReason) if scan else (JobStatus, JobState, JobStateReason)
    )
    try:
        return cls(
            _text(obj["job_token"], "JobToken"),
            _enum_or_text(states, obj["job_state"]),
            tuple(_enum_or_text(reasons, r) for r in _list(obj["job_state_reasons"], "reasons")),
            tuple(decode_filter_status(f) for f in _list(obj["filter_statuses"], "FilterStatuses")),
            _int(obj["images_received"], "ImagesReceived"),
            _opt_datetime(obj["job_created_time"]),
            _opt_datetime(obj["job_completed_time"]),
            _texts(obj["extensions"], "extensions"),
        )
    except KeyError as exc:
        raise CodecError(f"JobStatus lacks {exc}") from None
    except ProtocolError as exc:
        raise CodecError(f"invalid JobStatus: {exc}") from None


# --- core values -------------------------------------------------------------------------------


def encode_change(value: Change) -> str | dict[str, object]:
    """A Change as a JSON object with only the parts it has; a TEXT change (a line an older wsdmon
    stored) as the plain string it was, so that its stored row stays byte for byte the same."""
    if value.field is ChangeField.TEXT:
        return value.new or ""
    out: dict[str, object] = {"field": value.field.value}
    if value.old is not None:
        out["old"] = value.old
    if value.new is not None:
        out["new"] = value.new
    if value.subject is not None:
        out["subject"] = value.subject
    if value.details:
        out["details"] = list(value.details)
    return out


def decode_change(raw: object) -> Change:
    """The inverse of encode_change; a plain string (the English line of an older journal) is a
    TEXT change, shown verbatim."""
    if isinstance(raw, str):
        return Change(ChangeField.TEXT, new=raw)
    obj = _obj(raw, "change")
    name = obj.get("field")
    field = _FIELDS.get(name) if isinstance(name, str) else None
    if field is None or field is ChangeField.TEXT:
        raise CodecError(f"unknown change {name!r}")
    return Change(
        field,
        _opt_text(obj.get("old"), "change old"),
        _opt_text(obj.get("new"), "change new"),
        _opt_text(obj.get("subject"), "change subject"),
        _texts(obj.get("details", []), "change details"),
    )


def encode_timeline_entry(value: TimelineEntry) -> dict[str, object]:
    return {
        "arrival": encode_datetime(value.arrival),
        "kind": value.kind.value,
        "changes": [encode_change(c) for c in value.changes],
        "stale": value.stale,
        "message_id": value.message_id,
        "journal_id": value.journal_id,
    }


def decode_timeline_entry(raw: object) -> TimelineEntry:
    obj = _obj(raw, "timeline entry")
    try:
        kind = _KINDS.get(obj["kind"])
        if kind is None:
            raise CodecError(f"unknown observation kind {obj['kind']!r}")
        journal_id = obj["journal_id"]
        return TimelineEntry(
            decode_datetime(obj["arrival"]),
            kind,
            tuple(decode_change(c) for c in _list(obj["changes"], "changes")),
            _bool(obj["stale"], "stale"),
            _opt_text(obj["message_id"], "message_id"),
            None if journal_id is None else _int(journal_id, "journal_id"),
        )
    except KeyError as exc:
        raise CodecError(f"timeline entry lacks {exc}") from None


def encode_job_record(value: JobRecord, *, timeline: bool = True) -> dict[str, object]:
    """The record as a JSON object; timeline=False leaves the timeline out (the journal keeps it in
    its own table, so that an update appends entries instead of rewriting them all)."""
    out: dict[str, object] = {
        "v": RECORD_FORMAT,
        "device": value.key.device,
        "job_token": value.key.job_token,
        "status": encode_job_status(value.status),
        "first_seen": encode_datetime(value.first_seen),
        "last_update": encode_datetime(value.last_update),
        "ended": value.ended,
        "psp_identifier": value.psp_identifier,
        "psp_display_name": value.psp_display_name,
        "job_originating_user_name": value.job_originating_user_name,
    }
    if value.timeline_dropped:
        out["timeline_dropped"] = value.timeline_dropped
    if value.lost:
        out["lost"] = True
    # Optional keys (absent in records written before job generations and rule 7 existed).
    if value.key.generation:
        out["generation"] = value.key.generation
    if value.instance_id is not None:
        out["instance_id"] = value.instance_id
    if value.unknown_since is not None:
        out["unknown_since"] = encode_datetime(value.unknown_since)
    if value.kind is not JobKind.POST_SCAN:  # absent: a post-scan job (records before scan jobs)
        out["kind"] = value.kind.value
    if value.job_name is not None:
        out["job_name"] = value.job_name
    if timeline:
        out["timeline"] = [encode_timeline_entry(e) for e in value.timeline]
    return out


def decode_job_record(raw: object, timeline: tuple[TimelineEntry, ...] | None = None) -> JobRecord:
    """The inverse of encode_job_record; `timeline`, when given, replaces the stored one."""
    obj = _obj(raw, "JobRecord")
    try:
        if obj["v"] != RECORD_FORMAT:
            raise CodecError(f"JobRecord format {obj['v']!r} is not {RECORD_FORMAT}")
        if timeline is None:
            timeline = tuple(decode_timeline_entry(e) for e in _list(obj.get("timeline", []), "timeline"))
        kind = _JOB_KINDS.get(obj.get("kind", JobKind.POST_SCAN.value))
        if kind is None:
            raise CodecError(f"unknown job kind {obj['kind']!r}")
        return JobRecord(
            JobKey(
                _text(obj["device"], "device"),
                _text(obj["job_token"], "job_token"),
                _count(obj.get("generation", 0), "generation"),
            ),
            decode_job_status(obj["status"], kind),
            decode_datetime(obj["first_seen"]),
            decode_datetime(obj["last_update"]),
            _bool(obj["ended"], "ended"),
            _opt_text(obj["psp_identifier"], "PSP_Identifier"),
            _opt_text(obj["psp_display_name"], "PSP_DisplayName"),
            _opt_text(obj["job_originating_user_name"], "JobOriginatingUserName"),
            timeline,
            _count(obj.get("timeline_dropped", 0), "timeline_dropped"),
            _bool(obj.get("lost", False), "lost"),
            None if obj.get("instance_id") is None else _int(obj["instance_id"], "instance_id"),
            _opt_datetime(obj.get("unknown_since")),
            kind,
            _opt_text(obj.get("job_name"), "JobName"),
        )
    except KeyError as exc:
        raise CodecError(f"JobRecord lacks {exc}") from None
