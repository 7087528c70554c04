"""The window at the two screen sizes support desks have (1366×768 laptops, 1024×600 netbooks and
remote sessions), on a real X server, with what a person would complain about measured:

    PYTHONPATH=gui .venv/bin/python -m tests.gui.make_layout_screenshots [OUT_DIR]

runs itself under `xvfb-run` once per size (Debian's xvfb) and writes window-WxH.png and
preferences-WxH.png to OUT_DIR (default docs/screenshots), printing one JSON line of facts per
size: whether the window and the Preferences dialog fit the screen, the search box's width in
characters, how many job columns are fully in view, and whether every wrapped note of the dialog
has the height its text needs. tests/gui/test_layout.py asserts on those facts.

Both windows are measured: a single PC's (synthetic jobs) and the window on a shared store (three
sites in a PostgreSQL store: the test's database, or a cluster of its own when run by hand, which
needs Debian's postgresql), each as opened on that screen and again after being made 1366×768 and
then the screen's size (window-WxH-resized.png, shared-window-WxH[-resized].png): a window made
smaller keeps its panes' proportions as far as their minimum widths allow.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SIZES = ((1366, 768), (1024, 600))  # in this order: the second run opens with the first's settings
RUN_TIMEOUT_S = 120  # one size's run: both windows measured and pictured
LOCAL_SETTINGS = "layout-window.ini"
SHARED_SETTINGS = "layout-shared-window.ini"


def _facts(out_dir: Path, size: tuple[int, int]) -> dict[str, Any]:
    """Inside the X server: build the window with synthetic jobs, measure, take the pictures."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QLabel

    from .make_screenshots import FAILED_TOKEN, build_demo

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory() as tmp:
        demo = build_demo(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        window = demo.window
        window.show()  # at its default size: what a first start shows
        for _ in range(5):
            app.processEvents()
        key = next(r.key for r in demo.records if r.key.job_token == FAILED_TOKEN)
        window.job_table.select_key(key)
        for _ in range(5):
            app.processEvents()
        screen = window.screen().availableGeometry()
        view = window.job_table.view
        header = view.horizontalHeader()
        in_view = sum(
            1
            for c in range(header.count())
            if not header.isSectionHidden(c)
            and header.sectionViewportPosition(c) >= 0
            and header.sectionViewportPosition(c) + header.sectionSize(c) <= view.viewport().width()
        )
        search = window.job_table.search
        name = f"{size[0]}x{size[1]}"
        out_dir.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(out_dir / f"window-{name}.png"))
        dialog = window.open_preferences()
        for _ in range(5):
            app.processEvents()
        notes = [label for label in dialog.findChildren(QLabel) if label.wordWrap() and label.isVisible()]
        clipped = [label.text() for label in notes if label.height() < label.heightForWidth(label.width())]
        dialog.grab().save(str(out_dir / f"preferences-{name}.png"))
        facts = {
            "size": name,
            "window_fits": screen.contains(window.frameGeometry()),
            "status_bar_visible": window.statusBar().geometry().bottom() <= window.height(),
            "search_chars": search.width() // max(1, search.fontMetrics().averageCharWidth()),
            "columns_in_view": in_view,
            "device_list_chars": window.device_tree.width()
            // max(1, window.device_tree.fontMetrics().averageCharWidth()),
            "dialog_fits": dialog.height() <= screen.height() and dialog.width() <= screen.width(),
            "clipped_notes": clipped,
            "reasons_cell": window.job_table.current_record() is not None
            and str(window.proxy.index(view.currentIndex().row(), 3).data()),
        }
        dialog.reject()
        window.close()
    # Again with the settings the window saved at 1366×768 (the first run): what a person sees who
    # used it on a laptop and opens it on a smaller screen, the panes shrunk from the larger layout.
    again = build_demo(QSettings(str(out_dir / LOCAL_SETTINGS), QSettings.Format.IniFormat)).window
    again.show()
    for _ in range(5):
        app.processEvents()
    facts["device_list_chars_resized"] = _chars(again.device_tree)
    facts["window_fits_resized"] = screen.contains(again.frameGeometry())
    again.grab().save(str(out_dir / f"window-{name}-resized.png"))
    again.close()  # saves its settings (the next size's run starts from them)
    return facts


