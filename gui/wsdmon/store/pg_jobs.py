"""The PostgreSQL store's folded jobs, written on a session of their own.

A collector on a shared store writes its folded job state every SHARED_JOB_FLUSH_INTERVAL_S (30 ms; up to
SHARED_JOB_FLUSH_BUSY_S while it is short of CPU, net.job_ledger.Cadence):
a query, a statement per table and a commit. On the messages' session that write held up every
batch of notifications arriving meanwhile (their 202s waited for it): a collector's rate with
PostgreSQL was half its rate with sqlite (bench/bench_collector.py). On a session of its own it runs
beside them.

Messages are committed on their own session before their 202, as before; the folded state is
derived from them (the collector folds the messages after its last folded id again at start),
written in one transaction with that id, which does not wait for the server's disk
(synchronous_commit off for it alone: see write_jobs). Jobs that cannot be written now (the server
away, the session busy) are queued, the latest record per job winning, and written with the next
write; a write takes everything queued, under one lock, so an older record of a job never
overtakes a newer one.

What a live job's write costs (issue 14: the PostgreSQL collector's rate ≥ 0.8 × sqlite's): a busy
job changes tens of times a second, and most of its changes are its images and duration. Those writes
replace the job's record alone, keeping its sort and filter columns as they were (SORT_LAG_S at
most): PostgreSQL then writes a heap-only tuple (pg_schema v4's fillfactor), without a new entry in
each of the fifteen indexes (on a 2-core machine the server spent half a core on them at 1,000
notifications/s). A viewer shows the record, so what it shows is current; only the job's place in a
sort by images, duration or last change follows within SORT_LAG_S (the writer writes the columns of a
job whose record went ahead at the next write after that, or from the replay thread when the
collector is idle; a collector short of CPU writes every 2 s, each job whole). A change of the job's
state, reasons, filters, words, or whether it is active is written whole at once. The writer knows
what it wrote because it is the only writer of its site (the site's advisory lock); what it knows is
forgotten when a write fails or the session is lost.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from wsdmon.core.jobs import JobKey, JobRecord, TimelineEntry

from .codec import dumps, encode_job_record
from .job_index import INDEX_COLUMNS, IndexValues, index_values
from .journal import timeline_write
from .pg_follow import CHANNEL
from .pg_rows import LAST_FOLDED, Conn, payload, text
from .port import StoreError

__all__ = ["SORT_LAG_S", "JobsWriter", "write_jobs"]

_log = logging.getLogger(__name__)

# A live job's sort columns are at most this far behind its record (see above), plus the replay
# thread's interval when the collector is idle: well within pg_view.JOBS_SLACK_S, the span a
# follower (`watch --store`) re-reads by the last_update_epoch column before the newest it showed.
SORT_LAG_S = 1.0

# Folded jobs are written a statement per table, the values of all the jobs in one JSON array of rows
# (a row a job, read by jsonb_array_elements): a statement per job and table (as executemany sends
# them) cost ~220 µs of the collector's CPU per job in psycopg and as much again on the server; a
# binary array per column (unnest) was dumped element by element in Python by psycopg (~2 ms of a
# 5 ms write of ~30 jobs); json.dumps builds the one parameter in C.
_INDEX_TYPES = {
    "quick": "text",
    "kind": "text",
    "state_rank": "int4",
    "state": "text",
    "reasons": "text",
    "images": "int8",
    "created": "float8",
    "completed": "float8",
    "duration": "float8",
    "filters_key": "int8",
    "search": "text",
}
_KEY_FIELDS = (("device", "text"), ("job_token", "text"), ("generation", "int4"))
_JOB_FIELDS = (
    *_KEY_FIELDS,
    ("active", "bool"),
    ("last_update_epoch", "float8"),
    ("record", "text"),
    *((c, _INDEX_TYPES[c]) for c in INDEX_COLUMNS),
    ("whole", "bool"),
)
_JOB_COLUMNS = tuple(name for name, _ in _JOB_FIELDS[:-1])


def _rows(param: str, fields: Sequence[tuple[str, str]]) -> str:
    """A FROM item: the rows of the JSON array `param` (each an array of `fields`' values, in order)."""
    columns = ", ".join(f"(e->>{i})::{kind} AS {name}" for i, (name, kind) in enumerate(fields))
    return f"(SELECT {columns} FROM jsonb_array_elements(%({param})s::jsonb) AS e)"  # noqa: S608 - names only


_KEY_ARRAYS = "%(device)b::text[], %(token)b::text[], %(generation)b::int4[]"
_COLUMN_LIST = ", ".join(_JOB_COLUMNS)
_INSERT_JOBS = f"INSERT INTO jobs (site, {_COLUMN_LIST}) SELECT %(site)s, {_COLUMN_LIST}"
_ON_JOB = "ON CONFLICT (site, device, job_token, generation) DO UPDATE SET"
# Jobs written whole, and jobs whose record alone is written (`whole` false: see the module
# docstring); either inserts a job that is not there (a new one, or one retention took meanwhile).
_UPSERT_JOBS = f"""
WITH v AS {_rows("jobs", _JOB_FIELDS)}, whole AS (
    {_INSERT_JOBS} FROM v WHERE whole
    {_ON_JOB} {", ".join(f"{c} = excluded.{c}" for c in _JOB_COLUMNS[3:])}
    RETURNING xmax = 0 AS added
), ahead AS (
    {_INSERT_JOBS} FROM v WHERE NOT whole
    {_ON_JOB} record = excluded.record
    RETURNING xmax = 0 AS added
)
SELECT pg_notify(%(channel)s, json_build_object(
    'site', %(site)s::text, 'kind', 'jobs', 'id', %(folded)s::int8,
    'added', (SELECT count(*) FILTER (WHERE added) FROM whole)
        + (SELECT count(*) FILTER (WHERE added) FROM ahead)
)::text)
"""  # noqa: S608 - column names only. xmax = 0: the row was inserted (a new job; an updated row's
# xmax is the updating transaction): the NOTIFY (sent at commit, as store.pg_follow reads it) says
# how many jobs were new.
_UPSERT_WORDS = f"""
INSERT INTO job_words (site, device, job_token, generation, search)
SELECT %(site)s, * FROM {_rows("words", (*_KEY_FIELDS, ("search", "text")))} AS w
ON CONFLICT (site, device, job_token, generation) DO UPDATE SET search = excluded.search
    WHERE job_words.search <> excluded.search
"""  # noqa: S608 - the searched words again, narrow (pg_schema v3): counting a search's matches
# reads only these. Written with the jobs written whole; an unchanged row is not written again (no
# new row version, no new entries in its trigram index).
_DELETE_TIMELINES = f"""
DELETE FROM timeline t
USING {_rows("deletes", (*_KEY_FIELDS, ("first", "int4"), ("through", "int4")))} AS k
WHERE t.site = %(site)s AND t.device = k.device AND t.job_token = k.job_token AND t.generation = k.generation
    AND (k.through IS NULL OR t.seq BETWEEN k.first AND k.through)
"""  # noqa: S608 - a job's whole timeline (through NULL: it is rewritten) or its entries first …
# through (trimmed: from 1, or from the first the writer knows is still there)
_TIMELINE_FIELDS = (*_KEY_FIELDS, ("seq", "int4"), ("journal_id", "int8"), ("entry", "text"))
_INSERT_TIMELINES = f"""
INSERT INTO timeline (site, device, job_token, generation, seq, journal_id, entry)
SELECT %(site)s, * FROM {_rows("entries", _TIMELINE_FIELDS)} AS r
"""  # noqa: S608
_LAST_ENTRIES = f"""
SELECT k.device, k.job_token, k.generation, l.seq, l.entry
FROM unnest({_KEY_ARRAYS}) AS k(device, job_token, generation)
CROSS JOIN LATERAL (
    SELECT seq, entry FROM timeline t
    WHERE t.site = %(site)s AND t.device = k.device AND t.job_token = k.job_token
        AND t.generation = k.generation
    ORDER BY seq DESC LIMIT 1
) AS l
"""  # noqa: S608
_SET_FOLDED = (
    "INSERT INTO state (site, key, value) VALUES (%s, %s, %s)"
    " ON CONFLICT (site, key) DO UPDATE SET value = greatest(state.value, excluded.value)"
)

Key = tuple[str, str, int]  # a job's key within its site: (device, job_token, generation)


@dataclass(frozen=True, slots=True)
class Written:
    """What the writer last committed of a live job."""

    columns: IndexValues  # its sort and filter columns as stored
    whole_at: float  # when they were written (the writer's clock)
    last: tuple[int, str] | None  # its stored last timeline entry (seq, encoded)
    entry: TimelineEntry | None  # that entry (JobTable keeps a job's entries: compared by identity)
    dropped: int  # its timeline's dropped count as stored (entries 1 … dropped are gone)
    ahead: JobRecord | None  # the record written since, when the columns are behind it


def _same_columns(a: IndexValues, b: IndexValues) -> bool:
    """Whether two jobs' columns differ at most in what a record may go ahead of: images and duration
    (and last_update_epoch, not among them)."""
    return a._replace(images=0, duration=None) == b._replace(images=0, duration=None)


def write_jobs(
    conn: Conn,
    site: str,
    records: Iterable[JobRecord],
    folded: int | None,
    *,
    known: dict[Key, Written],
    now: float,
) -> dict[Key, Written | None]:
    """Upsert the jobs (only new timeline entries: see timeline_write()) and the last folded id, in
    one round trip (two when a job's last timeline entry is not known): a statement per table (the
    caller holds the transaction). `known`: what this writer committed before (see Written); returns
    what it knows once this transaction commits (None: a job that is no longer live is forgotten)."""
    jobs = {(r.key.device, r.key.job_token, r.key.generation): r for r in records}  # the last given
    last = {k: w.last for k, w in known.items() if k in jobs}
    unknown = [k for k in jobs if k not in last]
    if unknown:
        rows = conn.execute(_LAST_ENTRIES, {"site": site, **_key_arrays(unknown)}).fetchall()
        last.update({(d, t, g): (seq, entry) for d, t, g, seq, entry in rows})
    job_rows: list[list[Any]] = []
    words: list[list[Any]] = []
    deletes: list[list[Any]] = []
    inserts: list[list[Any]] = []
    after: dict[Key, Written | None] = {}
    for key, record in jobs.items():
        columns = index_values(record)
        before = known.get(key)
        whole = (
            before is None
            or not record.is_active
            or now - before.whole_at >= SORT_LAG_S
            or not _same_columns(before.columns, columns)
        )
        device, token = text(key[0]), text(key[1])
        job_rows.append(
            [
                device,
                token,
                key[2],
                record.is_active,
                record.last_update.timestamp(),
                dumps(encode_job_record(record, timeline=False)),
                *(text(value) if isinstance(value, str) else value for value in columns),
                whole,
            ]
        )
        if whole:
            words.append([device, token, key[2], text(columns.search)])
        plan = timeline_write(record, last.get(key), None if before is None else before.entry)
        if plan.rewrite:
            deletes.append([device, token, key[2], 0, None])
        elif plan.trim_through:
            first = 1 if before is None else before.dropped + 1  # what this writer left stored
            if first <= plan.trim_through:
                deletes.append([device, token, key[2], first, plan.trim_through])
        inserts.extend([device, token, key[2], *row] for row in plan.rows)
        stored = (plan.rows[-1][0], plan.rows[-1][2]) if plan.rows else last.get(key)
        entry = record.timeline[-1] if plan.rows else before.entry if before is not None else None
        if not record.is_active:
            after[key] = None
        elif whole:
            after[key] = Written(columns, now, stored, entry, record.timeline_dropped, None)
        else:
            assert before is not None  # a job written whole before
            after[key] = Written(
                before.columns, before.whole_at, stored, entry, record.timeline_dropped, record
            )
    with conn.pipeline(), conn.cursor() as cur:
        # The folded state is derived from messages committed (durably) before: this commit need not
        # wait for its WAL to reach the disk. Should the server lose it in a crash, the session is
        # lost too, so the writer forgets what it knew and writes each job whole again (its record
        # holds its timeline); a collector that restarts folds the messages after the last folded
        # id stored, which is lost with the jobs of the same transaction.
        cur.execute("SET LOCAL synchronous_commit TO off")
        notify = {"channel": CHANNEL, "site": site, "folded": folded}
        if jobs:
            cur.execute(_UPSERT_JOBS, {**notify, "jobs": _json(job_rows)})
        else:
            cur.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload(site, "jobs", folded, 0)))
        if words:
            cur.execute(_UPSERT_WORDS, {"site": site, "words": _json(words)})
        if deletes:
            cur.execute(_DELETE_TIMELINES, {"site": site, "deletes": _json(deletes)})
        if inserts:
            cur.execute(_INSERT_TIMELINES, {"site": site, "entries": _json(inserts)})
        if folded is not None:
            cur.execute(_SET_FOLDED, (site, LAST_FOLDED, folded))
    return after


