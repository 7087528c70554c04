"""What a site's collector knows of its devices, shown by the window on a shared store (schema v5):
a branch's scanner that cannot be reached is an error on its row and its site's node says so; a
device whose state is damaged is still shown (as watched by its site, the damage logged); a store
no collector of schema 5 opened yet is read as before."""

from __future__ import annotations

import dataclasses
import errno
import json
import logging
from pathlib import Path
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt

from tests.gui.shared_sample import SITES, fill_shared_store, sample_window
from tests.gui.test_app import run, until
from tests.integration.store.test_collect_pg import _viewer
from tests.pg import PgCluster
from tests.unit.store.helpers import device_record
from wsdmon.core import DeviceError, DeviceErrorKind, DeviceRecord, OfflineReason, SubscriptionStatus
from wsdmon.models import DeviceKind, SubscriptionState
from wsdmon.models.device_key import device_key
from wsdmon.store import open_store
from wsdmon.store.pg_schema import MIGRATIONS, migrate
from wsdmon.store.pg_view import SharedView

pytestmark = pytest.mark.timeout(120)

SERVER, MFP = (endpoint for endpoint, _, _ in SITES["branch"])
ANNEX = SITES["annex"][0][0]
FLOOR_SERVER, FLOOR_MFP = (endpoint for endpoint, _, _ in SITES["floor-3"])
REFUSED = DeviceError(DeviceErrorKind.UNREACHABLE, url="https://10.0.0.7:5358/scan", errno=errno.ECONNREFUSED)


def _say_states(dsn: str, tmp_path: Path) -> None:
    """As the sites' collectors write it: branch's MFP refuses connections, the servers are
    subscribed; annex's row gets a state no wsdmon wrote."""
    branch = open_store(dsn, site="branch", spool_path=tmp_path / "spool-b.sqlite3")
    floor = open_store(dsn, site="floor-3", spool_path=tmp_path / "spool-f.sqlite3")
    try:
        server = {d.endpoint: d for d in branch.load_devices()}[SERVER]
        branch.save_device_state(
            server.with_subscription(server.services[0].address, SubscriptionStatus.ACTIVE)
        )
        mfp = {d.endpoint: d for d in branch.load_devices()}[MFP]
        branch.save_device_state(
            dataclasses.replace(mfp, online=False, offline_reason=OfflineReason.UNREACHABLE, error=REFUSED)
        )
        floor_server = {d.endpoint: d for d in floor.load_devices()}[FLOOR_SERVER]
        floor.save_device_state(
            floor_server.with_subscription(floor_server.services[0].address, SubscriptionStatus.ACTIVE)
        )
    finally:
        branch.close()
        floor.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute('UPDATE devices SET state = \'{"v": 1, "online": 7}\' WHERE endpoint = %s', (ANNEX,))
        conn.execute(  # a state no wsdmon wrote either: without the time it was said
            "UPDATE devices SET state = (SELECT state FROM devices WHERE endpoint = %s), state_at = NULL"
            " WHERE site = 'floor-3' AND endpoint = %s",
            (SERVER, FLOOR_MFP),
        )


