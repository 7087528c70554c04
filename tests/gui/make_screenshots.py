"""Offscreen screenshots of the main window and the detail pane with synthetic jobs: several
servers and devices, vendor values, server-local times, a rejected message (what the demo does
not show at once). The README's pictures come from the demo itself (make_demo_screenshots.py);
`build_demo` here also serves the widget tests.

    QT_QPA_PLATFORM=offscreen PYTHONPATH=gui .venv/bin/python -m tests.gui.make_screenshots [OUT_DIR]

Writes main-window.png (1366x768), detail-pane.png and detail-timeline.png to OUT_DIR (default
build/screenshots-synthetic). The GUI tests run `make_screenshots` into a temporary directory.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from wsdmon import __version__
from wsdmon.core import JobRecord
from wsdmon.models import (
    DeviceKind,
    DeviceRow,
    DeviceTreeModel,
    Direction,
    EngineStatus,
    JobTableModel,
    RawLogEntry,
    RawLogModel,
    SubscriptionState,
)
from wsdmon.widgets import MainWindow, WindowHooks

from .factory import PST, SERVER, SERVER2, sample_jobs

ROOT = Path(__file__).resolve().parents[2]
SIZE = (1366, 768)
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=PST)
FAILED_TOKEN = "0f3b5e21-77c4-4d0e-9a51-3c2b1a0f9e8d"


def sample_devices() -> list[DeviceRow]:
    return [
        DeviceRow(
            SERVER,
            DeviceKind.SCAN_SERVER,
            "SCANSRV-01",
            "Distributed Scan Server",
            "Microsoft",
            "http://10.20.0.15:5357/2b6c7f0e",
            "http://10.20.0.15/",
            SubscriptionState.SUBSCRIBED,
            "expires in 52 min",
            NOW - timedelta(seconds=20),
        ),
        DeviceRow(
            SERVER2,
            DeviceKind.SCAN_SERVER,
            "SCANSRV-BRANCH",
            "Distributed Scan Server",
            "Microsoft",
            "http://10.40.0.9:5357/91ad03c4",
            None,
            SubscriptionState.SUBSCRIBED,
            "",
            NOW - timedelta(seconds=22),
        ),
        DeviceRow(
            "urn:uuid:2f8e4b1a-0c3d-4e5f-8a9b-c0d1e2f3a4b5",
            DeviceKind.SCAN_DEVICE,
            "MFP 3rd floor",
            "imageRUNNER C3530",
            "Canon",
            "http://10.20.3.41:80/wsd/scan",
            "http://10.20.3.41/",
            SubscriptionState.SUBSCRIBED,
            "",
            NOW - timedelta(minutes=3),
        ),
        DeviceRow(
            "urn:uuid:8b7c6d5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e",
            DeviceKind.SCAN_DEVICE,
            "Reception scanner",
            "ADS-2800W",
            "Brother",
            "http://10.20.1.77:53000/",
            None,
            SubscriptionState.ERROR,
            "Subscribe refused: wse:EventSourceUnableToProcess",
            None,
        ),
    ]


def raw_entries(journal: dict[int, str], jobs: list[JobRecord]) -> list[RawLogEntry]:
    peers = {SERVER: "10.20.0.15", SERVER2: "10.40.0.9"}
    entries = []
    for job in jobs:
        for e in job.timeline:
            xml = journal.get(e.journal_id or -1, "")
            action = xml.split("<wsa:Action>")[1].split("<")[0] if "<wsa:Action>" in xml else ""
            entries.append(
                RawLogEntry(e.arrival, Direction.IN, peers[job.key.device], action, len(xml), e.journal_id)
            )
    entries.sort(key=lambda e: e.time)
    entries.append(
        RawLogEntry(NOW, Direction.IN, "10.20.9.9", "", 70_112, None, "larger than 64 KiB: refused")
    )
    return entries


@dataclass
class Demo:
    window: MainWindow
    jobs: JobTableModel
    devices: DeviceTreeModel
    journal: dict[int, str]
    records: list[JobRecord]


def build_demo(settings: QSettings, **hooks: Any) -> Demo:
    """The main window with six realistic jobs, four devices and a raw log, not yet shown; `hooks`
    are WindowHooks added to (or replacing) the demo's."""
    journal: dict[int, str] = {}
    records = sample_jobs(NOW, journal, routine=14)
    devices = DeviceTreeModel()
    devices.upsert(sample_devices())
    jobs = JobTableModel(devices.device)
    jobs.apply_changes(records)
    raw_log = RawLogModel()
    raw_log.append(raw_entries(journal, records))
    status = EngineStatus()
    status.update(events_per_s=2.4, rejected=1, dropped=0)
    base = WindowHooks(
        cancel_job=lambda key: "CancelPostScanJobResponse (job canceled)",
        raw_xml_for=journal.get,
        export=lambda path, fmt, rows: None,
        reprobe=lambda: None,
        refresh_device=lambda endpoint: None,
        resubscribe_device=lambda endpoint: None,
    )
    hooks = dataclasses.replace(base, **hooks)
    window = MainWindow(
        jobs=jobs,
        devices=devices,
        raw_log=raw_log,
        status=status,
        settings=settings,
        hooks=hooks,
        version=__version__,
    )
    return Demo(window, jobs, devices, journal, records)


def make_screenshots(out_dir: Path, settings_path: Path) -> list[Path]:
    """Render both screenshots into `out_dir`; returns their paths."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    demo = build_demo(settings)
    window = demo.window
    window.resize(*SIZE)
    window.show()
    app.processEvents()
    key = next(r.key for r in demo.records if r.key.job_token == FAILED_TOKEN)
    window.job_table.select_key(key)
    for _ in range(3):  # deferred row fitting and the layouts it triggers
        app.processEvents()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "main-window.png", out_dir / "detail-pane.png", out_dir / "detail-timeline.png"]
    window.grab().save(str(paths[0]))
    # The detail-pane shot: the pane dragged wider, as a technician does to read a failed job.
    window.splitter.setSizes([170, 596, 600])
    for _ in range(3):
        app.processEvents()
    window.detail.grab().save(str(paths[1]))
    window.detail.tabs.setCurrentIndex(1)
    for _ in range(3):
        app.processEvents()
    window.detail.grab().save(str(paths[2]))
    window.close()
    window.deleteLater()
    app.processEvents()
    return paths


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else ROOT / "build" / "screenshots-synthetic"
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for path in make_screenshots(out, Path(tmp) / "settings.ini"):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
