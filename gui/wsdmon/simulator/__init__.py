"""wsdmon.simulator: real WSD scan devices and DSM scan servers on the network, with no Qt.

Built on wsdmon.protocol (every message), aiohttp (HTTP both ways) and its own asyncio WS-Discovery
responder. Runs on the caller's loop (the GUI's qasync loop, a test's) or as `python -m
wsdmon.simulator`. See sim.py for the in-process API and scenarios.py for what the devices do.
"""

from __future__ import annotations

from .config import Fault, Faults, FaultSetting, Role, Scenario, SimulatorConfig, Timers
from .device import SimDevice
from .plans import FilterOutcome, FilterPlan, JobEnd, JobPlan, ScanEnd, ScanJobPlan
from .postscan import PostScanJob
from .scanner import ScanJob
from .sim import Simulator

__all__ = [
    "Fault",
    "FaultSetting",
    "Faults",
    "FilterOutcome",
    "FilterPlan",
    "JobEnd",
    "JobPlan",
    "PostScanJob",
    "Role",
    "ScanEnd",
    "ScanJob",
    "ScanJobPlan",
    "Scenario",
    "SimDevice",
    "Simulator",
    "SimulatorConfig",
    "Timers",
]
