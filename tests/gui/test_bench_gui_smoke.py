"""bench/bench_gui_model.py keeps running: its quick mode executes and writes its JSON (figures are
never asserted here; the targets are read from bench/results)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gui_model_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "gui_model.json"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_gui_model.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [r["model"] for r in rows] == ["empty", "10000"]
    for row in rows:
        assert [f["sorted_by"] for f in row["feeds"]] == ["CREATED desc", "STATE asc"]
        assert all(f["events"] == 1000 and f["not_shown"] == 0 for f in row["feeds"])
