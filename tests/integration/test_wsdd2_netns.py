"""Interop with the real wsdd2 (Debian package wsdd2, the WSD daemon of many NAS boxes): run in a
peer network namespace, it answers our directed Probe, and `wsdmon watch` reads its metadata.

wsdd2 compares the request's Content-Type with `application/soap+xml` byte for byte and answers
anything else (`…; charset=utf-8` included) with 400; so before wsdmon sent the bare media type, the
device line said "error" with a page of aiohttp text."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .sim_netns import Child, netns_pair
from .sim_support import run

pytestmark = pytest.mark.netns

WSDD2 = shutil.which("wsdd2") or "/usr/sbin/wsdd2"


async def _listening(netns: str, port: int, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        out = subprocess.run(
            ["ip", "netns", "exec", netns, "ss", "-Hltn", f"sport = :{port}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        if out.strip():
            return
        if loop.time() > end:
            raise AssertionError(f"nothing listens on TCP {port} in {netns}")
        await asyncio.sleep(0.1)


def test_watch_reads_the_metadata_of_a_real_wsdd2(tmp_path: Path) -> None:
    if not Path(WSDD2).exists():
        reason = f"wsdd2 is not installed ({WSDD2}): apt-get install wsdd2"
        print(reason)
        pytest.skip(reason)
    with netns_pair() as pair:

        async def body() -> None:
            wsdd2 = await Child.start(
                "wsdd2",
                pair.exec(pair.peer, WSDD2, "-w", "-4", "-i", pair.peer_if, "-N", "NAS01",
                          "-b", "vendor:Example NAS,model:NAS-1"),
            )  # fmt: skip
            watch = None
            try:
                await _listening(pair.peer, 3702)
                watch = await Child.start(
                    "watch",
                    pair.exec(pair.sim, sys.executable, "-m", "wsdmon", "watch", "--json", "--no-discovery",
                              "--probe", pair.peer_addr, "--notify-port", "0", "--duration", "8",
                              "--journal", str(tmp_path / "journal.sqlite3")),
                )  # fmt: skip
                line = await watch.wait_for(lambda x: x.startswith('{"kind": "device"'), timeout=20)
                device = json.loads(line)
                assert device["error"] is None, device["error"]
                assert device["online"] is True
                assert device["device"].startswith("urn:uuid:")
                assert device["name"] not in ("", device["device"])  # its metadata was read
                assert await watch.exit(timeout=20) == 0, "\n".join(watch.lines)
                assert not [x for x in watch.lines if "Traceback" in x or "WARNING" in x], watch.lines
            finally:
                if watch is not None:
                    await watch.kill()
                await wsdd2.kill()

        run(body, timeout=90)
