"""The benchmarks keep running: each bench/ script's quick mode executes and writes its JSON.
(Figures are never asserted here; targets are checked by reading bench/results.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_parse_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "parse.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_parse.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert {row["message"] for row in data["rows"]}
    for row in data["rows"]:
        assert row["wsdmon_decode_us"] > 0
        assert row["bare_fromstring_us"] > 0
