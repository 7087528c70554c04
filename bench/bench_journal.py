"""Journal appends per second: one commit per message vs group commit in batches of 10 and 100,
side by side with a bare sqlite3 insert loop (same pragmas, same columns, no journal) as baseline.

Each variant writes into a fresh database on the same disk, the variants run interleaved in one
process and each keeps its best repeat. synchronous=NORMAL is what the journal uses (durable against
a process crash); FULL (an fsync per commit, durable against power loss) is measured for context.
Results go to bench/results/journal.json.

    .venv/bin/python bench/bench_journal.py [--quick] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import wsdmon
from wsdmon.store import IncomingMessage, Journal

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent.parent / "shared" / "protocol" / "examples"
EXAMPLE = EXAMPLES / "09-postscanjobstatusevent-3-completed.xml"
ACTION = "http://schemas.microsoft.com/windows/2008/12/wdp/distributedscan/PostScanJobStatusEvent"
BARE_SCHEMA = """CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, arrival TEXT NOT NULL,
    arrival_epoch REAL NOT NULL, device TEXT NOT NULL, subscription TEXT, action TEXT NOT NULL,
    message_id TEXT, summary TEXT NOT NULL, raw BLOB NOT NULL)"""
BARE_INSERT = (
    "INSERT INTO messages (arrival, arrival_epoch, device, subscription, action, message_id, summary, raw)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def messages(n: int, body: bytes) -> list[IncomingMessage]:
    now = datetime.now(UTC)
    return [
        IncomingMessage(
            now,
            "urn:uuid:553852db-6d5a-4eee-a34f-5b499c1a2944",
            "urn:uuid:0f5e9a4c-5a4f-4d8e-9a57-1b2c3d4e5f60",
            ACTION,
            f"urn:uuid:00000000-0000-4000-8000-{i:012d}",
            f"job tok-{i % 50}: Processing, {i % 7} images",
            body,
        )
        for i in range(n)
    ]


def run_journal(path: Path, rows: list[IncomingMessage], batch: int, sync: str) -> float:
    journal = Journal(path, synchronous=sync)  # type: ignore[arg-type]
    try:
        start = time.perf_counter()
        if batch == 1:
            for m in rows:
                journal.append_message(*m)
        else:
            for i in range(0, len(rows), batch):
                journal.append_messages(rows[i : i + batch])
        return len(rows) / (time.perf_counter() - start)
    finally:
        journal.close()


def run_bare(path: Path, rows: list[IncomingMessage], batch: int, sync: str) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {sync}")
        conn.execute(BARE_SCHEMA)
        start = time.perf_counter()
        for i in range(0, len(rows), batch):
            conn.execute("BEGIN")
            for m in rows[i : i + batch]:
                utc = m.arrival.astimezone(UTC)
                params = (utc.isoformat(), utc.timestamp(), m.device, m.subscription, m.action)
                conn.execute(BARE_INSERT, (*params, m.message_id, m.summary, m.raw))
            conn.execute("COMMIT")
        return len(rows) / (time.perf_counter() - start)
    finally:
        conn.close()


def fs_type(path: Path) -> str:
    """The filesystem the databases live on (fsync cost depends on it); Linux only, else '?'."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "?"
    best = ("", "?")
    for fields in mounts:
        mount, kind = fields[1], fields[2]
        if str(path).startswith(mount) and len(mount) > len(best[0]):
            best = (mount, kind)
    return best[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages (smoke test)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "journal.json")
    parser.add_argument("--dir", type=Path, default=HERE, help="where the scratch databases go (a real disk)")
    args = parser.parse_args()
    body = EXAMPLE.read_bytes() if EXAMPLE.exists() else b"<x>" + b"y" * 2000 + b"</x>"
    repeat = 1 if args.quick else 5
    # (batch, synchronous, messages per run): the same count for every batch size, so each run pays
    # for the same number of WAL checkpoints; single commits under FULL are slow, so fewer there.
    cases = [(1, "NORMAL", 10000), (10, "NORMAL", 10000), (100, "NORMAL", 10000)]
    cases += [(1, "FULL", 2000), (10, "FULL", 10000), (100, "FULL", 10000)]
    if args.quick:
        cases = [(b, s, n // 50) for b, s, n in cases]
    scratch = Path(tempfile.mkdtemp(prefix="bench-journal-", dir=args.dir))
    best: dict[tuple[int, str, str], float] = {}
    runners: dict[str, Callable[[Path, list[IncomingMessage], int, str], float]] = {
        "journal": run_journal,
        "bare": run_bare,
    }
    try:
        serial = 0
        for _ in range(repeat):
            for batch, sync, n in cases:
                rows = messages(n, body)
                for name, runner in runners.items():
                    serial += 1
                    db = scratch / f"{serial}.sqlite3"
                    rate = runner(db, rows, batch, sync)
                    # Delete at once: dirty pages of old runs must not be written back during the next.
                    for leftover in scratch.glob(f"{serial}.sqlite3*"):
                        leftover.unlink()
                    key = (batch, sync, name)
                    best[key] = max(best.get(key, 0.0), rate)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results = [
        {
            "batch": batch,
            "synchronous": sync,
            "messages_per_run": n,
            "journal_per_s": round(best[(batch, sync, "journal")]),
            "bare_sqlite_per_s": round(best[(batch, sync, "bare")]),
            "ratio_journal_to_bare": round(best[(batch, sync, "journal")] / best[(batch, sync, "bare")], 3),
        }
        for batch, sync, n in cases
    ]
    result = {
        "benchmark": "journal appends/s: single commits vs group commit, beside a bare sqlite3 insert loop",
        "message_bytes": len(body),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "machine": platform.machine(),
        "filesystem": fs_type(args.dir.resolve()),
        "wsdmon": wsdmon.__version__,
        "quick": args.quick,
        "repeats_best_of": repeat,
        "rows": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
