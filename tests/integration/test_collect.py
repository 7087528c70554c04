"""`wsdmon collect` (issue 14, item 1): the real `.venv/bin/wsdmon collect` process against the
simulator on loopback. It starts and says so in one line (site, notify port, interfaces, journal),
subscribes, journals jobs, and on SIGTERM unsubscribes (the simulator sees the Unsubscribe) and exits
0; after SIGKILL a restart on the same journal takes over the lock, subscribes again and loses
nothing; a second collector (or a window) on the same journal exits 1; bad options exit 2 with one
line. Under systemd it logs with syslog priorities and no time stamps, and tells READY=1 and
STOPPING=1 to $NOTIFY_SOCKET (both faked here as systemd does it: a stream named by its inode, a
datagram socket)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shlex
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wsdmon.cli import EXIT_ALREADY_RUNNING, EXIT_OK
from wsdmon.headless import DatabaseLocation
from wsdmon.simulator import JobPlan, Role, Simulator
from wsdmon.store import Journal

from .sim_netns import Child
from .sim_support import run
from .test_engine_sim import sim_config, until
from .wsdmon_process import WSDMON, run_wsdmon

pytestmark = pytest.mark.timeout(180)

STOP_WITHIN_S = 5.0  # SIGTERM → exit, Unsubscribe included
JOB = JobPlan(images=2, image_interval_s=0.1, start_delay_s=0.1)
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


@pytest.fixture
def sim_log() -> Iterator[list[str]]:
    """What the in-process simulator logs (INFO): its subscribe and unsubscribe lines."""
    lines: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("wsdmon.simulator")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def collect_argv(journal: Path, url: str, *extra: str, env: str = "") -> list[str]:
    """`wsdmon collect` on loopback for one device, through sh so that JOURNAL_STREAM can name the
    child's own stderr (device:inode), as systemd does for a service's journal stream."""
    args = [
        WSDMON, "collect", "--site", "floor-3", "--no-discovery", "--device", url, "--notify-port", "0",
        "--notify-host", "127.0.0.1", "--journal", str(journal), *extra,
    ]  # fmt: skip
    return ["sh", "-c", f"{env} exec {shlex.join(args)}"]


JOURNALD = "JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) && export JOURNAL_STREAM &&"


@contextlib.asynccontextmanager
async def scan_server() -> AsyncIterator[Any]:
    """A simulated DSM scan server on loopback (no discovery), stopped at the end."""
    sim = Simulator(sim_config())
    await sim.start()
    try:
        yield sim.device(Role.SCAN_SERVER)
    finally:
        await sim.stop()


def notify_socket() -> tuple[socket.socket, str]:
    """A datagram socket standing in for systemd's notify socket (abstract: no path to clean up)."""
    name = f"@wsdmon-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name[1:])
    sock.setblocking(False)
    return sock, name


async def notification(sock: socket.socket, timeout: float = 15.0) -> str:
    loop = asyncio.get_running_loop()
    return (await asyncio.wait_for(loop.sock_recv(sock, 4096), timeout)).decode()


def ended_line(token: str) -> Callable[[str], bool]:
    return lambda line: f"job {token} ended Completed" in line


def test_collect_journals_and_unsubscribes_on_sigterm_under_systemd(
    tmp_path: Path, sim_log: list[str]
) -> None:
    journal = tmp_path / "collector.sqlite3"
    sock, name = notify_socket()

    async def body() -> None:
        async with scan_server() as server:
            job = await stop_after_a_job(journal, server, sock, name, sim_log)
        with Journal(journal) as stored:
            (record,) = stored.load_jobs()
            assert record.key.job_token == job.token
            assert record.ended
            assert record.status == job.status()
            actions = [m.action for m in stored.messages_after(0)]
            assert any(a.endswith("PostScanJobEndStateEvent") for a in actions), actions

    try:
        run(body, timeout=90)
    finally:
        sock.close()


