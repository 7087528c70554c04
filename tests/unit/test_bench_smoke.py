"""The benchmarks keep running: each bench/ script's quick mode executes and writes its JSON.
(Figures are never asserted here; targets are checked by reading bench/results.)"""

from __future__ import annotations

from pathlib import Path

from tests.bench_smoke import run_quick


def test_parse_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    data = run_quick("bench_parse.py", tmp_path, timeout=120)
    assert {row["message"] for row in data["rows"]}
    for row in data["rows"]:
        assert row["wsdmon_decode_us"] > 0
        assert row["bare_fromstring_us"] > 0
        assert row["build_floor_us"] > 0
