"""The job ledger writes the folded jobs at the interval it is run with: a collector writing a
shared store writes them every SHARED_JOB_FLUSH_INTERVAL_S (its viewers see a job when it is
written), a single PC every JOB_FLUSH_INTERVAL_S."""

import asyncio
import logging
import threading
import time
from typing import Any

from wsdmon.net import job_ledger
from wsdmon.net.engine import EngineConfig
from wsdmon.net.job_ledger import (
    JOB_FLUSH_INTERVAL_S,
    SHARED_JOB_FLUSH_BUSY_S,
    SHARED_JOB_FLUSH_INTERVAL_S,
    Cadence,
    JobLedger,
)


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


def test_into_a_store_whose_writes_block_the_ledger_writes_off_the_loop() -> None:
    """PostgreSQL (writes_block): the folded jobs are written from the loop's executor, so that the
    loop goes on answering notifications while a write waits on the server; a stop (cancel) waits
    for the write in flight before it returns, so that the final flush comes after it."""
    release = threading.Event()
    done: list[str] = []

    class Remote(Store):
        writes_block = True

        def upsert_jobs(self, records: Any, last_folded_message_id: int) -> None:
            done.append("write on the loop" if threading.current_thread() is main else "write off the loop")
            release.wait(5.0)
            done.append("write ended")

    main = threading.current_thread()
    ledger = JobLedger(Remote())  # type: ignore[arg-type]

    async def run() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(ledger.run(lambda: None, 0.01))
        ledger._dirty.add(object())  # type: ignore[arg-type]  # something changed
        while not done:
            await asyncio.sleep(0.01)  # the loop runs while the write waits
        done.append("loop ran")
        task.cancel()
        loop.call_later(0.2, release.set)
        await asyncio.gather(task, return_exceptions=True)
        done.append("stopped")

    asyncio.run(run())
    assert done == ["write off the loop", "loop ran", "write ended", "stopped"]


class SlowNetworkStore(Store):
    """A store whose writes wait on a network (PostgreSQL's `writes_block`), each WRITE_S long."""

    writes_block = True
    WRITE_S = 0.3

    def __init__(self) -> None:
        super().__init__()
        self.finished = 0

    def upsert_jobs(self, records: Any, last_folded_message_id: int) -> None:
        super().upsert_jobs(records, last_folded_message_id)
        time.sleep(self.WRITE_S)  # waiting for the server
        self.finished += 1


def test_a_write_that_waits_on_the_network_does_not_hold_the_loop() -> None:
    """Issue 14, item 5: a collector's write of its folded jobs into PostgreSQL took 150-300 ms on a
    busy machine, and the notifications due meanwhile waited for it (bench/bench_latency_pg.py):
    such a store is written from a thread, and the loop goes on. Stopped mid-write, the write under
    way finishes before the ledger says it stopped (the engine's last flush comes after it)."""
    store = SlowNetworkStore()
    ledger = JobLedger(store)  # type: ignore[arg-type]
    gaps: list[float] = []

    async def run() -> None:
        task = asyncio.ensure_future(ledger.run(lambda: None, SHARED_JOB_FLUSH_INTERVAL_S))
        ledger._dirty.add(object())  # type: ignore[arg-type]
        last = start = time.monotonic()
        while last - start < SlowNetworkStore.WRITE_S * 0.7:  # stops mid-write (it starts at once)
            await asyncio.sleep(0.005)  # the loop's other work: ticks while the write waits
            now = time.monotonic()
            gaps.append(now - last)
            last = now
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())
    assert store.writes == 1
    assert max(gaps) < SlowNetworkStore.WRITE_S / 2  # the loop was never held for the write
    assert store.finished == 1  # cancelled mid-write: the write finished first


class FakeTimes:
    """A clock and a process CPU time that a test advances: `busy` cores used per second."""

    def __init__(self) -> None:
        self.now = self.used = 0.0

    def run(self, seconds: float, busy: float) -> None:
        self.now += seconds
        self.used += seconds * busy


