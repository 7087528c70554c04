"""bench/bench_journal.py keeps running: its quick mode executes and writes its JSON (figures are
never asserted; they are read from bench/results/journal.json)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_journal_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "journal.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_journal.py"),
            "--quick",
            "--out",
            str(out),
            "--dir",
            str(tmp_path),
        ],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {(row["batch"], row["synchronous"]) for row in data["rows"]} >= {(1, "NORMAL"), (100, "NORMAL")}
    for row in data["rows"]:
        assert row["journal_per_s"] > 0
        assert row["bare_sqlite_per_s"] > 0
    assert not list(tmp_path.glob("bench-journal-*"))  # scratch databases removed
