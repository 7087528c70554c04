"""Installer tests: build the real artefacts (slow, minutes) and install/compile them."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # pyproject.toml registers it too; this keeps --strict-markers happy on its own.
    config.addinivalue_line(
        "markers", "packaging: builds and installs the installers (minutes; root for dpkg)"
    )
