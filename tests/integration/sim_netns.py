"""Two network namespaces joined by a veth pair, for the simulator's multicast tests, and helpers to
run processes inside them (`ip netns exec`) and read their output without blocking the loop.

Multicast only ever goes between these namespaces: the simulator runs in one (`sim`), the peer
(wsdiscovery, wsdd, our observer) in the other (`peer`). Names are unique per test run; both
namespaces are deleted in a finalizer even when the test fails (which also removes the veth pair).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import wsdmon

PEERS = Path(__file__).resolve().parent / "peers"


@dataclass(frozen=True)
class NetnsPair:
    sim: str
    peer: str
    sim_if: str
    peer_if: str
    sim_addr: str
    peer_addr: str

    def exec(self, netns: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", netns, *argv]


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=False, timeout=30)


def _must(*args: str) -> None:
    result = _ip(*args)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")


def _skip(reason: str) -> None:
    print(f"skipping: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def netns_pair() -> Iterator[NetnsPair]:
    """Create the two namespaces and the veth pair between them; remove them afterwards."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        _skip("network namespaces need root (CI runs as root)")
    if shutil.which("ip") is None:
        _skip("the ip command (iproute2) is not installed")
    tag = uuid.uuid4().hex[:6]
    subnet = f"10.{random.randint(64, 250)}.{random.randint(0, 255)}"
    pair = NetnsPair(
        f"wsdsim-{tag}-s", f"wsdsim-{tag}-p", f"wss{tag}", f"wsp{tag}", f"{subnet}.1", f"{subnet}.2"
    )
    created: list[str] = []
    try:
        for name in (pair.sim, pair.peer):
            result = _ip("netns", "add", name)
            if result.returncode != 0:
                _skip(f"ip netns add is not possible here: {result.stderr.strip()}")
            created.append(name)
        for name in (pair.sim, pair.peer):
            # No duplicate address detection: link-local IPv6 addresses are usable at once.
            for key in ("all", "default"):
                _must("netns", "exec", name, "sysctl", "-qw", f"net.ipv6.conf.{key}.accept_dad=0")
        _must("link", "add", pair.sim_if, "netns", pair.sim, "type", "veth", "peer", "name", pair.peer_if,
              "netns", pair.peer)  # fmt: skip
        for name, iface, addr in (
            (pair.sim, pair.sim_if, pair.sim_addr),
            (pair.peer, pair.peer_if, pair.peer_addr),
        ):
            _must("-n", name, "addr", "add", f"{addr}/24", "dev", iface)
            _must("-n", name, "link", "set", "lo", "up")
            _must("-n", name, "link", "set", iface, "up")
        deadline = time.monotonic() + 5
        for name, iface in ((pair.sim, pair.sim_if), (pair.peer, pair.peer_if)):
            while "fe80::" not in _ip("-n", name, "-6", "addr", "show", "dev", iface).stdout:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no link-local IPv6 address on {iface}")
                time.sleep(0.05)
        yield pair
    finally:
        for name in created:
            _ip("netns", "del", name)


def python_env() -> dict[str, str]:
    """The environment for a Python child: it imports the same wsdmon as this test."""
    env = dict(os.environ)
    source = str(Path(wsdmon.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def sim_command(pair: NetnsPair, *args: str) -> list[str]:
    return pair.exec(pair.sim, sys.executable, "-m", "wsdmon.simulator", *args)


def peer_command(pair: NetnsPair, script: str, *args: str) -> list[str]:
    return pair.exec(pair.peer, sys.executable, str(PEERS / script), *args)


@dataclass
class Child:
    """A child process whose stdout and stderr lines are collected as they come."""

    name: str
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    _new: asyncio.Event = field(default_factory=asyncio.Event)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, name: str, argv: list[str]) -> Child:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=python_env(),
        )
        child = cls(name, process)
        assert process.stdout is not None
        assert process.stderr is not None
        loop = asyncio.get_running_loop()
        child._readers = [loop.create_task(child._read(s)) for s in (process.stdout, process.stderr)]
        return child

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.lines.append(line.decode("utf-8", "replace").rstrip("\n"))
            self._new.set()

    async def wait_for(self, predicate: Callable[[str], bool], timeout: float = 15.0) -> str:
        """The first line (seen so far or later) that satisfies `predicate`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        checked = 0
        while True:
            for line in self.lines[checked:]:
                if predicate(line):
                    return line
            checked = len(self.lines)
            self._new.clear()
            remaining = deadline - loop.time()
            if remaining <= 0 or (self.process.returncode is not None and checked == len(self.lines)):
                output = "\n".join(self.lines[-60:])
                raise AssertionError(f"{self.name}: no matching line within {timeout} s; output:\n{output}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), min(remaining, 0.2))

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def interrupt(self, timeout: float = 15.0) -> int:
        """SIGINT (as Ctrl-C), then the exit status."""
        self.process.send_signal(signal.SIGINT)
        return await self.exit(timeout)

    async def exit(self, timeout: float = 15.0) -> int:
        code = await asyncio.wait_for(self.process.wait(), timeout)
        await asyncio.gather(*self._readers)
        return code

    async def kill(self) -> None:
        """Make sure it is gone (finalizer)."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        if self.process.stdin is not None:
            self.process.stdin.close()
