"""GUI test setup: offscreen Qt, the Fusion style, and QSettings in a temporary directory (an
Application built without explicit settings must not touch the user's own). Qt warnings fail every
test (pyproject's `qt_log_level_fail = "WARNING"`; the offscreen plugin's propagateSizeHints notice
is ignored there)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(scope="session")
def qapp_args() -> list[str]:
    return ["wsdmon-tests", "-style", "Fusion"]


@pytest.fixture(autouse=True)
def _app(qapp):  # every GUI test gets the QApplication before it builds any QObject
    return qapp


@pytest.fixture(scope="session", autouse=True)
def _settings_in_tmp(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("qsettings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, path)
