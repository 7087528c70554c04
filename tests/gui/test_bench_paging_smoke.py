"""bench/bench_paging.py keeps running: its quick mode on the sqlite journal writes its JSON (the
figures are read from bench/results/paging.json, never asserted here)."""

from __future__ import annotations

from pathlib import Path

from tests.bench_smoke import run_quick


def test_paging_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    data = run_quick("bench_paging.py", tmp_path, "--stores", "sqlite", env={"QT_QPA_PLATFORM": "offscreen"})
    sqlite = data["stores"]["sqlite"]
    assert sqlite["full"]["rows"] == data["rows"] == 2000
    assert sqlite["empty"]["rows"] == 0
    assert set(sqlite["full"]["actions_s"]) >= {"sort state", "quick filter failed", "search 'carol'"}
    assert sqlite["full"]["rows_after"]["quick filter failed"] < 2000
    assert sqlite["verdict"]["first_paint_s"] > 0
