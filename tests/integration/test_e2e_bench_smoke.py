"""The end-to-end notification benchmark keeps running: its quick mode executes and writes its JSON,
ladder included (figures are never asserted here; the target is read from bench/results)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .sim_netns import python_env

ROOT = Path(__file__).resolve().parents[2]


def test_e2e_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "e2e.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_notify_e2e.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
        env=python_env(),
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["bare_aiohttp_per_s"] > 0
    assert data["wsdmon_per_s"] > 0
    assert data["journaled_last_round"] > 0
    stages = [rung["stage"] for rung in data["ladder_low_level_server"]]
    assert stages[:4] == ["read", "parse", "decode", "decode+journal"]
    assert all(rung["per_s"] > 0 for rung in data["ladder_low_level_server"])
