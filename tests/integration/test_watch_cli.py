"""`wsdmon watch --json --probe 127.0.0.1` against a simulator in another process prints the jobs
of full lifecycles correctly (issue 4 Done-when). Both processes run inside a network namespace made
by the test, so the monitor's multicast never leaves it."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .sim_netns import Child, netns_pair
from .sim_support import run

ENDED = re.compile(r"job (\S+) ended (\S+) \((\S+)\), (\d+) image")
TERMINAL = {"Completed", "Aborted", "Canceled"}
RANK = {
    "Creating": 0,
    "Pending": 1,
    "Started": 2,
    "Processing": 3,
    "Completed": 5,
    "Aborted": 5,
    "Canceled": 5,
}
# Watch runs until what a test checks has been printed, then is stopped with SIGINT (exit 0);
# --duration is only a ceiling. A fixed 12 s run was mostly waiting after the jobs had ended.
CEILING_S = "60"
ENOUGH_WITHIN_S = 40


def _printed(enough: Callable[[list[dict[str, Any]]], bool]) -> Callable[[str], bool]:
    """A Child.wait_for predicate: true once the JSON objects printed so far are `enough`."""
    objects: list[dict[str, Any]] = []

    def seen(line: str) -> bool:
        if line.startswith("{"):
            objects.append(json.loads(line))
        return enough(objects)

    return seen


def _two_lifecycles_and_both_states(objects: list[dict[str, Any]]) -> bool:
    """What check_output needs: two jobs ended, the repository seen Idle and Processing."""
    last = {o["job_token"]: o for o in objects if o["kind"] == "job"}
    states = {o["state"] for o in objects if o["kind"] == "device" and o["state"]}
    return sum(1 for o in last.values() if o["ended"]) >= 2 and states >= {"Idle", "Processing"}


def _both_roles_and_an_ended_job(objects: list[dict[str, Any]]) -> bool:
    subscribed = {tuple(o["roles"]) for o in objects if o["kind"] == "device" and o["subscribed"]}
    ended = any(o["kind"] == "job" and o["ended"] for o in objects)
    return subscribed == {("scan-server",), ("scan-device",)} and ended


def test_watch_json_prints_full_lifecycles(tmp_path: Path) -> None:
    with netns_pair() as pair:

        async def body() -> None:
            sim = await Child.start(
                "simulator",
                pair.exec(
                    pair.sim, sys.executable, "-m", "wsdmon.simulator", "--role", "scan-server",
                    "--no-discovery", "--host", "127.0.0.1", "--scenario", "steady", "--rate", "1",
                    "--time-scale", "5", "--seed", "11", "--log-level", "INFO",
                ),
            )  # fmt: skip
            watch = None
            try:
                await sim.wait_for(lambda line: "WS-Discovery" in line)
                watch = await Child.start(
                    "watch",
                    pair.exec(
                        pair.sim, sys.executable, "-m", "wsdmon", "watch", "--json", "--probe", "127.0.0.1",
                        "--duration", CEILING_S, "--journal", str(tmp_path / "journal.sqlite3"),
                        "--notify-port", "0",
                    ),
                )  # fmt: skip
                await watch.wait_for(_printed(_two_lifecycles_and_both_states), ENOUGH_WITHIN_S)
                assert await watch.interrupt() == 0
            finally:
                if watch is not None:
                    await watch.kill()
                assert await sim.interrupt() == 0
                await sim.kill()
            check_output(watch.lines if watch else [], sim.lines)

        run(body, timeout=90)


def check_output(watch_lines: list[str], sim_lines: list[str]) -> None:
    objects = [json.loads(line) for line in watch_lines if line.startswith("{")]
    devices = [o for o in objects if o["kind"] == "device"]
    assert any(d["subscribed"] and d["roles"] == ["scan-server"] for d in devices), devices
    # The repository's state: asked for after subscribing, then from its status events.
    assert {d["state"] for d in devices if d["state"]} >= {"Idle", "Processing"}, devices
    jobs: dict[str, list[dict[str, Any]]] = {}
    for o in objects:
        if o["kind"] == "job":
            jobs.setdefault(o["job_token"], []).append(o)
    ended_by_sim = {m[1]: m for line in sim_lines if (m := ENDED.search(line))}
    finished = [t for t, lines in jobs.items() if lines[-1]["ended"]]
    assert len(finished) >= 2, f"too few complete lifecycles: {list(jobs)}"
    for token in finished:
        lines = jobs[token]
        last = lines[-1]
        # What the monitor printed at the end is what the simulator says it ended with.
        _, state, reason, images = ended_by_sim[token].groups()
        assert last["job_state"] == state
        assert reason in last["job_state_reasons"]
        assert last["images_received"] == int(images)
        assert last["completed"] is not None
        assert last["created"] is not None
        assert last["filters"]
        assert all(f["name"] and f["state"] for f in last["filters"])
        # A full lifecycle, in order: from a first non-terminal state to the end, images growing.
        assert lines[0]["job_state"] not in TERMINAL
        ranks = [RANK.get(x["job_state"], 3) for x in lines]
        assert ranks == sorted(ranks), [x["job_state"] for x in lines]
        counts = [x["images_received"] for x in lines]
        assert counts == sorted(counts)


def test_watch_discovers_by_multicast_across_namespaces(tmp_path: Path) -> None:
    """No --probe, no --device: the monitor in one namespace finds both simulated roles in another
    by WS-Discovery multicast over the veth pair, reads their metadata and subscribes."""
    with netns_pair() as pair:

        async def body() -> None:
            sim = await Child.start(
                "simulator",
                pair.exec(
                    pair.sim, sys.executable, "-m", "wsdmon.simulator", "--role", "both",
                    "--interface", pair.sim_if, "--scenario", "steady", "--rate", "1", "--time-scale", "5",
                    "--seed", "12", "--log-level", "INFO",
                ),
            )  # fmt: skip
            watch = None
            try:
                await sim.wait_for(lambda line: "WS-Discovery" in line)
                watch = await Child.start(
                    "watch",
                    pair.exec(
                        pair.peer, sys.executable, "-m", "wsdmon", "watch", "--json", "--interface",
                        pair.peer_if, "--duration", CEILING_S, "--journal", str(tmp_path / "journal.sqlite3"),
                        "--notify-port", "0",
                    ),
                )  # fmt: skip
                await watch.wait_for(_printed(_both_roles_and_an_ended_job), ENOUGH_WITHIN_S)
                assert await watch.interrupt() == 0
            finally:
                if watch is not None:
                    await watch.kill()
                assert await sim.interrupt() == 0
                await sim.kill()
            objects = [json.loads(line) for line in (watch.lines if watch else []) if line.startswith("{")]
            subscribed = {tuple(o["roles"]) for o in objects if o["kind"] == "device" and o["subscribed"]}
            assert subscribed == {("scan-server",), ("scan-device",)}, objects[:4]
            assert any(o["kind"] == "job" and o["ended"] for o in objects)

        run(body, timeout=90)
