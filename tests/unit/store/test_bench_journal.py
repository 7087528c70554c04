"""bench/bench_journal.py keeps running: its quick mode executes and writes its JSON (figures are
never asserted; they are read from bench/results/journal.json)."""

from __future__ import annotations

from pathlib import Path

from tests.bench_smoke import run_quick


def test_journal_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    data = run_quick("bench_journal.py", tmp_path, "--dir", str(tmp_path))
    assert {(row["batch"], row["synchronous"]) for row in data["rows"]} >= {(1, "NORMAL"), (100, "NORMAL")}
    for row in data["rows"]:
        assert row["journal_per_s"] > 0
        assert row["bare_sqlite_per_s"] > 0
    assert not list(tmp_path.glob("bench-journal-*"))  # scratch databases removed
