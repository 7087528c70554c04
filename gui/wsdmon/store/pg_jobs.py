"""The PostgreSQL store's folded jobs, written on a session of their own.

A collector on a shared store writes its folded job state every SHARED_JOB_FLUSH_INTERVAL_S (50 ms):
a query, a pipeline of upserts (the search columns' trigram indexes included) and a commit, tens of
milliseconds on a busy server. On the messages' session that write held up every batch of
notifications arriving meanwhile (their 202s waited for it): a collector's rate with PostgreSQL was
half its rate with sqlite (bench/bench_collector.py). On a session of its own it runs beside them.

Nothing about durability changes: messages are committed on their own session before their 202, as
before; the folded state is derived from them (the collector folds the messages after its last
folded id again at start), written in one transaction with that id, with the session's
synchronous_commit as connect() sets it (at least on). Jobs that cannot be written now (the server
away, the session busy) are queued, the latest record per job winning, and written with the next
write; a write takes everything queued, under one lock, so an older record of a job never
overtakes a newer one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable

import psycopg

from wsdmon.core.jobs import JobKey, JobRecord

from .pg_rows import Conn, write_jobs
from .port import StoreError

__all__ = ["JobsWriter"]

_log = logging.getLogger(__name__)


class JobsWriter:
    """Folded jobs of one site, queued and written on their own session (opened when first
    needed, by `open_session`; again after it was lost)."""

    def __init__(self, site: str, open_session: Callable[[], Conn]) -> None:
        self._site = site
        self._open = open_session
        self._conn: Conn | None = None
        self._lock = threading.Lock()  # the session; held while writing
        self._queue_lock = threading.Lock()  # the queue; never held while waiting on I/O
        self._jobs: dict[JobKey, JobRecord] = {}
        self._folded: int | None = None
        self._said = ""  # the last reason said for jobs staying queued (said once per wording)

    @property
    def pending(self) -> bool:
        """Jobs (or a last folded id) wait to be written."""
        return bool(self._jobs) or self._folded is not None

    @property
    def pending_folded(self) -> int | None:
        with self._queue_lock:
            return self._folded

    def queue(self, records: Iterable[JobRecord], folded: int | None) -> None:
        """Remember these jobs (a later record of a job replaces an earlier one) for the next write."""
        with self._queue_lock:
            self._jobs.update((r.key, r) for r in records)
            if folded is not None:
                self._folded = max(self._folded or 0, folded)

    def write(self, wait_s: float) -> bool:
        """Write everything queued in one transaction; False when it stays queued (the session
        busy for more than wait_s, or the server not answering)."""
        if not self._lock.acquire(timeout=wait_s):
            return False
        try:
            with self._queue_lock:
                jobs, folded = self._jobs, self._folded
                self._jobs, self._folded = {}, None
            if not jobs and folded is None:
                return True
            try:
                if self._conn is None:
                    self._conn = self._open()
                with self._conn.transaction():
                    write_jobs(self._conn, self._site, jobs.values(), folded)
            except (psycopg.OperationalError, psycopg.errors.DeadlockDetected, StoreError) as exc:
                self._say(exc)
                with self._queue_lock:  # back in the queue, unless something newer came meanwhile
                    self._jobs = {**jobs, **self._jobs}
                    if folded is not None:
                        self._folded = max(self._folded or 0, folded)
                if not isinstance(exc, psycopg.errors.DeadlockDetected):
                    self._drop()
                return False
            self._said = ""
            return True
        finally:
            self._lock.release()

    def _say(self, exc: Exception) -> None:
        """Why the jobs stay queued: a warning the first time (e.g. the server's connection limit
        leaves no room for the jobs' session), then at debug level until it changes."""
        words = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, StoreError):  # its words name the location, without the password
            level = logging.WARNING if words != self._said else logging.DEBUG
        else:  # the session broke: the server went away, which the messages' session says too
            level = logging.DEBUG
        self._said = words
        _log.log(level, "the folded job state of site %s is kept to be written later: %s", self._site, words)

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def close(self, wait_s: float) -> None:
        """Close the session (after a write in progress, waiting at most wait_s for it)."""
        got = self._lock.acquire(timeout=wait_s)
        try:
            self._drop()
        finally:
            if got:
                self._lock.release()
