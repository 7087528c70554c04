"""resources/: SVG masters equal their packaged copies and render; the .desktop file and the
AppStream metainfo are valid."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray
from PySide6.QtSvg import QSvgRenderer

from wsdmon.widgets import app_icon, icon
from wsdmon.widgets.icons import ICON_NAMES

ROOT = Path(__file__).resolve().parents[2]
MASTERS = ROOT / "resources" / "icons"
PACKAGED = ROOT / "gui" / "wsdmon" / "resources" / "icons"


@pytest.mark.parametrize("name", ICON_NAMES)
def test_icon_master_equals_packaged_copy_and_renders(name):
    master = (MASTERS / f"{name}.svg").read_bytes()
    assert master == (PACKAGED / f"{name}.svg").read_bytes(), "copy resources/icons into gui/wsdmon/resources"
    assert QSvgRenderer(QByteArray(master)).isValid()
    assert not icon(name).isNull()
    assert icon(name).availableSizes()


def test_no_stray_svgs():
    assert {p.stem for p in MASTERS.glob("*.svg")} == set(ICON_NAMES)


def test_app_icon_has_large_sizes():
    assert max(s.width() for s in app_icon().availableSizes()) >= 256


def test_desktop_file():
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "resources" / "wsdmon.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "wsdmon"
    assert entry["Icon"] == "io.github.wsdmon"
    assert entry["Categories"].endswith(";")
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(
            ["desktop-file-validate", str(ROOT / "resources" / "wsdmon.desktop")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_appstream_metainfo_validates():
    if shutil.which("appstreamcli") is None:
        pytest.skip("appstreamcli not installed (apt-get install appstream)")
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(ROOT / "resources" / "io.github.wsdmon.metainfo.xml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