async def stop_after_a_job(
    journal: Path, server: Any, sock: socket.socket, name: str, sim_log: list[str]
) -> Any:
    """Under a faked systemd: start, subscribe, one job, SIGTERM; the job."""
    env = f"{JOURNALD} export NOTIFY_SOCKET={name} &&"
    collect = await Child.start("collect", collect_argv(journal, server.metadata_url, env=env))
    try:
        start = await collect.wait_for(lambda line: "collecting for site" in line)
        assert start.startswith("<6>wsdmon.collect: collecting for site floor-3: notify port "), start
        assert f"interfaces none (no multicast discovery), journal {journal} (1 --device)" in start
        assert (await notification(sock)).startswith("READY=1\nSTATUS=collecting for site floor-3")
        await until(lambda: len(server.events.subscriptions) == 1, "the subscription")
        await collect.wait_for(lambda line: line.startswith("<6>") and "subscribed" in line)
        job = server.submit_job(JOB)
        await job.wait()
        await collect.wait_for(ended_line(job.token))
        began = time.monotonic()
        collect.process.send_signal(signal.SIGTERM)
        assert await collect.exit(STOP_WITHIN_S) == EXIT_OK
        print(f"\nSIGTERM → exit 0 in {time.monotonic() - began:.2f} s")
        assert await notification(sock) == "STOPPING=1"
        # The simulator saw the Unsubscribe (not an expiry): no subscription is left.
        assert any(line.endswith("unsubscribed") for line in sim_log), sim_log
        assert len(server.events.subscriptions) == 0
        # Every line at a syslog priority, none with a time stamp (the journal adds its own).
        assert all(not TIMESTAMP.match(line) and re.match(r"<\d>", line) for line in collect.lines)
    finally:
        await collect.kill()
    return job


def test_after_sigkill_a_restart_resubscribes_and_loses_nothing(tmp_path: Path, sim_log: list[str]) -> None:
    journal = tmp_path / "collector.sqlite3"

    async def body() -> None:
        async with scan_server() as server:
            before, after, kept = await kill_and_restart(journal, server)
        with Journal(journal) as stored:
            assert kept <= {(m.id, m.raw) for m in stored.messages_after(0)}  # byte for byte
            jobs = {r.key.job_token: r for r in stored.load_jobs()}
        assert set(jobs) == {before.token, after.token}
        assert jobs[before.token].status == before.status()
        assert jobs[after.token].status == after.status()

    run(body, timeout=120)


async def kill_and_restart(journal: Path, server: Any) -> tuple[Any, Any, set[tuple[int, bytes]]]:
    """A job, SIGKILL, restart, another job, SIGTERM: the two jobs and the messages kept at the kill."""
    first = await Child.start("collect 1", collect_argv(journal, server.metadata_url))
    second = None
    try:
        start = await first.wait_for(lambda line: "collecting for site" in line)
        assert TIMESTAMP.match(start), start  # not under systemd: time stamped lines
        await until(lambda: len(server.events.subscriptions) == 1, "the first subscription")
        before = server.submit_job(JOB)
        await before.wait()
        await first.wait_for(ended_line(before.token))
        first.process.kill()
        await first.exit()
        with Journal(journal) as stored:
            kept = {(m.id, m.raw) for m in stored.messages_after(0)}
        assert kept

        second = await Child.start("collect 2", collect_argv(journal, server.metadata_url))
        await second.wait_for(lambda line: "collecting for site floor-3" in line)
        # The killed one never unsubscribed; the new one subscribes beside it.
        await until(lambda: len(server.events.subscriptions) == 2, "the new subscription")
        after = server.submit_job(JOB)
        await after.wait()
        await second.wait_for(ended_line(after.token))
        second.process.send_signal(signal.SIGTERM)
        assert await second.exit(STOP_WITHIN_S) == EXIT_OK
        assert not any("already uses" in line for line in second.lines)
    finally:
        for child in (first, second):
            if child is not None:
                await child.kill()
    return before, after, kept


def test_one_collector_per_journal_and_none_beside_a_window(tmp_path: Path) -> None:
    from PySide6.QtCore import QLockFile

    journal = tmp_path / "collector.sqlite3"

    async def body() -> None:
        async with scan_server() as server:
            first = await Child.start("collect", collect_argv(journal, server.metadata_url))
            try:
                await first.wait_for(lambda line: "collecting for site" in line)
                pid = first.process.pid
                second = run_wsdmon(
                    tmp_path, "collect", "--no-discovery", "--journal", str(journal), timeout=30
                )
                assert second.returncode == EXIT_ALREADY_RUNNING, second.stderr
                assert "Traceback" not in second.stderr
                (said,) = second.stderr.splitlines()
                assert f"another wsdmon (process {pid}) already uses the journal {journal}: stop it" in said
                assert " ERROR " in said
                # watch takes the same lock.
                watch = run_wsdmon(tmp_path, "watch", "--json", "--no-discovery", "--journal", str(journal))
                assert watch.returncode == EXIT_ALREADY_RUNNING, watch.stderr
                (said,) = watch.stderr.splitlines()
                assert said.startswith(f"wsdmon: another wsdmon (process {pid}) already uses the journal")
                # The window's QLockFile sees the collector's lock as held, by the collector.
                window = QLockFile(f"{journal}.lock")
                window.setStaleLockTime(0)
                assert not window.tryLock(0)
                assert pid in window.getLockInfo()
                first.process.send_signal(signal.SIGTERM)
                assert await first.exit(STOP_WITHIN_S) == EXIT_OK
            finally:
                await first.kill()
        assert not Path(f"{journal}.lock").exists()  # freed on a clean stop

    run(body, timeout=90)
    # A window holding the journal: the collector does not start beside it.
    window = QLockFile(f"{journal}.lock")
    assert window.tryLock(0)
    try:
        result = run_wsdmon(tmp_path, "collect", "--no-discovery", "--journal", str(journal), timeout=30)
    finally:
        window.unlock()
    assert result.returncode == EXIT_ALREADY_RUNNING, result.stderr
    assert f"(process {os.getpid()})" in result.stderr


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--store", "mysql://db/wsdmon"], "mysql:// is not a store location"),
        (["--journal", "a.sqlite3", "--store", "b.sqlite3"], "not allowed with argument"),
        (["--site", " "], "is not a site name"),
        (["--interface", ""], "argument --interface: an interface name or address is needed"),
        (["--notify-port", "many"], "argument --notify-port: invalid int value"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
    ids=[
        "other-scheme",
        "journal-and-store",
        "empty-site",
        "empty-interface",
        "port",
        "unknown",
    ],
)
def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, options: list[str], says: str) -> None:
    result = run_wsdmon(tmp_path, "collect", "--no-discovery", *options, timeout=30)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if "error:" in line]
    assert error.startswith(("wsdmon collect: error: ", "wsdmon: error: "))
    assert says in error
    assert "s3cret" not in result.stderr  # a password is never repeated


