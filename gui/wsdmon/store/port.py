"""The store interface: what the engine (collector), the window and `watch` need from a store.

Two stores implement it: the local sqlite journal (store.journal.Journal, the embedded default for
one PC) and PostgreSQL (store.postgres.PostgresStore, shared by the collectors of many sites).
`open_store()` (store.locations) picks one from a path or a URL.

Every row a store writes names its `site` (the collector's name, by default the host name). In
PostgreSQL, which many collectors share, the operations of a collector are about its own site:
messages_after(), load_jobs(), load_devices(), last_folded_message_id(), raw_message() and
apply_retention() see only the rows of `site`; trust in a certificate is shared by all sites. The
sqlite journal belongs to one PC: it reads every row, whatever site (host name) wrote it.

Ids: a message's id is unique within its site and only grows; the store hands it out at append.
Retention: both stores delete old messages only once folded; PostgreSQL also keeps each site's
newest message, whose id is where the site's ids go on after a restart.

Threading: every method is synchronous. `writes_block` says whether append_messages() waits on a
network: when True the Recorder runs appends in an executor thread (one batch at a time, so they
stay in order); when False it calls the store on the loop thread (sqlite: a short local commit).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from wsdmon.core import DeviceRecord, JobRecord
from wsdmon.core.health import DeviceHealth

from .journal import MessageRow, StoredMessage
from .schema import MAX_SITE_CHARS, check_site

__all__ = ["MAX_SITE_CHARS", "StoreError", "StorePort", "StoreUnavailableError", "check_site"]


class StoreError(Exception):
    """The store cannot be opened or used; the message says what to do and never holds a password."""


class StoreUnavailableError(StoreError):
    """The database server cannot be reached (now): the caller may retry later."""


class StorePort(Protocol):
    """A store of accepted messages, folded job state and devices (see the module docstring)."""

    @property
    def site(self) -> str:
        """The site this store writes as."""
        ...

    @property
    def location(self) -> str:
        """Where the store is, for people and logs: a file path, or a URL without its password."""
        ...

    @property
    def writes_block(self) -> bool:
        """True when append_messages() waits on a network (run it off the loop)."""
        ...

    def append_messages(self, batch: Sequence[MessageRow]) -> list[int]:
        """Store the messages durably (committed before this returns), all or none; their ids."""
        ...

    def messages_after(self, message_id: int) -> Iterator[StoredMessage]:
        """This site's messages with an id above message_id, oldest first (replay after restart)."""
        ...

    def raw_message(self, message_id: int) -> bytes | None:
        """A message's bytes as received, or None when retention removed it."""
        ...

    def upsert_jobs(self, records: Iterable[JobRecord], last_folded_message_id: int) -> None:
        """Store the folded state of these jobs and the last message folded into it, atomically."""
        ...

    def load_jobs(self) -> list[JobRecord]:
        """Every stored job of this site with its timeline (damaged rows skipped and logged)."""
        ...

    def last_folded_message_id(self) -> int:
        """The last_folded_message_id of the latest upsert_jobs(), 0 before the first."""
        ...

    def upsert_device(self, record: DeviceRecord) -> None:
        """Remember a device's metadata (its runtime state: save_device_state)."""
        ...

    def save_device_state(self, record: DeviceRecord) -> None:
        """Write the device's runtime state now (online or why not, its subscriptions, what it
        said of itself) on its row: what the viewers of a shared store show. A device whose metadata
        was never read (unreachable since found) gets a row of what is known of it, which
        load_devices() leaves out; nor does it read the state back (subscriptions are made anew)."""
        ...

    def save_device_health(self, health: DeviceHealth) -> None:
        """Write a device's health report (core.health), as its collector judged it now, on the
        device's row for the viewers of a shared store; a report of an endpoint without a row (not a
        device this site keeps: a printer, a PC's wsdd) is not kept."""
        ...

    def heartbeat(self) -> None:
        """This collector is alive (called from its loop every core.sites.HEARTBEAT_S): the viewers
        of a shared store judge its site by it; a clean close() then says it stopped."""
        ...

    def load_devices(self) -> list[DeviceRecord]:
        """Every device this site has seen, as last upserted."""
        ...

    def trusted_fingerprint(self, device: str) -> str | None:
        """The SHA-256 (lower-case hex) of the certificate accepted for this device, if any."""
        ...

    def set_trusted_fingerprint(self, device: str, sha256_hex: str) -> None:
        """Trust this certificate fingerprint for the device's HTTPS endpoints."""
        ...

    def apply_retention(self, now: datetime, max_age: timedelta | None, max_messages: int | None) -> int:
        """Delete old messages and ended jobs of this site in a short batch; rows deleted."""
        ...

    def close(self) -> None:
        """Release the store (a PostgreSQL store first replays its spool if it can)."""
        ...
