"""wsdmon's engine and discovery, as the window runs them, inside the peer network namespace of
test_health_netns.py, with a clock the test can move on (so checks measured in minutes are shown in
seconds). Commands on stdin, one per line; answers are JSON objects on stdout, one per line:
  probe HOST            → {"event": "probed", "answered": N}   (a directed probe, as --probe)
  ahead SECONDS         → {"event": "ahead"}                   (the engine's clock moves on)
  health                → {"event": "health", "devices": [...]} (Engine.health_all(), as values)
  quit
Usage: health_peer.py INTERFACE [--no-multicast]. First line: {"event": "ready"}.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wsdmon.net.engine import Engine, EngineConfig
from wsdmon.net.wiring import Discovery
from wsdmon.store import Journal


def say(**fields: Any) -> None:
    print(json.dumps(fields, default=_plain), flush=True)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | frozenset | set):
        return list(value)
    return str(value)


class Clock:
    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


async def main(interface: str, multicast: bool) -> None:
    clock = Clock()
    with tempfile.TemporaryDirectory() as folder:
        journal = Journal(Path(folder) / "journal.sqlite3")
        engine = Engine(EngineConfig(notify_port=0), journal, clock=clock)
        await engine.start()
        discovery = Discovery(engine, interfaces=(interface,), multicast=multicast)
        await discovery.start()
        say(event="ready")
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        try:
            while line := (await reader.readline()).decode().strip():
                command, _, arg = line.partition(" ")
                if command == "quit":
                    break
                if command == "probe":
                    say(event="probed", answered=await discovery.probe_host(arg))
                elif command == "ahead":
                    clock.ahead += timedelta(seconds=float(arg))
                    say(event="ahead")
                elif command == "health":
                    say(event="health", devices=engine.health_all())
        finally:
            await discovery.stop()
            await engine.stop()
            journal.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], "--no-multicast" not in sys.argv[2:]))
