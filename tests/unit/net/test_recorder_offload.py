"""The Recorder in front of a store whose writes block (PostgreSQL): writes leave the loop thread, one
batch at a time and in arrival order, and what arrives meanwhile is grouped into the next batch;
a store that does not block (sqlite) is still written on the loop thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from wsdmon.net.recorder import PendingMessage, Recorder


class FakeStore:
    def __init__(self, *, blocks: bool, delay_s: float = 0.0, fail_on: str | None = None) -> None:
        self.writes_block = blocks
        self.delay_s = delay_s
        self.fail_on = fail_on
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()
        self._busy = threading.Lock()
        self._next = 1

    def append_messages(self, batch: Sequence[PendingMessage]) -> list[int]:
        if not self._busy.acquire(blocking=False):
            raise AssertionError("two batches written at once")
        try:
            self.threads.add(threading.get_ident())
            time.sleep(self.delay_s)  # a commit on a server
            if self.fail_on is not None and any(m.message_id == self.fail_on for m in batch):
                raise ConnectionError("server gone")
            self.batches.append([m.message_id or "" for m in batch])
            ids = list(range(self._next, self._next + len(batch)))
            self._next += len(batch)
            return ids
        finally:
            self._busy.release()


def _message(i: int) -> PendingMessage:
    return PendingMessage(datetime.now(UTC), "urn:uuid:d", None, "a", f"m{i}", "s", b"<x/>")


async def _send(recorder: Recorder, count: int, gap_s: float) -> list[int]:
    async def one(i: int) -> int:
        await asyncio.sleep(i * gap_s)
        return await recorder.record(_message(i))

    return list(await asyncio.gather(*(one(i) for i in range(count))))


def test_blocking_writes_leave_the_loop_one_batch_at_a_time_in_order() -> None:
    store = FakeStore(blocks=True, delay_s=0.01)

    async def body() -> list[int]:
        return await _send(Recorder(store), 60, 0.001)

    ids = asyncio.run(body())
    assert threading.get_ident() not in store.threads
    written = [m for batch in store.batches for m in batch]
    assert written == [f"m{i}" for i in range(60)]  # arrival order
    assert ids == list(range(1, 61))  # each sender got its own row's id
    assert len(store.batches) < 60  # what arrived during a commit joined the next batch


def test_a_store_that_does_not_block_is_written_on_the_loop() -> None:
    store = FakeStore(blocks=False)

    async def body() -> list[int]:
        return await _send(Recorder(store), 20, 0.0)

    assert asyncio.run(body()) == list(range(1, 21))
    assert store.threads == {threading.get_ident()}


def test_a_failed_blocking_write_fails_its_batch_only() -> None:
    store = FakeStore(blocks=True, delay_s=0.005, fail_on="m0")
    errors: list[Exception] = []

    async def body() -> tuple[BaseException | int, ...]:
        recorder = Recorder(store, on_error=errors.append)
        first = await asyncio.gather(recorder.record(_message(0)), return_exceptions=True)
        later = await recorder.record(_message(1))
        return (*first, later)

    failed, later = asyncio.run(body())
    assert isinstance(failed, ConnectionError)
    assert later == 1
    assert len(errors) == 1
