"""The simulator with one scan device, driven from stdin by a test (run inside the simulator's
network namespace, multicast WS-Discovery on INTERFACE): the test says when its scanner reboots and
when someone scans. One JSON object per line on stdout:
  ready (endpoint, metadata URL, InstanceId) / restarted (InstanceId) / subscribers (count) /
  job (JobId, name, once it ended) / condition (its Id, raised) / cleared (Id)
Commands: `restart`, `job NAME`, `subscribers N` (answers once N subscriptions are live), `jam`
(a paper jam in the ADF), `clear ID`, `quit`.
Usage: sim_driver.py INTERFACE
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from wsdmon.simulator import Role, ScanJobPlan, Scenario, Simulator, SimulatorConfig

POLL_S = 0.05


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def main(interface: str) -> None:
    sim = Simulator(SimulatorConfig(role=Role.SCAN_DEVICE, scenario=Scenario.IDLE, interface=interface))
    await sim.start()
    device = sim.device(Role.SCAN_DEVICE)
    say(event="ready", endpoint=device.endpoint, metadata=device.metadata_url, instance_id=device.instance_id)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    try:
        while line := (await stdin.readline()).decode().strip():
            command, _, argument = line.partition(" ")
            if command == "quit":
                break
            if command == "restart":
                await device.restart()
                say(event="restarted", instance_id=device.instance_id)
            elif command == "job":
                job = device.submit_job(ScanJobPlan(job_name=argument, scans=1, scan_interval_s=0.2))
                await job.wait()
                say(event="job", job_id=job.job_id, name=argument)
            elif command == "jam":
                assert device.scanner is not None
                say(event="condition", id=device.scanner.raise_condition())
            elif command == "clear":
                assert device.scanner is not None
                device.scanner.clear_condition(int(argument))
                say(event="cleared", id=int(argument))
            elif command == "subscribers":
                while len(device.events.subscriptions) < int(argument):
                    await asyncio.sleep(POLL_S)
                say(event="subscribers", count=len(device.events.subscriptions))
    finally:
        await sim.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
