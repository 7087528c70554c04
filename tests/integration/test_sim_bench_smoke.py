"""The simulator's burst benchmark keeps running: its quick mode executes and writes its JSON
(figures are never asserted here; the 2,000 notifications/s target is read from bench/results)."""

from __future__ import annotations

from pathlib import Path

from tests.bench_smoke import run_quick


def test_burst_bench_quick_mode_writes_json(tmp_path: Path) -> None:
    data = run_quick("bench_simulator_burst.py", tmp_path, env={"PYTHONUNBUFFERED": "1"}, timeout=120)
    for variant in ("simulator", "simulator_without_pipelining", "baseline_bare_aiohttp_posts"):
        assert data[variant]["notifications"] > 0, variant
    assert data["simulator"]["subscriber_received"] > 0
