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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .page_sql import EXPORT_BATCH, TEXT_COLUMNS, Pages
from .page_types import JobFilter, JobPages, JobSort, Quick, SortKey
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


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


class SqliteJobPages(Pages):
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

    def _contains(self) -> str:
        return "instr(search, ?) > 0"

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


class PgJobPages(Pages):
    """Pages of a PostgreSQL store (every site, or one: JobFilter.site); jobs keyed with their site."""

    _tie = "stored"
    _shared = True
    # A capped count with a search and another filter: PostgreSQL ANDs the words' trigram index with
    # the other's (0.1 s for "carol" and Failed of a million jobs) where checking each row's words
    # along the other index reads a wide row each (0.9 s).
    _upto_along = False

    def __init__(self, conninfo: str, location: str) -> None:
        super().__init__()
        self.location = location
        self._conninfo = conninfo
        self._conn: Any = None
        self._exported: tuple[int, str] | None = None  # (generation, pg_export_snapshot's id)
        self._closed = False
        self._sites: tuple[int, list[str]] | None = None  # (generation, up to 2 sites holding jobs)
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
        server is back. Not after close(): a window being closed may still ask for a row."""
        if self._closed:
            raise StoreError(f"{self.location}: closed")
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
        return f'{name} COLLATE "C"' if name in TEXT_COLUMNS else name

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

    def _contains(self) -> str:
        return "strpos(search, ?) > 0"

    def _only_site(self) -> str | None:
        # A store of one site groups the Device sort by device alone (its own index, as fast as
        # before sites were told apart) and sorts by Site as stored. Its sites: a skip along the
        # primary key, one probe each (cached for the snapshot).
        if self._sites is None or self._sites[0] != self._generation:
            rows = self._rows(
                "WITH RECURSIVE s AS (SELECT min(site) AS site FROM jobs UNION ALL"
                " SELECT (SELECT min(site) FROM jobs WHERE site > s.site) FROM s WHERE s.site IS NOT NULL)"
                " SELECT site FROM s WHERE site IS NOT NULL LIMIT 2",
                [],
            )
            self._sites = (self._generation, [str(r[0]) for r in rows])
        sites = self._sites[1]
        return None if len(sites) > 1 else sites[0] if sites else ""

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
        self._closed = True
        self._conn.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
