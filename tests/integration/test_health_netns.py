"""Issue 13's health checks on a LAN made by the test: simulators (each started with one `--fault`,
each on its own address) in one network namespace, wsdmon's engine and discovery in the other
(peers/health_peer.py, with a clock the test moves on), and nftables playing the firewalls. Each
failure must be named by its finding; the healthy simulator and Debian's wsdd must raise no alarm.
Nothing leaves the two namespaces."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from .netns_firewall import DROP_MULTICAST_V4, DROP_UNICAST_REPLIES, drop_incoming, require_nft
from .sim_netns import Child, NetnsPair, netns_pair, peer_command, sim_command
from .sim_support import run

pytestmark = pytest.mark.timeout(240)

ALARMS = {"warning", "problem"}


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _address(pair: NetnsPair, n: int) -> str:
    """The n-th extra address of the simulators' namespace, on the shared /24."""
    return pair.sim_addr.rpartition(".")[0] + f".{10 + n}"


async def _sim(pair: NetnsPair, name: str, host: str, *args: str) -> Child:
    _ip("-n", pair.sim, "addr", "add", f"{host}/24", "dev", pair.sim_if)
    sim = await Child.start(
        name,
        sim_command(pair, "--role", "scan-device", "--scenario", "idle", "--interface", pair.sim_if,
                    "--host", host, *args),
    )  # fmt: skip
    await sim.wait_for(lambda line: "ready: " in line)
    return sim


class Peer:
    """health_peer.py in the monitor's namespace."""

    def __init__(self, child: Child) -> None:
        self.child = child

    async def ask(self, command: str, event: str) -> dict[str, Any]:
        """Send a command; its answer (the first `event` line printed after it)."""
        start = len(self.child.lines)
        await self.child.send(command)
        loop = asyncio.get_running_loop()
        end = loop.time() + 30
        while loop.time() < end:
            for line in self.child.lines[start:]:
                if line.startswith("{") and json.loads(line).get("event") == event:
                    return dict(json.loads(line))
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {event} answer to {command!r}: " + "\n".join(self.child.lines[-40:]))

    async def health(self) -> dict[str, dict[str, dict[str, Any]]]:
        """endpoint → check → its result (verdict, finding, evidence)."""
        devices = (await self.ask("health", "health"))["devices"]
        return {d["endpoint"]: {r["check"]: r for r in d["results"]} for d in devices}


# The last repeat of a multicast Probe goes out within about 1 s of the first (SOAP-over-UDP:
# 4 sends, 50-500 ms apart); 1.5 s leaves room on a busy machine.
STARTUP_PROBE_REPEATS_S = 1.5


@contextlib.asynccontextmanager
async def peer(pair: NetnsPair, *args: str) -> AsyncIterator[Peer]:
    child = await Child.start("monitor", peer_command(pair, "health_peer.py", pair.peer_if, *args))
    try:
        await child.wait_for(lambda line: '"ready"' in line)
        yield Peer(child)
    finally:
        with contextlib.suppress(Exception):
            await child.send("quit")
            await asyncio.wait_for(child.exit(), 15)
        await child.kill()


async def _stop(*children: Child) -> None:
    for child in children:
        with contextlib.suppress(Exception):
            await child.interrupt()
        await child.kill()


async def _until(p: Peer, addr: str, check: str, finding: str, timeout: float = 30) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    report: dict[str, Any] = {}
    while loop.time() < end:
        report = await p.health()
        for checks in report.values():
            if any(addr in a for a in checks["addresses"]["evidence"]["addresses"]) and (
                checks[check]["finding"] == finding
            ):
                return dict(checks[check])
        await asyncio.sleep(0.5)
    raise AssertionError(f"{addr}: {check} never became {finding}: {json.dumps(report, indent=1)}")


