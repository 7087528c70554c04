"""The README's screenshots, from the demo itself: the real engine, journal and window against the
built-in simulator on loopback (what `wsdmon --demo` shows), at 1366×768.

    PYTHONPATH=gui .venv/bin/python -m tests.gui.make_demo_screenshots [OUT_DIR] [--xvfb]

Writes main-window.png (post-scan jobs of the scan server and scan jobs of the scanner side by side,
the scanner jammed), detail-pane.png (a job whose e-mail filter failed, selected), detail-timeline.png
and detail-scan-job.png (a scan job's WS-Scan elements) to OUT_DIR (default docs/screenshots), and
main-window-dark.png (the main window in dark mode). With --xvfb the script runs itself again under
xvfb-run with the xcb platform (the fonts and rendering of a real X server) when xvfb-run is
installed; otherwise offscreen. The GUI tests run it offscreen into a temporary directory, so it keeps
working.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtCore import QSettings
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from wsdmon.app import Application
from wsdmon.cli import parse_args
from wsdmon.core import JobKey
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import FilterStateReason
from wsdmon.simulator import FilterOutcome, FilterPlan, JobPlan, Role, ScanEnd, ScanJobPlan
from wsdmon.simulator.scenarios import job_plan
from wsdmon.widgets import dark_palette

ROOT = Path(__file__).resolve().parents[2]
SIZE = (1366, 768)
DEADLINE_S = 60.0
# What the simulated scan server is asked to run, besides the demo's own jobs: a morning's mix.
KINDS = ["ok", "ok", "warning", "ok", "ok", "cancel", "ok", "failure", "ok", "ok", "error", "ok", "ok"]
SPEED_UP = 0.25  # the plans' pauses, shortened: the shot is taken within seconds
FAILED_PLAN = JobPlan(
    psp_identifier="{77e0d1c2-b3a4-4958-8a7b-6c5d4e3f2a10}",
    psp_display_name="HR archive (share + mail)",
    user="CONTOSO\\carol",
    images=4,
    image_interval_s=0.3,
    filters=(
        FilterPlan(ns.FILTER_FILESHARE, duration_s=0.4),
        FilterPlan(
            ns.FILTER_EMAIL, FilterOutcome.ERROR, FilterStateReason.INVALID_SMTP_SERVER, duration_s=0.6
        ),
        FilterPlan(ns.FILTER_SHAREPOINT, duration_s=0.5),
    ),
    continue_on_error=True,
)

# The scanner's jobs meanwhile (people scanning at the MFP or from their PCs): name, user, pages, end.
SCANS = [
    ("Invoices March", "dave", 6, ScanEnd.COMPLETED),
    ("Contract (duplex)", "erin", 4, ScanEnd.COMPLETED),
    ("Receipts", "frank", 3, ScanEnd.CANCELED),
    ("Delivery notes", "dave", 2, ScanEnd.COMPLETED),
    ("Scan", "grace", 5, ScanEnd.ABORTED),
    ("ID card", "erin", 1, ScanEnd.COMPLETED),
]
SCAN_INTERVAL_S = 0.15
TREE_WIDTH = 240  # px: "Demo Scanner 1 — Paper jam" in full


def _rest(sizes: list[int], first: int) -> list[int]:
    """The other panes' sizes once the first is `first` wide: they give up the difference evenly."""
    give = (first - sizes[0]) / max(1, len(sizes) - 1)
    return [max(1, round(size - give)) for size in sizes[1:]]


def _quick(plan: JobPlan) -> JobPlan:
    return dataclasses.replace(
        plan,
        image_interval_s=plan.image_interval_s * SPEED_UP,
        start_delay_s=plan.start_delay_s * SPEED_UP,
        cancel_after_s=plan.cancel_after_s * SPEED_UP,
        filters=tuple(dataclasses.replace(f, duration_s=f.duration_s * SPEED_UP) for f in plan.filters),
    )


