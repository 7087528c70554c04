"""Whether a site's collector is heard from (a shared store, issue 14): a collector says it is alive
every HEARTBEAT_S and that it stopped when it stops cleanly; a viewer that has heard nothing for
SILENT_AFTER_S (three heartbeats) says the collector is silent, so that a technician at the desk
knows the branch's devices are as its collector last said, not as they are now."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

__all__ = ["HEARTBEAT_S", "SILENT_AFTER_S", "CollectorState", "SiteCollector"]

HEARTBEAT_S = 30.0
SILENT_AFTER_S = 3 * HEARTBEAT_S


class CollectorState(enum.Enum):
    LIVE = "live"  # heard from within SILENT_AFTER_S
    SILENT = "silent"  # not heard from since `at`: killed, its PC off, no route to the database
    STOPPED = "stopped"  # stopped cleanly at `at` (its subscriptions ended)


@dataclass(frozen=True, slots=True)
class SiteCollector:
    """A site's collector as the viewer last judged it; `at` is its last word (UTC): its last
    heartbeat (LIVE, SILENT) or its stop (STOPPED)."""

    state: CollectorState
    at: datetime
