"""ruff and mypy --strict are part of the test suite, so CI fails on a lint or type regression."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_clean() -> None:
    if shutil.which("ruff", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("ruff is not installed in the test environment (pip install '.[test]')")
    result = _run("ruff", "check", "gui", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_clean() -> None:
    result = _run("mypy", "--config-file", "pyproject.toml", "gui/wsdmon")
    assert result.returncode == 0, result.stdout + result.stderr
