"""wsdmon.core: plain-Python domain state (no Qt, no I/O): devices, jobs and the reducers."""

from __future__ import annotations

from .changes import Change, ChangeField
from .device_status import (
    CancelOutcome,
    CancelResult,
    DeviceError,
    DeviceErrorKind,
    OfflineReason,
    ResubscribeResult,
)
from .devices import (
    REPOSITORY_SERVICE_TYPE,
    SCANNER_SERVICE_TYPE,
    DeviceRecord,
    Role,
    ScannerCondition,
    ServiceInfo,
    SubscriptionStatus,
    device_from_metadata,
)
from .jobs import (
    JobChange,
    JobKey,
    JobKind,
    JobRecord,
    JobTable,
    Observation,
    ObservationKind,
    ScanJobStatus,
    TimelineEntry,
    filter_summary,
)
from .names import dialect_name

__all__ = [
    "REPOSITORY_SERVICE_TYPE",
    "SCANNER_SERVICE_TYPE",
    "CancelOutcome",
    "CancelResult",
    "Change",
    "ChangeField",
    "DeviceError",
    "DeviceErrorKind",
    "DeviceRecord",
    "JobChange",
    "JobKey",
    "JobKind",
    "JobRecord",
    "JobTable",
    "Observation",
    "ObservationKind",
    "OfflineReason",
    "ResubscribeResult",
    "Role",
    "ScanJobStatus",
    "ScannerCondition",
    "ServiceInfo",
    "SubscriptionStatus",
    "TimelineEntry",
    "device_from_metadata",
    "dialect_name",
    "filter_summary",
]