def test_a_store_path_is_the_journal_and_sigint_stops_cleanly(tmp_path: Path) -> None:
    """--store PATH is --journal PATH: the journal is made there and the start line names it; the
    site defaults to the host name; no Qt is loaded; Ctrl-C (SIGINT) stops it like SIGTERM."""
    store = tmp_path / "store.sqlite3"

    async def body() -> None:
        argv = [WSDMON, "collect", "--no-discovery", "--notify-port", "0", "--store", str(store)]
        collect = await Child.start("collect", argv)
        try:
            start = await collect.wait_for(lambda line: "collecting for site" in line)
            assert f"collecting for site {socket.gethostname()}: " in start
            assert start.endswith(f"interfaces none (no multicast discovery), journal {store}")
            # The engine alone: no Qt library is loaded in the process.
            maps = Path(f"/proc/{collect.process.pid}/maps").read_text()
            assert "libQt6" not in maps
            assert "PySide6" not in maps
            assert await collect.interrupt(STOP_WITHIN_S) == EXIT_OK
        finally:
            await collect.kill()
        assert any(line.endswith(f"stopped (journal {store})") for line in collect.lines)

    run(body, timeout=60)
    with Journal(store) as stored:
        assert stored.load_jobs() == []


WINDOWED = "import sys; sys.stderr = None; from wsdmon.app import main; sys.exit(main(sys.argv[1:]))"


def test_without_stderr_it_logs_beside_the_journal(tmp_path: Path) -> None:
    """wsdmon.exe is a windowed program: run as a start-up task it has no stderr (sys.stderr is
    None, as here); its log goes to collector.log beside collector.sqlite3."""
    journal = tmp_path / "collector.sqlite3"

    async def body() -> None:
        argv = [sys.executable, "-c", WINDOWED, "collect", "--no-discovery", "--notify-port", "0",
                "--journal", str(journal)]  # fmt: skip
        collect = await Child.start("collect", argv)
        try:
            await until(lambda: "collecting for site" in log_text(), "the start line in the log file")
            collect.process.send_signal(signal.SIGTERM)
            assert await collect.exit(STOP_WITHIN_S) == EXIT_OK
        finally:
            await collect.kill()
        assert collect.lines == []
        assert f"stopped (journal {journal})" in log_text()

    def log_text() -> str:
        path = tmp_path / "collector.log"
        return path.read_text() if path.exists() else ""

    run(body, timeout=60)


@pytest.mark.parametrize(
    "command", [[], ["watch", "--json"], ["collect"]], ids=["window", "watch", "collect"]
)
def test_every_engine_command_takes_store(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """--store is an engine option: the window, watch and collect read a journal path from it, and a
    PostgreSQL location alike (the window shows every site of it, shared_app.py; collect writes into
    it as its site; watch follows every site), never repeating its password."""
    from wsdmon.cli import parse_args

    assert parse_args([*command, "--store", "history.sqlite3"]).journal == Path("history.sqlite3")
    for location in ("postgresql://u:s3cret@db/wsdmon", "host=db dbname=wsdmon password=s3cret"):
        shared = parse_args([*command, "--store", location]).journal
        assert isinstance(shared, DatabaseLocation)
        assert "s3cret" not in str(shared)
        assert "s3cret" not in capsys.readouterr().err
