"""Following a PostgreSQL store live: the NOTIFY payloads the store sends after each commit, and
follow(), an async iterator of them through psycopg's AsyncConnection (for the window and `watch`).

A notification says what changed, not the change: the follower reads the rows it wants. PostgreSQL
delivers notifications at commit, in commit order; one sent while nobody listened is gone, so a
follower reads the store once after it started listening and catches up from there.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

__all__ = ["CHANNEL", "ChangeKind", "StoreChange", "follow", "parse_change"]

_log = logging.getLogger(__name__)

CHANNEL = "wsdmon_changes"


class ChangeKind(enum.Enum):
    MESSAGES = "messages"  # id: the last message id of a committed batch
    JOBS = "jobs"  # id: the last message folded into the jobs written; added: how many were new
    DEVICE = "device"  # id: the device's endpoint


@dataclass(frozen=True, slots=True)
class StoreChange:
    site: str
    kind: ChangeKind
    id: int | str | None
    # JOBS: how many of the jobs written were new (a viewer re-counts its rows only then); None when
    # the writer did not say (an older collector): maybe some.
    added: int | None = None


def parse_change(payload: str) -> StoreChange | None:
    """The change a wsdmon_changes payload names, or None when it is not one of ours."""
    try:
        data = json.loads(payload)
        kind = ChangeKind(data["kind"])
        site, ident, added = data["site"], data.get("id"), data.get("added")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(site, str) or not isinstance(ident, int | str | None):
        return None
    if not isinstance(added, int) or isinstance(added, bool) or added < 0:
        added = None  # not said (or not a count): maybe some
    return StoreChange(site, kind, ident, added)


async def follow(conninfo: str, on_listening: Callable[[], None] | None = None) -> AsyncIterator[StoreChange]:
    """Every change committed to the store from now on, as it is committed; runs until the caller
    stops iterating (or the connection fails: psycopg.OperationalError). `on_listening` is called
    once LISTEN is in place: what was committed before that is for the caller to read."""
    import psycopg  # here: `import wsdmon.store` must not load psycopg (nor asyncio)

    conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
    async with conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        if on_listening is not None:
            on_listening()
        async for note in conn.notifies():
            change = parse_change(note.payload)
            if change is None:
                _log.warning(
                    "ignored a notification on %s that is not wsdmon's: %.80r", CHANNEL, note.payload
                )
                continue
            yield change
