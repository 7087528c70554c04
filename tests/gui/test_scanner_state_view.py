"""A scanner's state at a glance in the real window's device tree: the simulated scanner jams (a
ScannerStatusConditionEvent) → its row shows the jam icon and "Paper jam" beside its name, the State
column and tooltip say it in full; the jam cleared → the row is back to its name and subscription
icon. A warning and a jam together: the jam (the worst) is named, "+1" for the other."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from wsdmon.models import DeviceColumn
from wsdmon.models.icons import icon
from wsdmon.simulator import Role, Scenario, Simulator, SimulatorConfig

from .test_app import make, run, until


def _cell(app: Any, endpoint: str, column: DeviceColumn, role: Qt.ItemDataRole) -> Any:
    view = app.window.device_tree
    index = app.devices.index_of(endpoint)
    assert view.model() is app.devices
    assert not view.isColumnHidden(DeviceColumn.NAME)
    return view.model().index(index.row(), column, index.parent()).data(role)


def _text(app: Any, endpoint: str) -> str:
    return str(_cell(app, endpoint, DeviceColumn.NAME, Qt.ItemDataRole.DisplayRole))


def _icon_key(app: Any, endpoint: str) -> int:
    return int(_cell(app, endpoint, DeviceColumn.NAME, Qt.ItemDataRole.DecorationRole).cacheKey())


def test_a_jam_shows_in_the_scanners_row_and_goes_when_cleared(qapp: Any, tmp_path: Any) -> None:
    async def scenario() -> None:
        config = SimulatorConfig(
            role=Role.SCAN_DEVICE, scenario=Scenario.IDLE, host="127.0.0.1", discovery=False, wsd_port=0
        )
        sim = Simulator(config)
        await sim.start()
        device = sim.device(Role.SCAN_DEVICE)
        assert device.scanner is not None
        app = make(
            qapp,
            tmp_path,
            "--no-discovery",
            "--notify-port",
            "0",
            "--probe",
            f"127.0.0.1:{sim.discovery_port}",
        )
        try:
            await app.start()
            endpoint = device.endpoint
            await until(lambda: app.devices.device(endpoint) is not None, "the scanner in the tree")
            await until(lambda: app.devices.device(endpoint).state == "Idle", "its state, asked for")
            name = app.devices.device(endpoint).display_name
            assert _text(app, endpoint) == name  # idle: just its name
            normal = _icon_key(app, endpoint)
            assert normal == icon("subscribed").cacheKey()

            jam = device.scanner.raise_condition()  # MediaJam, Critical, ADF
            await until(lambda: _text(app, endpoint) == f"{name} — Paper jam", "the jam in the row")
            assert _icon_key(app, endpoint) == icon("condition-critical").cacheKey()
            state = _cell(app, endpoint, DeviceColumn.STATE, Qt.ItemDataRole.DisplayRole)
            assert "Paper jam (MediaJam, Critical, ADF)" in state
            tip = _cell(app, endpoint, DeviceColumn.NAME, Qt.ItemDataRole.ToolTipRole)
            assert "Condition: Paper jam (MediaJam, Critical, ADF)" in tip

            lamp = device.scanner.raise_condition("LampWarming", "Platen", "Warning")
            await until(lambda: _text(app, endpoint) == f"{name} — Paper jam (+1)", "the worst of two")
            device.scanner.clear_condition(jam)
            await until(lambda: _text(app, endpoint) == f"{name} — Lamp warming up", "only the lamp")
            assert _icon_key(app, endpoint) == icon("condition-warning").cacheKey()

            device.scanner.clear_condition(lamp)
            await until(lambda: _text(app, endpoint) == name, "back to normal")
            assert _icon_key(app, endpoint) == normal
            assert "Condition:" not in _cell(app, endpoint, DeviceColumn.NAME, Qt.ItemDataRole.ToolTipRole)
        finally:
            await app.stop()
            await sim.stop()

    run(qapp, scenario)
