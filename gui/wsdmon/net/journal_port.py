"""What the engine needs from the journal (wsdmon.store.Journal implements it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from wsdmon.core import DeviceRecord, JobRecord

from .recorder import PendingMessage

__all__ = ["JournalPort"]


class JournalPort(Protocol):
    def append_messages(self, batch: Sequence[PendingMessage]) -> list[int]: ...

    def upsert_jobs(self, records: Iterable[JobRecord], last_folded_message_id: int) -> None: ...

    def load_jobs(self) -> list[JobRecord]: ...

    def last_folded_message_id(self) -> int: ...

    def messages_after(self, message_id: int) -> Iterator[tuple[int, datetime, str, str, bytes]]: ...

    def raw_message(self, message_id: int) -> bytes | None: ...

    def upsert_device(self, record: DeviceRecord) -> None: ...

    def load_devices(self) -> list[DeviceRecord]: ...

    def trusted_fingerprint(self, device: str) -> str | None: ...

    def set_trusted_fingerprint(self, device: str, sha256_hex: str) -> None: ...

    def apply_retention(self, now: datetime, max_age: timedelta | None, max_messages: int | None) -> int: ...
