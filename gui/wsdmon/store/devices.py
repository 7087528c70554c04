"""Devices seen, as rows: what the last metadata said, when the device was first and last seen,
and what its collector last knew of it.

A row holds a core DeviceRecord's lasting facts, and in its `state` column the runtime state
(schema v5): online or why not, why its metadata could not be read, each service's subscription
and what the device last said of itself (state, reasons, scanner conditions). The runtime state
is for the viewers of a shared store (a branch's scanner offline, its subscription failing): the
collector that wrote it reads it never, since every subscription is made anew after a restart.
`state_at` says when it was written. The accepted certificate fingerprint lives in its own table
(trust), so that it outlives the device's metadata row.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from wsdmon.core.device_status import DeviceError, DeviceErrorKind, OfflineReason
from wsdmon.core.devices import DeviceRecord, Role, ScannerCondition, ServiceInfo, SubscriptionStatus
from wsdmon.protocol.scan import Component, ConditionName, Severity

from .codec import CodecError, _enum_or_text, dumps, loads

__all__ = [
    "STATE_FORMAT",
    "UPSERT_SQL",
    "UPSERT_STATE_SQL",
    "decode_device_state",
    "device_from_row",
    "device_params",
    "encode_device_state",
    "load_devices",
    "normalize_fingerprint",
    "state_params",
]

_log = logging.getLogger(__name__)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ROLES = {r.value: r for r in Role}


def normalize_fingerprint(sha256_hex: str) -> str:
    """64 lower-case hex digits; accepts upper case and the `AB:CD:…` form browsers show."""
    value = sha256_hex.replace(":", "").strip().lower()
    if not _HEX64.fullmatch(value):
        raise ValueError(f"not a SHA-256 fingerprint (64 hex digits): {sha256_hex!r}")
    return value


# The row is the latest record upserted, except first_seen (kept from the first upsert) and
# last_seen / last_event (a record that does not know them keeps the stored ones).
UPSERT_SQL = """
INSERT INTO devices (endpoint, friendly_name, manufacturer, model_name, model_number, serial_number,
                     firmware_version, presentation_url, device_category, roles, xaddrs, services,
                     metadata_version, instance_id, first_seen, last_seen, last_event, site)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (endpoint) DO UPDATE SET
    site = excluded.site,
    friendly_name = excluded.friendly_name,
    manufacturer = excluded.manufacturer,
    model_name = excluded.model_name,
    model_number = excluded.model_number,
    serial_number = excluded.serial_number,
    firmware_version = excluded.firmware_version,
    presentation_url = excluded.presentation_url,
    device_category = excluded.device_category,
    roles = excluded.roles,
    xaddrs = excluded.xaddrs,
    services = excluded.services,
    metadata_version = excluded.metadata_version,
    instance_id = excluded.instance_id,
    first_seen = coalesce(first_seen, excluded.first_seen),
    last_seen = coalesce(excluded.last_seen, last_seen),
    last_event = coalesce(excluded.last_event, last_event),
    metadata_read = 1
"""

# A device's runtime state on its row; a device without one (its metadata never read) gets a row of
# what is known of it, marked not read (load_devices leaves it out).
UPSERT_STATE_SQL = """
INSERT INTO devices (endpoint, xaddrs, first_seen, last_seen, state, site, state_at,
                     device_category, roles, services, metadata_read)
VALUES (?, ?, ?, ?, ?, ?, ?, '[]', '[]', '[]', 0)
ON CONFLICT (endpoint) DO UPDATE SET state = excluded.state, state_at = excluded.state_at
"""

_SELECT_SQL = """
SELECT endpoint, friendly_name, manufacturer, model_name, model_number, serial_number,
       firmware_version, presentation_url, device_category, xaddrs, services,
       metadata_version, instance_id, last_seen, last_event
