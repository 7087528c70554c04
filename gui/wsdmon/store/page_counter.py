"""Exact counts of a paged job table, counted on a thread of their own (issue 14, item 4).

Counting every job a search matches is what made a search over a million jobs slow (125,409
matches: 0.55 s in sqlite, 0.76 s in PostgreSQL, all of it on the GUI thread before the first row
showed). The paged table now counts synchronously only up to a cap (job_pages.count_upto: the rows
of the first screens, a few ms) and shows those rows at once, with "more than N jobs"; the exact
number is counted here, off the GUI thread, on a connection of its own, and handed back when known.

One worker per store view, one thread at most, started when there is work and ended when there is
none. Each job has a purpose ("rows": what the table shows, "total": the status bar's count): a
new job of a purpose supersedes the waiting one and interrupts the running one (the user typed on:
the old count is of no use), jobs of other purposes wait their turn. The result is handed to the
job's `done(n)` on the worker's thread (None when the store could not be read): the caller hands
it on to its own thread (the model does, through a queued Qt signal).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .port import StoreError

__all__ = ["CountJob", "CountWorker", "Counting"]

_log = logging.getLogger(__name__)
JOIN_TIMEOUT_S = 5.0  # close() waits this long for a running count to stop after its interrupt


class Counting(Protocol):
    """A connection that counts (a detached job_pages view, opened on the worker's thread)."""

    def count_exact(self) -> int: ...
    def interrupt(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CountJob:
    purpose: str
    open: Callable[[], Counting]  # called on the worker's thread (sqlite connections are per thread)
    done: Callable[[int | None], None]  # called on the worker's thread
    # What is counted: a new job of the same purpose and key does not interrupt the running one (a
    # live re-read asks again while it counts: its number comes, then the newer one is counted).
    key: object = None


class CountWorker:
    """See the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, CountJob] = {}
        self._running: tuple[CountJob, Counting | None] | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, job: CountJob) -> None:
        with self._lock:
            if self._closed:
                return
            self._waiting[job.purpose] = job
            running = self._running
            if (
                running is not None
                and running[0].purpose == job.purpose
                and running[0].key != job.key
                and running[1] is not None
            ):
                running[1].interrupt()  # superseded: its number would be of no use
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wsdmon-count", daemon=True)
                self._thread.start()

    def cancel(self, purpose: str) -> None:
        """Forget the waiting job of a purpose and interrupt the running one (the count is known)."""
        with self._lock:
            self._waiting.pop(purpose, None)
            running = self._running
            if running is not None and running[0].purpose == purpose and running[1] is not None:
                running[1].interrupt()

    def busy(self) -> bool:
        with self._lock:
            return self._thread is not None

    def close(self) -> None:
        """Drop the waiting jobs, interrupt the running one and wait for the thread to end."""
        with self._lock:
            self._closed = True
            self._waiting.clear()
            running, thread = self._running, self._thread
            if running is not None and running[1] is not None:
                running[1].interrupt()
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._waiting or self._closed:
                    self._thread = None
                    return
                purpose = next(iter(self._waiting))
                job = self._waiting.pop(purpose)
                self._running = (job, None)
            n = self._count(job)
            with self._lock:
                waiting = self._waiting.get(job.purpose)
                superseded = self._closed or (waiting is not None and waiting.key != job.key)
                self._running = None
            if not superseded:
                job.done(n)

    def _count(self, job: CountJob) -> int | None:
        conn: Counting | None = None
        try:
            conn = job.open()
            with self._lock:
                self._running = (job, conn)
                waiting = self._waiting.get(job.purpose)
                stop = self._closed or (waiting is not None and waiting.key != job.key)
            if stop:
                return None
            return conn.count_exact()
        except StoreError as exc:
            with self._lock:
                quiet = self._closed or job.purpose in self._waiting  # interrupted on purpose
            if not quiet:
                _log.warning("job table: cannot count the jobs: %s", exc)
            return None
        finally:
            if conn is not None:
                with contextlib.suppress(StoreError):
                    conn.close()
