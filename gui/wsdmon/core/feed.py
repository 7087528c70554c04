"""The one feed the window consumes (issue 14, item 5), in both directions.

- `FeedSink`: what a producer calls, on the loop's thread (= the Qt thread under qasync), whenever
  something the window shows changed. The window's side is bridge.QtBridge, which batches what it
  gets and hands it to the models once per batch. Producers: the in-process engine
  (net/engine.py, a single PC: its `listener`), and a follower of a shared store (the window on
  PostgreSQL). `FeedListener` is a sink that ignores everything: subclass it and override what you
  need (the engine's EngineListener is this class).
- `FeedCommands`: what the window asks back of the producer that holds the devices (cancel a job,
  read a device again, resubscribe, trust a certificate, a message's raw bytes, a device's health).
  The engine implements it; app.py turns it into the widgets' WindowHooks (widgets never import the
  engine). A producer that cannot do one leaves the hook out: its action is disabled.

Only typed values cross (core records, enums, dataclasses); words a person reads are made in models/.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .device_status import CancelOutcome, ResubscribeResult
from .devices import DeviceRecord
from .health import DeviceHealth
from .jobs import JobChange, JobKey

__all__ = ["FeedCommands", "FeedListener", "FeedSink", "RawEntry"]


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One line of the raw message log."""

    arrival: datetime
    device: str
    action: str
    summary: str
    journal_id: int | None
    size: int = 0
    peer: str = ""


class FeedSink(Protocol):
    """What a producer tells the window (every call on the loop's thread; none may block)."""

    def device_changed(self, device: DeviceRecord) -> None:
        """A device appeared or changed (metadata, subscription state, last event)."""

    def job_changed(self, change: JobChange) -> None:
        """A job was added or changed (or a stale/duplicate observation was recorded)."""

    def jobs_removed(self, keys: list[JobKey]) -> None:
        """Jobs dropped by the retention setting (ended long ago)."""

    def health_changed(self, health: DeviceHealth) -> None:
        """A device's health changed: its worst verdict or any check's verdict or finding."""

    def message_logged(self, entry: RawEntry) -> None:
        """An accepted message, for the raw log."""

    def message_rejected(self, reason: str, detail: str) -> None:
        """A message was rejected (`reason`: the sink's RejectReason value)."""


class FeedListener:
    """A FeedSink that ignores everything; override what you need."""

    def device_changed(self, device: DeviceRecord) -> None:
        """A device appeared or changed (metadata, subscription state, last event)."""

    def job_changed(self, change: JobChange) -> None:
        """A job was added or changed (or a stale/duplicate observation was recorded)."""

    def message_logged(self, entry: RawEntry) -> None:
        """An accepted message, for the raw log."""

    def message_rejected(self, reason: str, detail: str) -> None:
        """The sink rejected a message."""

    def jobs_removed(self, keys: list[JobKey]) -> None:
        """Jobs dropped by the retention setting (ended long ago)."""

    def health_changed(self, health: DeviceHealth) -> None:
        """A device's health changed: its worst verdict or any check's verdict or finding."""


class FeedCommands(Protocol):
    """What the window asks of the producer that holds the devices and their subscriptions."""

    def cancel_job(self, key: JobKey) -> Awaitable[CancelOutcome]:
        """Ask the job's scan server to cancel it; the outcome is also put on the job's timeline."""
        ...

    def refresh(self, endpoint: str) -> Awaitable[None]:
        """Read the device's metadata again and resubscribe."""
        ...

    def resubscribe(self, endpoint: str) -> Awaitable[ResubscribeResult]:
        """Drop and renew every subscription of the device; the outcome once they settled."""
        ...

    def accept_fingerprint(self, device: str, sha256_hex: str) -> None:
        """Pin the certificate a person accepted for the device."""

    def raw_message(self, journal_id: int) -> bytes | None:
        """The raw bytes of an accepted message (None: no longer kept)."""

    def health(self, endpoint: str) -> DeviceHealth | None:
        """The device's health judged now (None for a device the producer never saw)."""

    def health_all(self) -> list[DeviceHealth]:
        """The health of every device the producer knows, judged now."""
