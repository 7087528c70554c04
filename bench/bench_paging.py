"""The job table paged from the store with 1,000,000 jobs, on both stores (issue 14, item 4).

Targets: first paint after opening ≤ 1 s; sort / filter / search ≤ 500 ms; RSS ≤ +150 MB over an
empty store.

1. Fill (not timed): a sqlite journal and a throwaway PostgreSQL cluster (tests/pg.py) get the
   schema from the real stores (Journal / PostgresStore open), then `--rows` realistic jobs
   (tests/job_samples.py, encoded with the codec, index columns from store.job_index) in bulk:
   executemany in one transaction for sqlite, COPY for PostgreSQL. No timeline rows (the paged
   table never reads them; the detail pane reads one job's).
2. Measure, each in a fresh process, the store full and the same store empty side by side: a
   PagedJobModel (models/paged_jobs.py) on a real QTableView (1366×768, offscreen), timed from
   before the store is opened to the end of the first paint of the table's viewport; then each
   action until the end of the repaint it causes: a click-equivalent sort by each column
   (sortByColumn, ascending then descending for Created), the Failed quick filter, a device filter,
   a search for a user name, and everything cleared. RSS (/proc/self/statm) from before the store
   is opened to after the last action. The table paints its first rows before it knows how many
   jobs match (models/paged_jobs.py FIRST_COUNT_ROWS; the exact count is made off the GUI thread):
   `counted_s` is when the exact count arrived (the rows and the filter line's number complete),
   waited for before the next action, and `rows_after` the exact count.

    QT_QPA_PLATFORM=offscreen PYTHONPATH=gui .venv/bin/python bench/bench_paging.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.pg (the throwaway cluster), tests.job_samples

TARGETS = {"first_paint_s": 1.0, "action_s": 0.5, "rss_growth_mb": 150.0}
FILL_BATCH = 20_000


def _fill_rows(n: int) -> Any:
    from tests.job_samples import sample_jobs

    from wsdmon.store.codec import dumps, encode_job_record
    from wsdmon.store.job_index import index_values

    for rec in sample_jobs(n):
        k = rec.key
        yield (
            k.device,
            k.job_token,
            k.generation,
            rec.is_active,
            rec.last_update.timestamp(),
            dumps(encode_job_record(rec, timeline=False)),
            *index_values(rec),
        )


def fill_sqlite(path: Path, n: int) -> None:
    """The rows in one transaction with the paging indexes and the search triggers set aside, then
    the indexes built and the search index rebuilt (sorted builds: minutes instead of an hour);
    the schema is the journal's own, taken from sqlite_master."""
    import sqlite3

    from wsdmon.store import Journal
    from wsdmon.store.job_index import INDEX_COLUMNS

    Journal(path, site="bench").close()  # the schema, as wsdmon makes it
    cols = ("device", "job_token", "generation", "active", "last_update_epoch", "record", *INDEX_COLUMNS)
    sql = f"INSERT INTO jobs (site, {', '.join(cols)}) VALUES ('bench'{', ?' * len(cols)})"  # noqa: S608
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB
    aside = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'jobs' AND sql IS NOT NULL"
        " AND (type = 'trigger' OR (type = 'index' AND name LIKE 'jobs_by_%' AND name != 'jobs_by_age'))"
    ).fetchall()
    conn.execute("BEGIN")
    for kind, name, _ in aside:
        conn.execute(f"DROP {kind.upper()} {name}")
    batch: list[tuple[Any, ...]] = []
    for row in _fill_rows(n):
        batch.append((*row[:3], int(row[3]), *row[4:]))
        if len(batch) >= FILL_BATCH:
            conn.executemany(sql, batch)
            batch.clear()
    conn.executemany(sql, batch)
    for _, _, create in aside:
        conn.execute(create)
    conn.execute("DELETE FROM jobs_search")
    conn.execute("INSERT INTO jobs_search (rowid, search) SELECT rowid, search FROM jobs")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


