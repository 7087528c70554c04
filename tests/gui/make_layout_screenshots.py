"""The window at the two screen sizes support desks have (1366×768 laptops, 1024×600 netbooks and
remote sessions), on a real X server, with what a person would complain about measured:

    PYTHONPATH=gui .venv/bin/python -m tests.gui.make_layout_screenshots [OUT_DIR]

runs itself under `xvfb-run` once per size (Debian's xvfb) and writes window-WxH.png and
preferences-WxH.png to OUT_DIR (default docs/screenshots), printing one JSON line of facts per
size: whether the window and the Preferences dialog fit the screen, the search box's width in
characters, how many job columns are fully in view, and whether every wrapped note of the dialog
has the height its text needs. tests/gui/test_layout.py asserts on those facts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SIZES = ((1366, 768), (1024, 600))


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
        return facts


def make_layout_screenshots(out_dir: Path) -> list[dict[str, Any]]:
    """Run this script under xvfb-run once per size; returns the facts of each."""
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        raise RuntimeError("xvfb-run is missing: apt-get install xvfb (sh packaging/bootstrap.sh test does)")
    results = []
    for width, height in SIZES:
        env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": os.pathsep.join(sys.path)}
        proc = subprocess.run(
            [xvfb, "-a", "-s", f"-screen 0 {width}x{height}x24", sys.executable, "-m",
             "tests.gui.make_layout_screenshots", "--inside", str(out_dir), f"{width}x{height}"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"layout run at {width}x{height} failed:\n{proc.stdout}\n{proc.stderr}")
        results.append(json.loads(lines[-1]))
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--inside":
        width, height = map(int, argv[2].split("x"))
        print(json.dumps(_facts(Path(argv[1]), (width, height))))
        return 0
    out = Path(argv[0]) if argv else ROOT / "docs" / "screenshots"
    for facts in make_layout_screenshots(out):
        print(json.dumps(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