def test_the_healthy_simulator_and_wsdd_raise_no_alarm(tmp_path: Path) -> None:
    if shutil.which("wsdd") is None:
        pytest.fail("wsdd is missing: install Debian's wsdd (sh packaging/bootstrap.sh test does)")

    async def scenario() -> None:
        with netns_pair() as pair:
            async with peer(pair) as p:
                healthy = await _sim(
                    pair, "healthy", _address(pair, 1), "--role", "both", "--scenario", "steady"
                )
                wsdd = await Child.start(
                    "wsdd", pair.exec(pair.sim, "wsdd", "-i", pair.sim_if, "-4", "-n", "WSDD-PEER")
                )
                try:
                    await _until(p, _address(pair, 1), "discovery", "found-by-multicast")
                    await asyncio.sleep(3)
                    report = await p.health()
                finally:
                    await _stop(healthy, wsdd)
            assert report, "nothing was discovered"
            for endpoint, checks in report.items():
                alarms = {name: r for name, r in checks.items() if r["verdict"] in ALARMS}
                assert not alarms, (endpoint, alarms)

    run(scenario, timeout=200)


def test_multicast_failures_are_each_named(tmp_path: Path) -> None:
    """One LAN, one simulator per failure: replies never sent, replies late, no multicast at all,
    multicast that stops while HTTP answers (IGMP snooping), a reboot, a host name in XAddrs."""
    hosts_dir: Path | None = None

    async def scenario() -> None:
        nonlocal hosts_dir
        with netns_pair() as pair:
            a = {n: _address(pair, n) for n in range(1, 7)}
            # `ip netns exec` bind-mounts /etc/netns/NAME/hosts over /etc/hosts: the name resolves
            # in the monitor's namespace only.
            hosts_dir = Path("/etc/netns") / pair.peer
            hosts_dir.mkdir(parents=True)
            (hosts_dir / "hosts").write_text(f"127.0.0.1 localhost\n{a[5]} scanner-5.example\n")
            async with peer(pair) as p:
                sims = [
                    await _sim(pair, "no-match", a[1], "--fault", "no-probe-match"),
                    await _sim(pair, "late", a[2], "--fault", "late-probe=3"),
                    await _sim(pair, "directed", a[3], "--fault", "directed-only"),
                    await _sim(pair, "reboot", a[4], "--fault", "reboot-after=4"),
                    await _sim(pair, "named", a[5], "--fault", "xaddr-host=scanner-5.example"),
                    await _sim(pair, "igmp", a[6], "--fault", "multicast-stop=3", "--fault", "short-grant=4"),
                ]
                try:
                    await p.ask(f"probe {a[2]}", "probed")  # answered after 3 s: late
                    await p.ask(f"probe {a[3]}", "probed")  # the only way to find it
                    await p.ask(f"probe {a[1]}", "probed")  # never answered
                    no_match = await _until(p, a[1], "probe-replies", "hello-without-probe-match")
                    late = await _until(p, a[2], "probe-replies", "probe-replies-late")
                    directed = await _until(p, a[3], "discovery", "found-by-directed-probe-only")
                    rebooted = await _until(p, a[4], "identity", "rebooted", timeout=40)
                    named = await _until(p, a[5], "addresses", "address-host-name")
                    await asyncio.sleep(6)  # multicast has stopped; renewals keep HTTP busy
                    await p.ask("ahead 900", "ahead")  # 15 minutes later, for the engine
                    igmp = await _until(p, a[6], "multicast", "multicast-stopped")
                finally:
                    await _stop(*sims)
        assert no_match["verdict"] == "problem", no_match
        assert late["verdict"] == "warning", late
        assert late["evidence"]["seconds"] == pytest.approx(3, abs=1)
        assert directed["verdict"] == "warning", directed
        assert rebooted["evidence"]["count"] >= 1, rebooted
        assert named["verdict"] in ALARMS, named
        assert igmp["verdict"] == "problem", igmp

    try:
        run(scenario, timeout=220)
    finally:
        if hosts_dir is not None:
            shutil.rmtree(hosts_dir, ignore_errors=True)


