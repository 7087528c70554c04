"""`python -m wsdmon.simulator --role scan-server --devices 3 --scenario steady` runs until Ctrl-C and
stops cleanly: every subscriber gets SubscriptionEnd(SourceShuttingDown), every device says Bye,
the exit status is 0.

Run exactly as a person would, in a network namespace whose only link is a veth pair to the
observer's namespace (so the default interface choice lands on it and multicast stays between the
two). The observer (peers/sim_observer.py, wsdmon.protocol + aiohttp) hears the Hellos, subscribes
to each device with NotifyTo and EndTo, and reports the notifications, SubscriptionEnds and Byes."""

from __future__ import annotations

import json

import pytest

from .sim_netns import Child, netns_pair, peer_command, sim_command
from .sim_support import run

pytestmark = pytest.mark.netns


def events(child: Child, kind: str) -> list[dict[str, str]]:
    return [e for e in (json.loads(x) for x in child.lines if x.startswith("{")) if e["event"] == kind]


def test_cli_runs_until_ctrl_c_and_stops_with_bye_and_subscription_end() -> None:
    with netns_pair() as pair:

        async def body() -> None:
            observer = await Child.start("observer", peer_command(pair, "sim_observer.py", pair.peer_addr))
            sim = None
            try:
                await observer.wait_for(lambda line: '"ready"' in line)
                sim = await Child.start(
                    "simulator",
                    sim_command(pair, "--role", "scan-server", "--devices", "3", "--scenario", "steady"),
                )
                await sim.wait_for(lambda line: "ready: 3 device(s)" in line)
                await observer.wait_for(lambda _: len(events(observer, "subscribed")) == 3)
                devices = {e["device"] for e in events(observer, "subscribed")}
                managers = {e["manager"] for e in events(observer, "subscribed")}
                assert len(devices) == 3

                assert await sim.interrupt() == 0, "\n".join(sim.lines)
                await observer.wait_for(lambda _: {e["device"] for e in events(observer, "bye")} == devices)
                await observer.wait_for(lambda _: len(events(observer, "subscription-end")) == 3)
                ends = events(observer, "subscription-end")
                assert {e["manager"] for e in ends} == managers
                assert {e["status"] for e in ends} == {
                    "http://schemas.xmlsoap.org/ws/2004/08/eventing/SourceShuttingDown"
                }
                assert not [line for line in sim.lines if "Traceback" in line or " ERROR " in line]
                await observer.send("quit")
                assert await observer.exit() == 0, "\n".join(observer.lines)
            finally:
                if sim is not None:
                    await sim.kill()
                await observer.kill()

        run(body, timeout=90)
