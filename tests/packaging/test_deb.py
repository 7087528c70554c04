"""The Linux .deb: built once per module with packaging/linux/build_deb.sh (PyInstaller bundle +
dpkg-deb), checked as an archive, then installed with dpkg, run (--version and a headless --demo),
and removed again.

The build takes a minute or two; set WSDMON_DEB=/path/to/wsdmon_X_arch.deb to test an existing
package instead. Installing needs root and dpkg (CI runs as root); the test skips, saying why, when
either is missing. Whatever happens, a finalizer purges the package it installed.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

import wsdmon

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path("/usr/bin/wsdmon")
PREFIX = Path("/opt/wsdmon")
LOCK = Path(tempfile.gettempdir()) / "wsdmon-packaging-tests.lock"
UNIT = Path("/usr/lib/systemd/system/wsdmon-collect.service")


def _run(
    cmd: list[str], timeout: float = 120, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout, cwd=cwd, env=env)


def _tail(result: subprocess.CompletedProcess[str], lines: int = 40) -> str:
    text = (result.stdout or "") + (result.stderr or "")
    return "\n".join(text.splitlines()[-lines:])


def debian_version(version: str) -> str:
    """PEP 440 -> Debian, as build_deb.sh does it: 1.0rc1 -> 1.0~rc1, 1.0.post1 -> 1.0+post1."""
    version = re.sub(r"[.]?(a|b|rc|dev)(\d*)", r"~\1\2", version, count=1)
    return re.sub(r"[.]?post", "+post", version, count=1)


def _status(package: str = "wsdmon") -> str:
    result = _run(["dpkg-query", "-W", "-f=${Status}", package])
    return result.stdout.strip() if result.returncode == 0 else ""


@pytest.fixture(scope="module", autouse=True)
def _one_run_at_a_time() -> Iterator[None]:
    """Test runs sharing this machine (its dpkg database, dist/) take turns instead of colliding."""
    with open(LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def deb(_one_run_at_a_time: None) -> Path:
    """The .deb under test: WSDMON_DEB, or one built here (once for the module)."""
    given = os.environ.get("WSDMON_DEB")
    if given:
        path = Path(given)
        assert path.is_file(), f"WSDMON_DEB={given} does not exist"
        return path
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed: the .deb cannot be built here")
    env = {"WSDMON_VENV": sys.prefix, **os.environ}  # build in the test venv unless told otherwise
    start = time.monotonic()
    result = _run(["sh", str(ROOT / "packaging" / "linux" / "build_deb.sh")], timeout=1500, cwd=ROOT, env=env)
    assert result.returncode == 0, f"build_deb.sh failed:\n{_tail(result, 80)}"
    path = ROOT / result.stdout.strip().splitlines()[-1]
    assert path.is_file(), f"build_deb.sh printed {path}, which does not exist"
    print(f"\nbuilt {path.name}: {path.stat().st_size / 2**20:.1f} MiB in {time.monotonic() - start:.0f} s")
    return path


def _field(deb: Path, name: str) -> str:
    result = _run(["dpkg-deb", "-f", str(deb), name])
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_deb_metadata_and_contents(deb: Path) -> None:
    version = _field(deb, "Version")
    assert version == debian_version(wsdmon.__version__), (
        f"package {version} is not wsdmon {wsdmon.__version__}"
    )
    assert _field(deb, "Package") == "wsdmon"
    depends = _field(deb, "Depends")
    glibc = re.search(r"libc6 \(>= 2\.(\d+)\)", depends)
    assert glibc, f"no glibc floor in Depends: {depends}"
    assert int(glibc.group(1)) >= 34, "PySide6 6.x wheels are manylinux_2_34: the floor cannot be lower"
    for package in (
        "libegl1",
        "libgl1",
        "libxkbcommon0",
        "libxkbcommon-x11-0",
        "libfontconfig1",
        "libdbus-1-3",
        "libxcb-cursor0",
        "libxcb-icccm4",
        "libxcb-keysyms1",
        "libx11-xcb1",
    ):
        assert re.search(rf"(^|, ){re.escape(package)}\b", depends), f"{package} missing from Depends"
    assert "libglib2.0-0" in depends

    listing = _run(["dpkg-deb", "-c", str(deb)])
    assert listing.returncode == 0, listing.stderr
    # "drwxr-xr-x root/root 0 2024-01-01 12:00 ./opt/wsdmon/x[ -> target]"
    paths = {
        line.split(maxsplit=5)[5].split(" -> ")[0].lstrip(".")
        for line in listing.stdout.splitlines()
        if line.strip()
    }
    for expected in (
        "/opt/wsdmon/wsdmon",
        "/usr/bin/wsdmon",
        "/opt/wsdmon/LICENSES/LGPL-3.0.txt",
        "/opt/wsdmon/LICENSES/GPL-3.0.txt",
        "/opt/wsdmon/LICENSES/THIRD-PARTY-NOTICES.txt",
        "/usr/share/doc/wsdmon/copyright",
        str(UNIT),
        # psycopg (collect --store postgresql://) is LGPL-3: plain .py files a user can replace, its
        # licence and psycopg-binary's (reached through the psycopg[binary] extra) in LICENSES.
        "/opt/wsdmon/_internal/psycopg/__init__.py",
        "/opt/wsdmon/LICENSES/psycopg/LICENSE.txt",
        "/opt/wsdmon/LICENSES/psycopg-binary/LICENSE.txt",
    ):
        assert expected in paths, f"{expected} not in the package"
    assert any(re.match(r"/opt/wsdmon/_internal/psycopg_binary\.libs/libpq-[^/]+\.so", p) for p in paths)
    assert any(p.startswith("/usr/share/applications/") and p.endswith(".desktop") for p in paths)
    assert any(p.startswith("/usr/share/metainfo/") and p.endswith(".metainfo.xml") for p in paths)
    assert any(re.match(r"/usr/share/icons/hicolor/scalable/apps/.+\.svg$", p) for p in paths)
    outside = sorted(
        p for p in paths if not p.startswith(("/opt/wsdmon", "/usr/")) and p not in {"/", "/opt/"}
    )
    assert not outside, f"files outside /opt/wsdmon and /usr: {outside[:5]}"
    # Only the five Qt binding modules wsdmon uses are in the bundle.
    bindings = {Path(p).name.split(".")[0] for p in paths if re.search(r"/PySide6/Qt\w+\.abi3\.so$", p)}
    assert bindings == {"QtCore", "QtGui", "QtWidgets", "QtSvg", "QtNetwork"}, bindings


@pytest.fixture
def installed(deb: Path) -> Iterator[Path]:
    """Install `deb` with dpkg -i; always purge it afterwards."""
    if shutil.which("dpkg") is None:
        pytest.skip("dpkg is not installed: cannot test installing the .deb")
    if os.geteuid() != 0:
        pytest.skip("installing a .deb needs root (CI runs as root); not root here")
    if _status().startswith("install ok"):
        pytest.skip("wsdmon is already installed on this machine; this test would remove it")
    try:
        result = _run(
            ["dpkg", "-i", str(deb)], timeout=600, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        )
        if result.returncode != 0 and "dependency problems" in result.stdout + result.stderr:
            # Runtime libraries the set-up did not install: let apt fetch them (needs the network).
            note = "dpkg -i left wsdmon unconfigured; installing its missing Depends with apt-get"
            print(f"\n{note}:\n{_tail(result, 12)}")
            result = _run(
                ["apt-get", "install", "-f", "-y", "-qq", "--no-install-recommends"],
                timeout=900,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
        assert result.returncode == 0, f"installing failed:\n{_tail(result)}"
        assert _status() == "install ok installed", _status()
        yield deb
    finally:
        if _status():
            _run(["dpkg", "--purge", "wsdmon"], timeout=300)


def _app_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    home = tmp_path / "home"
    for sub in ("config", "data", "cache", "state"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_RUNTIME_DIR=str(home),
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def _unresolved_libraries() -> list[str]:
    """ELF files in /opt/wsdmon whose libraries the system does not provide (ldd says 'not found')."""
    missing = []
    for path in [PREFIX / "wsdmon", *PREFIX.rglob("*.so*")]:
        if not path.is_file() or path.is_symlink() or "platformthemes/libqgtk3" in str(path):
            continue  # the GTK3 theme plugin is optional (Suggests), Qt skips it without GTK3
        result = _run(["ldd", str(path)], timeout=30)
        missing += [
            f"{path.relative_to(PREFIX)}: {line.strip()}"
            for line in result.stdout.splitlines()
            if "not found" in line
        ]
    return missing


def test_deb_installs_runs_and_removes(installed: Path, tmp_path: Path) -> None:
    # Files landed: what dpkg says it installed is on disk, and the pieces a desktop needs are there.
    listed = _run(["dpkg", "-L", "wsdmon"])
    assert listed.returncode == 0, listed.stderr
    files = [Path(line) for line in listed.stdout.splitlines() if line.strip()]
    owned = [f for f in files if f.is_file() or f.is_symlink()]
    assert len(owned) > 100, f"dpkg -L lists only {len(owned)} files"
    desktop = [f for f in owned if f.parent == Path("/usr/share/applications") and f.suffix == ".desktop"]
    metainfo = [f for f in owned if f.parent == Path("/usr/share/metainfo")]
    assert desktop, "no desktop entry installed in /usr/share/applications"
    assert metainfo, "no metainfo installed in /usr/share/metainfo"
    icon = re.search(r"^Icon=(.+)$", desktop[0].read_text(), re.M)
    icon_name = icon.group(1).strip() if icon else "wsdmon"
    assert Path(f"/usr/share/icons/hicolor/scalable/apps/{icon_name}.svg") in owned
    assert Path(f"/usr/share/icons/hicolor/48x48/apps/{icon_name}.png") in owned
    for program in (PREFIX / "wsdmon", LAUNCHER):
        assert program.is_file(), program
        assert os.access(program, os.X_OK), program
    assert Path("/usr/share/doc/wsdmon/copyright") in owned
    unresolved = _unresolved_libraries()
    assert not unresolved, "libraries the Depends did not bring:\n" + "\n".join(unresolved[:20])

    # It runs: --version, then the demo headless.
    env = _app_env(tmp_path)
    result = _run([str(LAUNCHER), "--version"], timeout=60, env=env)
    assert result.returncode == 0, _tail(result)
    assert wsdmon.__version__ in result.stdout + result.stderr

    help_text = _run([str(LAUNCHER), "--help"], timeout=60, env=env)
    assert help_text.returncode == 0, _tail(help_text)
    journal = tmp_path / "demo-journal.sqlite3"
    if "--quit-after" in help_text.stdout:
        command = [str(LAUNCHER), "--demo", "--quit-after", "5"]
        if "--journal" in help_text.stdout:
            command += ["--journal", str(journal)]
        print(f"\nrunning {' '.join(command)}")
        demo = _run(command, timeout=120, env=env)
    else:  # before the window existed, --demo proved the install and exited
        try:
            demo = _run([str(LAUNCHER), "--demo"], timeout=60, env=env)
        except subprocess.TimeoutExpired:
            pytest.fail("wsdmon --demo kept running and has no --quit-after option to stop it")
    assert demo.returncode == 0, f"wsdmon --demo failed:\n{_tail(demo)}"
    if journal.exists():  # the demo's simulated devices reached the installed engine: jobs were journalled
        with closing(sqlite3.connect(journal)) as db:
            jobs = db.execute("SELECT count(*) FROM jobs").fetchone()[0]
        assert jobs > 0, f"the demo journalled no job in 5 s:\n{_tail(demo)}"
        print(f"the installed demo journalled {jobs} jobs in 5 s")

    _installed_collector_runs_and_is_not_enabled(tmp_path, env)

    # dpkg -r removes every file it installed.
    removed = _run(["dpkg", "-r", "wsdmon"], timeout=300)
    assert removed.returncode == 0, _tail(removed)
    assert not _status().startswith("install ok")
    left = [f for f in owned if f.exists() or f.is_symlink()]
    assert not left, f"still there after dpkg -r: {left[:5]}"
    assert not PREFIX.exists(), f"{PREFIX} is still there after dpkg -r"


def _installed_collector_runs_and_is_not_enabled(tmp_path: Path, env: dict[str, str]) -> None:
    """The collector's unit is installed, valid and enabled by no one; the bundle's `wsdmon collect`
    starts (loopback only: no discovery, no device) and stops cleanly on SIGTERM."""
    assert UNIT.is_file(), f"{UNIT} not installed"
    wants = list(Path("/etc/systemd/system").rglob(UNIT.name)) if Path("/etc/systemd/system").is_dir() else []
    assert not wants, f"the package enabled the collector: {wants}"
    if shutil.which("systemd-analyze"):
        verified = _run(["systemd-analyze", "verify", str(UNIT)], timeout=60)
        assert verified.returncode == 0, _tail(verified)
    journal = tmp_path / "collector.sqlite3"
    command = [str(LAUNCHER), "collect", "--no-discovery", "--notify-port", "0", "--journal", str(journal)]
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as collect:
        try:
            assert collect.stderr is not None
            start = collect.stderr.readline()
            while start and "collecting for site" not in start:
                start = collect.stderr.readline()
            assert f"journal {journal}" in start, start
            collect.send_signal(signal.SIGTERM)
            _, rest = collect.communicate(timeout=30)
        finally:
            collect.kill()
    assert collect.returncode == 0, rest
    assert journal.is_file()
