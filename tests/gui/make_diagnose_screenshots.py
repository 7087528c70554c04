"""Issue 13's screens at 1366×768 on a real X server (Xvfb): the window with a health icon on each
device (problem, warning, ok, not known yet) and the start-up self-check's note, the device list
alone, the Diagnose report of a device with a problem, and the network self-check's results:

    PYTHONPATH=gui .venv/bin/python -m tests.gui.make_diagnose_screenshots [OUT_DIR]

runs itself under `xvfb-run` and writes diagnose-*.png to OUT_DIR (default docs/screenshots),
printing one JSON line of facts (whether the dialogs fit the screen, whether every device name is
shown whole beside its icons, whether the report needs a scroll bar). test_diagnose.py asserts on it.
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
SIZE = (1366, 768)


def _selfcheck_results() -> list[Any]:
    """What a PC with another WSD program holding the notify port would find."""
    from wsdmon.core.selfcheck import (
        CheckId,
        CheckResult,
        Finding,
        Holder,
        InterfaceInfo,
        PortEvidence,
        Verdict,
    )

    return [
        CheckResult(
            CheckId.INTERFACES,
            Verdict.OK,
            Finding.INTERFACES_UP,
            interfaces=(InterfaceInfo("eth0", ("10.20.0.7", "fe80::5054:ff:fe12:3456%eth0")),),
        ),
        CheckResult(
            CheckId.DISCOVERY_PORT,
            Verdict.OK,
            Finding.PORT_FREE,
            target="UDP 3702",
            port=PortEvidence(3702, "udp", holders=(Holder(812, "wsdd"),), joined=("10.20.0.7",)),
        ),
        CheckResult(
            CheckId.NOTIFY_PORT,
            Verdict.PROBLEM,
            Finding.PORT_HELD,
            target="TCP 5357",
            port=PortEvidence(
                5357, "tcp", 98, "Address already in use", holders=(Holder(1290, "scanserver"),)
            ),
        ),
        CheckResult(
            CheckId.PROBE,
            Verdict.WARNING,
            Finding.PROBE_LATE,
            target="10.40.0.9",
            latency_ms=4630.0,
            endpoints=("urn:uuid:7a1e9c0b-3f4d-4e2a-8b6c-1d2e3f4a5b6c",),
        ),
    ]


def _settle(app: Any) -> None:
    for _ in range(6):
        app.processEvents()


def _facts(out_dir: Path) -> dict[str, Any]:
    from PySide6.QtCore import QRect, QSettings
    from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem

    from wsdmon.models import Role, role_data
    from wsdmon.widgets.device_tree import HEALTH_GAP_PX, HEALTH_ICON_PX

    from .factory import SERVER
    from .health_samples import sample_health
    from .make_screenshots import FAILED_TOKEN, build_demo

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = _selfcheck_results()
    with tempfile.TemporaryDirectory() as tmp:
        demo = build_demo(
            QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat),
            run_selfcheck=lambda _listen: results,
        )
        window = demo.window
        demo.devices.set_health(sample_health().values())
        window.show()
        _settle(app)
        window.job_table.select_key(next(r.key for r in demo.records if r.key.job_token == FAILED_TOKEN))
        window.diagnosis.check_at_start()
        _settle(app)
        screen = window.screen().availableGeometry()
        window.grab().save(str(out_dir / "diagnose-window-1366x768.png"))
        tree = window.device_tree
        rows = tree.visualRect(demo.devices.index_of(demo.devices.devices()[-1].endpoint)).bottom()
        tree.grab(QRect(0, 0, tree.width(), tree.viewport().y() + rows + 12)).save(
            str(out_dir / "diagnose-device-tree.png")
        )
        # A name is whole when its text fits where the style lays it out (Qt's viewItemLayout): the
        # name cell less the shield, the state icon and the margins around each.
        clipped = []
        margin = tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1
        for row in demo.devices.devices():
            index = demo.devices.index_of(row.endpoint)
            option = QStyleOptionViewItem()
            tree.initViewItemOption(option)  # as the view paints it: decoration size, font
            tree.health_delegate.initStyleOption(option, index)
            room = tree.visualRect(index).width() - (HEALTH_ICON_PX + 2 * HEALTH_GAP_PX)
            # the state icon with its margins, the text's margins, and the spacing between them
            room -= option.decorationSize.width() + 3 * 2 * margin
            if (
                role_data(index, Role.HEALTH) is None
                or option.fontMetrics.horizontalAdvance(option.text) > room
            ):
                clipped.append(option.text)

        dialog = window.diagnosis.diagnose(SERVER)
        _settle(app)
        dialog.grab().save(str(out_dir / "diagnose-report.png"))
        report_bar = dialog.report.verticalScrollBar()
        facts = {
            "size": f"{SIZE[0]}x{SIZE[1]}",
            "window_fits": screen.contains(window.frameGeometry()),
            "note_visible": window.diagnosis.note.isVisible(),
            "clipped_names": clipped,
            "report_fits": dialog.width() <= screen.width() and dialog.height() <= screen.height(),
            "report_scrolls": report_bar.maximum() > 0,
            "report_lines": len(dialog.health.results) if dialog.health else 0,
        }
        dialog.close()
        check = window.diagnosis.open_selfcheck(results)
        assert check is not None
        _settle(app)
        check.grab().save(str(out_dir / "diagnose-selfcheck.png"))
        facts["selfcheck_fits"] = check.width() <= screen.width() and check.height() <= screen.height()
        check.close()
        window.close()
        return facts


def make_diagnose_screenshots(out_dir: Path) -> dict[str, Any]:
    """Run this script under xvfb-run; returns its facts."""
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        raise RuntimeError("xvfb-run is missing: apt-get install xvfb (sh packaging/bootstrap.sh test does)")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [xvfb, "-a", "-s", f"-screen 0 {SIZE[0]}x{SIZE[1]}x24", sys.executable, "-m",
         "tests.gui.make_diagnose_screenshots", "--inside", str(out_dir)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"diagnose screenshots failed:\n{proc.stdout}\n{proc.stderr}")
    facts: dict[str, Any] = json.loads(lines[-1])
    return facts


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--inside":
        print(json.dumps(_facts(Path(argv[1]))))
        return 0
    print(json.dumps(make_diagnose_screenshots(Path(argv[0]) if argv else ROOT / "docs" / "screenshots")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