def test_a_collector_short_of_cpu_writes_its_jobs_every_two_seconds_until_it_has_cpu_again(caplog) -> None:
    """Cadence: the shortest interval while the process has CPU to spare; the longest at once in a
    window where it uses BUSY_CPU or more of a core (the devices' POSTs wait for it); the shortest
    again at once in a window of IDLE_CPU or less; unchanged in between. A storm (STORM_WINDOWS busy
    windows in a row) is said in the log once, in words, and its end too; a burst is not."""
    caplog.set_level(logging.INFO, logger=job_ledger.__name__)
    times = FakeTimes()
    shortest, longest = SHARED_JOB_FLUSH_INTERVAL_S, SHARED_JOB_FLUSH_BUSY_S
    cadence = Cadence(shortest, longest, cpu=lambda: times.used, clock=lambda: times.now)
    assert SHARED_JOB_FLUSH_BUSY_S == JOB_FLUSH_INTERVAL_S
    seen = []
    steps = [(0.5, 0.3), (0.2, 0.95), (0.2, 0.5), (0.05, 0.99), (0.2, 0.95), (0.2, 0.9), (0.5, 0.7)]
    for seconds, busy in [*steps, (2.0, 0.9), (0.5, 0.65), (0.5, 0.4)]:
        times.run(seconds, busy)
        seen.append(cadence.next())
    # idle; a busy burst → 2 s, then idle → 30 ms at once; a window too short to judge (it counts in
    # the next: 0.96) → 2 s; busy again (a storm: said); in between: kept; busy; in between; idle
    assert seen == [0.03, 2.0, 0.03, 0.03, 2.0, 2.0, 2.0, 2.0, 2.0, 0.03]
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "the collector is short of CPU (0.90 of a core): its folded jobs are written every 2 s until it "
        "is not, and the sites' viewers see job changes that much later",
        "the collector has CPU to spare again: folded jobs are written every 0.03 s",
    ]


def test_the_ledger_of_a_busy_collector_writes_less_often(monkeypatch) -> None:
    """JobLedger.run with a busy interval: while the process uses a core (faked), about one write per
    busy interval instead of one per interval; as soon as it has CPU again, writes at the interval
    (it does not sit out the busy interval it was in)."""
    store = Store()
    ledger = JobLedger(store)  # type: ignore[arg-type]
    busy = {"on": False, "used": 0.0, "at": time.monotonic()}

    def cpu() -> float:  # one core while busy, none otherwise
        now = time.monotonic()
        if busy["on"]:
            busy["used"] += now - busy["at"]
        busy["at"] = now
        return busy["used"]

    monkeypatch.setattr(job_ledger.time, "process_time", cpu)

    async def run() -> tuple[int, int, int]:
        task = asyncio.ensure_future(ledger.run(lambda: None, 0.02, 5.0))
        counts = []
        for on in (False, True, False):
            busy["on"] = on
            await asyncio.sleep(0.3)  # the cadence settles (the busy interval is 5 s: not waited out)
            before = store.writes
            for _ in range(40):
                ledger._dirty.add(object())  # type: ignore[arg-type]
                await asyncio.sleep(0.02)
            counts.append(store.writes - before)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return counts[0], counts[1], counts[2]

    idle, busy_writes, idle_again = asyncio.run(run())
    assert idle >= 15  # ~40 writes in 0.8 s at 20 ms (a loaded machine merges some)
    assert busy_writes <= 1  # every 5 s
    assert idle_again >= 15


def test_a_collector_of_a_shared_store_writes_its_jobs_soon_and_less_often_when_busy() -> None:
    """The engine's configuration: `collect --store` (shared) writes folded jobs every 30 ms, up to 2 s
    while short of CPU; a single PC's engine every 2 s, always."""
    from argparse import Namespace

    from wsdmon.headless import engine_config

    args = Namespace(notify_port=None, notify_host=None, device=[], trust_fingerprint=[])
    shared = engine_config(args, "site-a", shared=True)
    assert (shared.job_flush_interval_s, shared.job_flush_busy_s) == (SHARED_JOB_FLUSH_INTERVAL_S, 2.0)
    single = engine_config(args, None)
    assert (single.job_flush_interval_s, single.job_flush_busy_s) == (JOB_FLUSH_INTERVAL_S, None)
