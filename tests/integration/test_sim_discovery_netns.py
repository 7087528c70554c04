"""The simulator found over real multicast by an independent WS-Discovery client: the `wsdiscovery`
package's ThreadedWSDiscovery, in a peer network namespace joined to the simulator's by a veth pair
(wsdiscovery skips loopback). It hears Hello, finds both roles by type, and hears Bye on stop."""

from __future__ import annotations

import json
import re

import pytest

from wsdmon.protocol import namespaces as ns

from .sim_netns import Child, netns_pair, peer_command, sim_command
from .sim_support import run

pytestmark = pytest.mark.netns

# The scan server's endpoint is urn:uuid:…, the scanner's uuid:… (the real MFP's shape).
HELLO = re.compile(r"Hello: (?P<name>.+?) (?P<urn>(?:urn:)?uuid:\S+) at (?P<xaddr>\S+)")


def events(child: Child, kind: str) -> list[dict[str, object]]:
    out = []
    for line in child.lines:
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("event") == kind:
                out.append(event)
    return out


def is_event(kind: str) -> object:
    return lambda line: line.startswith("{") and json.loads(line).get("event") == kind


def test_wsdiscovery_finds_both_roles_by_type_and_sees_hello_and_bye() -> None:
    with netns_pair() as pair:

        async def body() -> None:
            peer = await Child.start("wsdiscovery peer", peer_command(pair, "wsdiscovery_peer.py"))
            sim = None
            try:
                await peer.wait_for(is_event("ready"))  # type: ignore[arg-type]
                sim = await Child.start(
                    "simulator",
                    sim_command(
                        pair,
                        "--role",
                        "both",
                        "--interface",
                        pair.sim_if,
                        "--scenario",
                        "idle",
                        "--seed",
                        "5",
                    ),
                )
                await sim.wait_for(lambda line: "ready:" in line)
                announced = {m["urn"]: m["name"] for m in (HELLO.search(x) for x in sim.lines) if m}
                assert len(announced) == 2, sim.lines
                by_name = {name: urn for urn, name in announced.items()}
                scanner, server = by_name["wsdmon Sim Scanner 1"], by_name["wsdmon Sim Scan Server 1"]

                # Hello from both devices, with their types and an XAddr on the veth address.
                await peer.wait_for(lambda _: {e["epr"] for e in events(peer, "hello")} >= {scanner, server})
                hellos = {e["epr"]: e for e in events(peer, "hello")}
                assert f"{ns.WSCN} ScanDeviceType" in hellos[scanner]["types"]  # type: ignore[operator]
                assert f"{ns.DSC} RepositoryConfigurationServiceType" in hellos[server]["types"]  # type: ignore[operator]
                for hello in hellos.values():
                    assert all(pair.sim_addr in x for x in hello["xaddrs"])  # type: ignore[union-attr]

                # A multicast Probe by type finds exactly the device of that role.
                for local, namespace, expected in (
                    ("ScanDeviceType", ns.WSCN, scanner),
                    ("RepositoryConfigurationServiceType", ns.DSC, server),
                ):
                    await peer.send(f"search {namespace} {local}")
                    found_line = await peer.wait_for(
                        lambda line, t=local: (
                            is_event("found")(line)  # type: ignore[operator]
                            and json.loads(line)["type"] == t
                        )
                    )
                    found = json.loads(found_line)["services"]
                    assert [s["epr"] for s in found] == [expected], found

                # Ctrl-C: the simulator says Bye for both, and exits 0.
                assert await sim.interrupt() == 0, "\n".join(sim.lines)
                await peer.wait_for(lambda _: {e["epr"] for e in events(peer, "bye")} >= {scanner, server})
                await peer.send("quit")
                await peer.wait_for(is_event("stopped"))  # type: ignore[arg-type]
                assert await peer.exit() == 0
            finally:
                if sim is not None:
                    await sim.kill()
                await peer.kill()

        run(body, timeout=90)
