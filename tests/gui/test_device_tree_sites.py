"""The device tree of a view of a shared store (issue 14): a node per site, in name order, with its
device count and its worst device's state; its devices below it, scan servers first. Selections
made before a site is added above keep pointing at the same device. A single PC's tree keeps its
three kinds of device and no site level."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from wsdmon.core import ScannerCondition
from wsdmon.models import DeviceKind, DeviceRow, DeviceTreeModel, Role, SubscriptionState
from wsdmon.models.icons import icon
from wsdmon.protocol.scan import ConditionName, Severity


def _row(endpoint: str, site: str, kind: DeviceKind = DeviceKind.SCAN_DEVICE, **more: object) -> DeviceRow:
    fields = {"name": endpoint.upper(), "subscription": SubscriptionState.AT_SITE, **more}
    return DeviceRow(f"urn:uuid:{endpoint}", kind, site=site, **fields)  # type: ignore[arg-type]


def _top(model: DeviceTreeModel) -> list[str]:
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def _children(model: DeviceTreeModel, parent: QModelIndex) -> list[str]:
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def test_a_node_per_site_in_name_order_with_its_count_and_servers_first(qtmodeltester) -> None:
    model = DeviceTreeModel(by_site=True)
    qtmodeltester.check(model)
    model.upsert([_row("mfp-b", "branch"), _row("srv-b", "branch", DeviceKind.SCAN_SERVER)])
    held = QPersistentModelIndex(model.index_of(_row("mfp-b", "branch").key))
    model.upsert([_row("srv-a", "annex", DeviceKind.SCAN_SERVER), _row("mfp-f", "Floor-3")])
    qtmodeltester.check(model)
    assert _top(model) == ["annex (1)", "branch (2)", "Floor-3 (1)"]
    assert model.sites() == ["annex", "branch", "Floor-3"]
    branch = model.site_index("branch")
    assert _children(model, branch) == ["SRV-B", "MFP-B"]  # the scan server first
    assert branch.data(Role.IS_GROUP) is True
    assert branch.data(Role.SITE) == "branch"
    assert model.index(0, 0, branch).data(Role.SITE) == "branch"
    # A site added above it: the device held (a selection) is still that device, under its site.
    assert held.isValid()
    assert held.data(Role.DEVICE_ROW).key == _row("mfp-b", "branch").key
    assert held.parent() == branch
    assert model.parent(model.index_of(_row("srv-a", "annex").key)) == model.site_index("annex")


def test_a_site_shows_its_worst_device(qtmodeltester) -> None:
    model = DeviceTreeModel(by_site=True)
    calm, jammed = _row("mfp-1", "branch"), _row("mfp-2", "branch")
    model.upsert([calm, jammed])
    branch = model.site_index("branch")
    assert branch.data(Qt.ItemDataRole.DecorationRole) is None  # nothing wrong: no icon
    assert branch.data(Qt.ItemDataRole.ToolTipRole) == "Site branch: 2 devices"
    jam = ScannerCondition(1, ConditionName.MEDIA_JAM, Severity.CRITICAL, "ADF")
    model.upsert([dataclasses.replace(jammed, state="Stopped", conditions=(jam,))])
    decoration = branch.data(Qt.ItemDataRole.DecorationRole)
    assert decoration.cacheKey() == icon("condition-critical").cacheKey()
    tip = branch.data(Qt.ItemDataRole.ToolTipRole)
    assert tip.splitlines() == ["Site branch: 2 devices", "Worst: MFP-2 — Paper jam"]
    assert branch.data(Qt.ItemDataRole.AccessibleTextRole) == tip  # the icon is drawn, not said
    # A device it cannot reach is worse than a jam.
    lost = dataclasses.replace(calm, subscription=SubscriptionState.ERROR, subscription_detail="gone")
    model.upsert([lost])
    assert branch.data(Qt.ItemDataRole.DecorationRole).cacheKey() == icon("error").cacheKey()
    assert branch.data(Qt.ItemDataRole.ToolTipRole).splitlines()[1:] == ["Worst: MFP-1", "gone"]
    qtmodeltester.check(model)


def test_a_site_without_devices_loses_its_node_and_a_kind_change_keeps_the_site() -> None:
    model = DeviceTreeModel(by_site=True)
    lone, other = _row("mfp-a", "annex"), _row("mfp-b", "branch")
    model.upsert([lone, other])
    model.upsert([dataclasses.replace(other, kind=DeviceKind.SCAN_SERVER)])  # turned out a server
    assert _top(model) == ["annex (1)", "branch (1)"]
    assert model.device(other.key).kind is DeviceKind.SCAN_SERVER
    model.remove([lone.key])
    assert _top(model) == ["branch (1)"]
    assert not model.site_index("annex").isValid()
    assert model.device_count() == 1


def test_a_single_pcs_tree_keeps_its_kinds_and_no_site_level() -> None:
    model = DeviceTreeModel()
    model.upsert([_row("srv", "", DeviceKind.SCAN_SERVER), _row("mfp", "")])
    assert _top(model) == ["Scan servers (1)", "Scan devices (1)", "Not reached (0)"]
    assert model.sites() == []
    assert not model.site_index("").isValid()
    assert model.group_index(DeviceKind.SCAN_DEVICE).data() == "Scan devices (1)"
