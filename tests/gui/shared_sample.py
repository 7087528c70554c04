"""A shared store with three sites, written the way the sites' collectors write it (open_store with
a site: devices and folded jobs), for the tests and screenshots of the window on a shared store:
branch and floor-3 (a scan server and an MFP each), annex (one scanner), every device with jobs.
The sample writes no device state (a collector would: store.devices), so no site's node shows a
worst device unless a test writes one; `sample_window` opens the window on it."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tests.unit.store.helpers import device_record, lifecycle
from wsdmon.core import JobTable
from wsdmon.core.devices import DeviceRecord, Role, ServiceInfo, SubscriptionStatus
from wsdmon.shared_app import SharedWindows
from wsdmon.store import open_store

__all__ = ["JOBS_PER_DEVICE", "SITES", "fill_shared_store", "sample_window"]

SITES = {  # site → (endpoint, name, role) of its devices
    "branch": (
        ("urn:uuid:b0000000-0000-4000-8000-000000000001", "SCANSRV-BRANCH", Role.SCAN_SERVER),
        ("urn:uuid:b0000000-0000-4000-8000-000000000002", "MFP branch office", Role.SCAN_DEVICE),
    ),
    "floor-3": (
        ("urn:uuid:f0000000-0000-4000-8000-000000000001", "SCANSRV-01", Role.SCAN_SERVER),
        ("urn:uuid:f0000000-0000-4000-8000-000000000002", "MFP 3rd floor", Role.SCAN_DEVICE),
    ),
    "annex": (("urn:uuid:a0000000-0000-4000-8000-000000000002", "Scanner annex", Role.SCAN_DEVICE),),
}
JOBS_PER_DEVICE = 3


def _device(endpoint: str, name: str, role: Role) -> DeviceRecord:
    record = device_record(endpoint, name=name)
    if role is Role.SCAN_SERVER:
        return record
    scanner = ServiceInfo(
        "https://10.0.0.7:5358/scan", Role.SCAN_DEVICE, "urn:svc:scan", SubscriptionStatus.ACTIVE
    )
    return dataclasses.replace(record, model_name="imageRUNNER C3530", services=(scanner,))


def fill_shared_store(dsn: str, spool_dir: Path) -> int:
    """Write every site's devices and jobs into the store at `dsn`; returns the number of jobs."""
    jobs = 0
    for site, devices in SITES.items():
        store = open_store(dsn, site=site, spool_path=spool_dir / f"spool-{site}.sqlite3")
        try:
            table = JobTable()
            records = []
            for endpoint, name, role in devices:
                store.upsert_device(_device(endpoint, name, role))
                for i in range(JOBS_PER_DEVICE):
                    records.append(lifecycle(table, f"{site}-{name[:3].lower()}-{i}", endpoint))
            store.upsert_jobs(records, 0)
            jobs += len(records)
        finally:
            store.close()
    return jobs


@contextlib.asynccontextmanager
async def sample_window(qapp: Any, tmp_path: Path, viewer: str) -> AsyncIterator[Any]:
    """The real window on the sample store as `viewer` (a SharedWindow), once every site's devices
    are shown; closed afterwards."""
    from tests.gui.test_app import settings_at, until

    windows = SharedWindows(qapp, settings_at(tmp_path))
    try:
        shared = await windows.open(viewer)
        count = sum(len(devices) for devices in SITES.values())
        await until(lambda: shared.devices.device_count() == count, "every site's devices")
        yield shared
    finally:
        await windows.stop_all()
