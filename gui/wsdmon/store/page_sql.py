"""The SQL both stores' job pages share (store.job_pages: what they answer and how; SqliteJobPages
and PgJobPages say how to run it and what differs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from wsdmon.core import JobKey, JobRecord

from .codec import CodecError, decode_timeline_entry, loads
from .job_index import decode_record_row
from .page_counter import CountJob, CountWorker
from .page_types import JobFilter, JobSort, Quick, SortKey
from .port import StoreError

__all__ = [
    "COMMON_SAMPLE_ROWS",
    "COMMON_SEARCH_SHARE",
    "DEEP_OFFSET",
    "EXPORT_BATCH",
    "TEXT_COLUMNS",
    "Pages",
]


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
TEXT_COLUMNS = frozenset({"job_token", "state", "reasons"})  # compared by code point; kind's values are ASCII
_SELECT = "SELECT device, job_token, generation, site, record FROM jobs"
# A search matching at least 1 in this many jobs is found along the sort order, not by the index.
COMMON_SEARCH_SHARE = 50
# Until a search's matches are counted, how common it is is judged on this many of the newest jobs.
COMMON_SAMPLE_ROWS = 1000
# From this many rows into an order, a page skips them on the index alone (see Pages.page).
DEEP_OFFSET = 2000
# Decoded jobs kept with the stored text they came from (a few screens' worth): a page read again
# after a live change decodes only the jobs whose rows changed (decoding is most of a page's cost).
DECODED_KEEP = 2000


class Pages:
    """The SQL both stores share; subclasses say how to run it and what differs."""

    location = ""
    _tie = "rowid"
    _shared = False  # jobs keyed with their site (a shared store's view)

    def __init__(self) -> None:
        self._groups: dict[tuple[JobFilter, tuple[str, ...]], list[tuple[tuple[str, ...], int]]] = {}
        self._total: int | None = None  # jobs in the snapshot, once counted
        self._hits: dict[str, int] = {}  # jobs a search matched, in the snapshot
        self._many: dict[str, int] = {}  # searches known to match more jobs than this (count_upto)
        self._sampled: dict[str, bool] = {}  # whether a search is common in the newest jobs
        self._group_site = ""  # see _plan
        self._counted: dict[JobFilter, int] = {}  # jobs a filter matched, in the snapshot
        self._generation = 0  # snapshots begun: a count_later's token
        self._worker: CountWorker | None = None
        self._decoded: dict[tuple[Any, ...], tuple[Any, JobRecord]] = {}  # row key → (its text, job)

    # --- what the subclasses provide -------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _search(self, text: str, common: bool) -> tuple[str, list[object]]:
        """The SQL condition of a search; `common`: the words match many jobs (see _common)."""
        raise NotImplementedError

    def _common(self, text: str) -> bool:
        """Whether a search matches at least 1 in COMMON_SEARCH_SHARE of the jobs: as counted, or
        until it is, of the newest COMMON_SAMPLE_ROWS jobs (what a table sorted newest first walks
        first; a few ms, where counting 125,409 matches of a million jobs takes 0.5-1.7 s)."""
        hits, total = self._hits.get(text), self._total
        if hits is not None and total is not None:
            return hits * COMMON_SEARCH_SHARE >= total
        if hits is not None and text not in self._many:
            return False  # few (no more than a count_upto cap): the index lists them at once
        common = self._sampled.get(text)
        if common is None:
            sql = (
                f"SELECT count(*) FROM (SELECT search FROM jobs ORDER BY {self._tie} DESC LIMIT ?)"  # noqa: S608
                f" AS newest WHERE {self._contains()}"
            )
            n = int(self._rows(sql, [COMMON_SAMPLE_ROWS, text])[0][0])
            common = self._sampled[text] = n * COMMON_SEARCH_SHARE >= COMMON_SAMPLE_ROWS
        return common

    def _contains(self) -> str:
        """SQL true when `search` holds the parameter (no index)."""
        raise NotImplementedError

    def _count_search_upto(self, text: str, site: str | None, cap: int) -> int:
        """How many jobs a search alone matches, counted no further than cap + 1 (the words' index)."""
        raise NotImplementedError

    def _detached(self) -> Pages:
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

    def snapshot(self, same: JobFilter | None = None, count: int = 0) -> None:
        """Read from now on what the store holds now, until the next snapshot(): every count, page and
        position in between is of one state of the store, however the writers go on (a paged view
        must not see rows shift under the rows it shows). Ends the previous snapshot. `same`: a
        filter the caller knows still matches exactly `count` jobs (no job was added or removed: a
        live refresh that does not count again), as if counted."""
        self._groups.clear()
        self._total = None
        self._hits.clear()
        self._many.clear()
        self._sampled.clear()
        self._counted.clear()
        self._generation += 1
        self._begin_snapshot()
        if same is not None:
            self._remember(same, count)

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
            if text not in self._hits and self._many.get(text, -1) < cap:
                m = self._count_search_upto(text, flt.site, cap)
                if m > cap:
                    self._many[text] = cap
                else:
                    self._remember(alone, m)
            if flt == alone and self._many.get(text, -1) >= cap:
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

    _upto_along = True  # whether a capped count checks a common search's words row by row

    def _upto(self, flt: JobFilter, cap: int) -> int:
        """The jobs a filter matches, counted no further than cap + 1."""
        where, params = self._where(flt, page=self._upto_along)
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

        self._worker.submit(CountJob(purpose, open_view, lambda n: done(token, n), flt))
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
        sort, cols = self._plan(flt, sort)
        if cols:
            direction = " DESC" if sort.descending else ""
            for values, _ in self._ordered_groups(flt, sort, cols):
                cond = " AND ".join(f"{c} = ?" for c in cols)
                sql = f"{_SELECT}{where} AND {cond} ORDER BY {self._tie}{direction}"
                yield from _batches(self._iter_rows(sql, [*params, *values]))
            return
        sql = f"{_SELECT}{where} ORDER BY {self._order_by(sort.key, sort.descending)}"
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
        sort, cols = self._plan(flt, sort)
        if cols:
            return self._group_page(flt, sort, cols, offset, limit)
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
        sort, cols = self._plan(flt, sort)
        found = self._rows(
            f"SELECT {self._tie}, site, device, {', '.join(self._sort_cols(sort.key))} FROM jobs{where}"  # noqa: S608
            f" AND {self._key_sql(key)}",
            [*params, *self._key_params(key)],
        )
        if not found:
            return None
        tie, site, device, *values = found[0]
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

    def _plan(self, flt: JobFilter, sort: JobSort) -> tuple[JobSort, tuple[str, ...]]:
        """The sort as run, and the columns it walks group by group (the window orders the groups,
        see store.job_pages): jobs of one site sort by site as they are stored."""
        site = "" if not self._shared else flt.site if flt.site is not None else self._only_site()
        one_site = site is not None
        self._group_site = site or ""  # the site of every group when the groups are by device alone
        if sort.key is SortKey.DEVICE:  # the site first: PostgreSQL groups along its primary key's order
            return sort, ("device",) if one_site else ("site", "device")
        if sort.key is SortKey.SITE and one_site:
            return JobSort(SortKey.NONE, sort.descending, sort.device_name), ()
        if sort.key is SortKey.SITE:
            return sort, ("site",)
        return sort, ()

    def _only_site(self) -> str | None:
        """The site of every job when the store holds one site's jobs ("" when none), else None."""
        return ""

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
        if "device" in cols:  # by the device's name, then its site, then its endpoint

            def order(g: tuple[tuple[str, ...], int]) -> tuple[str, ...]:
                named = dict(zip(cols, g[0], strict=True))
                endpoint, site = named["device"], named.get("site", self._group_site)
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
        decoded = self._decoded
        for device, token, generation, site, record in rows:
            key = (device, token, generation, site)
            known = decoded.get(key)
            if known is not None and known[0] == record:  # the same stored text: the same job
                out.append(known[1])
                continue
            rec = decode_record_row((device, token, generation, record), site if self._shared else "")
            if rec is not None:
                if len(decoded) >= DECODED_KEEP:
                    decoded.clear()
                decoded[key] = (record, rec)
                out.append(rec)
        return out


class _ExactCount:
    """A detached view counting one filter exactly (store.page_counter's Counting)."""

    def __init__(self, view: Pages, flt: JobFilter) -> None:
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
