"""wsdmon.widgets: views only. They read wsdmon.models through roles and never import protocol/net."""

from __future__ import annotations

from .detail_pane import SECTIONS, DetailPane
from .device_tree import DeviceTreeView
from .hooks import WindowHooks
from .icons import app_icon, icon
from .job_table import JobTableWidget
from .main_window import MainWindow
from .raw_log import RawLogDock

__all__ = [
    "SECTIONS",
    "DetailPane",
    "DeviceTreeView",
    "JobTableWidget",
    "MainWindow",
    "RawLogDock",
    "WindowHooks",
    "app_icon",
    "icon",
]
