"""Group commit in front of the journal: notifications that arrive together share one transaction,
and each sender is answered only once its message is on disk.

sqlite writes run on the loop thread (ARCHITECTURE.md: small and batched); a batch is committed at
once when the loop is otherwise idle, so a lone notification waits for no timer.

A store whose writes wait on a network (`writes_block`, PostgreSQL) is written from the loop's
default executor instead, one batch at a time so that batches commit in arrival order; whatever
arrives while a batch is in flight joins the next one, so a slower commit makes larger batches.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

__all__ = ["MAX_BATCH", "PendingMessage", "Recorder", "SupportsAppend"]

log = logging.getLogger(__name__)

MAX_BATCH = 256  # messages per transaction at most


class PendingMessage(NamedTuple):
    """One accepted message waiting to be written (the journal's append_messages row)."""

    arrival: datetime
    device: str
    subscription: str | None
    action: str
    message_id: str | None
    summary: str
    raw: bytes


class SupportsAppend(Protocol):
    def append_messages(self, batch: Sequence[PendingMessage]) -> list[int]: ...


def _blocks(journal: SupportsAppend) -> bool:
    return bool(getattr(journal, "writes_block", False))


class Recorder:
    """`await record(message)` returns the message's journal row id once it is committed."""

    def __init__(
        self, journal: SupportsAppend, *, on_error: Callable[[Exception], None] | None = None
    ) -> None:
        self._journal = journal
        self._queue: list[tuple[PendingMessage, asyncio.Future[int]]] = []
        self._scheduled = False
        self._on_error = on_error
        self._offload = _blocks(journal)
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0
        self.messages = 0

    async def record(self, message: PendingMessage) -> int:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._queue.append((message, future))
        if self._offload:
            if self._writer is None or self._writer.done():
                self._writer = loop.create_task(self._write_off_loop())
            return await future
        if not self._scheduled:
            self._scheduled = True
            # call_soon: every handler already waiting to run this loop iteration joins the batch.
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                ids = self._journal.append_messages([m for m, _ in batch])
            except Exception as exc:
                self._failed(batch, exc)
                continue
            self._done(batch, ids)

    async def _write_off_loop(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(0)  # like call_soon: the handlers already waiting join the first batch
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                ids = await loop.run_in_executor(None, self._journal.append_messages, [m for m, _ in batch])
            except Exception as exc:
                self._failed(batch, exc)
                continue
            self._done(batch, ids)

    def _failed(self, batch: list[tuple[PendingMessage, asyncio.Future[int]]], exc: Exception) -> None:
        log.error("journal write of %d messages failed", len(batch), exc_info=exc)
        if self._on_error is not None:
            self._on_error(exc)
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)

    def _done(self, batch: list[tuple[PendingMessage, asyncio.Future[int]]], ids: list[int]) -> None:
        self.batches += 1
        self.messages += len(batch)
        for (_, future), row in zip(batch, ids, strict=True):
            if not future.done():
                future.set_result(row)
