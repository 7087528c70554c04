"""wsdmon.core: plain-Python domain state (no Qt, no I/O): devices, jobs and the reducers."""

from __future__ import annotations

from .jobs import (
    JobChange,
    JobKey,
    JobRecord,
    JobTable,
    Observation,
    ObservationKind,
    TimelineEntry,
    filter_summary,
)

__all__ = [
    "JobChange",
    "JobKey",
    "JobRecord",
    "JobTable",
    "Observation",
    "ObservationKind",
    "TimelineEntry",
    "filter_summary",
]
