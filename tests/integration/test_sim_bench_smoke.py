"""The simulator's burst benchmark keeps running: its quick mode executes and writes its JSON
(figures are never asserted here; the 2,000 notifications/s target is read from bench/results)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .sim_netns import python_env

ROOT = Path(__file__).resolve().parents[2]


def test_burst_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "burst.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_simulator_burst.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=python_env(),
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    for variant in ("simulator", "simulator_without_pipelining", "baseline_bare_aiohttp_posts"):
        assert data[variant]["notifications"] > 0, variant
    assert data["simulator"]["subscriber_received"] > 0
