"""`wsdmon watch --json` (the real process) and a scanner that reboots and restarts its JobIds at 1
(issue 12 Done-when: a simulated scanner reboot reuses JobIds; the issue on end-to-end paths, item 3).

The simulator runs in one network namespace (peers/sim_driver.py: the test says when it scans and
when it reboots), watch in the other with multicast discovery on its interface, as on a LAN: the
reboot reaches watch as the scanner's Hello with a new InstanceId. Job 1 before and job 1 after the
reboot must be two jobs (generation 0 and 1), and nothing printed after the reboot may change the
old one. A jam raised and cleared meanwhile shows on watch's device lines as the scanner said it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .sim_netns import PEERS, Child, NetnsPair, netns_pair
from .sim_support import run
from .wsdmon_process import WSDMON, env_command

WATCH_TIMEOUT_S = 30.0


def _objects(child: Child) -> list[dict[str, Any]]:
    return [json.loads(line) for line in child.lines if line.startswith("{")]


def _event(name: str, nth: int = 1) -> Callable[[str], bool]:
    """Matches the nth line reporting `name` (Child.wait_for looks at each line once, in order)."""
    seen = 0

    def match(line: str) -> bool:
        nonlocal seen
        if line.startswith("{") and json.loads(line).get("event") == name:
            seen += 1
        return seen == nth

    return match


def _job_ended(token: str, generation: int) -> Callable[[str], bool]:
    def match(line: str) -> bool:
        if not line.startswith("{"):
            return False
        o = json.loads(line)
        return bool(
            o["kind"] == "job" and o["job_token"] == token and o["generation"] == generation and o["ended"]
        )

    return match


def _device_conditions(*steps: list[dict[str, Any]]) -> Callable[[str], bool]:
    """Matches the device line that completes `steps`: lines with these conditions, in this order."""
    todo = list(steps)

    def match(line: str) -> bool:
        if line.startswith("{"):
            o = json.loads(line)
            if o["kind"] == "device" and o["subscribed"] and o["conditions"] == todo[0]:
                todo.pop(0)
        return not todo

    return match


def _watch(pair: NetnsPair, tmp_path: Path) -> list[str]:
    return pair.exec(
        pair.peer, *env_command(tmp_path / "home"), WSDMON, "watch", "--json", "--interface", pair.peer_if,
        "--journal", str(tmp_path / "journal.sqlite3"), "--notify-port", "0",
    )  # fmt: skip


def _without_seen(o: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in o.items() if k != "seen"}


def test_watch_prints_reused_job_ids_after_a_scanner_reboot_as_new_jobs(tmp_path: Path) -> None:
    with netns_pair() as pair:

        async def body() -> None:
            children: list[Child] = []
            try:
                sim = await Child.start(
                    "simulator",
                    pair.exec(pair.sim, sys.executable, str(PEERS / "sim_driver.py"), pair.sim_if),
                )
                children.append(sim)
                ready = json.loads(await sim.wait_for(_event("ready")))
                await sim.send("restart")  # freshly booted, before watch starts: its JobIds start at 1
                first_boot = json.loads(await sim.wait_for(_event("restarted")))
                watch = await Child.start("watch", _watch(pair, tmp_path))
                children.append(watch)
                await sim.send("subscribers 1")
                await sim.wait_for(_event("subscribers"), timeout=WATCH_TIMEOUT_S)

                # A jam: the device line names the condition as the scanner sent it; cleared: none.
                await sim.send("jam")
                jam = json.loads(await sim.wait_for(_event("condition")))["id"]
                condition = {"id": jam, "name": "MediaJam", "severity": "Critical", "component": "ADF"}
                await watch.wait_for(_device_conditions([condition]), timeout=WATCH_TIMEOUT_S)
                await sim.send(f"clear {jam}")
                await watch.wait_for(_device_conditions([condition], []), timeout=WATCH_TIMEOUT_S)

                await sim.send("job Before")
                before = json.loads(await sim.wait_for(_event("job")))
                assert before["job_id"] == 1
                await watch.wait_for(_job_ended("1", 0), timeout=WATCH_TIMEOUT_S)
                printed_before_reboot = len(watch.lines)

                await sim.send("restart")  # subscriptions dropped silently; Hello with a new InstanceId
                restarted = json.loads(await sim.wait_for(_event("restarted", 2)))
                assert restarted["instance_id"] > first_boot["instance_id"]
                await sim.send("subscribers 1")  # watch saw the Hello and subscribed again
                await sim.wait_for(_event("subscribers", 2), timeout=WATCH_TIMEOUT_S)
                await sim.send("job After")
                after = json.loads(await sim.wait_for(_event("job", 2)))
                assert (after["job_id"], after["name"]) == (1, "After")  # the same JobId again
                await watch.wait_for(_job_ended("1", 1), timeout=WATCH_TIMEOUT_S)
                assert await watch.interrupt() == 0, "\n".join(watch.lines[-40:])
                await sim.send("quit")
                assert await sim.exit() == 0, "\n".join(sim.lines[-40:])
            finally:
                for child in reversed(children):
                    await child.kill()

            jobs = [o for o in _objects(watch) if o["kind"] == "job" and o["device"] == ready["endpoint"]]
            old = [o for o in jobs if o["generation"] == 0]
            new = [o for o in jobs if o["generation"] == 1]
            assert {o["job_token"] for o in jobs} == {"1"}
            assert {o["generation"] for o in jobs} == {0, 1}, jobs
            # JobName comes with the JobEndStateEvent (a WS-Scan JobStatus has none).
            assert {o["job_name"] for o in old} - {None} == {"Before"}
            assert {o["job_name"] for o in new} - {None} == {"After"}
            assert (old[0]["job_state"], new[0]["job_state"]) == ("Pending", "Pending")
            assert {o["job_kind"] for o in jobs} == {"scan"}
            assert (old[-1]["job_state"], old[-1]["images_received"], old[-1]["ended"]) == (
                "Completed",
                1,
                True,
            )
            assert (new[-1]["job_state"], new[-1]["images_received"], new[-1]["ended"]) == (
                "Completed",
                1,
                True,
            )
            assert new[0]["created"] != old[0]["created"]
            # The old job as it ended: whatever watch printed of it after the reboot says the same.
            final = _without_seen(old[-1])
            later = [json.loads(line) for line in watch.lines[printed_before_reboot:] if line.startswith("{")]
            for o in later:
                if o["kind"] == "job" and o["generation"] == 0:
                    assert _without_seen(o) == final, (o, final)

        run(body, timeout=120)