async def _until(condition: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE_S
    while not condition():
        if loop.time() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _settle(qapp: QApplication, seconds: float = 0.3) -> None:
    """Let batches, deferred row fitting and repaints happen (the loop runs Qt's events meanwhile;
    processEvents() inside a task would re-enter asyncio)."""
    del qapp
    await asyncio.sleep(seconds)


async def capture(qapp: QApplication, out_dir: Path, work_dir: Path) -> list[Path]:
    """Run the demo, fill it with a realistic mix of jobs, and take the pictures."""
    settings = QSettings(str(work_dir / "settings.ini"), QSettings.Format.IniFormat)
    args = parse_args(["--demo", "--journal", str(work_dir / "journal.sqlite3")])
    app = Application(qapp, args, settings=settings)
    await app.start()
    window = app.window
    try:
        window.resize(*SIZE)
        server = app.simulator.device(Role.SCAN_SERVER)
        await _until(lambda: app.devices.device(server.endpoint) is not None, "the demo scan server")
        scanner = app.simulator.device(Role.SCAN_DEVICE)
        await _until(lambda: app.devices.device(scanner.endpoint) is not None, "the demo scanner")
        rng = random.Random(5)
        short: list[Any] = []
        scans = iter(SCANS)
        for i, kind in enumerate(KINDS):
            short.append(server.submit_job(_quick(job_plan(kind, rng))))
            if i % 2 and (scan := next(scans, None)) is not None:
                name, user, pages, end = scan
                plan = ScanJobPlan(name, user, pages, SCAN_INTERVAL_S, end)
                short.append(scanner.submit_job(plan))
            await asyncio.sleep(0.25)
        invoices = short[2]  # the first scan job: its WS-Scan elements in detail-scan-job.png
        failed = server.submit_job(FAILED_PLAN)
        short.append(failed)
        # Two long jobs still running when the picture is taken.
        for _ in range(2):
            await asyncio.sleep(0.4)
            server.submit_job(dataclasses.replace(job_plan("ok", rng), images=60, image_interval_s=1.0))
        scanner.submit_job(ScanJobPlan("Archive box 12", "henry", 80, 1.0))  # still scanning
        await asyncio.wait_for(asyncio.gather(*(job.wait() for job in short)), DEADLINE_S)
        assert scanner.scanner is not None
        scanner.scanner.raise_condition()  # a paper jam in the ADF: the device tree shows it
        scan_key = JobKey(scanner.endpoint, str(invoices.job_id))
        await _until(lambda: app.jobs.row_of(scan_key) is not None, "the first scan job")
        await _until(lambda: app.devices.device(scanner.endpoint).conditions, "the jam in the tree")
        key = JobKey(server.endpoint, failed.token)

        def shown() -> bool:
            row = app.jobs.row_of(key)
            return row is not None and app.jobs.record(row).status == failed.status()

        await _until(shown, "the failed job in its final state")
        # The device pane a little wider, as a technician drags it (the scanner's jam reads beside
        # its name); the Kind column stands beside Device by default.
        window.splitter.setSizes([TREE_WIDTH, *_rest(window.splitter.sizes(), TREE_WIDTH)])
        await _settle(qapp, 1.2)  # the status bar's events/s and the rows settle
        assert window.job_table.select_key(key)
        await _settle(qapp)
        if window.job_table.new_jobs.isVisible():  # jobs that came while it was selected: show them
            window.job_table.new_jobs.click()
            window.job_table.view.scrollTo(window.job_table.view.currentIndex())
            await _settle(qapp)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = [out_dir / n for n in ("main-window.png", "detail-pane.png", "detail-timeline.png")]
        window.grab().save(str(paths[0]))
        # The detail pane dragged wider, as a technician does to read a failed job.
        sizes = window.splitter.sizes()
        window.splitter.setSizes([170, 596, 600])
        await _settle(qapp)
        window.detail.grab().save(str(paths[1]))
        window.detail.tabs.setCurrentIndex(1)
        await _settle(qapp)
        window.detail.grab().save(str(paths[2]))
        window.detail.tabs.setCurrentIndex(0)
        assert window.job_table.select_key(scan_key)
        await _settle(qapp)
        scan_detail = out_dir / "detail-scan-job.png"
        window.detail.grab().save(str(scan_detail))
        paths.append(scan_detail)
        assert window.job_table.select_key(key)
        window.splitter.setSizes(sizes)
        original = QPalette(qapp.palette())
        qapp.setPalette(dark_palette())
        await _settle(qapp)
        dark = out_dir / "main-window-dark.png"
        window.grab().save(str(dark))
        qapp.setPalette(original)
        paths.append(dark)
        return paths
    finally:
        await app.stop()


def make_demo_screenshots(out_dir: Path) -> list[Path]:
    """Take the screenshots on a fresh qasync loop (the caller's QApplication, or a new one)."""
    qapp = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "wsdmon"])
    assert isinstance(qapp, QApplication)
    qapp.setStyle("Fusion")
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        with tempfile.TemporaryDirectory() as work:
            return loop.run_until_complete(capture(qapp, out_dir, Path(work)))
    finally:
        qapp.setQuitOnLastWindowClosed(quit_on_close)
        loop.close()
        asyncio.set_event_loop(None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    xvfb = "--xvfb" in argv
    rest = [a for a in argv if a != "--xvfb"]
    out = Path(rest[0]) if rest else ROOT / "docs" / "screenshots"
    runner = shutil.which("xvfb-run")
    if xvfb and runner and not os.environ.get("WSDMON_UNDER_XVFB"):
        env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "WSDMON_UNDER_XVFB": "1"}
        command = [
            runner,
            "-a",
            "-s",
            "-screen 0 1920x1080x24",
            sys.executable,
            "-m",
            "tests.gui.make_demo_screenshots",
        ]
        return subprocess.run([*command, str(out)], env=env, check=False, cwd=ROOT).returncode
    for path in make_demo_screenshots(out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