def _chars(widget: Any) -> int:
    return int(widget.width() // max(1, widget.fontMetrics().averageCharWidth()))


def _shared_facts(out_dir: Path, size: tuple[int, int], dsn: str) -> dict[str, Any]:
    """Inside the X server: the window on the shared store at `dsn`, opened, measured, pictured,
    resized from 1366×768, measured and pictured again."""
    import asyncio

    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from wsdmon.shared_app import SharedWindows

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    name = f"{size[0]}x{size[1]}"
    app.setQuitOnLastWindowClosed(False)  # as app.main() has it: a closed window stops no loop
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def shown(settings: QSettings) -> tuple[Any, Any]:
        windows = SharedWindows(app, settings)
        shared = await windows.open(dsn)
        for _ in range(100):  # the rows are read from the store
            if shared.devices.device_count() and shared.window.proxy.rowCount():
                break
            await asyncio.sleep(0.05)
        shared.window.job_table.select_key(shared.window.proxy.record(0).key)
        await asyncio.sleep(0.3)
        return windows, shared.window

    async def measure() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            windows, window = await shown(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
            try:
                tree = window.device_tree
                screen = window.screen().availableGeometry()
                facts: dict[str, Any] = {
                    "window_fits": screen.contains(window.frameGeometry()),
                    "status_bar_visible": window.statusBar().geometry().bottom() <= window.height(),
                    "device_list_chars": _chars(tree),
                    "search_chars": _chars(window.job_table.search),
                    "sites": [tree.model().index(r, 0).data() for r in range(tree.model().rowCount())],
                }
                window.grab().save(str(out_dir / f"shared-window-{name}.png"))
            finally:
                await windows.stop_all()
        # Again with the settings it saved at 1366×768, as the single PC's window above.
        settings = QSettings(str(out_dir / SHARED_SETTINGS), QSettings.Format.IniFormat)
        windows, window = await shown(settings)
        try:
            facts["device_list_chars_resized"] = _chars(window.device_tree)
            facts["window_fits_resized"] = screen.contains(window.frameGeometry())
            window.grab().save(str(out_dir / f"shared-window-{name}-resized.png"))
            window.close()  # saves its settings
        finally:
            await windows.stop_all()
        return facts

    try:
        return loop.run_until_complete(measure())
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def make_layout_screenshots(out_dir: Path, dsn: str) -> list[dict[str, Any]]:
    """Run this script under xvfb-run once per size; returns the facts of each (the shared window's,
    on the store at `dsn`, under "shared")."""
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        raise RuntimeError("xvfb-run is missing: apt-get install xvfb (sh packaging/bootstrap.sh test does)")
    results = []
    for stale in (LOCAL_SETTINGS, SHARED_SETTINGS):
        (out_dir / stale).unlink(missing_ok=True)
    for width, height in SIZES:
        env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": os.pathsep.join(sys.path)}
        # A session of its own: a run that hangs is ended whole (xvfb-run, Xvfb and the Python under
        # it), not xvfb-run alone with the others left running.
        with subprocess.Popen(
            [xvfb, "-a", "-s", f"-screen 0 {width}x{height}x24", sys.executable, "-m",
             "tests.gui.make_layout_screenshots", "--inside", str(out_dir), f"{width}x{height}", dsn],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        ) as proc:  # fmt: skip
            try:
                stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                stdout, stderr = proc.communicate()
                stderr += f"\n(no answer in {RUN_TIMEOUT_S} s: stopped)"
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"layout run at {width}x{height} failed:\n{stdout}\n{stderr}")
        results.append(json.loads(lines[-1]))
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--inside":
        width, height = map(int, argv[2].split("x"))
        facts = _facts(Path(argv[1]), (width, height))
        facts["shared"] = _shared_facts(Path(argv[1]), (width, height), argv[3])
        print(json.dumps(facts))
        return 0
    from tests.pg import running_cluster

    from .shared_sample import fill_shared_store

    out = Path(argv[0]) if argv else ROOT / "docs" / "screenshots"
    with running_cluster() as cluster, tempfile.TemporaryDirectory() as spool:
        dsn = cluster.new_database()
        fill_shared_store(dsn, Path(spool))
        for facts in make_layout_screenshots(out, dsn):
            print(json.dumps(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
