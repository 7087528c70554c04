"""Each device's health as far as the journal tells (the support bundle runs offline, after the
fact): its metadata and addresses (device records), the subscriptions it ended (SubscriptionEnd
messages) and its jobs (stuck ones, its clock against ours). What only a running monitor sees
(discovery, probe replies, multicast, faults to requests) stays "not known".

Judged as of the journal's last message, not the moment the bundle is made: a monitor stopped
hours ago did not see jobs "make no progress" since.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime

from wsdmon.core.device_evidence import DeviceEvidence, MetadataRead, SubscriptionEvent, SubscriptionEventKind
from wsdmon.core.devices import DeviceRecord
from wsdmon.core.health import DeviceHealth
from wsdmon.core.health_evaluate import evaluate
from wsdmon.core.jobs import JobRecord
from wsdmon.protocol import ProtocolError, decode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.eventing import SubscriptionEnd

__all__ = ["health_from_journal", "judged_at"]

log = logging.getLogger(__name__)


def judged_at(conn: sqlite3.Connection, now: datetime) -> datetime:
    """The journal's last message arrival (or `now` when it holds none), never later than `now`."""
    row = conn.execute("SELECT MAX(arrival_epoch) FROM messages").fetchone()
    if row is None or row[0] is None:
        return now
    return min(now, datetime.fromtimestamp(float(row[0]), UTC))


def _ended(conn: sqlite3.Connection, endpoint: str, since_epoch: float) -> list[SubscriptionEvent]:
    events: list[SubscriptionEvent] = []
    sql = (
        "SELECT id, arrival, raw FROM messages"
        " WHERE device = ? AND action = ? AND arrival_epoch >= ? ORDER BY id"
    )
    for row_id, arrival, raw in conn.execute(sql, (endpoint, ns.WSE_SUBSCRIPTION_END, since_epoch)):
        try:
            message = decode(raw)
            at = datetime.fromisoformat(str(arrival))
        except (ProtocolError, ValueError, TypeError) as exc:
            log.info("journal row %s: SubscriptionEnd not readable (%s)", row_id, exc)
            continue
        if not isinstance(message, SubscriptionEnd):
            continue
        reason = message.reasons[0].text.strip() if message.reasons else ""
        service = message.subscription_manager.address
        events.append(
            SubscriptionEvent(
                at,
                SubscriptionEventKind.ENDED,
                service,
                code=str(message.status),
                reason=reason,
                journal_id=row_id,
            )
        )
    return events[-20:]


def health_from_journal(
    conn: sqlite3.Connection,
    devices: Iterable[DeviceRecord],
    jobs: Iterable[JobRecord],
    since: datetime,
    at: datetime,
) -> list[DeviceHealth]:
    """Each device's health from its record, its SubscriptionEnd messages since `since` and `jobs`."""
    by_device: dict[str, list[JobRecord]] = {}
    for job in jobs:
        by_device.setdefault(job.key.device, []).append(job)
    out = []
    for record in devices:
        # A device is kept in the journal once its metadata was read: that read is evidence.
        read_at = record.last_seen or record.last_event or at
        evidence = DeviceEvidence(
            record.endpoint,
            xaddrs=record.xaddrs,
            metadata=MetadataRead(
                read_at,
                services=tuple(s.role.value for s in record.services),
                scan_service=bool(record.services),
            ),
            subscription=tuple(_ended(conn, record.endpoint, since.timestamp())),
        )
        out.append(evaluate(evidence, by_device.get(record.endpoint, []), at))
    return out
