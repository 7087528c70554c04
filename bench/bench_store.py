"""A collector's notifications/s through the Recorder into each store, in one run: the sqlite journal
(synchronous=NORMAL, the default; FULL for context) and PostgreSQL (a throwaway cluster on this
machine, fsync on, synchronous_commit on: each commit flushed to its WAL). Issue 14's target: the
PostgreSQL rate ≥ 0.8 × the sqlite rate.

Load: C concurrent senders, each awaiting its message's commit before sending the next (as a device
awaits its 202), so the Recorder's group commit sees what a busy sink gives it. With this closed loop
the rate is C / (time of one commit): at low C it measures commit latency, where PostgreSQL pays an
fsync of its WAL per commit (as sqlite FULL does) and sqlite NORMAL none; at high C the batches grow
and the rate shows throughput. Both figures are kept; "fsync_ms" is one single-row commit on this
disk, measured on the same cluster, for reading them. Every message is a
real PostScanJobStatusEvent from the protocol examples. Variants run interleaved and keep their best
of several rounds. The PostgreSQL cluster comes from tests/pg.py (initdb/pg_ctl as the `postgres`
user when run as root). Result: bench/results/store.json.

"postgresql_before" is the same store writing each batch the way it did before the binary COPY (an
INSERT … unnest(arrays), now the replay path), run interleaved with the others for a before/after
in one run. "batch_ms" is a batch's mean time (elapsed / batches): at 16 senders every sender waits
in the one batch in flight, so the rate is 16 / batch_ms whatever the store does meanwhile, and
PostgreSQL's batch holds a WAL flush (fsync_ms, which other work on the disk lengthens) that sqlite
NORMAL's does not.

    .venv/bin/python bench/bench_store.py [--quick] [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.pg: the throwaway cluster

from tests.pg import running_cluster  # noqa: E402

import wsdmon  # noqa: E402
from wsdmon.net.recorder import PendingMessage, Recorder  # noqa: E402
from wsdmon.store import Journal, StorePort, open_store  # noqa: E402
from wsdmon.store.pg_rows import Conn, MessageRow  # noqa: E402
from wsdmon.store.postgres import PostgresStore  # noqa: E402

EXAMPLE = (
    HERE.parent.parent / "shared" / "protocol" / "examples" / "09-postscanjobstatusevent-3-completed.xml"
)
ACTION = "http://schemas.microsoft.com/windows/2008/12/wdp/distributedscan/PostScanJobStatusEvent"
DEVICE = "urn:uuid:553852db-6d5a-4eee-a34f-5b499c1a2944"


def _body() -> bytes:
    if EXAMPLE.exists():
        return EXAMPLE.read_bytes()
    return b"<soap:Envelope>" + b"x" * 2000 + b"</soap:Envelope>"


class _UnnestStore(PostgresStore):
    """The store as it wrote batches before the COPY: INSERT … unnest for every batch."""

    def _write_new(self, conn: Conn, ids: list[int], rows: Sequence[MessageRow]) -> None:
        self._insert(conn, ids, rows)


async def _drive(store: StorePort, total: int, concurrency: int, body: bytes) -> tuple[float, float]:
    recorder = Recorder(store)
    per_sender = total // concurrency

    async def sender(k: int) -> None:
        for i in range(per_sender):
            await recorder.record(
                PendingMessage(
                    datetime.now(UTC), DEVICE, None, ACTION, f"urn:uuid:{k}-{i}", f"job {k}-{i}", body
                )
            )

    start = time.perf_counter()
    await asyncio.gather(*(sender(k) for k in range(concurrency)))
    elapsed = time.perf_counter() - start
    return per_sender * concurrency / elapsed, elapsed / max(recorder.batches, 1) * 1000


def _commit_ms(dsn: str, n: int = 50) -> float:
    """Milliseconds of one single-row INSERT commit (mostly the WAL fsync)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE probe (a int)")
        start = time.perf_counter()
        for _ in range(n):
            conn.execute("INSERT INTO probe VALUES (1)")
        return (time.perf_counter() - start) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds: fewer messages and rounds")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "store.json")
    args = parser.parse_args()
    total, rounds = (2_000, 1) if args.quick else (12_800, 2)
    body = _body()
    results: dict[str, dict[str, float]] = {}
    batch_ms: dict[str, dict[str, float]] = {}
    work = Path(tempfile.mkdtemp(prefix="wsdmon-bench-store-"))
    try:
        with running_cluster(fsync=True) as cluster:
            n = 0

            def sqlite(sync: str) -> Callable[[], StorePort]:
                def make() -> StorePort:
                    return Journal(work / f"j{n}-{sync}.sqlite3", synchronous=sync, site="bench")  # type: ignore[arg-type]

                return make

            def postgres() -> StorePort:
                return open_store(cluster.new_database(), site="bench", spool_path=work / f"spool{n}.sqlite3")

            def postgres_before() -> StorePort:
                dsn = cluster.new_database()
                return _UnnestStore(dsn, site="bench", spool_path=work / f"spool{n}.sqlite3")

            variants = {
                "sqlite_normal": sqlite("NORMAL"),
                "sqlite_full": sqlite("FULL"),
                "postgresql": postgres,
                "postgresql_before": postgres_before,
            }
            fsync_ms = _commit_ms(cluster.new_database())
            for concurrency in (16, 64, 256):
                for _ in range(rounds):
                    for name, make in variants.items():
                        n += 1
                        store = make()
                        try:
                            rate, ms = asyncio.run(_drive(store, total, concurrency, body))
                        finally:
                            store.close()
                        key = f"c{concurrency}"
                        best = results.setdefault(name, {})
                        if rate > best.get(key, 0.0):
                            best[key] = rate
                            batch_ms.setdefault(name, {})[key] = ms
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def over(name: str, base: str) -> dict[str, float]:
        return {key: round(results[name][key] / results[base][key], 2) for key in results[name]}

    out = {
        "bench": "store",
        "wsdmon": wsdmon.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "messages_per_round": total,
        "fsync_ms": round(fsync_ms, 2),
        "rounds": rounds,
        "notifications_per_s": {k: {c: round(v) for c, v in d.items()} for k, d in results.items()},
        "batch_ms": {k: {c: round(v, 2) for c, v in d.items()} for k, d in batch_ms.items()},
        "postgresql_over_sqlite_normal": over("postgresql", "sqlite_normal"),
        "postgresql_before_over_sqlite_normal": over("postgresql_before", "sqlite_normal"),
        "postgresql_over_sqlite_full": over("postgresql", "sqlite_full"),
        "target": "postgresql >= 0.8 x sqlite_normal",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
