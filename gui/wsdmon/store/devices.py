"""Devices seen, as rows: what the last metadata said, when the device was first and last seen.

A row holds a core DeviceRecord's lasting facts. Runtime state is not stored: subscription status
(every subscription is made anew after a restart), `online` and `error`. The accepted certificate
fingerprint lives in its own table (trust), so that it outlives the device's metadata row.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from wsdmon.core.devices import DeviceRecord, Role, ServiceInfo

from .codec import CodecError, dumps, loads

__all__ = ["UPSERT_SQL", "device_from_row", "device_params", "load_devices", "normalize_fingerprint"]

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
    last_event = coalesce(excluded.last_event, last_event)
"""

_SELECT_SQL = """
SELECT endpoint, friendly_name, manufacturer, model_name, model_number, serial_number,
       firmware_version, presentation_url, device_category, xaddrs, services,
       metadata_version, instance_id, last_seen, last_event
FROM devices ORDER BY endpoint
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
    """Every device, and how many rows were skipped as damaged (each one logged)."""
    out: list[DeviceRecord] = []
    skipped = 0
    for row in conn.execute(_SELECT_SQL):
        try:
            out.append(device_from_row(row))
        except CodecError as exc:
            skipped += 1
            _log.warning("journal: skipped damaged device row %r: %s", row[0], exc)
    return out, skipped


def first_seen(conn: sqlite3.Connection, endpoint: str) -> datetime | None:
    row = conn.execute("SELECT first_seen FROM devices WHERE endpoint = ?", (endpoint,)).fetchone()
    return None if row is None else _opt_datetime(row[0])
