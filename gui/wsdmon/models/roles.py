"""Custom item-data roles of wsdmon's models: one IntEnum, so views and tests name roles, not numbers."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractProxyModel, QModelIndex, QPersistentModelIndex, Qt

__all__ = ["Role", "role_data"]

_BASE = int(Qt.ItemDataRole.UserRole)


class Role(IntEnum):
    """Roles served by JobTableModel (every column), DeviceTreeModel and the detail models."""

    JOB_RECORD = _BASE + 1  # the core JobRecord of the row (whole-row role: same in every column)
    JOB_KEY = _BASE + 2  # its JobKey (device endpoint, JobToken)
    STATE = _BASE + 3  # JobState / FilterState / SubscriptionState value as str
    IS_FAILED = _BASE + 4  # bool: aborted, completed with errors, timed out, a filter failed
    IS_ACTIVE = _BASE + 5  # bool: not in a terminal state
    DEVICE = _BASE + 6  # device endpoint (str) of a job or a device row
    SORT = _BASE + 7  # scalar sort key of the cell (numbers, timestamps, lifecycle rank)
    FILTER_TEXT = _BASE + 8  # internal: what the proxy's search and quick filters match
    CAN_CANCEL = _BASE + 9  # bool: active job on a scan server (or on an unknown device)
    DEVICE_ROW = _BASE + 10  # the DeviceRow of a device node (None on group nodes)
    IS_GROUP = _BASE + 11  # bool: a group node of the device tree
    IS_VENDOR = _BASE + 12  # bool: the cell shows a vendor extension value (§1.8)
    JOURNAL_ID = _BASE + 13  # int | None: the journal row of a timeline entry / raw message
    UTC_TEXT = _BASE + 14  # str: the UTC rendering of a time cell (also in the tooltip)
    HEALTH = _BASE + 15  # core Verdict | None: a device's worst health verdict (None: no report yet)
    HEALTH_TEXT = _BASE + 16  # str: that verdict and the worst finding's sentence (its icon's tooltip)
    SITE = _BASE + 17  # str: the site of a device tree's site node or device ("" for a single PC's)


def role_data(index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
    """`index.data(role)`, asked of our Python model directly (through any proxies): Python objects
    such as the JobRecord come back without a round trip through QVariant (faster, and clear of the
    PySide6 6.12 / Python 3.11 reference bug on empty QVariants described in the GUI report)."""
    model = index.model()
    while isinstance(model, QAbstractProxyModel):
        index = model.mapToSource(index)
        model = index.model()
    if model is None or not index.isValid():
        return None
    return model.data(index, role)