def test_firewalls_made_with_nftables_are_named(tmp_path: Path) -> None:
    """The same healthy simulator behind the two firewalls of issue 13: unicast replies dropped on
    the monitor's host (Hello arrives, ProbeMatch never does), and no multicast at all (found only by
    a directed probe, as across subnets)."""
    require_nft()

    async def scenario() -> None:
        with netns_pair() as pair:
            drop_incoming(pair.peer, DROP_UNICAST_REPLIES)
            async with peer(pair) as p:
                sim = await _sim(pair, "behind-firewall", _address(pair, 1))
                try:
                    await p.ask(f"probe {_address(pair, 1)}", "probed")
                    blocked = await _until(p, _address(pair, 1), "probe-replies", "hello-without-probe-match")
                finally:
                    await _stop(sim)
            subprocess.run(
                pair.exec(pair.peer, "nft", "delete", "table", "inet", "wsdmon_test"), check=True, timeout=30
            )
            drop_incoming(pair.peer, DROP_MULTICAST_V4)
            async with peer(pair) as p:
                # The monitor's start-up Probe goes out with its SOAP-over-UDP repeats: a simulator
                # up before the last repeat answers it by unicast (not dropped) and is found by
                # multicast after all (seen once the simulator started in 0.3 s instead of 0.9 s).
                await asyncio.sleep(STARTUP_PROBE_REPEATS_S)
                sim = await _sim(pair, "other-subnet", _address(pair, 2))
                try:
                    await asyncio.sleep(2)  # its Hello is dropped
                    assert _address(pair, 2) not in json.dumps(await p.health())
                    await p.ask(f"probe {_address(pair, 2)}", "probed")
                    directed = await _until(p, _address(pair, 2), "discovery", "found-by-directed-probe-only")
                finally:
                    await _stop(sim)
        assert blocked["verdict"] == "problem", blocked
        assert directed["verdict"] == "warning", directed

    run(scenario, timeout=220)


def test_addresses_off_the_subnet_or_link_local_without_zone_and_ip_changes(tmp_path: Path) -> None:
    """XAddrs on another subnet (routed, reachable), an IPv6 link-local address without its zone,
    one device at a new address (same endpoint), and a new device at a known address."""

    async def scenario() -> None:
        with netns_pair() as pair:
            off = "10.251.7.1"
            # The off-subnet address is routed to the simulators' namespace and answered there.
            _ip("-n", pair.sim, "addr", "add", f"{off}/32", "dev", "lo")
            _ip("-n", pair.peer, "route", "add", f"{off}/32", "via", pair.sim_addr)
            require_nft()
            subprocess.run(
                pair.exec(pair.sim, "nft", "-f", "-"),
                input=f"table ip wsdmon_nat {{\n  chain pre {{\n    type nat hook prerouting priority -100;\n"
                f"    ip daddr {off} dnat to {_address(pair, 1)}\n  }}\n}}\n",
                text=True, check=True, timeout=30,
            )  # fmt: skip
            async with peer(pair) as p:
                started: list[Child] = []

                async def sim(name: str, n: int, *args: str) -> Child:
                    child = await _sim(pair, name, _address(pair, n), *args)
                    started.append(child)
                    return child

                try:
                    await sim("routed", 1, "--fault", f"xaddr-host={off}")
                    await sim("zoneless", 2, "--fault", "xaddr-host=fe80::1")
                    first = await sim("moving", 3, "--seed", "41")
                    off_subnet = await _until(p, off, "addresses", "address-off-subnet")
                    no_zone = await _until(p, "fe80::1", "addresses", "address-link-local-no-zone")
                    await _until(p, _address(pair, 3), "discovery", "found-by-multicast")
                    await _stop(first)
                    moved = await sim("moved", 4, "--seed", "41")  # the same endpoint, a new address
                    changed = await _until(p, _address(pair, 4), "identity", "address-changed")
                    await _stop(moved)
                    newcomer = await sim("newcomer", 5, "--seed", "42")
                    await _until(p, _address(pair, 5), "discovery", "found-by-multicast")
                    await _stop(newcomer)
                    # A different device now at the first one's old address.
                    _ip("-n", pair.sim, "addr", "del", f"{_address(pair, 3)}/24", "dev", pair.sim_if)
                    await sim("squatter", 3, "--seed", "43")
                    shared = await _until(p, _address(pair, 3), "identity", "address-shared")
                finally:
                    await _stop(*started)
        assert off_subnet["verdict"] == "warning", off_subnet
        assert no_zone["verdict"] == "problem", no_zone
        assert changed["verdict"] in ALARMS | {"ok"}, changed
        assert shared["evidence"]["endpoints"], shared

    run(scenario, timeout=220)
