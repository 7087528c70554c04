"""Pages of the job table read from a store (issue 14, item 4: a million jobs never held in memory).

`JobPages` answers what a paged table asks: how many jobs match a filter (`count`), the jobs of one
page in one sort order (`page`, without timelines), where a job is in that order (`position`), one
job with its timeline (`record`), and the status bar's counts. Two implementations: `SqliteJobPages`
(the local journal, read-only connection of its own) and `PgJobPages` (PostgreSQL, a SELECT-only role
is enough). Both read the sort and filter columns that the writers keep beside each record
(store.job_index; sqlite schema v4, PostgreSQL v2), each with an index, so a page costs an index walk
of offset + limit entries, never a read of every record.

Order: by the sort column, then by the order jobs were first stored in (sqlite's rowid,
PostgreSQL's `stored`), so ties are stable; descending reverses both, as the in-memory table reads
its rows from the other end. Absent times and durations sort first ascending (the in-memory -inf).
The Device column sorts by the device's name, which only the window knows: `JobSort.device_name`
names each (endpoint, site); the store counts the matching jobs per device (a few devices: per
site and device in a shared store, where two sites may watch one endpoint), orders the devices by
name (then site, then endpoint, as the in-memory table does) and walks them, each device's jobs in
stored order. The Site column (a shared store's) is walked the same way, per site in code point order.

Counts: `count` is exact; `count_upto` counts no further than a cap (a few ms however many jobs
match: what the table shows first) and `count_later` counts exactly on a thread of its own
(store.page_counter), in the same snapshot for PostgreSQL (pg_export_snapshot), handing the number
back for `accept_count`. `stream` reads every job of a filter and order, for an export, on a
connection of its own.

Search: the query, case-folded, is a substring of the job's search words (job_index.search_text),
or the job's device is one of `JobFilter.devices_named` (the endpoints whose name matches, which
the window knows). sqlite finds it through an FTS5 trigram index, PostgreSQL through a pg_trgm GIN
index; under three characters neither index helps and the words of every job are read.

Threading: synchronous calls on one connection; one thread at a time (the GUI thread here); the
exact counts and exports each open a connection of their own on their own thread.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from wsdmon.core import JobKey, JobRecord

from .codec import CodecError, decode_timeline_entry, loads
from .job_index import decode_record_row
from .page_counter import CountJob, CountWorker
from .port import StoreError, StoreUnavailableError
from .schema import connect_read_only

__all__ = [
    "JobFilter",
    "JobPages",
    "JobSort",
    "PgJobPages",
    "Quick",
    "SortKey",
    "SqliteJobPages",
]


class Quick(Enum):
    """The quick filters (job_index.quick_flag's flags)."""

    ALL = ""
    ACTIVE = "A"
    COMPLETED = "C"
    FAILED = "F"


class SortKey(Enum):
    """What the job table sorts by (its columns, and NONE: the order jobs were first stored in)."""

    NONE = "none"
    DEVICE = "device"
    TOKEN = "token"
    STATE = "state"
    REASONS = "reasons"
    IMAGES = "images"
    CREATED = "created"
    COMPLETED = "completed"
    DURATION = "duration"
    FILTERS = "filters"
    KIND = "kind"
    SITE = "site"  # a shared store's (a single PC's journal: every job is its own site's)


@dataclass(frozen=True, slots=True)
class JobFilter:
    quick: Quick = Quick.ALL
    device: str | None = None  # one device's endpoint
    kind: str | None = None  # a JobKind's value
    search: str = ""
    site: str | None = None  # one site of a shared store
    devices_named: tuple[str, ...] = ()  # endpoints whose name matches `search` (the window knows names)


def _endpoint_name(endpoint: str, site: str) -> str:
    return endpoint


@dataclass(frozen=True, slots=True)
class JobSort:
    key: SortKey = SortKey.NONE
    descending: bool = False
    device_name: Callable[[str, str], str] = field(default=_endpoint_name, compare=False)  # (endpoint, site)


class JobPages(Protocol):
    location: str

    def count(self, flt: JobFilter) -> int: ...
    def count_upto(self, flt: JobFilter, cap: int) -> tuple[int, bool]: ...
    def count_later(self, purpose: str, flt: JobFilter, done: Callable[[int, int | None], None]) -> int: ...
    def accept_count(self, token: int, flt: JobFilter, n: int) -> bool: ...
    def known_count(self, flt: JobFilter) -> int | None: ...
    def stream(self, flt: JobFilter, sort: JobSort, *, timeline: bool) -> Iterator[JobRecord]: ...
    def page(self, flt: JobFilter, sort: JobSort, offset: int, limit: int) -> list[JobRecord]: ...
    def position(self, key: JobKey, flt: JobFilter, sort: JobSort) -> int | None: ...
    def record(self, key: JobKey) -> JobRecord | None: ...
    def counts(self, site: str | None = None, total: int | None = None) -> tuple[int, int, int]: ...
    def failed_since(self, epoch: float, site: str | None = None) -> int: ...
    def changed(self) -> None: ...
    def snapshot(self) -> None: ...
    def close(self) -> None: ...


# Sort columns: the expressions in ORDER BY (each with an index); whether they may be NULL.
_COLUMNS: dict[SortKey, tuple[tuple[str, bool], ...]] = {
    SortKey.NONE: (),
    SortKey.TOKEN: (("job_token", False),),
    SortKey.STATE: (("state_rank", False), ("state", False)),
    SortKey.REASONS: (("reasons", False),),
    SortKey.IMAGES: (("images", False),),
    SortKey.CREATED: (("created", True),),
    SortKey.COMPLETED: (("completed", True),),
    SortKey.DURATION: (("duration", True),),
    SortKey.FILTERS: (("filters_key", False),),
    SortKey.KIND: (("kind", False),),
}
_TEXT = frozenset({"job_token", "state", "reasons"})  # compared by code point; kind's values are ASCII
_SELECT = "SELECT device, job_token, generation, site, record FROM jobs"
# A search matching at least 1 in this many jobs is found along the sort order, not by the index.
COMMON_SEARCH_SHARE = 50
# From this many rows into an order, a page skips them on the index alone (see _Pages.page).
DEEP_OFFSET = 2000


class _Pages:
    """The SQL both stores share; subclasses say how to run it and what differs."""

    location = ""
    _tie = "rowid"
    _shared = False  # jobs keyed with their site (a shared store's view)

    def __init__(self) -> None:
        self._groups: dict[tuple[JobFilter, tuple[str, ...]], list[tuple[tuple[str, ...], int]]] = {}
        self._total: int | None = None  # jobs in the snapshot, once counted
        self._hits: dict[str, int] = {}  # jobs a search matched, in the snapshot
        self._many: set[str] = set()  # searches known to match more than a count_upto cap
        self._counted: dict[JobFilter, int] = {}  # jobs a filter matched, in the snapshot
        self._generation = 0  # snapshots begun: a count_later's token
        self._worker: CountWorker | None = None

    # --- what the subclasses provide -------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _search(self, text: str, common: bool) -> tuple[str, list[object]]:
        """The SQL condition of a search; `common`: the words match many jobs (see _common)."""
        raise NotImplementedError

    def _common(self, text: str) -> bool:
        """Whether a search matches at least 1 in COMMON_SEARCH_SHARE of the jobs (as last counted),
        or more than a count_upto cap (thousands: a page is found after a few hundred rows each
        along the order, where the index would list every match first)."""
        hits, total = self._hits.get(text), self._total
        if hits is None:
            return text in self._many
        return total is not None and hits * COMMON_SEARCH_SHARE >= total

    def _count_search_upto(self, text: str, site: str | None, cap: int) -> int:
        """How many jobs a search alone matches, counted no further than cap + 1 (the words' index)."""
        raise NotImplementedError

    def _detached(self) -> _Pages:
        """A new view of the same store on a connection of its own (opened on the calling thread)."""
        raise NotImplementedError

    def _export_snapshot(self) -> str | None:
        """An id another connection can read this snapshot by (PostgreSQL), or None."""
        return None

    def _begin_shared(self, snapshot: str | None, *, required: bool = True) -> None:
        """Begin a snapshot: the one named (another view's), or the store as it is now; when the
        named one has ended meanwhile (the other view renewed its own), StoreError, or the store
        as it is now when not `required`."""
        self._begin_snapshot()

    def interrupt(self) -> None:
        """Stop the statement running on this view's connection (from another thread)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _iter_rows(self, sql: str, params: Sequence[object]) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, fetched a batch at a time (an export of a million jobs)."""
        raise NotImplementedError

    def _col(self, name: str) -> str:
        return name

    def _order(self, col: str, nullable: bool, descending: bool) -> str:
        return f"{col} DESC" if descending else col

    # --- the interface ---------------------------------------------------------------------------

    def changed(self) -> None:
        """Jobs were written: forget the per-device counts kept for the Device sort."""
        self._groups.clear()

    def snapshot(self) -> None:
        """Read from now on what the store holds now, until the next snapshot(): every count, page and
        position in between is of one state of the store, however the writers go on (a paged view
        must not see rows shift under the rows it shows). Ends the previous snapshot."""
        self._groups.clear()
        self._total = None
        self._hits.clear()
        self._many.clear()
        self._counted.clear()
        self._generation += 1
        self._begin_snapshot()

    def _begin_snapshot(self) -> None:
        raise NotImplementedError

    def count(self, flt: JobFilter) -> int:
        where, params = self._where(flt)
        n = int(self._rows(f"SELECT count(*) FROM jobs{where}", params)[0][0])  # noqa: S608
        self._remember(flt, n)
        return n

    def _remember(self, flt: JobFilter, n: int) -> None:
        self._counted[flt] = n
        if flt == JobFilter(site=flt.site):
            self._total = n
        if flt.search and flt == JobFilter(search=flt.search, site=flt.site):
            self._hits[flt.search.casefold()] = n  # how common the words are: how a page finds them

    def count_upto(self, flt: JobFilter, cap: int) -> tuple[int, bool]:
        """(n, exact): the jobs a filter matches when there are no more than `cap`, else (cap, False):
        what a table shows first, counted in a few ms however many jobs match (an index walk of at
        most cap + 1 entries); count_later counts the rest."""
        if flt.search:
            text = flt.search.casefold()
            alone = JobFilter(search=flt.search, site=flt.site)
            if text not in self._hits and text not in self._many:
                m = self._count_search_upto(text, flt.site, cap)
                if m > cap:
                    self._many.add(text)
                else:
                    self._remember(alone, m)
            if flt == alone and text in self._many:
                return cap, False
            if not flt.devices_named and self._hits.get(text) == 0:
                self._remember(flt, 0)  # nothing has these words: no other condition adds any
        known = self._counted.get(flt)
        if known is not None:
            return known, True
        n = self._upto(flt, cap)
        if n > cap:
            return cap, False
        self._remember(flt, n)
        return n, True

    def _upto(self, flt: JobFilter, cap: int) -> int:
        """The jobs a filter matches, counted no further than cap + 1."""
        where, params = self._where(flt, page=True)
        sql = f"SELECT count(*) FROM (SELECT 1 FROM jobs{where} LIMIT ?) AS upto"  # noqa: S608
        return int(self._rows(sql, [*params, cap + 1])[0][0])

    def count_later(self, purpose: str, flt: JobFilter, done: Callable[[int, int | None], None]) -> int:
        """Count a filter's jobs exactly on the counting thread, in this snapshot (PostgreSQL) or
        in the store as it is then (sqlite: its connections cannot share one); `done(n)` is called
        there as done(token, n) (n None when it failed), token for accept_count. Supersedes the
        earlier job of the same purpose. Returns the token."""
        if self._worker is None:
            self._worker = CountWorker()
        snapshot = self._export_snapshot()
        token = self._generation

        def open_view() -> _ExactCount:
            view = self._detached()
            try:
                view._begin_shared(snapshot)
            except StoreError:
                view.close()
                raise
            return _ExactCount(view, flt)

        self._worker.submit(CountJob(purpose, open_view, lambda n: done(token, n)))
        return token

    def known_count(self, flt: JobFilter) -> int | None:
        """A filter's count in this snapshot when it was counted exactly, else None."""
        return self._counted.get(flt)

    def accept_count(self, token: int, flt: JobFilter, n: int) -> bool:
        """Keep a count_later's number, unless a new snapshot began since (then it is of no use)."""
        if token != self._generation:
            return False
        self._remember(flt, n)
        return True

    def _stop_counting(self) -> None:
        if self._worker is not None:
            self._worker.close()

    def counting(self) -> bool:
        """Whether a count_later is still counting (tests, and close)."""
        return self._worker is not None and self._worker.busy()

    def stream(self, flt: JobFilter, sort: JobSort, *, timeline: bool) -> Iterator[JobRecord]:
        """Every job of a filter in an order (as the pages give them), each with its timeline when
        asked, read a batch at a time on a connection of its own: for an export of a large table
        (bounded memory), iterated on any one thread. In this snapshot for PostgreSQL."""
        snapshot = self._export_snapshot()  # now, on this thread: the generator starts later
        return self._stream(snapshot, flt, sort, timeline)

    def _stream(
        self, snapshot: str | None, flt: JobFilter, sort: JobSort, timeline: bool
    ) -> Iterator[JobRecord]:
        view = self._detached()
        try:
            view._begin_shared(snapshot, required=False)
            for rows in view._ordered_rows(flt, sort):
                for rec in view._decode(rows):
                    yield view._with_timeline(rec) if timeline else rec
        finally:
            view.close()

    def _ordered_rows(self, flt: JobFilter, sort: JobSort) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of a filter in an order, a batch at a time."""
        where, params = self._where(flt, page=True)
        cols = self._group_cols(sort.key)
        if cols:
            direction = " DESC" if sort.descending else ""
            for values, _ in self._ordered_groups(flt, sort, cols):
                cond = " AND ".join(f"{c} = ?" for c in cols)
                sql = f"{_SELECT}{where} AND {cond} ORDER BY {self._tie}{direction}"
                yield from _batches(self._iter_rows(sql, [*params, *values]))
            return
        key = SortKey.NONE if sort.key is SortKey.SITE else sort.key
        sql = f"{_SELECT}{where} ORDER BY {self._order_by(key, sort.descending)}"
        yield from _batches(self._iter_rows(sql, params))

    def counts(self, site: str | None = None, total: int | None = None) -> tuple[int, int, int]:
        """(jobs, active jobs, failed jobs), as JobTableModel.counts; `total` when the caller has
        just counted every job (of the site). Three indexed counts: the active and failed are a
        small part of a large history, where one GROUP BY would read every row."""
        if total is None:
            total = self.count(JobFilter(site=site))
        active = self.count(JobFilter(Quick.ACTIVE, site=site))
        return total, active, self.count(JobFilter(Quick.FAILED, site=site))

    def failed_since(self, epoch: float, site: str | None = None) -> int:
        where, params = self._where(JobFilter(quick=Quick.FAILED, site=site))
        sql = f"SELECT count(*) FROM jobs{where} AND last_update_epoch >= ?"  # noqa: S608
        return int(self._rows(sql, [*params, epoch])[0][0])

    def page(self, flt: JobFilter, sort: JobSort, offset: int, limit: int) -> list[JobRecord]:
        """The jobs at rows offset … offset + limit - 1 in this order (fewer at the end)."""
        if limit <= 0 or offset < 0:
            return []
        cols = self._group_cols(sort.key)
        if cols:
            return self._group_page(flt, sort, cols, offset, limit)
        if sort.key is SortKey.SITE:  # a single PC's journal: one site, in stored order
            sort = JobSort(SortKey.NONE, sort.descending, sort.device_name)
        where, params = self._where(flt, page=True)
        n = self._counted.get(flt)
        descending, reverse = sort.descending, False
        if n is not None and offset > n // 2:
            # The far half is read from the other end: an index walk of n - offset entries instead
            # of offset (the other order is this one reversed, ties and absent values included).
            if offset >= n:
                return []
            last = min(n, offset + limit)
            descending, reverse = not descending, True
            offset, limit = n - last, last - offset
        order = self._order_by(sort.key, descending)
        if offset < DEEP_OFFSET:
            sql = f"{_SELECT}{where} ORDER BY {order} LIMIT ? OFFSET ?"
            rows = self._rows(sql, [*params, limit, offset])
        else:
            # Deep in the order: skip the rows by their index entries alone, then read the page's
            # rows by their stored number (a row read per skipped entry costs ~3 µs each).
            sql = f"SELECT {self._tie} FROM jobs{where} ORDER BY {order} LIMIT ? OFFSET ?"  # noqa: S608
            ids = [r[0] for r in self._rows(sql, [*params, limit, offset])]
            if not ids:
                return []
            marks = ", ".join("?" * len(ids))
            found = self._rows(
                f"SELECT {self._tie}, device, job_token, generation, site, record FROM jobs"  # noqa: S608
                f" WHERE {self._tie} IN ({marks})",
                ids,
            )
            by_id = {r[0]: r[1:] for r in found}
            rows = [by_id[i] for i in ids if i in by_id]
        recs = self._decode(rows)
        return recs[::-1] if reverse else recs

    def position(self, key: JobKey, flt: JobFilter, sort: JobSort) -> int | None:
        """The row of a job in this filter and order, or None when it does not match."""
        where, params = self._where(flt)
        if sort.key is SortKey.SITE and not self._shared:
            sort = JobSort(SortKey.NONE, sort.descending, sort.device_name)
        found = self._rows(
            f"SELECT {self._tie}, site, device, {', '.join(self._sort_cols(sort.key))} FROM jobs{where}"  # noqa: S608
            f" AND {self._key_sql(key)}",
            [*params, *self._key_params(key)],
        )
        if not found:
            return None
        tie, site, device, *values = found[0]
        cols = self._group_cols(sort.key)
        if cols:
            mine = tuple(str({"site": site, "device": device}[c]) for c in cols)
            before = 0
            for group, n in self._ordered_groups(flt, sort, cols):
                if group == mine:
                    break
                before += n
            cmp = ">" if sort.descending else "<"
            cond = " AND ".join(f"{c} = ?" for c in cols)
            sql = f"SELECT count(*) FROM jobs{where} AND {cond} AND {self._tie} {cmp} ?"  # noqa: S608
            return before + int(self._rows(sql, [*params, *mine, tie])[0][0])
        cond, cparams = self._before(sort, values, tie)
        sql = f"SELECT count(*) FROM jobs{where} AND ({cond})"  # noqa: S608
        return int(self._rows(sql, [*params, *cparams])[0][0])

    def record(self, key: JobKey) -> JobRecord | None:
        """One job with its timeline (the detail pane), or None when it is gone or damaged."""
        rows = self._rows(f"{_SELECT} WHERE {self._key_sql(key)}", self._key_params(key))
        recs = self._decode(rows)
        return self._with_timeline(recs[0]) if recs else None

    def _with_timeline(self, rec: JobRecord) -> JobRecord:
        key = rec.key
        site = self._site_cond(key)
        timeline = self._rows(
            "SELECT entry FROM timeline WHERE device = ? AND job_token = ? AND generation = ?"  # noqa: S608
            f"{site} ORDER BY seq",
            self._key_params(key),
        )
        entries = []
        for (entry,) in timeline:
            try:
                entries.append(decode_timeline_entry(loads(entry)))
            except (CodecError, TypeError):
                continue  # a damaged entry is left out, as load_jobs does
        from dataclasses import replace

        return replace(rec, timeline=tuple(entries))

    # --- SQL -------------------------------------------------------------------------------------

    def _key_sql(self, key: JobKey) -> str:
        return "device = ? AND job_token = ? AND generation = ?" + self._site_cond(key)

    def _site_cond(self, key: JobKey) -> str:
        return " AND site = ?" if self._shared and key.site else ""

    def _key_params(self, key: JobKey) -> list[object]:
        extra: list[object] = [key.site] if self._shared and key.site else []
        return [key.device, key.job_token, key.generation, *extra]

    def _where(self, flt: JobFilter, *, page: bool = False) -> tuple[str, list[object]]:
        """The WHERE clause of a filter; `page`: for a page in sort order (a common search's words
        are then checked row by row along the order, which stops at the page's end)."""
        terms: list[str] = ["1 = 1"]
        params: list[object] = []
        if flt.quick is not Quick.ALL:
            terms.append("quick = ?")
            params.append(flt.quick.value)
        if flt.device is not None:
            terms.append("device = ?")
            params.append(flt.device)
        if flt.kind is not None:
            terms.append("kind = ?")
            params.append(flt.kind)
        if flt.site is not None:
            terms.append("site = ?")
            params.append(flt.site)
        if flt.search:
            text = flt.search.casefold()
            cond, sparams = self._search(text, page and self._common(text))
            if flt.devices_named:
                marks = ", ".join("?" * len(flt.devices_named))
                cond = f"({cond} OR device IN ({marks}))"
                sparams = [*sparams, *flt.devices_named]
            terms.append(cond)
            params += sparams
        return " WHERE " + " AND ".join(terms), params

    def _sort_cols(self, key: SortKey) -> list[str]:
        return [name for name, _ in _COLUMNS.get(key, ())] or [self._tie]

    def _order_by(self, key: SortKey, descending: bool) -> str:
        parts = [self._order(self._col(name), nullable, descending) for name, nullable in _COLUMNS[key]]
        parts.append(self._order(self._tie, False, descending))
        return ", ".join(parts)

    def _before(self, sort: JobSort, values: list[Any], tie: object) -> tuple[str, list[object]]:
        """SQL true for the rows before (values, tie) in this order, NULLs first ascending."""
        cols = list(_COLUMNS[sort.key])
        lt = ">" if sort.descending else "<"
        cond, params = f"{self._tie} {lt} ?", [tie]
        for (name, nullable), value in reversed(list(zip(cols, values, strict=False))):
            col = self._col(name)
            if value is None:  # absent: first ascending, last descending
                if sort.descending:
                    cond = f"({col} IS NOT NULL OR ({col} IS NULL AND {cond}))"
                else:
                    cond = f"({col} IS NULL AND {cond})"
                continue
            nulls = f"{col} IS NULL OR " if nullable and not sort.descending else ""
            cond = f"({nulls}{col} {lt} ? OR ({col} = ? AND {cond}))"
            params = [value, value, *params]
        return cond, params

    def _group_cols(self, key: SortKey) -> tuple[str, ...]:
        """The columns a sort walks group by group (the window orders them, see the module docstring)."""
        if key is SortKey.DEVICE:
            return ("device", "site") if self._shared else ("device",)
        if key is SortKey.SITE and self._shared:
            return ("site",)
        return ()

    def _ordered_groups(
        self, flt: JobFilter, sort: JobSort, cols: tuple[str, ...]
    ) -> list[tuple[tuple[str, ...], int]]:
        groups = self._groups.get((flt, cols))
        if groups is None:
            where, params = self._where(flt)
            names = ", ".join(cols)
            rows = self._rows(f"SELECT {names}, count(*) FROM jobs{where} GROUP BY {names}", params)  # noqa: S608
            groups = [(tuple(str(v) for v in r[:-1]), int(r[-1])) for r in rows]
            self._groups[(flt, cols)] = groups
        if cols[0] == "device":  # by the device's name, then its site, then its endpoint

            def order(g: tuple[tuple[str, ...], int]) -> tuple[str, ...]:
                endpoint, site = g[0][0], g[0][1] if len(g[0]) > 1 else ""
                return (sort.device_name(endpoint, site).casefold(), site, endpoint)

            ordered = sorted(groups, key=order)
        else:
            ordered = sorted(groups)
        return ordered[::-1] if sort.descending else ordered

    def _group_page(
        self, flt: JobFilter, sort: JobSort, cols: tuple[str, ...], offset: int, limit: int
    ) -> list[JobRecord]:
        where, params = self._where(flt, page=True)
        cond = " AND ".join(f"{c} = ?" for c in cols)
        out: list[JobRecord] = []
        start = 0
        for values, n in self._ordered_groups(flt, sort, cols):
            if start + n > offset and len(out) < limit:
                skip = max(0, offset - start)
                take = min(limit - len(out), n - skip)
                descending, reverse = sort.descending, False
                if skip > n // 2:  # the far half of a large group: read from its other end
                    descending, reverse, skip = not descending, True, n - skip - take
                direction = " DESC" if descending else ""
                sql = f"{_SELECT}{where} AND {cond} ORDER BY {self._tie}{direction} LIMIT ? OFFSET ?"
                recs = self._decode(self._rows(sql, [*params, *values, take, skip]))
                out += recs[::-1] if reverse else recs
            start += n
            if len(out) >= limit:
                break
        return out

    def _decode(self, rows: list[tuple[Any, ...]]) -> list[JobRecord]:
        out = []
        for device, token, generation, site, record in rows:
            rec = decode_record_row((device, token, generation, record), site if self._shared else "")
            if rec is not None:
                out.append(rec)
        return out


class _ExactCount:
    """A detached view counting one filter exactly (store.page_counter's Counting)."""

    def __init__(self, view: _Pages, flt: JobFilter) -> None:
        self.view, self.flt = view, flt

    def count_exact(self) -> int:
        return self.view.count(self.flt)

    def interrupt(self) -> None:
        self.view.interrupt()

    def close(self) -> None:
        self.view.close()


EXPORT_BATCH = 500  # rows fetched at a time by an export (stream)


def _batches(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= EXPORT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


class SqliteJobPages(_Pages):
    """Pages of a sqlite journal, on a read-only connection of its own (WAL: the journal keeps
    writing meanwhile, and each query sees what was committed before it)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.location = str(path)
        self._conn = connect_read_only(Path(path))

    def _rows(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the journal {self.location}: {exc}") from None

    def _begin_snapshot(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("COMMIT")
            self._conn.execute("BEGIN")  # deferred: the snapshot is taken by the next read
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the journal {self.location}: {exc}") from None

    def count(self, flt: JobFilter) -> int:
        if flt.search and flt == JobFilter(search=flt.search):  # the words alone: the index alone
            pattern = f"*{_glob_escape(flt.search.casefold())}*"
            n = int(self._rows("SELECT count(*) FROM jobs_search WHERE search GLOB ?", [pattern])[0][0])
            self._remember(flt, n)
            return n
        return super().count(flt)

    def _count_search_upto(self, text: str, site: str | None, cap: int) -> int:
        if site is not None:  # the words' index has no site
            return self._upto(JobFilter(search=text, site=site), cap)
        sql = "SELECT count(*) FROM (SELECT 1 FROM jobs_search WHERE search GLOB ? LIMIT ?)"
        return int(self._rows(sql, [f"*{_glob_escape(text)}*", cap + 1])[0][0])

    def _detached(self) -> SqliteJobPages:
        return SqliteJobPages(self.location)

    def interrupt(self) -> None:
        self._conn.interrupt()

    def _iter_rows(self, sql: str, params: Sequence[object]) -> Iterator[tuple[Any, ...]]:
        try:
            yield from self._conn.execute(sql, tuple(params))  # sqlite steps as it is read
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the journal {self.location}: {exc}") from None

    def _search(self, text: str, common: bool) -> tuple[str, list[object]]:
        if common:
            # Many jobs match: walking the sort order and checking each row's words finds a page
            # after a few rows each, where the index would first list every match (~0.5 s per
            # 100,000 matches).
            return "instr(search, ?) > 0", [text]
        # GLOB, not LIKE: the words are stored case-folded, and GLOB has no ESCAPE problem with % and _.
        return "rowid IN (SELECT rowid FROM jobs_search WHERE search GLOB ?)", [f"*{_glob_escape(text)}*"]

    def close(self) -> None:
        self._stop_counting()
        self._conn.close()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PgJobPages(_Pages):
    """Pages of a PostgreSQL store (every site, or one: JobFilter.site); jobs keyed with their site."""

    _tie = "stored"
    _shared = True

    def __init__(self, conninfo: str, location: str) -> None:
        super().__init__()
        self.location = location
        self._conninfo = conninfo
        self._conn: Any = None
        self._exported: tuple[int, str] | None = None  # (generation, pg_export_snapshot's id)
        self._connect()

    def _connect(self) -> None:
        import psycopg  # here: `import wsdmon.store` must not load psycopg

        try:
            self._conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(f"{self.location}: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: {_first_line(exc)}") from None

    def _ready(self) -> None:
        """A connection the server dropped (restarted, idle timeout) is opened again for the next
        read, as the shared view's own (store.pg_view) is: the table shows the store again once the
        server is back."""
        if self._conn.closed or self._conn.broken:
            self._connect()

    def _rows(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        import psycopg

        self._ready()
        try:
            return list(self._conn.execute(sql.replace("?", "%s").encode(), tuple(params)).fetchall())
        except psycopg.OperationalError as exc:
            self._rollback()
            raise StoreUnavailableError(f"{self.location}: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            self._rollback()
            raise StoreError(f"{self.location}: {_first_line(exc)}") from None

    def _rollback(self) -> None:
        """A failed statement aborts the snapshot's transaction: end it, so the next read can work."""
        import psycopg

        with contextlib.suppress(psycopg.Error):
            self._conn.execute(b"ROLLBACK")

    def _begin_snapshot(self) -> None:
        import psycopg

        self._ready()
        try:
            if self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self._conn.execute(b"ROLLBACK")  # read-only: nothing to commit
            self._conn.execute(b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(f"{self.location}: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: {_first_line(exc)}") from None

    def _col(self, name: str) -> str:
        return f'{name} COLLATE "C"' if name in _TEXT else name

    def _order(self, col: str, nullable: bool, descending: bool) -> str:
        # PostgreSQL's default puts NULLs last ascending: say first, as sqlite and the window do.
        if descending:
            return f"{col} DESC NULLS LAST" if nullable else f"{col} DESC"
        return f"{col} NULLS FIRST" if nullable else col

    def count(self, flt: JobFilter) -> int:
        if flt.search and flt == JobFilter(search=flt.search, site=flt.site):  # the words alone
            site = " AND site = ?" if flt.site is not None else ""
            n = int(
                self._rows(
                    f"SELECT count(*) FROM job_words WHERE search LIKE ?{site}",  # noqa: S608
                    [
                        f"%{_like_escape(flt.search.casefold())}%",
                        *([flt.site] if flt.site is not None else []),
                    ],
                )[0][0]
            )
            self._hits[flt.search.casefold()] = n
            self._counted[flt] = n
            return n
        return super().count(flt)

    def _search(self, text: str, common: bool) -> tuple[str, list[object]]:
        if common:  # as in sqlite: along the sort order (strpos, which the trigram index cannot serve)
            return "strpos(search, ?) > 0", [text]
        return "search LIKE ?", [f"%{_like_escape(text)}%"]

    def _count_search_upto(self, text: str, site: str | None, cap: int) -> int:
        site_cond = " AND site = ?" if site is not None else ""
        sql = f"SELECT count(*) FROM (SELECT 1 FROM job_words WHERE search LIKE ?{site_cond} LIMIT ?) AS upto"  # noqa: S608
        like = f"%{_like_escape(text)}%"
        return int(self._rows(sql, [like, *([site] if site is not None else []), cap + 1])[0][0])

    def _detached(self) -> PgJobPages:
        return PgJobPages(self._conninfo, self.location)

    def _export_snapshot(self) -> str | None:
        import psycopg

        if self._conn.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
            return None  # no snapshot open (a failed read ended it): the other view reads the store now
        if self._exported is None or self._exported[0] != self._generation:
            self._exported = (self._generation, str(self._rows("SELECT pg_export_snapshot()", [])[0][0]))
        return self._exported[1]

    def _begin_shared(self, snapshot: str | None, *, required: bool = True) -> None:
        self._begin_snapshot()
        if snapshot is None:
            return
        import psycopg

        try:
            self._conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'".encode())  # the server's id
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(f"{self.location}: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            self._rollback()
            if required:
                raise StoreError(f"{self.location}: {_first_line(exc)}") from None
            self._begin_snapshot()  # the window renewed its snapshot meanwhile: the store now

    def interrupt(self) -> None:
        import psycopg

        with contextlib.suppress(psycopg.Error):
            self._conn.cancel_safe()

    def _iter_rows(self, sql: str, params: Sequence[object]) -> Iterator[tuple[Any, ...]]:
        import psycopg

        self._ready()
        try:
            # A server-side cursor: the rows come EXPORT_BATCH at a time, not all at once.
            with self._conn.cursor(name="wsdmon_stream") as cur:
                cur.itersize = EXPORT_BATCH
                cur.execute(sql.replace("?", "%s").encode(), tuple(params))
                yield from cur
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(f"{self.location}: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: {_first_line(exc)}") from None

    def close(self) -> None:
        self._stop_counting()
        self._conn.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
