"""A device's troubles as a technician sees them in the real window, with the real engine behind it:
an unreachable `--device` entry (its own "Not reached" group, its URL once, the reason in one line),
why a device is offline (never "said Bye" when it did not), and Resubscribe from the device menu
saying in the status bar that it was asked and what came of it."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt

from tests.integration.strict_device import StrictDevice
from wsdmon.core import DeviceRecord
from wsdmon.models import DeviceKind, SubscriptionState
from wsdmon.simulator import Role, Scenario, Simulator, SimulatorConfig

from .test_app import make, run, until

TOOLTIP_LINE_MAX = 100  # a tooltip line a person reads at a glance


def _tooltip(app: Any, endpoint: str) -> str:
    return str(app.devices.index_of(endpoint).data(Qt.ItemDataRole.ToolTipRole))


def _status(app: Any) -> str:
    return str(app.window.statusBar().currentMessage())


def _trigger(app: Any, endpoint: str, name: str) -> None:
    row = app.devices.device(endpoint)
    menu = app.window.device_tree.context_menu_for(row)
    next(a for a in menu.actions() if a.objectName() == name).trigger()


@pytest.mark.timeout(60)
def test_an_unreachable_device_entry_is_not_reached_with_its_url_once_and_one_line_why(qapp, tmp_path):
    async def scenario() -> None:
        device = StrictDevice(refuse_all=True)
        await device.start()
        app = make(qapp, tmp_path, "--no-discovery", "--notify-port", "0", "--device", device.url)
        tree, model = app.window.device_tree, app.devices
        group = model.group_index(DeviceKind.NOT_REACHED)
        try:
            assert tree.isRowHidden(group.row(), QModelIndex())  # no such entry yet: no such group
            await app.start()
            await until(lambda: model.device(device.url) is not None, "the --device entry")
            assert group.data() == "Not reached (1)"
            assert not tree.isRowHidden(group.row(), QModelIndex())
            assert model.rowCount(model.group_index(DeviceKind.SCAN_DEVICE)) == 0
            assert model.index_of(device.url).parent() == group
            tip = _tooltip(app, device.url)
            assert tip.count(device.url) == 1, tip
            assert "The device refused the metadata request (HTTP 400 Bad Request)" in tip.splitlines()
            assert "<" not in tip  # no fault XML
            assert max(map(len, tip.splitlines())) <= TOOLTIP_LINE_MAX, tip
            # Resubscribe on it says why nothing happens.
            _trigger(app, device.url, "resubscribe")
            await until(lambda: "nothing to subscribe to" in _status(app), "the Resubscribe outcome")
        finally:
            await app.stop()
            await device.stop()

    run(qapp, scenario)


@pytest.mark.timeout(60)
def test_offline_says_why_bye_or_not_seen_since_start(qapp, tmp_path):
    async def scenario() -> None:
        app = make(qapp, tmp_path, "--no-discovery", "--notify-port", "0")
        app.journal.upsert_device(
            DeviceRecord("urn:uuid:old-scanner", ("http://192.0.2.9/wsd",), "Old scanner")
        )
        try:
            await app.start()  # the journal knows the device; it has not been seen since
            await until(
                lambda: app.devices.device("urn:uuid:old-scanner") is not None, "the journal's device"
            )
            tip = _tooltip(app, "urn:uuid:old-scanner")
            assert "Not seen since wsdmon started" in tip
            assert "Bye" not in tip
            assert app.devices.device("urn:uuid:old-scanner").subscription is SubscriptionState.ERROR
            app.engine.device_left("urn:uuid:old-scanner")  # now it does say Bye
            await until(lambda: "Bye" in _tooltip(app, "urn:uuid:old-scanner"), "the Bye")
            assert "Offline: the device said it is leaving (WS-Discovery Bye)" in _tooltip(
                app, "urn:uuid:old-scanner"
            )
        finally:
            await app.stop()

    run(qapp, scenario)


@pytest.mark.timeout(90)
def test_resubscribe_from_the_device_menu_reports_request_and_outcome(qapp, tmp_path):
    async def scenario() -> None:
        sim = Simulator(
            SimulatorConfig(
                role=Role.SCAN_SERVER, scenario=Scenario.IDLE, host="127.0.0.1", discovery=False, wsd_port=0
            )
        )
        await sim.start()
        server = sim.device(Role.SCAN_SERVER)
        app = make(qapp, tmp_path, "--no-discovery", "--notify-port", "0", "--device", server.metadata_url)
        model = app.devices
        stopped = False
        try:
            await app.start()

            def subscribed() -> bool:
                row = model.device(server.endpoint)
                return row is not None and row.subscription is SubscriptionState.SUBSCRIBED

            await until(subscribed, "the first subscription")
            name = model.device(server.endpoint).display_name
            before = [s.identifier for s in server.events.subscriptions]
            _trigger(app, server.endpoint, "resubscribe")
            assert _status(app) == f"Resubscribing to {name}…"  # said at once
            await until(lambda: _status(app) == f"Resubscribed to {name}", "the outcome")
            after = [s.identifier for s in server.events.subscriptions]
            assert after
            assert after != before  # a new subscription really was made
            await sim.stop()  # the device goes away: the next Resubscribe fails
            stopped = True
            _trigger(app, server.endpoint, "resubscribe")
            assert _status(app) == f"Resubscribing to {name}…"
            await until(lambda: "failed" in _status(app), "the failed outcome")
            assert _status(app) == (
                f"Resubscribe to {name} failed: the device did not accept the subscription "
                "(wsdmon keeps retrying)"
            )
        finally:
            await app.stop()
            if not stopped:
                await sim.stop()

    run(qapp, scenario)


def test_every_trouble_has_one_line_of_words():
    import errno

    from wsdmon.core import DeviceError, DeviceErrorKind, OfflineReason, ResubscribeResult
    from wsdmon.models import device_error_text, offline_text, resubscribe_text

    url = "http://192.0.2.7:5357/wsd"
    for kind in DeviceErrorKind:
        text = device_error_text(DeviceError(kind, url, status=503, code="InvalidArgs", limit=1024))
        assert text
        assert "\n" not in text
        assert str(DeviceError(kind, url))  # the one-line English of logs and `watch`
    refused = DeviceError(DeviceErrorKind.UNREACHABLE, url, errno=errno.ECONNREFUSED)
    assert device_error_text(refused) == (
        "Cannot connect to 192.0.2.7:5357: nothing answers on that port (connection refused)"
    )
    fault = DeviceError(DeviceErrorKind.SOAP_FAULT, url, code="InvalidArgs", reason="bad request")
    assert (
        device_error_text(fault)
        == "The device answered the metadata request with a fault: InvalidArgs bad request"
    )
    assert all(offline_text(reason) for reason in OfflineReason)
    assert all("Lobby" in resubscribe_text(result, "Lobby") for result in ResubscribeResult)
    assert resubscribe_text(None, "Lobby") == "Resubscribe to Lobby requested"  # a hook without an outcome
