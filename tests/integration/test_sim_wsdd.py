"""An independent WSD implementation finds the simulator: `wsdd -D` (Debian package wsdd, discovery
mode, host part off) in a peer network namespace discovers the simulated devices over real
multicast, fetches their metadata and logs their friendly names. Both ways it can learn of them:
our ProbeMatches to its startup Probe, and our Hello when the simulator starts after it. Over IPv6
too (link-local addresses with the interface's scope)."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from .sim_netns import Child, NetnsPair, netns_pair, sim_command
from .sim_support import run

pytestmark = pytest.mark.netns

WSDD = shutil.which("wsdd") or "/usr/sbin/wsdd"
NAMES = ("wsdmon Sim Scanner 1", "wsdmon Sim Scan Server 1")


def wsdd_command(pair: NetnsPair, family: str) -> list[str]:
    return pair.exec(pair.peer, WSDD, "-D", "-o", family, "-i", pair.peer_if, "-v")


@pytest.mark.parametrize(
    ("family", "order"), [("-4", "wsdd-first"), ("-4", "simulator-first"), ("-6", "simulator-first")]
)
def test_wsdd_discovers_the_simulated_devices_and_logs_their_names(family: str, order: str) -> None:
    if not shutil.which(WSDD):
        reason = f"wsdd is not installed ({WSDD}): apt-get install wsdd"
        print(reason)
        pytest.skip(reason)
    with netns_pair() as pair:

        async def body() -> None:
            sim_args = ["--role", "both", "--interface", pair.sim_if, "--scenario", "idle"]
            if family == "-6":
                sim_args.append("--ipv6")
            children: list[Child] = []
            try:
                if order == "wsdd-first":  # wsdd learns of the devices from their Hello
                    wsdd = await Child.start("wsdd", wsdd_command(pair, family))
                    children.append(wsdd)
                    await wsdd.wait_for(lambda line: "joined multicast group" in line)
                sim = await Child.start("simulator", sim_command(pair, *sim_args))
                children.append(sim)
                await sim.wait_for(lambda line: "ready:" in line)
                if order == "simulator-first":  # wsdd learns of them from ProbeMatches
                    await asyncio.sleep(1.0)  # after the last Hello repeat (at most 0.75 s after start)
                    wsdd = await Child.start("wsdd", wsdd_command(pair, family))
                    children.append(wsdd)
                for name in NAMES:
                    line = await wsdd.wait_for(lambda line, n=name: f"discovered {n} on " in line, timeout=20)
                    assert pair.peer_if in line
                    if family == "-6":
                        assert "fe80::" in line
                hellos = [line for line in wsdd.lines if '"Hello urn:uuid:' in line]
                assert hellos if order == "wsdd-first" else not hellos  # the path we meant to test
                assert await sim.interrupt() == 0, "\n".join(sim.lines)
            finally:
                for child in reversed(children):
                    await child.kill()

        run(body, timeout=90)