def _json(rows: list[list[Any]]) -> str:
    """Rows as _rows() reads them (allow_nan=False: JSON has no NaN; a job's numbers are finite)."""
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _key_arrays(keys: Sequence[Key]) -> dict[str, list[Any]]:
    """Jobs' keys as the arrays _KEY_ARRAYS reads."""
    return {
        "device": [text(k[0]) for k in keys],
        "token": [text(k[1]) for k in keys],
        "generation": [k[2] for k in keys],
    }


class JobsWriter:
    """Folded jobs of one site, queued and written on their own session (opened when first
    needed, by `open_session`; again after it was lost)."""

    def __init__(
        self, site: str, open_session: Callable[[], Conn], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._site = site
        self._open = open_session
        self._clock = clock
        self._conn: Conn | None = None
        self._lock = threading.Lock()  # the session and what it wrote; held while writing
        self._queue_lock = threading.Lock()  # the queue; never held while waiting on I/O
        self._jobs: dict[JobKey, JobRecord] = {}
        self._folded: int | None = None
        self._known: dict[Key, Written] = {}  # the live jobs this session wrote (see write_jobs)
        self._ahead_due: float | None = None  # when the first job whose record went ahead is due
        self._said = ""  # the last reason said for jobs staying queued (said once per wording)

    @property
    def queued(self) -> bool:
        """Jobs (or a last folded id) wait to be written."""
        return bool(self._jobs) or self._folded is not None

    @property
    def pending(self) -> bool:
        """Jobs wait to be written, or a live job's sort columns are due."""
        due = self._ahead_due
        return self.queued or (due is not None and self._clock() >= due)

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
            now = self._clock()
            due: list[JobRecord] = []
            if self._ahead_due is not None and now >= self._ahead_due:  # else none is due: no walk
                due = [
                    w.ahead
                    for w in self._known.values()
                    if w.ahead is not None and now - w.whole_at >= SORT_LAG_S and w.ahead.key not in jobs
                ]
            if not jobs and folded is None and not due:
                return True
            try:
                if self._conn is None:
                    self._conn = self._open()
                with self._conn.transaction():
                    records = [*due, *jobs.values()]
                    after = write_jobs(self._conn, self._site, records, folded, known=self._known, now=now)
            except (psycopg.OperationalError, psycopg.errors.DeadlockDetected, StoreError) as exc:
                self._forget()
                self._say(exc)
                with self._queue_lock:  # back in the queue, unless something newer came meanwhile
                    self._jobs = {**jobs, **self._jobs}
                    if folded is not None:
                        self._folded = max(self._folded or 0, folded)
                if not isinstance(exc, psycopg.errors.DeadlockDetected):
                    self._drop()
                return False
            for key, written in after.items():
                if written is None:
                    self._known.pop(key, None)
                else:
                    self._known[key] = written
            ahead = [w.whole_at for w in self._known.values() if w.ahead is not None]
            self._ahead_due = min(ahead) + SORT_LAG_S if ahead else None
            self._said = ""
            return True
        finally:
            self._lock.release()

    def _forget(self) -> None:
        """What this session wrote is no longer known (a write failed, the session went): the next
        write of each job is whole. The records that went ahead of their columns are queued again."""
        ahead = {w.ahead.key: w.ahead for w in self._known.values() if w.ahead is not None}
        self._known.clear()
        self._ahead_due = None
        with self._queue_lock:  # anything newer queued meanwhile wins
            self._jobs = {**ahead, **self._jobs}

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
        """Close the session (after a write in progress, waiting at most wait_s for it), once the
        sort columns of the jobs whose records went ahead are written: a collector that stops
        leaves no job in the wrong place of a sorted table."""
        got = self._lock.acquire(timeout=wait_s)
        try:
            if got:  # else a write still runs: what it wrote stays as it is
                ahead = [w.ahead for w in self._known.values() if w.ahead is not None]
                if ahead and self._conn is not None:
                    try:
                        with self._conn.transaction():
                            write_jobs(self._conn, self._site, ahead, None, known=self._known, now=math.inf)
                    except psycopg.Error as exc:
                        self._say(exc)
                self._known.clear()
            self._drop()
        finally:
            if got:
                self._lock.release()
