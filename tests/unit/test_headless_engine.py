"""A collector's engine (headless._start_engine, what `wsdmon collect` runs): the jobs it restores
from the journal live as long as it does, so they are taken out of the cyclic garbage collector's
full passes (with 100,000 jobs in memory one pass took 288 ms, every device's 202 waiting)."""

from __future__ import annotations

import asyncio
import gc
from argparse import Namespace
from pathlib import Path

from tests.job_samples import sample_jobs
from wsdmon.collect import _ServiceLog
from wsdmon.headless import _start_engine
from wsdmon.store import Journal


def test_a_collectors_restored_jobs_are_out_of_the_full_garbage_collections(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path, site="pc") as journal:
        journal.upsert_jobs(list(sample_jobs(2000, devices=5)), 0)
    args = Namespace(notify_port=0, notify_host="127.0.0.1", device=[], trust_fingerprint=[])
    said: list[str] = []

    async def start() -> tuple[int, bool]:
        gc.unfreeze()
        engine = await _start_engine(
            args, Journal(path), _ServiceLog(), lambda text, **_: said.append(text), None
        )
        try:
            restored = next(iter(engine.jobs.jobs.values()))
            frozen = gc.get_freeze_count()
            # A frozen object is in no generation: a full pass does not visit it.
            visited = any(o is restored for o in gc.get_objects(generation=2))
        finally:
            await engine.stop()
            engine.journal.close()
            gc.unfreeze()
        return frozen, visited

    frozen, visited = asyncio.run(start())
    assert said == []
    assert frozen > 2000 * 5  # every restored job, its status, timeline entries …
    assert not visited
