"""Two sites, each its own LAN in network namespaces made by the test, and one PostgreSQL (issue 14's
first Done-when item): the support for test_sites_netns.py, and the `two_sites` fixture a window
test can use as well (module scope; it yields the running setup).

A site is two namespaces joined by a veth pair on the site's own /24: `dev` holds the real
`wsdmon-sim` process (one simulated device, multicast WS-Discovery on its interface, a steady flow
of jobs, a short subscription grant), `pc` holds the real `wsdmon collect --site NAME` process,
which finds the device by multicast on its interface (no --device). Site A is 10.77.1.0/24 with a
scan server (post-scan jobs), site B 10.77.2.0/24 with a WSD scanner (scan jobs). Only these
namespaces and loopback are ever targeted.

PostgreSQL (tests/pg.py's session cluster) runs in the root namespace and is reached from the
namespaces through its unix socket directory (`host=/tmp/wsdmon-pg-…`): namespaces share the
filesystem, so no route to the root namespace is needed. Collectors connect as the owner (they
create the tables); readers get a SELECT-only login role of pg_schema.roles_sql (`viewer_dsn`).

What a simulator did is read from its own log (`SimRecord`): each job it created and how it
ended, each subscription it granted and renewed, and, when a subscription closes, how many
notifications its subscriber acknowledged with a 2xx.

Processes are read by threads (not an event loop), so the fixture outlives each test's loop and a
Qt test can use it too. Everything is removed at the end, also when a test fails. The link fault
test stops site A's simulator to read its final counts and then starts a new run (a new device at
the same site): a test added after it sees site A's first device offline and the second one live.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from tests.integration.sim_netns import python_env
from tests.integration.wsdmon_process import WSDMON, env_command
from tests.pg import PgCluster
from wsdmon.store import codec
from wsdmon.store.pg_schema import roles_sql

__all__ = ["GRANT_S", "Ended", "Process", "SimRecord", "Site", "StoredJob", "TwoSites", "two_sites"]

WSDMON_SIM = str(Path(sys.executable).with_name("wsdmon-sim"))
GRANT_S = 12  # the simulators' subscription grant (fault short-grant): renewed every 6 s
TIME_SCALE = 4  # the simulated jobs run 4× faster than real time (a job takes ~1–3 s)
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
VIEWER = "desk"  # the SELECT-only login role


@dataclass(frozen=True)
class SiteSpec:
    name: str
    subnet: str  # the first three octets of its /24
    role: str  # the simulator's --role
    rate: float  # jobs per second


SPECS = (
    SiteSpec("site-a", "10.77.1", "scan-server", 1.0),
    SiteSpec("site-b", "10.77.2", "scan-device", 0.5),
)


# --- processes ---------------------------------------------------------------------------------


class Process:
    """A child whose stdout and stderr lines are collected, each with its arrival (monotonic)."""

    def __init__(self, name: str, argv: list[str]) -> None:
        self.name = name
        self.popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=python_env(),
        )
        self.lines: list[tuple[float, str]] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(stream,), daemon=True)
            for stream in (self.popen.stdout, self.popen.stderr)
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._changed:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def texts(self) -> list[str]:
        with self._changed:
            return [text for _, text in self.lines]

    def wait_for(
        self, predicate: Callable[[str], bool], timeout: float = START_TIMEOUT_S, start: int = 0
    ) -> str:
        """The first line from index `start` on (seen so far or later) that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        checked = start
        with self._changed:
            while True:
                for _, text in self.lines[checked:]:
                    if predicate(text):
                        return text
                checked = max(checked, len(self.lines))
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.popen.poll() is not None:
                    tail = "\n".join(text for _, text in self.lines[-60:])
                    raise AssertionError(f"{self.name}: no matching line within {timeout} s; output:\n{tail}")
                self._changed.wait(min(remaining, 0.2))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> int:
        """Send `sig`, then the exit status (all output read)."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        code = self.popen.wait(timeout)
        self._close()
        return code

    def kill(self) -> None:
        """Make sure it is gone (finalizer)."""
        if self.popen.poll() is None:
            self.popen.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(10)
        self._close()

    def _close(self) -> None:
        for reader in self._readers:
            reader.join(5)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()


def until(
    condition: Callable[[], object], what: str, timeout: float = START_TIMEOUT_S, poll: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(poll)


# --- what a simulator says it did --------------------------------------------------------------


@dataclass(frozen=True)
class Ended:
    state: str
    reason: str
    images: int


_ENDPOINT = re.compile(r"\((?:scan-server|scan-device)\) ((?:urn:)?uuid:[0-9a-f-]+): metadata")
_CREATED = re.compile(r": (?:scan )?job (\S+) (?:created|started) ")
_ENDED = re.compile(r": (?:scan )?job (\S+) ended (\w+) \((\w+)\), (\d+) (?:image|scan)")
_GRANTED = re.compile(r": subscription (urn:uuid:\S+) for ")
_RENEWED = re.compile(r": subscription (\S+) renewed for ")
_CLOSED = re.compile(r": subscription (\S+) closed: (\d+) notification")
_END_SENT = re.compile(r": SubscriptionEnd\(\w+\) sent to ")
_NO_ANSWER = re.compile(r": delivery to \S+ failed \(\d+ in a row\): no answer")


@dataclass
class SimRecord:
    """One simulator run as its log tells it."""

    endpoint: str = ""
    created: list[str] = field(default_factory=list)  # job tokens (a scanner's JobIds), in order
    ended: dict[str, Ended] = field(default_factory=dict)
    granted: list[tuple[float, str]] = field(default_factory=list)  # (when, subscription id)
    renewed: list[tuple[float, str]] = field(default_factory=list)
    delivered: dict[str, int] = field(default_factory=dict)  # closed subscription → 2xx answers
    ends_sent: int = 0  # SubscriptionEnd messages the subscriber answered with a 2xx
    unanswered: int = 0  # notifications whose POST got no answer: the monitor may have stored them

    @classmethod
    def parse(cls, lines: list[tuple[float, str]]) -> SimRecord:
        record = cls()
        for at, text in lines:
            if m := _ENDPOINT.search(text):
                record.endpoint = m.group(1)
            elif m := _ENDED.search(text):
                record.ended[m.group(1)] = Ended(m.group(2), m.group(3), int(m.group(4)))
            elif m := _CREATED.search(text):
                record.created.append(m.group(1))
            elif m := _GRANTED.search(text):
                record.granted.append((at, m.group(1)))
            elif m := _RENEWED.search(text):
                record.renewed.append((at, m.group(1)))
            elif m := _CLOSED.search(text):
                record.delivered[m.group(1)] = int(m.group(2))
            elif _END_SENT.search(text):
                record.ends_sent += 1
            elif _NO_ANSWER.search(text):
                record.unanswered += 1
        return record

    @property
    def acknowledged(self) -> int:
        """Every message the subscriber answered with a 2xx (closed subscriptions only)."""
        return sum(self.delivered.values()) + self.ends_sent


# --- what the store holds ------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredJob:
    token: str
    generation: int
    state: str
    reasons: tuple[str, ...]
    images: int
    over: bool  # ended, or known terminal (from a snapshot)


def stored_jobs(dsn: str, site: str, device: str) -> dict[str, StoredJob]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT job_token, generation, record FROM jobs WHERE site = %s AND device = %s", (site, device)
        ).fetchall()
    jobs = {}
    for token, generation, text in rows:
        rec = codec.decode_job_record(codec.loads(text))
        s = rec.status
        jobs[token] = StoredJob(
            token,
            generation,
            str(s.job_state),
            tuple(str(r) for r in s.job_state_reasons),
            s.images_received,
            rec.ended or rec.is_terminal,
        )
    return jobs


def stored_messages(dsn: str, site: str) -> tuple[int, int]:
    """(messages, distinct wsa:MessageIDs) of a site."""
    with psycopg.connect(dsn) as conn:
        [(n, distinct)] = conn.execute(
            "SELECT count(*), count(DISTINCT message_id) FROM messages WHERE site = %s", (site,)
        ).fetchall()
    return int(n), int(distinct)


def mismatches(record: SimRecord, stored: dict[str, StoredJob]) -> list[str]:
    """Every job the simulator ended that the store does not hold ended exactly so, and every job the
    store holds that the simulator never made."""
    wrong = []
    for token, end in record.ended.items():
        job = stored.get(token)
        if job is None:
            wrong.append(f"{token}: ended {end}, not in the store")
        elif (job.state, job.images, job.over) != (
            end.state,
            end.images,
            True,
        ) or end.reason not in job.reasons:
            wrong.append(f"{token}: ended {end}, stored {job}")
    wrong += [f"{token}: stored, never made" for token in set(stored) - set(record.created)]
    return wrong


# --- the sites ------------------------------------------------------------------------------------


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")


@dataclass
class Site:
    spec: SiteSpec
    tag: str
    home: Path
    simulators: list[Process] = field(default_factory=list)  # every run, the current one last
    collector: Process | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def device_ns(self) -> str:
        return f"wsdsite-{self.tag}-{self.name[-1]}-dev"

    @property
    def pc_ns(self) -> str:
        return f"wsdsite-{self.tag}-{self.name[-1]}-pc"

    @property
    def device_if(self) -> str:
        return f"wsd{self.tag}{self.name[-1]}d"

    @property
    def pc_if(self) -> str:
        return f"wsd{self.tag}{self.name[-1]}p"

    @property
    def device_addr(self) -> str:
        return f"{self.spec.subnet}.1"

    @property
    def pc_addr(self) -> str:
        return f"{self.spec.subnet}.2"

    @property
    def simulator(self) -> Process:
        return self.simulators[-1]

    def make_lan(self) -> None:
        for netns in (self.device_ns, self.pc_ns):
            _ip("netns", "add", netns)
        _ip("link", "add", self.device_if, "netns", self.device_ns, "type", "veth",
            "peer", "name", self.pc_if, "netns", self.pc_ns)  # fmt: skip
        for netns, iface, addr in ((self.device_ns, self.device_if, self.device_addr),
                                   (self.pc_ns, self.pc_if, self.pc_addr)):  # fmt: skip
            _ip("-n", netns, "addr", "add", f"{addr}/24", "dev", iface)
            _ip("-n", netns, "link", "set", "lo", "up")
            _ip("-n", netns, "link", "set", iface, "up")

    def remove_lan(self) -> None:
        for netns in (self.device_ns, self.pc_ns):
            subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False, timeout=30)

    def start_simulator(self) -> Process:
        argv = [
            "ip", "netns", "exec", self.device_ns, WSDMON_SIM, "--role", self.spec.role,
            "--scenario", "steady", "--rate", str(self.spec.rate), "--time-scale", str(TIME_SCALE),
            "--interface", self.device_if, "--fault", f"short-grant={GRANT_S}",
        ]  # fmt: skip
        sim = Process(f"{self.name} simulator", argv)
        self.simulators.append(sim)
        sim.wait_for(lambda line: "ready: " in line)
        return sim

    def start_collector(self, dsn: str) -> Process:
        argv = [
            "ip", "netns", "exec", self.pc_ns, *env_command(self.home), WSDMON, "collect",
            "--site", self.name, "--interface", self.pc_if, "--notify-port", "0", "--store", dsn,
        ]  # fmt: skip
        self.collector = Process(f"{self.name} collector", argv)
        return self.collector

    def link(self, *, up: bool) -> None:
        """The PC's network link at this site goes down or comes back (its cable, its switch port)."""
        _ip("-n", self.pc_ns, "link", "set", self.pc_if, "up" if up else "down")

    def record(self, run: int = -1) -> SimRecord:
        sim = self.simulators[run]
        with sim._changed:
            lines = list(sim.lines)
        return SimRecord.parse(lines)

    def processes(self) -> list[Process]:
        return [p for p in (self.collector, *self.simulators) if p is not None]


