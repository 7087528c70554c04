"""wsdmon.models: Qt item models. The bridge feeds them domain values; widgets read them through Role."""

from __future__ import annotations

from .detail import FilterDetail, FilterStatusModel, JobDetail, TimelineModel, TimeText, job_detail
from .device_key import device_key, endpoint_of, job_device_key, site_of
from .device_text import device_error_text, offline_text, resubscribe_text
from .devices import DeviceColumn, DeviceKind, DeviceRow, DeviceTreeModel, SubscriptionState
from .health_text import (
    VERDICT_ICONS,
    check_name,
    health_advice,
    health_evidence,
    health_report_text,
    health_sentence,
    health_tooltip,
    verdict_text,
)
from .job_columns import Column, Outcome, outcome
from .job_filter import JobFilterProxyModel, QuickFilter
from .job_text import cancel_answer_text
from .jobs import DeviceLookup, JobTableModel
from .meanings import Kind, Meaning, explain
from .raw_log import Direction, RawLogEntry, RawLogModel
from .roles import Role, role_data
from .selfcheck_text import (
    selfcheck_advice,
    selfcheck_evidence,
    selfcheck_name,
    selfcheck_report_text,
    selfcheck_sentence,
)
from .status import EngineStatus
from .xml_text import pretty_xml

__all__ = [
    "VERDICT_ICONS",
    "Column",
    "DeviceColumn",
    "DeviceKind",
    "DeviceLookup",
    "DeviceRow",
    "DeviceTreeModel",
    "Direction",
    "EngineStatus",
    "FilterDetail",
    "FilterStatusModel",
    "JobDetail",
    "JobFilterProxyModel",
    "JobTableModel",
    "Kind",
    "Meaning",
    "Outcome",
    "QuickFilter",
    "RawLogEntry",
    "RawLogModel",
    "Role",
    "SubscriptionState",
    "TimeText",
    "TimelineModel",
    "cancel_answer_text",
    "check_name",
    "device_error_text",
    "device_key",
    "endpoint_of",
    "explain",
    "health_advice",
    "health_evidence",
    "health_report_text",
    "health_sentence",
    "health_tooltip",
    "job_detail",
    "job_device_key",
    "offline_text",
    "outcome",
    "pretty_xml",
    "resubscribe_text",
    "role_data",
    "selfcheck_advice",
    "selfcheck_evidence",
    "selfcheck_name",
    "selfcheck_report_text",
    "selfcheck_sentence",
    "site_of",
    "verdict_text",
]
