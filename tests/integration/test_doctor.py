"""`wsdmon doctor` (issue 13, items 2 and 3) as a technician runs it: the real installed `wsdmon`
process checking interfaces, UDP 3702, the notify port, directed probes and devices by URL. Only
loopback: every run names `--interface lo`, probes and devices are on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from wsdmon.core.health import HealthCheck
from wsdmon.net.selfcheck import find_holders
from wsdmon.simulator import Role, Scenario, Simulator, SimulatorConfig

from .sim_support import run
from .wsdmon_process import WSDMON, environment, run_wsdmon

pytestmark = pytest.mark.timeout(120)

DOCTOR = ("doctor", "--interface", "lo")


def checks(stdout: str) -> dict[str, list[dict[str, Any]]]:
    report = json.loads(stdout)
    out: dict[str, list[dict[str, Any]]] = {}
    for check in report["checks"]:
        out.setdefault(check["check"], []).append(check)
    return out


def closed_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_healthy_simulator_is_all_ok_with_the_probe_latency(tmp_path: Path) -> None:
    async def scenario() -> None:
        sim = Simulator(
            SimulatorConfig(
                role=Role.SCAN_SERVER,
                scenario=Scenario.IDLE,
                host="127.0.0.1",
                discovery=False,  # directed probes only: no multicast anywhere in the tests
                wsd_port=0,
                name="Loopback",
            )
        )
        await sim.start()
        try:
            server = sim.device(Role.SCAN_SERVER)
            proc = await asyncio.create_subprocess_exec(
                WSDMON, *DOCTOR, "--notify-port", "0", "--json",
                "--probe", f"127.0.0.1:{sim.discovery_port}", "--device", server.metadata_url,
                env=environment(tmp_path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
        finally:
            await sim.stop()
        assert "Traceback" not in stderr.decode(), stderr.decode()
        assert proc.returncode == 0, stdout.decode() + stderr.decode()
        report = json.loads(stdout)
        assert report["problem"] is False
        found = checks(stdout.decode())
        assert set(found) == {"interfaces", "discovery-port", "notify-port", "multicast", "probe", "device"}
        # Nobody sends multicast on loopback here: silence is "not known", never a false alarm.
        [multicast] = found.pop("multicast")
        assert (multicast["verdict"], multicast["finding"]) == ("unknown", "multicast-silent")
        assert multicast["messages"] == 0
        assert all(c["verdict"] == "ok" for cs in found.values() for c in cs), found
        [interfaces] = found["interfaces"]
        assert interfaces["interfaces"] == [{"name": "lo", "addresses": ["127.0.0.1", "::1"]}]
        [discovery] = found["discovery-port"]
        assert discovery["port"]["group_joined_on"] == ["127.0.0.1", "::1"]  # 239.255.255.250 and ff02::c
        [probe] = found["probe"]
        print(f"probe→match latency on loopback: {probe['latency_ms']} ms")
        assert probe["endpoints"] == [server.endpoint]
        assert 0 < probe["latency_ms"] < 2000  # answered on loopback, well before LATE_MATCH_S
        assert f"first match after {probe['latency_ms']:.0f} ms" in probe["evidence"]
        [device] = found["device"]
        assert device["endpoints"] == [server.endpoint]
        assert device["device_name"].startswith("Loopback")  # the simulated device's FriendlyName
        assert device["sentence"] == f"the metadata of {server.metadata_url} was read"

    run(scenario, timeout=90)


def test_a_held_notify_port_is_a_problem_naming_the_holder(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = run_wsdmon(tmp_path, *DOCTOR, "--notify-port", str(port), "--duration", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [line] = [ln for ln in result.stdout.splitlines() if " notify-port " in ln]
    assert line.startswith("PROBLEM ")
    assert f"TCP {port} is already held by another program" in line
    assert f"held by {Path(f'/proc/{os.getpid()}/comm').read_text().strip()} (pid {os.getpid()})" in line
    assert "--notify-port PORT" in line  # what to do next
    # the other checks are fine: exactly one problem line
    assert [ln.split()[0] for ln in result.stdout.splitlines()].count("PROBLEM") == 1


def test_a_probe_to_a_closed_port_says_no_answer(tmp_path: Path) -> None:
    port = closed_udp_port()
    result = run_wsdmon(
        tmp_path, *DOCTOR, "--notify-port", "0", "--probe", f"127.0.0.1:{port}", "--duration", "1", "--json"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [probe] = checks(result.stdout)["probe"]
    assert probe["verdict"] == "problem"
    assert probe["finding"] == "probe-no-answer"
    assert probe["sentence"] == f"the directed probe to 127.0.0.1:{port} got no answer"
    assert probe["latency_ms"] is None
    assert json.loads(result.stdout)["problem"] is True


def test_an_unreachable_device_is_a_problem_with_its_reason(tmp_path: Path) -> None:
    result = run_wsdmon(
        tmp_path, *DOCTOR, "--notify-port", "0", "--device", "http://127.0.0.1:1/", "--duration", "1"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = [ln for ln in result.stdout.splitlines() if ln.split()[1:2] == ["device"]]
    assert line.startswith("PROBLEM ")
    assert "the metadata of http://127.0.0.1:1/ could not be read" in line
    assert "cannot connect to 127.0.0.1:1" in line
    # the device's health, after the network checks: its heading, then one line per check
    lines = result.stdout.splitlines()
    start = lines.index("Device http://127.0.0.1:1/: PROBLEM")
    [scan] = [ln for ln in lines[start:] if ln.split()[1:2] == ["scan-service"]]
    assert scan.startswith("  PROBLEM ")
    assert "its metadata could not be read: cannot connect to 127.0.0.1:1" in scan
    assert "Next: check that the device is on and reachable" in scan


def test_device_health_json_exits_0_for_a_healthy_simulator_and_1_for_an_unreachable_url(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        sim = Simulator(
            SimulatorConfig(
                role=Role.SCAN_SERVER,
                scenario=Scenario.IDLE,
                host="127.0.0.1",
                discovery=False,
                wsd_port=0,
                name="Loopback",
            )
        )
        await sim.start()
        try:
            server = sim.device(Role.SCAN_SERVER)
            proc = await asyncio.create_subprocess_exec(
                WSDMON, *DOCTOR, "--notify-port", "0", "--json", "--device", server.metadata_url,
                env=environment(tmp_path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
        finally:
            await sim.stop()
        assert "Traceback" not in stderr.decode(), stderr.decode()
        assert proc.returncode == 0, stdout.decode() + stderr.decode()
        report = json.loads(stdout)
        assert report["problem"] is False
        [device] = report["devices"]
        assert device["device"] == server.endpoint
        assert device["name"].startswith("Loopback")
        assert device["verdict"] != "problem"
        by_check = {c["check"]: c for c in device["checks"]}
        assert list(by_check) == [c.value for c in HealthCheck]
        assert all(c["verdict"] != "problem" for c in device["checks"]), device
        assert by_check["scan-service"]["finding"] == "scan-service-present"
        assert by_check["subscription"]["verdict"] == "ok"
        assert by_check["subscription"]["seconds"] > 0
        assert by_check["discovery"]["finding"] == "found-by-url-only"
        assert by_check["discovery"]["addresses"] == [server.metadata_url]
        assert by_check["faults"]["finding"] == "no-faults"

    run(scenario, timeout=90)

    result = run_wsdmon(
        tmp_path,
        *DOCTOR,
        "--notify-port",
        "0",
        "--json",
        "--device",
        "http://127.0.0.1:1/",
        "--duration",
        "1",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["problem"] is True
    [device] = report["devices"]
    assert device["device"] == "http://127.0.0.1:1/"
    assert device["verdict"] == "problem"
    [scan] = [c for c in device["checks"] if c["check"] == "scan-service"]
    assert (scan["verdict"], scan["finding"]) == ("problem", "metadata-unreadable")
    assert scan["sentence"].startswith("its metadata could not be read: cannot connect to 127.0.0.1:1")
    assert scan["error"]["kind"] == "unreachable"
    assert scan["error"]["url"] == "http://127.0.0.1:1/"


def test_a_udp_port_holder_is_found_in_proc() -> None:
    """The lookup the UDP 3702 check uses when the port is held: a socket of this test's own."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("127.0.0.1", 0))
        holders, unattributed = find_holders("udp", held.getsockname()[1])
    assert holders is not None
    assert os.getpid() in {h.pid for h in holders}
    assert unattributed == 0
    assert find_holders("udp", closed_udp_port()) == ((), 0)


BAD = [("--probe", "not a host"), ("--device", "ftp://x"), ("--duration", "0"), ("--notify-port", "70000")]


@pytest.mark.parametrize("bad", BAD)
def test_usage_errors_exit_2(tmp_path: Path, bad: tuple[str, str]) -> None:
    result = run_wsdmon(tmp_path, *DOCTOR, *bad)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
