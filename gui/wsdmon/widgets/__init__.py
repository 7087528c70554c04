"""wsdmon.widgets: views only. They read wsdmon.models through roles and never import protocol/net."""

from __future__ import annotations

from .detail_pane import SECTIONS, DetailPane
from .device_tree import DeviceTreeView, format_fingerprint
from .diagnose import DiagnoseDialog, SelfCheckDialog
from .hooks import WindowHooks
from .icons import app_icon, icon
from .job_table import JobTableWidget
from .main_window import MainWindow
from .preferences import Preferences, PreferencesDialog
from .raw_log import RawLogDock
from .theme import ThemeFollower, dark_palette
from .tray import FailureNotifier

__all__ = [
    "SECTIONS",
    "DetailPane",
    "DeviceTreeView",
    "DiagnoseDialog",
    "FailureNotifier",
    "JobTableWidget",
    "MainWindow",
    "Preferences",
    "PreferencesDialog",
    "RawLogDock",
    "SelfCheckDialog",
    "ThemeFollower",
    "WindowHooks",
    "app_icon",
    "dark_palette",
    "format_fingerprint",
    "icon",
]
