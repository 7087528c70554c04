"""Layer rules of ARCHITECTURE.md, checked by importing each layer in a fresh interpreter."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

# layer → modules that must not be loaded after importing it
FORBIDDEN = {
    "wsdmon.protocol": ("PySide6", "asyncio", "socket", "aiohttp", "qasync", "wsdiscovery"),
    "wsdmon.net": ("PySide6", "qasync"),
    "wsdmon.core": ("PySide6", "qasync", "asyncio", "socket", "aiohttp"),
    "wsdmon.store": ("PySide6", "qasync", "asyncio", "aiohttp"),
    "wsdmon.simulator": ("PySide6", "qasync"),
    "wsdmon.support": ("PySide6", "qasync", "asyncio", "aiohttp"),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_forbidden(layer: str) -> None:
    if importlib.util.find_spec(layer) is None:
        pytest.skip(f"{layer} does not exist yet")
    code = (
        f"import sys, {layer}\n"
        f"bad = [m for m in {FORBIDDEN[layer]!r} if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{layer} pulls in {result.stdout.strip()}"
