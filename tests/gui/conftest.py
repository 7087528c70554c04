"""GUI test setup: offscreen Qt and the Fusion style. Qt warnings fail every test (pyproject's
`qt_log_level_fail = "WARNING"`; the offscreen plugin's propagateSizeHints notice is ignored there)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture(scope="session")
def qapp_args() -> list[str]:
    return ["wsdmon-tests", "-style", "Fusion"]


@pytest.fixture(autouse=True)
def _app(qapp):  # every GUI test gets the QApplication before it builds any QObject
    return qapp