def test_the_viewer_reads_each_devices_state_and_shows_a_damaged_one_without_it(
    tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    fill_shared_store(pg_dsn, tmp_path)
    _say_states(pg_dsn, tmp_path)
    view = SharedView(_viewer(pg_cluster, pg_dsn), "desk")
    try:
        with caplog.at_level(logging.WARNING):
            devices = {(site, d.endpoint): d for site, d in view.devices()}
    finally:
        view.close()
    assert len(devices) == 5
    mfp = devices[("branch", MFP)]
    assert (mfp.online, mfp.offline_reason, mfp.error) == (False, OfflineReason.UNREACHABLE, REFUSED)
    assert devices[("branch", SERVER)].subscribed
    annex = devices[("annex", ANNEX)]  # shown, as if its collector had said nothing
    assert annex.online
    assert "damaged state of device" in caplog.text
    assert ANNEX in caplog.text
    floor_mfp = devices[("floor-3", FLOOR_MFP)]
    assert (floor_mfp.state_at, floor_mfp.online) == (None, True)
    assert "a state without the time it was written" in caplog.text


def test_a_store_of_schema_4_is_read_without_states(tmp_path: Path, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        migrate(conn, MIGRATIONS[:4])
        conn.execute(  # as a collector of schema 4 writes it
            "INSERT INTO devices (site, endpoint, friendly_name, device_category, roles, xaddrs, services)"
            " VALUES ('branch', %s, 'Old', '[]', '[]', '[]', %s)",
            (device_record().endpoint, json.dumps([{"address": "https://x/rcs", "role": "scan-server"}])),
        )
    view = SharedView(pg_dsn, "old store")
    try:
        ((site, record),) = view.devices()
    finally:
        view.close()
    assert (site, record.endpoint, record.online) == ("branch", device_record().endpoint, True)
    assert record.services[0].subscription is SubscriptionStatus.NONE


def test_the_shared_window_shows_a_sites_unreachable_scanner_on_its_row_and_node(
    qapp: Any, tmp_path: Path, pg_cluster: PgCluster, pg_dsn: str
) -> None:
    fill_shared_store(pg_dsn, tmp_path)
    _say_states(pg_dsn, tmp_path)
    viewer = _viewer(pg_cluster, pg_dsn)

    async def scenario() -> None:
        async with sample_window(qapp, tmp_path, viewer) as shared:
            model = shared.devices
            rows = {r.key: r for r in model.devices()}
            assert rows[device_key(MFP, "branch")].subscription is SubscriptionState.ERROR
            assert rows[device_key(SERVER, "branch")].subscription is SubscriptionState.SUBSCRIBED
            assert rows[device_key(ANNEX, "annex")].subscription is SubscriptionState.AT_SITE
            assert rows[device_key(FLOOR_MFP, "floor-3")].subscription is SubscriptionState.AT_SITE
            # What a technician reads: the row's Subscription cell and tooltip, the site's node.
            mfp = model.index_of(device_key(MFP, "branch"))
            assert mfp.siblingAtColumn(3).data() == "Error"
            tip = mfp.data(Qt.ItemDataRole.ToolTipRole)
            assert "Cannot connect to 10.0.0.7:5358: nothing answers on that port (connection refused)" in tip
            assert "Site: branch" in tip
            assert "As its site's collector said at " in tip  # when: a silent collector's word ages
            annex_tip = model.index_of(device_key(ANNEX, "annex")).data(Qt.ItemDataRole.ToolTipRole)
            assert "Watched by its site's collector" in annex_tip
            assert "said at" not in annex_tip
            branch = mfp.parent()
            assert branch.data() == "branch (2)"
            assert branch.data(Qt.ItemDataRole.DecorationRole) is not None
            summary = branch.data(Qt.ItemDataRole.ToolTipRole)
            assert summary.splitlines()[0] == "Site branch: 2 devices"
            assert "Worst: MFP branch office" in summary
            assert "connection refused" in summary
            floor = model.index_of(device_key(FLOOR_SERVER, "floor-3")).parent()
            assert floor.data(Qt.ItemDataRole.DecorationRole) is None  # nothing wrong there
            assert floor.data(Qt.ItemDataRole.ToolTipRole) == "Site floor-3: 2 devices"

            # Live: branch's collector reaches its MFP again; the row and the node follow.
            store = open_store(pg_dsn, site="branch", spool_path=tmp_path / "spool-again.sqlite3")
            try:
                mfp_record = {d.endpoint: d for d in store.load_devices()}[MFP]
                address = mfp_record.services[0].address
                store.save_device_state(mfp_record.with_subscription(address, SubscriptionStatus.ACTIVE))
            finally:
                store.close()
            key = device_key(MFP, "branch")
            await until(
                lambda: model.device(key).subscription is SubscriptionState.SUBSCRIBED,  # type: ignore[union-attr]
                "the MFP subscribed again",
            )
            branch = model.index_of(key).parent()
            assert branch.data(Qt.ItemDataRole.DecorationRole) is None
            assert branch.data(Qt.ItemDataRole.ToolTipRole) == "Site branch: 2 devices"

            # A device branch's collector found but could never read (a firewall, say): shown under
            # branch, not reached, with the reason; the node's worst.
            gone = DeviceRecord(
                "urn:uuid:b0000000-0000-4000-8000-00000000000f",
                ("http://10.0.0.9:5357/wsd",),
                online=False,
                offline_reason=OfflineReason.UNREACHABLE,
                error=DeviceError(DeviceErrorKind.TIMEOUT, url="http://10.0.0.9:5357/wsd"),
            )
            store = open_store(pg_dsn, site="branch", spool_path=tmp_path / "spool-gone.sqlite3")
            try:
                store.save_device_state(gone)
                assert gone.endpoint not in {d.endpoint for d in store.load_devices()}  # not restored
            finally:
                store.close()
            key = device_key(gone.endpoint, "branch")
            await until(lambda: model.device(key) is not None, "branch's unreachable device")
            row = model.device(key)
            assert row is not None
            assert (row.kind, row.subscription) == (DeviceKind.NOT_REACHED, SubscriptionState.ERROR)
            index = model.index_of(key)
            assert "did not answer the metadata request in time" in index.data(Qt.ItemDataRole.ToolTipRole)
            branch = index.parent()
            assert branch.data() == "branch (3)"
            assert branch.data(Qt.ItemDataRole.DecorationRole) is not None
            assert "did not answer the metadata request in time" in branch.data(Qt.ItemDataRole.ToolTipRole)

    run(qapp, scenario)
