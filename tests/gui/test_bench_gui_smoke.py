"""bench/bench_gui_model.py keeps running: its quick mode executes and writes its JSON (figures are
never asserted here; the targets are read from bench/results)."""

from __future__ import annotations

from pathlib import Path

from tests.bench_smoke import run_quick


def test_gui_model_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    data = run_quick("bench_gui_model.py", tmp_path, env={"QT_QPA_PLATFORM": "offscreen"})
    rows = data["rows"]
    assert [r["model"] for r in rows] == ["empty", "10000"]
    for row in rows:
        assert [f["sorted_by"] for f in row["feeds"]] == ["CREATED desc", "STATE asc"]
        assert all(f["events"] == 1000 and f["not_shown"] == 0 for f in row["feeds"])


def test_latency_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    data = run_quick("bench_latency.py", tmp_path, "--no-before", env={"QT_QPA_PLATFORM": "offscreen"})
    ((run,),) = data["runs"].values()
    assert run["events"] == 2000
    assert run["not_shown"] == 0
    assert run["from_due"]["painted_samples"] > 0


def test_cold_start_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    data = run_quick("bench_cold_start.py", tmp_path, env={"QT_QPA_PLATFORM": "offscreen"})
    (row,) = data["rows"]
    assert row["qt_platform"] == "offscreen"
    assert len(row["bare_runs_s"]) == len(row["wsdmon_runs_s"]) == 2
    assert all(t > 0 for t in row["bare_runs_s"] + row["wsdmon_runs_s"])
