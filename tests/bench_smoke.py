"""Running a bench/ script's quick mode from a test: each benchmark keeps working, and writes its
JSON (figures are never asserted in tests; targets are read from bench/results)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import wsdmon

BENCH = Path(__file__).resolve().parents[1] / "bench"


def run_quick(
    script: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> Any:
    """Run bench/`script` --quick with its --out in tmp_path; its JSON, once it exited 0. The child
    imports the same wsdmon as the test."""
    out = tmp_path / (Path(script).stem + ".json")
    source = str(Path(wsdmon.__file__).resolve().parents[1])
    child_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH", "")) if p),
        **(env or {}),
    }
    result = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", "--out", str(out), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=child_env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text(encoding="utf-8"))