@dataclass
class TwoSites:
    """The running setup: `dsn` (owner, as the collectors), `viewer_dsn` (SELECT only)."""

    cluster: PgCluster
    dsn: str
    viewer_dsn: str
    sites: dict[str, Site]

    def records(self) -> dict[str, SimRecord]:
        """Each site's current simulator run as its log tells it so far."""
        return {name: site.record() for name, site in self.sites.items()}


def _require_netns() -> None:
    """Namespaces need root: CI runs as root; elsewhere this FAILS rather than skips."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.fail("these tests make network namespaces: run them as root (CI does)", pytrace=False)
    if shutil.which("ip") is None:
        pytest.fail("the ip command (iproute2) is missing", pytrace=False)


def socket_dsn(cluster: PgCluster, tcp_dsn: str) -> str:
    """The same database through the cluster's unix socket directory (reachable from any namespace)."""
    return tcp_dsn.replace("host=127.0.0.1", f"host={cluster.root}")


def add_viewer(cluster: PgCluster, dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(roles_sql().encode())
    cluster.admin(f"CREATE ROLE {VIEWER} LOGIN IN ROLE wsdmon_viewer")
    return dsn.replace("user=postgres", f"user={VIEWER}")


@contextlib.contextmanager
def running_sites(cluster: PgCluster, root: Path) -> Iterator[TwoSites]:
    _require_netns()
    tag = uuid.uuid4().hex[:5]
    sites = {spec.name: Site(spec, tag, root / spec.name) for spec in SPECS}
    try:
        for site in sites.values():
            site.make_lan()
        dsn = socket_dsn(cluster, cluster.new_database())
        for site in sites.values():
            site.start_simulator()
            site.start_collector(dsn)
        for site in sites.values():
            assert site.collector is not None
            start = site.collector.wait_for(lambda line: "collecting for site" in line)
            assert f"host={cluster.root}" in start, start
        for site in sites.values():
            until(lambda site=site: site.record().granted, f"{site.name}'s collector subscribed")
        yield TwoSites(cluster, dsn, add_viewer(cluster, dsn), sites)
    finally:
        processes = [p for site in sites.values() for p in site.processes()]
        for process in processes:  # all at once: collectors unsubscribe, simulators say Bye
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(STOP_TIMEOUT_S)
            process.kill()
        for site in sites.values():
            site.remove_lan()


@pytest.fixture(scope="module")
def two_sites(pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoSites]:
    with running_sites(pg_cluster, tmp_path_factory.mktemp("sites")) as setup:
        yield setup
