"""The PostgreSQL store's rows: its SQL and the writes it makes in one transaction (the store
in store.postgres decides when: now, or from its queue once the server is back)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg

from wsdmon.core.devices import DeviceRecord
from wsdmon.core.health import DeviceHealth

from . import devices as _devices
from .health import encode_health
from .journal import MessageRow
from .pg_follow import CHANNEL
from .pg_schema import HEARTBEAT

__all__ = [
    "LAST_FOLDED",
    "SELECT_DEVICES",
    "Conn",
    "arrival",
    "copy_messages",
    "delete_old",
    "insert_messages",
    "payload",
    "text",
    "write_device",
    "write_device_health",
    "write_device_state",
    "write_heartbeat",
    "write_trust",
]

Conn = psycopg.Connection[tuple[Any, ...]]
LAST_FOLDED = "last_folded_message_id"

_COLUMNS = "site, id, arrival, device, subscription, action, message_id, summary, raw"
_COPY_MESSAGES = f"COPY messages ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_COPY_TYPES = ("text", "int8", "timestamptz", "text", "text", "text", "text", "text", "bytea")
_INSERT_MESSAGES = """
INSERT INTO messages (site, id, arrival, device, subscription, action, message_id, summary, raw)
SELECT %(site)s, * FROM unnest(%(id)b::bigint[], %(arrival)b::timestamptz[], %(device)b::text[],
    %(subscription)b::text[], %(action)b::text[], %(message_id)b::text[], %(summary)b::text[],
    %(raw)b::bytea[])
ON CONFLICT (site, id) DO NOTHING
RETURNING id
"""  # %b: arrays go in binary, which spares psycopg escaping every element of the text form
_UPSERT_DEVICE = """
INSERT INTO devices (endpoint, friendly_name, manufacturer, model_name, model_number, serial_number,
                     firmware_version, presentation_url, device_category, roles, xaddrs, services,
                     metadata_version, instance_id, first_seen, last_seen, last_event, site)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (site, endpoint) DO UPDATE SET
    friendly_name = excluded.friendly_name, manufacturer = excluded.manufacturer,
    model_name = excluded.model_name, model_number = excluded.model_number,
    serial_number = excluded.serial_number, firmware_version = excluded.firmware_version,
    presentation_url = excluded.presentation_url, device_category = excluded.device_category,
    roles = excluded.roles, xaddrs = excluded.xaddrs, services = excluded.services,
    metadata_version = excluded.metadata_version, instance_id = excluded.instance_id,
    first_seen = coalesce(devices.first_seen, excluded.first_seen),
    last_seen = coalesce(excluded.last_seen, devices.last_seen),
    last_event = coalesce(excluded.last_event, devices.last_event),
    metadata_read = true
"""
# A job goes with its timeline and searched words (their foreign keys to jobs went in pg_schema v4:
# a check per timeline row written, at every write of a busy collector).
_DELETE_OLD_JOBS = """
WITH gone AS (
    DELETE FROM jobs WHERE (site, device, job_token, generation) IN (
        SELECT site, device, job_token, generation FROM jobs
        WHERE site = %s AND NOT active AND last_update_epoch < %s LIMIT %s)
    RETURNING site, device, job_token, generation
), timelines AS (
    DELETE FROM timeline t USING gone g
    WHERE (t.site, t.device, t.job_token, t.generation) = (g.site, g.device, g.job_token, g.generation)
), words AS (
    DELETE FROM job_words w USING gone g
    WHERE (w.site, w.device, w.job_token, w.generation) = (g.site, g.device, g.job_token, g.generation)
)
SELECT count(*) FROM gone
"""
SELECT_DEVICES = """
SELECT endpoint, friendly_name, manufacturer, model_name, model_number, serial_number,
       firmware_version, presentation_url, device_category, xaddrs, services,
       metadata_version, instance_id, last_seen, last_event
