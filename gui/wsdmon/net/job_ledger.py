"""The engine's jobs and the journal behind them (issue 14, item 5): the job table restored and
replayed from the journal at start, the folded state written back every JOB_FLUSH_INTERVAL_S, and
retention (messages and ended jobs older than the setting go).

The journal, not the job cache, is the truth: messages are written at once (the sink waits for
that before the device gets its 202), folded job state only now and then, so after a kill -9 the
messages newer than the last flush are folded again here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from wsdmon.core import JobChange, JobKey, JobRecord, JobTable, Observation
from wsdmon.protocol import RemoteProtocolError, decode

from .journal_port import JournalPort
from .router import observation

__all__ = [
    "JOB_FLUSH_INTERVAL_S",
    "RETENTION_INTERVAL_S",
    "SHARED_JOB_FLUSH_BUSY_S",
    "SHARED_JOB_FLUSH_INTERVAL_S",
    "Cadence",
    "JobLedger",
]

log = logging.getLogger(__name__)

JOB_FLUSH_INTERVAL_S = 2.0  # folded job state is written this often (messages are written at once)
# Into a shared store the folded state is what the sites' viewers see (the window and `watch` on
# PostgreSQL read the jobs table when NOTIFY says it changed): written about every other frame, so
# that a change reaches a viewer within issue 14's 250 ms at 1,000 notifications/s
# (bench/bench_latency_pg.py: p99 200-223 ms at 30 ms; 249-270 ms at 50 ms before the job table's
# one-pass paint) ...
SHARED_JOB_FLUSH_INTERVAL_S = 0.03
# ... while the collector has CPU to spare. A collector short of CPU (a storm of notifications: the
# devices' POSTs queue for it) writes them as often as a single PC's journal: a write of ~30 live
# jobs costs ~5 ms of the process's CPU, at 30 ms a fifth of what it has for the notifications and
# their 202s (bench/bench_collector.py, 16 connections: 0.61 × its rate with the sqlite journal at
# 30 ms always; 0.86 with this). Viewers then see the folded jobs up to 2 s later, while it lasts.
SHARED_JOB_FLUSH_BUSY_S = JOB_FLUSH_INTERVAL_S  # as often as a single PC's journal
# The process's CPU (all its threads; one core ≈ 1.0: the interpreter's lock keeps a collector near
# one core) measured over windows of at least CADENCE_WINDOW_S: at BUSY_CPU or more the interval is
# the longest at once, at IDLE_CPU or less the shortest at once, in between it stays. The ledger
# judges again every window while it waits, so a burst (a snapshot's parse, a garbage collection)
# holds the viewers' changes back for a window or two, not for the longest interval.
BUSY_CPU = 0.8
IDLE_CPU = 0.6
CADENCE_WINDOW_S = 0.1
STORM_WINDOWS = 2  # busy windows in a row that are a storm, not a burst: said in the log
RETENTION_INTERVAL_S = 3600.0


class Cadence:
    """The interval between writes of a shared store's folded jobs (see SHARED_JOB_FLUSH_BUSY_S):
    `shortest` while the process has CPU to spare, up to `longest` while it is short of it."""

    def __init__(
        self,
        shortest: float,
        longest: float,
        *,
        cpu: Callable[[], float] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.shortest, self.longest = shortest, longest
        self.interval = shortest
        self._cpu = cpu or time.process_time  # the process's CPU time, all threads
        self._clock = clock or time.monotonic
        self._since = (self._clock(), self._cpu())
        self._busy = 0  # busy windows in a row
        self._said = False  # the log said the collector is short of CPU

    def next(self) -> float:
        """The interval before the next write, judged from the CPU used since the last judgement."""
        now, used = self._clock(), self._cpu()
        wall = now - self._since[0]
        if wall >= CADENCE_WINDOW_S:
            share = (used - self._since[1]) / wall
            self._since = (now, used)
            self._busy = self._busy + 1 if share >= BUSY_CPU else 0
            if self._busy:
                self.interval = self.longest
            elif share <= IDLE_CPU:
                self.interval = self.shortest
            if self._busy >= STORM_WINDOWS and not self._said:
                self._said = True
                log.info(
                    "the collector is short of CPU (%.2f of a core): its folded jobs are written every "
                    "%.3g s until it is not, and the sites' viewers see job changes that much later",
                    share,
                    self.longest,
                )
            elif self._said and self.interval == self.shortest:
                self._said = False
                log.info(
                    "the collector has CPU to spare again: folded jobs are written every %.3g s",
                    self.shortest,
                )
        return self.interval


class JobLedger:
    """The job table, what changed in it since the last write, and the journal it is written to."""

    def __init__(self, journal: JournalPort) -> None:
        self.journal = journal
        self.jobs = JobTable()
        self._dirty: set[JobKey] = set()
        self._last_folded_id = 0

    def fold(self, obs: Observation) -> JobChange:
        """Fold one observation into the table; the job is written at the next flush."""
        change = self.jobs.apply(obs)
        self._dirty.add(change.record.key)
        return change

    def changed(self, change: JobChange) -> None:
        """A job changed by other means (unknown, lost, a cancel noted): write it at the next flush."""
        self._dirty.add(change.record.key)

    def folded(self, journal_id: int | None) -> None:
        """Messages up to this journal row are folded into the table."""
        if journal_id is not None:
            self._last_folded_id = max(self._last_folded_id, journal_id)

    def restore(self) -> list[JobChange]:
        """Load the saved job state and fold the messages newer than it again; returns every job,
        as added (for the listener)."""
        journal = self.journal
        self.jobs.restore(journal.load_jobs())
        self._last_folded_id = journal.last_folded_message_id()
        replayed = 0
        for row, arrival, device, _action, raw in journal.messages_after(self._last_folded_id):
            try:
                message = decode(raw)
            except RemoteProtocolError as exc:
                log.warning("journal row %d no longer parses (%s); skipped", row, exc)
                continue
            obs = observation(message, device, arrival, row)
            if obs is not None:
                self.fold(obs)
                replayed += 1
            self._last_folded_id = max(self._last_folded_id, row)
        if replayed:
            log.info("replayed %d journal messages newer than the saved job state", replayed)
        # What became of the jobs that were active when the monitor stopped is unknown until their
        # devices answer (the snapshot after subscribing settles them: core.jobs rule 7).
        for change in self.jobs.mark_unknown(None):
            self._dirty.add(change.record.key)
        return [JobChange(job, added=True, accepted=True) for job in self.jobs.jobs.values()]

    def flush(self) -> None:
        """Write the folded state of the jobs changed since the last flush."""
        taken = self._take()
        if taken is not None:
            self._write(*taken)

    def _take(self) -> tuple[list[JobRecord], int] | None:
        """The jobs changed since the last flush (JobRecords are immutable: safe to hand to a
        thread), and the last folded message; None when nothing changed."""
        if not self._dirty:
            return None
        records = [self.jobs.jobs[k] for k in self._dirty if k in self.jobs.jobs]
        self._dirty.clear()
        return records, self._last_folded_id

    def _write(self, records: list[JobRecord], last_folded_id: int) -> None:
        try:
            self.journal.upsert_jobs(records, last_folded_id)
        except Exception:
            log.exception("could not write folded job state (messages are safe in the journal)")

    async def _flush_off_loop(self) -> None:
        """flush() in the loop's executor, for a store whose writes wait on a network: the loop
        goes on answering notifications meanwhile. A cancel waits for the write in flight, so that
        the final flush() at stop cannot be overtaken by an older state of the same job."""
        taken = self._take()
        if taken is None:
            return
        write = asyncio.get_running_loop().run_in_executor(None, self._write, *taken)
        try:
            await asyncio.shield(write)
        except asyncio.CancelledError:
            await write
            raise

    async def run(
        self,
        retention: Callable[[], object],
        interval_s: float = JOB_FLUSH_INTERVAL_S,
        busy_interval_s: float | None = None,
    ) -> None:
        """Flush every `interval_s` (a write that takes longer: right after it) and call `retention`
        every RETENTION_INTERVAL_S (until cancelled); up to every `busy_interval_s` while the
        process is short of CPU (Cadence). Into a store that `writes_block` (PostgreSQL)
        the flush runs off the loop: its round trips and commit (a WAL flush) would otherwise hold
        up every notification arriving meanwhile, every SHARED_JOB_FLUSH_INTERVAL_S."""
        loop = asyncio.get_running_loop()
        off_loop = bool(getattr(self.journal, "writes_block", False))
        cadence = None if busy_interval_s is None else Cadence(interval_s, busy_interval_s)
        next_retention = loop.time() + JOB_FLUSH_INTERVAL_S
        last = loop.time()  # the last write's start: the interval is between starts, not after each
        while True:
            if cadence is not None:
                interval_s = cadence.next()
            wait = last + interval_s - loop.time()
            if wait > 0:
                # With a cadence, judged again at least every window: the longest interval ends as
                # soon as the process has CPU to spare again.
                await asyncio.sleep(wait if cadence is None else min(wait, CADENCE_WINDOW_S))
                continue
            last = loop.time()
            if off_loop:
                await self._flush_off_loop()
            else:
                self.flush()
            if loop.time() >= next_retention:
                next_retention = loop.time() + RETENTION_INTERVAL_S
                retention()

    def apply_retention(
        self, now: datetime, retention: timedelta | None, max_messages: int | None
    ) -> tuple[int, list[JobKey]]:
        """Bounded growth: drop journal rows and jobs older than `retention` (never an active job).
        Returns the journal rows deleted and the jobs that went."""
        from wsdmon.store.journal import RETENTION_BATCH_ROWS

        if retention is None and max_messages is None:
            return 0, []
        deleted = 0
        try:
            while True:  # the journal deletes in short batches; a backlog takes a few rounds
                n = self.journal.apply_retention(now, retention, max_messages)
                deleted += n
                if n < RETENTION_BATCH_ROWS:
                    break
        except Exception:
            log.exception("journal retention failed")
        gone: list[JobKey] = []
        if retention is not None:
            cutoff = now - retention
            gone = [k for k, r in self.jobs.jobs.items() if not r.is_active and r.last_update < cutoff]
            self.jobs.remove(gone)
            self._dirty.difference_update(gone)
        if deleted:
            log.info("retention removed %d journal rows", deleted)
        return deleted, gone
