"""`wsdmon-sim --fault NAME[=VALUE]` as a person types it: a value that does not fit is a one-line
usage error (exit 2, no traceback); --help lists every fault; a run with faults plays them on
loopback (directed Probe, metadata Get and Subscribe over HTTP) and stops cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from wsdmon.protocol import EndpointReference, Headers, decode, encode
from wsdmon.protocol.discovery import Probe, ProbeMatches, multicast_headers
from wsdmon.protocol.eventing import Subscribe, SubscribeResponse
from wsdmon.protocol.metadata import GetMetadataResponse, TransferGet
from wsdmon.simulator import Fault

from .sim_netns import Child
from .sim_support import call, run

WSDMON_SIM = str(Path(sys.executable).with_name("wsdmon-sim"))
LOOPBACK = ("--no-discovery", "--wsd-port", "0", "--host", "127.0.0.1", "--scenario", "idle")
WSD_PORT = re.compile(r"WS-Discovery on 127\.0\.0\.1 .* UDP (\d+)")


def sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WSDMON_SIM, *LOOPBACK, *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("late-probe=abc", "late-probe: 'abc' is not a number of seconds"),
        ("subscriber-limit=0", "subscriber-limit: the limit must be at least 1, not 0"),
        ("subscriber-limit=2.5", "subscriber-limit: '2.5' is not a whole number"),
        ("no-such-fault", "unknown fault 'no-such-fault' (known: directed-only, no-probe-match"),
        ("print-only=1", "print-only takes no value"),
        ("short-grant", "short-grant needs a value: short-grant=S"),
        ("reboot-after=-5", "reboot-after: the seconds must be a positive number"),
        ("multicast-stop=inf", "multicast-stop: the seconds must be a positive number"),
        ("clock-offset=soon", "clock-offset: 'soon' is not a number of seconds"),
        ("xaddr-host=not a host", "xaddr-host: 'not a host' is not a host name or an IP address"),
    ],
)
def test_a_fault_value_that_does_not_fit_is_a_one_line_usage_error(fault: str, says: str) -> None:
    result = sim("--fault", fault)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == [result.stderr.splitlines()[-1]]  # one line, the last, after the usage
    assert errors[0].startswith("wsdmon-sim: error: argument --fault: ")
    assert says in errors[0]


def test_a_fault_given_twice_is_a_usage_error() -> None:
    result = sim("--fault", "late-probe=1", "--fault", "late-probe=2")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == "wsdmon-sim: error: fault late-probe is given twice"


def test_help_lists_every_fault() -> None:
    result = subprocess.run([WSDMON_SIM, "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # argparse wraps lines
    assert "--fault NAME[=VALUE]" in text
    for fault in Fault:
        assert fault.value in text.replace("- ", "-"), fault


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait((time.monotonic(), data))


def test_a_run_with_faults_plays_them_on_loopback_and_stops_cleanly() -> None:
    async def body() -> None:
        argv = [WSDMON_SIM, *LOOPBACK, "--role", "scan-server"]
        argv += ["--fault", "late-probe=1", "--fault", "xaddr-host=localhost", "--fault", "short-grant=5"]
        child = await Child.start("wsdmon-sim", argv)
        try:
            await child.wait_for(lambda line: "ready:" in line)
            line = await child.wait_for(lambda x: WSD_PORT.search(x) is not None)
            match = WSD_PORT.search(line)
            assert match is not None
            await child.wait_for(lambda x: "faults: late-probe=1, xaddr-host=localhost, short-grant=5" in x)
            loop = asyncio.get_running_loop()
            transport, udp = await loop.create_datagram_endpoint(_Collector, local_addr=("127.0.0.1", 0))
            try:
                probe = Probe(multicast_headers())
                sent = time.monotonic()
                transport.sendto(encode(probe), ("127.0.0.1", int(match[1])))
                at, data = await asyncio.wait_for(udp.queue.get(), 5)
            finally:
                transport.close()
            assert at - sent >= 1.0
            answer = decode(data)
            assert isinstance(answer, ProbeMatches)
            (device,) = answer.matches
            (xaddr,) = device.xaddrs
            assert xaddr.startswith("http://localhost:")
            async with aiohttp.ClientSession() as http:
                _, meta = await call(http, xaddr, TransferGet.to_device(device.address))
                assert isinstance(meta, GetMetadataResponse)
                service = meta.hosted[0].addresses[0]
                ref = EndpointReference(
                    "http://127.0.0.1:9/sink", "urn:uuid:00000000-0000-4000-8000-0000000000c1"
                )
                _, granted = await call(
                    http, service, Subscribe(Headers.request(service), ref, timedelta(hours=1))
                )
            assert isinstance(granted, SubscribeResponse)
            assert granted.expires == timedelta(seconds=5)
            assert await child.interrupt() == 0
            assert not [x for x in child.lines if "Traceback" in x], "\n".join(child.lines)
        finally:
            await child.kill()

    run(body, timeout=60)