def fill_pg(dsn: str, n: int, spool: Path) -> None:
    """COPY with the paging indexes set aside, then built again from their own definitions."""
    import psycopg

    from wsdmon.store.job_index import INDEX_COLUMNS
    from wsdmon.store.postgres import PostgresStore

    PostgresStore(dsn, site="bench", spool_path=spool).close()  # the schema, as wsdmon makes it
    cols = ("device", "job_token", "generation", "active", "last_update_epoch", "record", *INDEX_COLUMNS)
    with psycopg.connect(dsn, autocommit=True) as conn:
        aside = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('jobs', 'job_words')"
            " AND (indexname LIKE 'jobs\\_by\\_%' OR indexname IN ('jobs_search', 'job_words_search'))"
            " AND indexname != 'jobs_by_age'"
        ).fetchall()
        for name, _ in aside:
            conn.execute(f"DROP INDEX {name}".encode())
        with conn.cursor() as cur, cur.copy(f"COPY jobs (site, {', '.join(cols)}) FROM STDIN") as copy:
            for row in _fill_rows(n):
                copy.write_row(("bench", *row))
        # the searched words' narrow copy, as the store's writer keeps it (pg_jobs.write_jobs)
        conn.execute(b"INSERT INTO job_words SELECT site, device, job_token, generation, search FROM jobs")
        conn.execute("SET maintenance_work_mem = '256MB'")
        for _, create in aside:
            conn.execute(create.encode())
        conn.execute("VACUUM ANALYZE jobs")
        conn.execute("VACUUM ANALYZE job_words")


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(kind: str, location: str) -> dict[str, Any]:
    """In this (fresh) process: open the paged table on the store and time what a person does."""
    from PySide6.QtCore import QEvent, QObject, Qt
    from PySide6.QtWidgets import QApplication, QTableView
    from tests.job_samples import USERS, device_endpoint

    from wsdmon.models import Column, QuickFilter
    from wsdmon.models.paged_jobs import PagedJobModel
    from wsdmon.store.job_pages import PgJobPages, SqliteJobPages

    app = QApplication.instance() or QApplication([])
    view = QTableView()
    view.resize(1366, 768)

    class Painted(QObject):
        at = 0.0

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.at = -1.0  # painting now: stamped after the paint returns (below)
            return False

    painted = Painted()
    view.viewport().installEventFilter(painted)

    def until_painted(t0: float) -> float:
        painted.at = 0.0
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            app.processEvents()
            if painted.at == -1.0:
                return time.perf_counter() - t0
        raise RuntimeError("the table never painted")

    def until_counted(t0: float) -> float:
        """When the exact count is known (made off the GUI thread): since t0. (A model that counts
        every match before it paints — the code before, --compare — knows it at once.)"""
        deadline = time.perf_counter() + 120
        while hasattr(model, "matched") and not model.matched()[1]:
            if time.perf_counter() > deadline:
                raise RuntimeError("the exact count never came")
            app.processEvents()
            time.sleep(0.001)
        return time.perf_counter() - t0

    rss0 = _rss_mb()
    t0 = time.perf_counter()
    pages = SqliteJobPages(location) if kind == "sqlite" else PgJobPages(location, "bench")
    model = PagedJobModel(pages)
    view.setModel(model)
    view.setSortingEnabled(False)
    view.show()
    out: dict[str, Any] = {"first_rows": model.rowCount(), "first_paint_s": until_painted(t0)}
    out["counted_s"] = until_counted(t0)
    out["rows"] = model.rowCount()

    def act(name: str, action: Any) -> None:
        t = time.perf_counter()
        action()
        view.viewport().update()  # an action that changes nothing on screen still ends with a paint
        out.setdefault("actions_s", {})[name] = until_painted(t)
        out.setdefault("first_rows_after", {})[name] = model.rowCount()
        out.setdefault("actions_counted_s", {})[name] = until_counted(t)
        out.setdefault("rows_after", {})[name] = model.rowCount()

    for col in Column:
        act(f"sort {col.name.lower()}", lambda c=col: view.sortByColumn(c, Qt.SortOrder.AscendingOrder))
    act("sort created descending", lambda: view.sortByColumn(Column.CREATED, Qt.SortOrder.DescendingOrder))
    act("quick filter failed", lambda: model.set_quick_filter(QuickFilter.FAILED))
    act("quick filter all", lambda: model.set_quick_filter(QuickFilter.ALL))
    act("device filter", lambda: model.set_device_filter(device_endpoint(7)))
    act("device filter cleared", lambda: model.set_device_filter(None))
    user = USERS[2].split("\\")[1]
    act(f"search {user!r}", lambda: model.set_search_text(user))
    act("search cleared", lambda: model.set_search_text(""))
    act("scroll to the middle", lambda: view.scrollTo(model.index(model.rowCount() // 2, 0)))
    act("scroll to the end", view.scrollToBottom)
    out["blocks_fetched"] = model.fetches
    out["code"] = _code_version()  # the commit installed when this process started
    out["wsdmon"] = str(Path(sys.modules["wsdmon"].__file__ or "").parent)  # which package was measured
    out["rss_growth_mb"] = _rss_mb() - rss0
    pages.close()
    return out


def _child(kind: str, location: str, code: Path | None = None) -> dict[str, Any]:
    """measure() in a fresh process; `code`: a folder holding another version's `wsdmon` package
    (the code before a change, `git archive REV gui | tar -x`), imported instead of the installed one."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code), *filter(None, [env.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, __file__, "--measure", kind, location],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=1800,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _verdict(full: dict[str, Any], empty: dict[str, Any]) -> dict[str, Any]:
    growth = full["rss_growth_mb"] - empty["rss_growth_mb"]
    worst = max(full["actions_s"].items(), key=lambda kv: kv[1])
    return {
        "first_paint_s": full["first_paint_s"],
        "first_paint_ok": full["first_paint_s"] <= TARGETS["first_paint_s"],
        "worst_action": worst[0],
        "worst_action_s": worst[1],
        "actions_ok": all(
            v <= TARGETS["action_s"] for k, v in full["actions_s"].items() if not k.startswith("scroll")
        ),
        "rss_over_empty_mb": growth,
        "rss_ok": growth <= TARGETS["rss_growth_mb"],
    }


def _compared(kind: str, full: str, empty: str, code: Path) -> dict[str, Any]:
    """The same measurements with another version's code, on the same stores, in the same run."""
    res: dict[str, Any] = {"code": code.name, "full": _child(kind, full, code)}
    res["empty"] = _child(kind, empty, code)
    res["verdict"] = _verdict(res["full"], res["empty"])
    return res


def _code_version() -> str:
    """The commit of the code measured (and whether the tree had changes), for the results file."""
    try:
        head = subprocess.run(
            ["git", "-C", str(HERE), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return ""
    return head.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2,000 jobs: checks the bench runs")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "paging.json")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="GUI_DIR",
        help="also measure the wsdmon package in this folder (the code before a change) on the same stores",
    )
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "LOCATION"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return
    rows = 2_000 if args.quick else args.rows
    stores = args.stores.split(",")
    report: dict[str, Any] = {
        "bench": "paging",
        "rows": rows,
        "targets": TARGETS,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "code": _code_version(),
        "stores": {},
    }
    with tempfile.TemporaryDirectory(prefix="wsdmon-paging-") as tmp:
        root = Path(tmp)
        if "sqlite" in stores:
            full, empty = root / "full.sqlite3", root / "empty.sqlite3"
            t = time.perf_counter()
            fill_sqlite(full, rows)
            fill_s = time.perf_counter() - t
            fill_sqlite(empty, 0)
            res = {"fill_s": fill_s, "db_mb": full.stat().st_size / 2**20}
            res["full"], res["empty"] = _child("sqlite", str(full)), _child("sqlite", str(empty))
            res["verdict"] = _verdict(res["full"], res["empty"])
            if args.compare is not None:
                res["compared"] = _compared("sqlite", str(full), str(empty), args.compare)
            report["stores"]["sqlite"] = res
            print(json.dumps({"sqlite": res["verdict"]}), file=sys.stderr)
        if "postgresql" in stores:
            from tests.pg import running_cluster

            with running_cluster() as cluster:
                cluster.admin("ALTER SYSTEM SET shared_buffers = '256MB'")
                cluster.stop()
                cluster.start()
                full_dsn, empty_dsn = cluster.new_database(), cluster.new_database()
                t = time.perf_counter()
                fill_pg(full_dsn, rows, root / "spool-full.sqlite3")
                fill_s = time.perf_counter() - t
                fill_pg(empty_dsn, 0, root / "spool-empty.sqlite3")
                res = {"fill_s": fill_s}
                res["full"], res["empty"] = _child("postgresql", full_dsn), _child("postgresql", empty_dsn)
                res["verdict"] = _verdict(res["full"], res["empty"])
                if args.compare is not None:
                    res["compared"] = _compared("postgresql", full_dsn, empty_dsn, args.compare)
                report["stores"]["postgresql"] = res
                print(json.dumps({"postgresql": res["verdict"]}), file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
