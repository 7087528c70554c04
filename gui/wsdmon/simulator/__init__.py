"""wsdmon.simulator: real WSD scan devices and DSM scan servers on the network, with no Qt.

Built on wsdmon.protocol (every message), aiohttp (HTTP both ways) and its own asyncio WS-Discovery
responder. Runs on the caller's loop (the GUI's qasync loop, a test's) or as `python -m
wsdmon.simulator`. See sim.py for the in-process API and scenarios.py for what the devices do.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import Fault, Faults, FaultSetting, Role, Scenario, SimulatorConfig, Timers

if TYPE_CHECKING:
    from .device import SimDevice
    from .plans import FilterOutcome, FilterPlan, JobEnd, JobPlan, ScanEnd, ScanJobPlan
    from .postscan import PostScanJob
    from .scanner import ScanJob
    from .sim import Simulator

# The devices and the run are imported when first asked for (PEP 562): they bring aiohttp and every
# protocol module, most of a second that `wsdmon-sim --help` or a usage error (cli.py needs only
# .config to parse its arguments) should not wait for.
_LAZY = {
    "SimDevice": ".device",
    "FilterOutcome": ".plans",
    "FilterPlan": ".plans",
    "JobEnd": ".plans",
    "JobPlan": ".plans",
    "ScanEnd": ".plans",
    "ScanJobPlan": ".plans",
    "PostScanJob": ".postscan",
    "ScanJob": ".scanner",
    "Simulator": ".sim",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


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
