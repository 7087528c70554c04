"""The job ledger writes the folded jobs at the interval it is run with: a collector writing a
shared store writes them every SHARED_JOB_FLUSH_INTERVAL_S (its viewers see a job when it is
written), a single PC every JOB_FLUSH_INTERVAL_S."""

import asyncio
from typing import Any

from wsdmon.net.engine import EngineConfig
from wsdmon.net.job_ledger import JOB_FLUSH_INTERVAL_S, SHARED_JOB_FLUSH_INTERVAL_S, JobLedger


class Store:
    def __init__(self) -> None:
        self.writes = 0

    def upsert_jobs(self, records: Any, last_folded_message_id: int) -> None:
        self.writes += 1


def test_the_ledger_writes_changed_jobs_at_the_interval_it_is_run_with() -> None:
    store = Store()
    ledger = JobLedger(store)  # type: ignore[arg-type]

    async def run() -> None:
        task = asyncio.ensure_future(ledger.run(lambda: None, SHARED_JOB_FLUSH_INTERVAL_S))
        for _ in range(10):
            ledger._dirty.add(object())  # type: ignore[arg-type]  # something changed
            await asyncio.sleep(SHARED_JOB_FLUSH_INTERVAL_S)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())
    assert store.writes >= 5  # about one write per interval (a busy machine may merge a few)


def test_a_single_pc_keeps_the_longer_interval_and_a_shared_store_a_short_one() -> None:
    assert EngineConfig().job_flush_interval_s == JOB_FLUSH_INTERVAL_S
    assert SHARED_JOB_FLUSH_INTERVAL_S <= 0.1 < JOB_FLUSH_INTERVAL_S
