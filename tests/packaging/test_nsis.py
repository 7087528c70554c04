"""The Windows installer script compiles: makensis (Debian's nsis package) builds
packaging/windows/wsdmon.nsi against a staged dummy payload, with warnings treated as errors, so a
syntax error never reaches the Windows release job.

makensis is installed with apt-get when missing and the test runs as root; the test skips, saying
why, only when it cannot be had.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

import wsdmon

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "windows" / "wsdmon.nsi"


def _makensis() -> str:
    found = shutil.which("makensis")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("makensis is not installed and cannot be installed here (needs root and apt-get: nsis)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nsis"]
    result = subprocess.run(install, capture_output=True, text=True, env=env, check=False, timeout=600)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env, check=False, timeout=600)
        result = subprocess.run(install, capture_output=True, text=True, env=env, check=False, timeout=600)
    found = shutil.which("makensis")
    if not found:
        pytest.skip(f"makensis could not be installed (apt-get install nsis): {result.stderr.strip()[-300:]}")
    return found


def _png(size: int) -> bytes:
    """A solid-colour RGBA PNG, made without Qt or Pillow."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x2d\x6c\xdf\xff" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _ico(sizes: tuple[int, ...] = (16, 32, 48, 256)) -> bytes:
    """An .ico with PNG entries, the format packaging/render_icons.py writes."""
    images = [_png(s) for s in sizes]
    out = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    for size, blob in zip(sizes, images, strict=True):
        dim = 0 if size >= 256 else size
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
    return out + b"".join(images)


@pytest.fixture
def payload(tmp_path: Path) -> Path:
    """A stand-in for the PyInstaller bundle dist/wsdmon as built on Windows."""
    dist = tmp_path / "dist" / "wsdmon"
    (dist / "_internal" / "resources" / "icons").mkdir(parents=True)
    (dist / "_internal" / "PySide6").mkdir()
    (dist / "LICENSES").mkdir()
    (dist / "wsdmon.exe").write_bytes(b"MZ" + b"\0" * 510)
    (dist / "_internal" / "python311.dll").write_bytes(b"MZ" + b"\0" * 510)
    (dist / "_internal" / "PySide6" / "Qt6Core.dll").write_bytes(b"MZ" + b"\0" * 510)
    (dist / "_internal" / "resources" / "icons" / "wsdmon.ico").write_bytes(_ico())
    for text in (ROOT / "packaging" / "licenses").glob("*.txt"):
        shutil.copy(text, dist / "LICENSES" / text.name)
    (dist / "LICENSES" / "THIRD-PARTY-NOTICES.txt").write_text("stand-in\n")
    return dist


def _compile(makensis: str, payload: Path, out: Path, *defines: str) -> subprocess.CompletedProcess[str]:
    out.mkdir(parents=True, exist_ok=True)
    cmd = [makensis, "-V4", "-WX", f"-DDIST_DIR={payload}", f"-DOUT_DIR={out}", *defines, str(SCRIPT)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)


def _notify_port() -> str:
    source = (ROOT / "gui" / "wsdmon" / "net" / "engine.py").read_text()
    found = re.search(r"^DEFAULT_NOTIFY_PORT = (\d+)", source, re.M)
    assert found, "gui/wsdmon/net/engine.py has no DEFAULT_NOTIFY_PORT"
    return found.group(1)


def test_nsis_script_compiles(payload: Path, tmp_path: Path) -> None:
    makensis = _makensis()
    result = _compile(makensis, payload, tmp_path / "out")
    output = result.stdout + result.stderr
    assert result.returncode == 0, "makensis failed:\n" + "\n".join(output.splitlines()[-40:])
    setup = tmp_path / "out" / f"wsdmon-{wsdmon.__version__}-setup.exe"
    assert setup.is_file(), f"no {setup.name}; makensis said:\n{output[-2000:]}"
    assert setup.read_bytes()[:2] == b"MZ"
    # The version comes from wsdmon.__version__ and the firewall port from the engine's default.
    assert f"version {wsdmon.__version__}" in output
    assert f"notify port {_notify_port()}," in output


def test_nsis_script_takes_release_defines(payload: Path, tmp_path: Path) -> None:
    makensis = _makensis()
    result = _compile(makensis, payload, tmp_path / "out", "-DVERSION=9.8.7rc1", "-DVI_VERSION=9.8.7.0")
    assert result.returncode == 0, "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    assert (tmp_path / "out" / "wsdmon-9.8.7rc1-setup.exe").is_file()


def test_nsis_script_refuses_a_missing_payload(tmp_path: Path) -> None:
    makensis = _makensis()
    result = _compile(makensis, tmp_path / "nothing", tmp_path / "out")
    assert result.returncode != 0
    assert "build the bundle first" in result.stdout + result.stderr


def test_nsis_collector_task_is_an_unchecked_option(payload: Path, tmp_path: Path) -> None:
    """The optional section registers `wsdmon collect` as a start-up task (unchecked unless chosen
    or /Collector is given), with a command line wsdmon accepts, and the uninstaller removes it."""
    from wsdmon.cli import parse_args

    makensis = _makensis()
    result = _compile(makensis, payload, tmp_path / "out")
    output = result.stdout + result.stderr
    assert result.returncode == 0, "\n".join(output.splitlines()[-40:])
    assert re.search(
        r'^Section /o "Collector at start-up \(wsdmon collect\)" SecCollector$', SCRIPT.read_text(), re.M
    )
    assert 'Section: "Collector at start-up (wsdmon collect)" ->(SecCollector)' in output
    action = re.search(
        r"New-ScheduledTaskAction -Execute '\$INSTDIR\\wsdmon\.exe' -Argument '([^']*)'", output
    )
    assert action, "no scheduled-task action for wsdmon.exe in the compiled script"
    arguments = action.group(1).replace('"$APPDATA\\wsdmon\\', '"C:\\ProgramData\\wsdmon\\')
    args = parse_args(shlex.split(arguments, posix=False))
    assert args.command == "collect"
    assert str(args.journal).strip('"') == "C:\\ProgramData\\wsdmon\\collector.sqlite3"
    assert "-ExecutionTimeLimit ([TimeSpan]::Zero)" in output  # not Task Scheduler's 72 hours
    assert "New-ScheduledTaskTrigger -AtStartup" in output
    assert '/Delete /TN "WSD Scan Monitor collector" /F' in output  # the uninstaller removes it
