"""packaging/linux/wsdmon-collect.service, the collector's systemd unit: what it says (a notify
service of a dynamic user with its state folder, restarted on failure, enabled by nobody but the
administrator), that systemd-analyze accepts it, and that its ExecStart is a command line wsdmon
runs: started as the unit starts it, it says it is ready and stops cleanly on SIGTERM."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "packaging" / "linux" / "wsdmon-collect.service"
LAUNCHER = "/usr/bin/wsdmon"
VENV_WSDMON = str(Path(sys.executable).with_name("wsdmon"))


def unit() -> configparser.ConfigParser:
    # Unit files repeat keys (ExecStart= to reset a list): not strict; % is systemd's, not ours.
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_the_unit_says_what_the_service_is() -> None:
    service = unit()["Service"]
    assert service["Type"] == "notify"
    assert service["Restart"] == "on-failure"
    assert service["DynamicUser"] == "yes"
    assert service["StateDirectory"] == "wsdmon"
    assert service["ExecStart"] == f"{LAUNCHER} collect --journal %S/wsdmon/collector.sqlite3"
    assert unit()["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in unit()["Unit"]["After"]


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: systemd); the unit was parsed above")
    # verify also checks that the program exists: the launcher the .deb installs, else this venv's.
    text = UNIT.read_text()
    if not os.access(LAUNCHER, os.X_OK):
        text = text.replace(f"ExecStart={LAUNCHER} ", f"ExecStart={VENV_WSDMON} ")
    copy = tmp_path / UNIT.name
    copy.write_text(text)
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == ""  # no warning either


def test_the_exec_start_line_runs_a_collector(tmp_path: Path) -> None:
    """%S (the state root, /var/lib) is a folder of the test, the launcher this venv's wsdmon; no
    device is given and discovery is off (loopback only): it must start, notify, and stop on SIGTERM."""
    state = tmp_path / "state"
    (state / "wsdmon").mkdir(parents=True)
    argv = shlex.split(unit()["Service"]["ExecStart"].replace("%S", str(state)))
    assert argv[0] == LAUNCHER
    argv = [VENV_WSDMON, *argv[1:], "--no-discovery", "--notify-port", "0"]
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"wsdmon-test-{uuid.uuid4().hex}"
    notify.bind("\0" + name)
    notify.settimeout(30)
    env = {**os.environ, "NOTIFY_SOCKET": f"@{name}", "PYTHONUNBUFFERED": "1"}
    with notify, subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True) as collect:
        try:
            assert notify.recv(4096).startswith(b"READY=1\n")
            began = time.monotonic()
            collect.send_signal(signal.SIGTERM)
            _, stderr = collect.communicate(timeout=10)
        finally:
            collect.kill()
    assert collect.returncode == 0, stderr
    assert time.monotonic() - began < 5
    assert f"journal {state}/wsdmon/collector.sqlite3" in stderr
    assert (state / "wsdmon" / "collector.sqlite3").is_file()