FROM devices WHERE site = %s AND metadata_read ORDER BY endpoint
"""


def payload(site: str, kind: str, ident: object, added: int | None = None) -> str:
    """The NOTIFY payload of a change (store.pg_follow.parse_change reads it); `added`: of jobs, how
    many were new."""
    data: dict[str, object] = {"site": site, "kind": kind, "id": ident}
    if added is not None:
        data["added"] = added
    return json.dumps(data, separators=(",", ":"))


def text(value: str) -> str:
    """PostgreSQL text cannot hold NUL, which a device may send in a header: shown as U+FFFD (the
    raw bytes keep it)."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def opt_text(value: str | None) -> str | None:
    return None if value is None else text(value)


def arrival(m: MessageRow) -> datetime:
    """The message's arrival; ValueError when it has no time zone (as the sqlite journal says)."""
    if m[0].tzinfo is None:
        raise ValueError("arrival must be timezone-aware (pass datetime.now(UTC))")
    return m[0]


def copy_messages(conn: Conn, site: str, ids: list[int], rows: Sequence[MessageRow]) -> None:
    """Write new messages under these ids with one binary COPY (autocommit: one transaction; the
    messages_notify trigger sends the NOTIFY at its commit). psycopg.errors.UniqueViolation, and
    nothing written, when an id is there already: insert_messages() then sorts the batch out.

    Why COPY, not INSERT … unnest: psycopg formats COPY rows in C while it builds the arrays of
    unnest() in Python, and the server reads binary rows without planning a query; about half the
    time of a batch on both sides (bench/bench_store.py)."""
    with conn.cursor() as cur, cur.copy(_COPY_MESSAGES) as copy:
        copy.set_types(list(_COPY_TYPES))
        for i, m in zip(ids, rows, strict=True):
            device, subscription, action, message_id, summary = m[1:6]
            row = (site, i, arrival(m), text(device), opt_text(subscription), text(action))
            copy.write_row((*row, opt_text(message_id), text(summary), m[6]))


def insert_messages(
    conn: Conn, site: str, ids: list[int], rows: Sequence[MessageRow]
) -> list[tuple[int, bool]]:
    """Insert the messages under these ids that are not there yet, in one statement (autocommit:
    one transaction; the trigger NOTIFYs when it wrote any); the ids that were there already (a
    replay), each with whether its stored row is this very message."""
    params = {
        "site": site,
        "id": ids,
        "arrival": [arrival(m) for m in rows],
        "device": [text(m[1]) for m in rows],
        "subscription": [opt_text(m[2]) for m in rows],
        "action": [text(m[3]) for m in rows],
        "message_id": [opt_text(m[4]) for m in rows],
        "summary": [text(m[5]) for m in rows],
        "raw": [m[6] for m in rows],
    }
    inserted = {row[0] for row in conn.execute(_INSERT_MESSAGES.encode(), params).fetchall()}
    if len(inserted) == len(ids):
        return []
    return _same(conn, site, [(i, m) for i, m in zip(ids, rows, strict=True) if i not in inserted])


def _same(conn: Conn, site: str, rows: list[tuple[int, MessageRow]]) -> list[tuple[int, bool]]:
    stored = {
        r[0]: (r[1], r[2], bytes(r[3]))
        for r in conn.execute(
            "SELECT id, arrival, device, raw FROM messages WHERE site = %s AND id = ANY(%s)",
            (site, [i for i, _ in rows]),
        )
    }
    return [(i, stored.get(i) == (m[0], text(m[1]), m[6])) for i, m in rows]


def write_device(conn: Conn, site: str, record: DeviceRecord) -> None:
    conn.execute(_UPSERT_DEVICE.encode(), (*_devices.device_params(record), site))
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload(site, "device", record.endpoint)))


