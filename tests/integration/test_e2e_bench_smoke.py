"""The end-to-end notification benchmark keeps running: its quick mode executes and writes its JSON,
ladder included (figures are never asserted here; the target is read from bench/results)."""

from __future__ import annotations

from pathlib import Path

from tests.bench_smoke import run_quick


def test_e2e_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    data = run_quick("bench_notify_e2e.py", tmp_path, timeout=240)
    assert data["bare_aiohttp_per_s"] > 0
    assert data["wsdmon_per_s"] > 0
    assert data["journaled_last_round"] > 0
    stages = [rung["stage"] for rung in data["ladder_low_level_server"]]
    assert stages[:4] == ["read", "parse", "decode", "decode+journal"]
    assert all(rung["per_s"] > 0 for rung in data["ladder_low_level_server"])
