"""kill -9 of the engine during a burst, then restart: every notification that got a 2xx reply is in
the journal (issue 4 Done-when). Real processes, real sockets, a real SIGKILL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.unit.protocol.cases_dsm import COMPLETED_STATUS
from wsdmon.net.engine import Engine, EngineConfig
from wsdmon.protocol import Headers, decode, encode
from wsdmon.protocol.dsm import PostScanJobStatusEvent
from wsdmon.store import Journal

from .sim_netns import python_env
from .sim_support import run

CHILD = """
import asyncio, json, sys
from wsdmon.net.engine import Engine, EngineConfig
from wsdmon.store import Journal

async def main():
    journal = Journal(sys.argv[1])
    config = EngineConfig(notify_port=0, notify_bind="127.0.0.1", notify_host="127.0.0.1")
    engine = Engine(config, journal)
    await engine.start()
    reg = engine.sink.register("urn:uuid:kill-test", "http://127.0.0.1:9/svc")
    print(json.dumps({"url": reg.notify_url("127.0.0.1", engine.sink.port), "identifier": reg.identifier}),
          flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""
ACKS_BEFORE_KILL = 400
WORKERS = 16


def notification(identifier: str, n: int) -> bytes:
    header = Headers(message_id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}", to="x", identifier=identifier)
    return encode(PostScanJobStatusEvent(header, COMPLETED_STATUS))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="no SIGKILL on this platform")
def test_every_acknowledged_notification_survives_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "journal.sqlite3"
    acked: set[str] = set()

    async def body() -> None:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, str(db), stdout=asyncio.subprocess.PIPE, env=python_env()
        )
        try:
            assert child.stdout is not None
            hello = json.loads(await asyncio.wait_for(child.stdout.readline(), 20))
            counter = iter(range(10**9))
            killed = asyncio.Event()

            async def worker(session: aiohttp.ClientSession) -> None:
                while not killed.is_set():
                    n = next(counter)
                    data = notification(hello["identifier"], n)
                    try:
                        async with session.post(
                            hello["url"], data=data, headers={"Content-Type": "application/soap+xml"}
                        ) as resp:
                            await resp.read()
                            if 200 <= resp.status < 300:
                                acked.add(f"urn:uuid:00000000-0000-4000-8000-{n:012d}")
                    except aiohttp.ClientError:
                        return  # the engine is gone
                    if len(acked) >= ACKS_BEFORE_KILL and not killed.is_set():
                        killed.set()
                        os.kill(child.pid, signal.SIGKILL)  # mid-burst: other requests in flight

            async with aiohttp.ClientSession() as session:
                await asyncio.gather(*(worker(session) for _ in range(WORKERS)))
            assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGKILL
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()

    run(body, timeout=120)
    assert len(acked) >= ACKS_BEFORE_KILL

    # Restart: the journal opens (recovering its WAL) and holds every acknowledged message.
    journal = Journal(db)
    try:
        stored = {decode(row.raw).header.message_id for row in journal.messages_after(0)}
    finally:
        journal.close()
    missing = acked - stored
    assert not missing, f"{len(missing)} acknowledged notifications lost, e.g. {sorted(missing)[:3]}"

    async def restart() -> None:
        engine = Engine(EngineConfig(notify_port=0, notify_bind="127.0.0.1"), Journal(db))
        await engine.start()
        try:
            # The folded state was never flushed before the kill: replay rebuilds the job.
            assert len(engine.jobs.jobs) == 1
        finally:
            await engine.stop()
            engine.journal.close()  # type: ignore[attr-defined]

    run(restart)