def write_device_state(conn: Conn, site: str, record: DeviceRecord) -> None:
    """A device's runtime state (store.devices.encode_device_state) on its row; a device never read
    gets a row of what is known of it, marked not read (SELECT_DEVICES leaves it out)."""
    conn.execute(
        "INSERT INTO devices (endpoint, xaddrs, first_seen, last_seen, state, site, state_at,"
        " device_category, roles, services, metadata_read)"
        " VALUES (%s, %s, %s, %s, %s, %s, now(), '[]', '[]', '[]', false)"
        " ON CONFLICT (site, endpoint) DO UPDATE SET state = excluded.state, state_at = excluded.state_at",
        (*_devices.state_params(record), site),
    )
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload(site, "device", record.endpoint)))


def write_device_health(conn: Conn, site: str, health: DeviceHealth) -> None:
    """A device's health report (store.health.encode_health) on its row. Only on a row that exists:
    evidence is kept of every endpoint heard (printers, PCs), and those are no devices of the site.
    A device's row is there first: its report changes when its metadata is read or fails, after the
    row is written (and a collector's first round after a start judges the devices it restored)."""
    cursor = conn.execute(
        "UPDATE devices SET health = %s WHERE site = %s AND endpoint = %s",
        (encode_health(health), site, health.endpoint),
    )
    if cursor.rowcount:
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload(site, "device", health.endpoint)))


def write_heartbeat(conn: Conn, site: str, key: str = HEARTBEAT) -> None:
    """The collector of `site` is alive (or, key STOPPED, has stopped) now."""
    conn.execute(
        "INSERT INTO state (site, key, value) VALUES (%s, %s, extract(epoch FROM now())::bigint)"
        " ON CONFLICT (site, key) DO UPDATE SET value = excluded.value",
        (site, key),
    )


def write_trust(conn: Conn, site: str, device: str, sha256: str | None) -> None:
    if sha256 is None:
        conn.execute("DELETE FROM trust WHERE endpoint = %s", (device,))
    else:
        conn.execute(
            "INSERT INTO trust (endpoint, sha256, site) VALUES (%s, %s, %s)"
            " ON CONFLICT (endpoint) DO UPDATE SET sha256 = excluded.sha256, site = excluded.site",
            (device, sha256, site),
        )


def delete_old(
    conn: Conn,
    site: str,
    *,
    now: datetime,
    max_age: timedelta | None,
    max_messages: int | None,
    limit: int,
) -> int:
    """Journal.apply_retention's deletions for one site's rows, keeping its newest message."""
    row = conn.execute(
        "SELECT (SELECT value FROM state WHERE site = %s AND key = %s),"
        " (SELECT max(id) FROM messages WHERE site = %s)",
        (
            site,
            LAST_FOLDED,
            site,
        ),
    ).fetchone()
    folded = int(row[0] or 0) if row else 0
    keep = int(row[1] or 0) if row else 0  # the newest message stays
    bound = min(folded, keep - 1)
    n = 0
    if max_age is not None:
        cutoff = now - max_age
        n += conn.execute(
            "DELETE FROM messages WHERE site = %s AND id IN (SELECT id FROM messages"
            " WHERE site = %s AND arrival < %s AND id <= %s LIMIT %s)",
            (site, site, cutoff, bound, limit),
        ).rowcount
        row = conn.execute(_DELETE_OLD_JOBS, (site, cutoff.timestamp(), max(0, limit - n))).fetchone()
        gone = int(row[0]) if row else 0
        n += gone
        if gone:  # a viewer's rows are fewer: said without a count of new jobs, so it re-counts
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload(site, "jobs", None)))
    if max_messages is not None and n < limit:
        beyond = conn.execute(
            "SELECT id FROM messages WHERE site = %s ORDER BY id DESC LIMIT 1 OFFSET %s",
            (site, max(max_messages, 0)),
        ).fetchone()
        if beyond is not None:
            n += conn.execute(
                "DELETE FROM messages WHERE site = %s AND id IN (SELECT id FROM messages"
                " WHERE site = %s AND id <= %s ORDER BY id LIMIT %s)",
                (site, site, min(beyond[0], bound), limit - n),
            ).rowcount
    return n
