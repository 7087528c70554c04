"""`wsdmon doctor` (the real process) in a network namespace made by the test, against the simulator
in the other one, as on a LAN: a host firewall dropping the unicast ProbeMatch (nftables in the
monitor's namespace) turns an answered probe into "no answer"; another program holding UDP 3702
exclusively is named. Nothing leaves the two namespaces."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .netns_firewall import DROP_UNICAST_REPLIES, allow_all, drop_incoming, require_nft
from .sim_netns import Child, NetnsPair, netns_pair, sim_command
from .sim_support import run
from .wsdmon_process import WSDMON, env_command

pytestmark = pytest.mark.timeout(180)


def _doctor(pair: NetnsPair, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = pair.exec(
        pair.peer, *env_command(home), WSDMON, "doctor", "--interface", pair.peer_if,
        "--notify-port", "0", "--json", *args,
    )  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def _checks(stdout: str, name: str) -> list[dict[str, Any]]:
    return [c for c in json.loads(stdout)["checks"] if c["check"] == name]


def test_a_firewall_dropping_unicast_replies_turns_an_answered_probe_into_no_answer(tmp_path: Path) -> None:
    require_nft()

    async def scenario() -> None:
        with netns_pair() as pair:
            sim = await Child.start(
                "sim",
                sim_command(pair, "--role", "scan-device", "--scenario", "idle", "--interface", pair.sim_if),
            )
            try:
                await sim.wait_for(lambda line: "ready: 1 device(s)" in line)
                before = _doctor(pair, tmp_path, "--probe", pair.sim_addr, "--duration", "3")
                drop_incoming(pair.peer, DROP_UNICAST_REPLIES)
                after = _doctor(pair, tmp_path, "--probe", pair.sim_addr, "--duration", "3")
                allow_all(pair.peer)
                again = _doctor(pair, tmp_path, "--probe", pair.sim_addr, "--duration", "3")
            finally:
                await sim.interrupt()
                await sim.kill()
        for result in (before, after, again):
            assert "Traceback" not in result.stderr, result.stderr
        [port] = _checks(before.stdout, "discovery-port")
        joined = port["port"]["group_joined_on"]
        assert joined[0] == pair.peer_addr, port  # 239.255.255.250 on the interface's IPv4 address
        assert joined[1].startswith("fe80:"), port  # ff02::c where it has IPv6: link-local, zoned
        assert joined[1].endswith(f"%{pair.peer_if}"), port
        [answered] = _checks(before.stdout, "probe")
        assert answered["verdict"] == "ok", before.stdout
        assert answered["finding"] == "probe-answered"
        assert before.returncode == 0, before.stdout + before.stderr
        [blocked] = _checks(after.stdout, "probe")
        assert blocked["verdict"] == "problem", after.stdout
        assert blocked["finding"] == "probe-no-answer"
        assert after.returncode == 1
        [restored] = _checks(again.stdout, "probe")
        assert restored["finding"] == "probe-answered", again.stdout

    run(scenario, timeout=170)


def test_another_program_holding_udp_3702_is_named(tmp_path: Path) -> None:
    with netns_pair() as pair:
        # A WSD stack that binds 3702 without SO_REUSEADDR: nobody else can share the port.
        holder = subprocess.Popen(
            pair.exec(
                pair.peer, "python3", "-c",
                "import socket,sys,time\n"
                "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                "s.bind(('0.0.0.0',3702))\nprint('bound',flush=True)\ntime.sleep(120)\n",
            ),
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "bound"
            result = _doctor(pair, tmp_path, "--duration", "1")
        finally:
            holder.kill()
            holder.wait()
            if holder.stdout is not None:
                holder.stdout.close()
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    [port] = _checks(result.stdout, "discovery-port")
    assert port["verdict"] == "problem", port
    assert port["finding"] == "port-held", port
    # `ip netns exec` execs python3: the holder's pid is the Popen's own.
    assert holder.pid in {h["pid"] for h in port["port"]["holders"]}, port


def test_multicast_from_a_device_that_says_hello_is_heard(tmp_path: Path) -> None:
    async def scenario() -> None:
        with netns_pair() as pair:
            argv = pair.exec(
                pair.peer, *env_command(tmp_path), WSDMON, "doctor", "--interface", pair.peer_if,
                "--notify-port", "0", "--json", "--duration", "4",
            )  # fmt: skip
            doctor = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            await asyncio.sleep(1.0)  # doctor is listening: the device starts and says Hello
            sim = await Child.start(
                "sim",
                sim_command(pair, "--role", "scan-device", "--scenario", "idle", "--interface", pair.sim_if),
            )
            try:
                stdout, stderr = await asyncio.wait_for(doctor.communicate(), 60)
            finally:
                await sim.interrupt()
                await sim.kill()
        assert "Traceback" not in stderr.decode(), stderr.decode()
        assert doctor.returncode == 0, stdout.decode() + stderr.decode()
        [heard] = _checks(stdout.decode(), "multicast")
        assert (heard["verdict"], heard["finding"]) == ("ok", "multicast-heard"), heard
        assert heard["senders"] == [pair.sim_addr], heard
        assert heard["messages"] >= 1
        assert f"from {pair.sim_addr}" in heard["evidence"]

    run(scenario, timeout=120)