FROM devices {where} ORDER BY endpoint
"""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def device_params(record: DeviceRecord) -> tuple[object, ...]:
    """The row's values in UPSERT_SQL's column order, without the site (the store adds it last)."""
    services = [
        {"address": s.address, "role": s.role.value, "service_id": s.service_id} for s in record.services
    ]
    return (
        record.endpoint,
        record.friendly_name,
        record.manufacturer,
        record.model_name,
        record.model_number,
        record.serial_number,
        record.firmware_version,
        record.presentation_url,
        dumps(list(record.device_category)),
        dumps(sorted(r.value for r in record.roles)),  # for people reading the file; derived
        dumps(list(record.xaddrs)),
        dumps(services),
        record.metadata_version,
        record.instance_id,
        _iso(record.last_seen),
        _iso(record.last_seen),
        _iso(record.last_event),
    )


def _opt_text(raw: object) -> str | None:
    if raw is not None and not isinstance(raw, str):
        raise CodecError(f"expected text, got {raw!r}")
    return raw


def _opt_int(raw: object) -> int | None:
    if raw is not None and not isinstance(raw, int):
        raise CodecError(f"expected an integer, got {raw!r}")
    return raw


def _opt_datetime(raw: object) -> datetime | None:
    text = _opt_text(raw)
    try:
        return None if text is None else datetime.fromisoformat(text)
    except ValueError:
        raise CodecError(f"not an ISO-8601 datetime: {raw!r}") from None


def _strs(raw: object) -> tuple[str, ...]:
    value = loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise CodecError(f"expected a JSON list of text, got {raw!r}")
    return tuple(value)


def _service(raw: Any) -> ServiceInfo:
    if not isinstance(raw, dict):
        raise CodecError(f"hosted service must be an object, got {raw!r}")
    role_value = raw.get("role")
    role = _ROLES.get(role_value) if isinstance(role_value, str) else None
    address = raw.get("address")
    if role is None or not isinstance(address, str):
        raise CodecError(f"hosted service without a known role and an address: {raw!r}")
    return ServiceInfo(address, role, _opt_text(raw.get("service_id")))


def device_from_row(row: Sequence[object]) -> DeviceRecord:
    """A DeviceRecord from a _SELECT_SQL row; CodecError when a column is damaged."""
    endpoint = row[0]
    if not isinstance(endpoint, str):
        raise CodecError(f"device endpoint must be text, got {endpoint!r}")
    services = loads(row[10]) if isinstance(row[10], str) else None
    if not isinstance(services, list):
        raise CodecError("hosted services must be a JSON list")
    return DeviceRecord(
        endpoint,
        xaddrs=_strs(row[9]),
        friendly_name=_opt_text(row[1]),
        manufacturer=_opt_text(row[2]),
        model_name=_opt_text(row[3]),
        model_number=_opt_text(row[4]),
        serial_number=_opt_text(row[5]),
        firmware_version=_opt_text(row[6]),
        presentation_url=_opt_text(row[7]),
        device_category=_strs(row[8]),
        services=tuple(_service(s) for s in services),
        metadata_version=_opt_int(row[11]),
        instance_id=_opt_int(row[12]),
        last_seen=_opt_datetime(row[13]),
        last_event=_opt_datetime(row[14]),
    )


def load_devices(conn: sqlite3.Connection) -> tuple[list[DeviceRecord], int]:
    """Every device whose metadata was read, and how many rows were skipped as damaged (each
    one logged)."""
    out: list[DeviceRecord] = []
    skipped = 0
    # A journal of schema 4 read as it is (schema.READABLE_SINCE) has no metadata_read: every row read.
    columns = {row[1] for row in conn.execute("PRAGMA table_info(devices)")}
    where = "WHERE metadata_read = 1" if "metadata_read" in columns else ""
    for row in conn.execute(_SELECT_SQL.format(where=where)):
        try:
            out.append(device_from_row(row))
        except CodecError as exc:
            skipped += 1
            _log.warning("journal: skipped damaged device row %r: %s", row[0], exc)
    return out, skipped


def first_seen(conn: sqlite3.Connection, endpoint: str) -> datetime | None:
    row = conn.execute("SELECT first_seen FROM devices WHERE endpoint = ?", (endpoint,)).fetchone()
    return None if row is None else _opt_datetime(row[0])


# --- runtime state (the `state` column) --------------------------------------------------------

STATE_FORMAT = 1  # "v" of an encoded state; bump and branch in decode_device_state when it changes
_SUBSCRIPTIONS = {s.value: s for s in SubscriptionStatus}
_OFFLINE = {r.value: r for r in OfflineReason}
_ERROR_KINDS = {k.value: k for k in DeviceErrorKind}


def encode_device_error(error: DeviceError | None) -> dict[str, object] | None:
    """A device error without its `detail` (the full technical text, for the collector's log only:
    it may hold an excerpt of what the device sent)."""
    if error is None:
        return None
    return {
        "kind": error.kind.value,
        "url": error.url,
        "status": error.status,
        "code": error.code,
        "reason": error.reason,
        "errno": error.errno,
        "fingerprint": error.fingerprint,
        "limit": error.limit,
    }


def state_params(record: DeviceRecord) -> tuple[object, ...]:
    """The values of a state's write in UPSERT_STATE_SQL's order (both stores' statements begin so),
    without the site and time (the store adds them): endpoint, addresses, first and last seen (a row
    made for a device never read), the encoded state."""
    seen = _iso(record.last_seen)
    return (record.endpoint, dumps(list(record.xaddrs)), seen, seen, encode_device_state(record))


def encode_device_state(record: DeviceRecord) -> str:
    """The runtime state of a device as JSON text for the `state` column."""
    return dumps(
        {
            "v": STATE_FORMAT,
            "online": record.online,
            "offline_reason": record.offline_reason.value if record.offline_reason else None,
            "error": encode_device_error(record.error),
            "services": [
                {
                    "address": s.address,
                    "subscription": s.subscription.value,
                    "subscription_error": s.subscription_error,
                    "state": s.state,
                    "state_reasons": list(s.state_reasons),
                    "conditions": [
                        [c.condition_id, str(c.name), str(c.severity), str(c.component)] for c in s.conditions
                    ],
                }
                for s in record.services
            ],
        }
    )


def decode_device_error(raw: object) -> DeviceError | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("kind") not in _ERROR_KINDS:
        raise CodecError(f"not a device error: {raw!r}")
    return DeviceError(
        _ERROR_KINDS[raw["kind"]],
        url=_opt_text(raw.get("url")) or "",
        status=_opt_int(raw.get("status")),
        code=_opt_text(raw.get("code")) or "",
        reason=_opt_text(raw.get("reason")) or "",
        errno=_opt_int(raw.get("errno")),
        fingerprint=_opt_text(raw.get("fingerprint")),
        limit=_opt_int(raw.get("limit")),
    )


def _condition(raw: object) -> ScannerCondition:
    if not isinstance(raw, list) or len(raw) != 4 or not isinstance(raw[0], int) or isinstance(raw[0], bool):
        raise CodecError(f"not a scanner condition: {raw!r}")
    return ScannerCondition(
        raw[0],
        _enum_or_text(ConditionName, raw[1]),
        _enum_or_text(Severity, raw[2]),
        _enum_or_text(Component, raw[3]),
    )


def _service_state(service: ServiceInfo, raw: object) -> ServiceInfo:
    if not isinstance(raw, dict) or raw.get("subscription") not in _SUBSCRIPTIONS:
        raise CodecError(f"not a service's state: {raw!r}")
    conditions = raw.get("conditions", [])
    if not isinstance(conditions, list):
        raise CodecError(f"scanner conditions must be a list, got {conditions!r}")
    return dataclasses.replace(
        service,
        subscription=_SUBSCRIPTIONS[raw["subscription"]],
        subscription_error=_opt_text(raw.get("subscription_error")),
        state=_opt_text(raw.get("state")),
        state_reasons=_strs(raw.get("state_reasons", [])),
        conditions=tuple(_condition(c) for c in conditions),
    )


def decode_device_state(record: DeviceRecord, text: str) -> DeviceRecord:
    """`record` (from the device's row) with the runtime state `text` says; CodecError when the
    text is damaged or of a later format. A service the state does not name keeps its defaults."""
    raw = loads(text)
    if not isinstance(raw, dict) or raw.get("v") != STATE_FORMAT:
        raise CodecError(f"not a device state of format {STATE_FORMAT}")
    online = raw.get("online")
    reason = raw.get("offline_reason")
    services = raw.get("services")
    if not isinstance(online, bool) or (reason is not None and reason not in _OFFLINE):
        raise CodecError(f"not a device's online state: {online!r}, {reason!r}")
    if not isinstance(services, list):
        raise CodecError("a device state's services must be a list")
    by_address = {s.get("address"): s for s in services if isinstance(s, dict)}
    return dataclasses.replace(
        record,
        online=online,
        offline_reason=None if reason is None else _OFFLINE[reason],
        error=decode_device_error(raw.get("error")),
        services=tuple(
            _service_state(s, by_address[s.address]) if s.address in by_address else s
            for s in record.services
        ),
    )
