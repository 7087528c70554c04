"""`wsdmon watch --json` as a script uses it (issue 11, item 11): lines replayed from the journal are
marked and carry when the change was seen; --since limits them; `| head -1` ends quietly with 0; a
nonsense --probe is a usage error; an unreachable --device is offline with its error; job lines name
the device, the job and the user. All real `wsdmon` processes; devices only on loopback."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.gui.factory import SERVER, SERVER2, sample_jobs
from wsdmon.core.devices import DeviceRecord
from wsdmon.simulator import Role, Scenario, Simulator, SimulatorConfig
from wsdmon.store import Journal

from .sim_support import run
from .wsdmon_process import WSDMON, environment, run_wsdmon

pytestmark = pytest.mark.timeout(180)

WATCH = ("watch", "--json", "--no-discovery", "--notify-port", "0")
NAMES = {SERVER: "Front desk scan server", SERVER2: "Finance scan server"}


def filled_journal(path: Path, now: datetime, routine: int = 40) -> list[Any]:
    """A journal as a previous run left it: two named scan servers and their jobs, seen over the
    last hours (routine jobs every six minutes back from half an hour ago)."""
    jobs = sample_jobs(now, routine=routine)
    with Journal(path) as journal:
        for n, (endpoint, name) in enumerate(NAMES.items()):
            journal.upsert_device(
                DeviceRecord(endpoint, friendly_name=name, last_seen=now - timedelta(hours=3 * n))
            )
        journal.upsert_jobs(jobs, 0)
    return jobs


def lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def watch(home: Path, journal: Path, *args: str) -> list[dict[str, Any]]:
    result = run_wsdmon(home, *WATCH, "--duration", "1", "--journal", str(journal), *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return lines(result.stdout)


def test_replayed_lines_are_marked_and_say_when_they_were_seen(tmp_path):
    now = datetime.now(UTC)
    jobs = filled_journal(tmp_path / "j.sqlite3", now)
    out = watch(tmp_path, tmp_path / "j.sqlite3")
    assert out
    assert all(o["replayed"] is True for o in out)
    assert {o["device"] for o in out if o["kind"] == "device"} == set(NAMES)
    by_token = {o["job_token"]: o for o in out if o["kind"] == "job"}
    assert set(by_token) == {j.key.job_token for j in jobs}
    for job in jobs:
        line = by_token[job.key.job_token]
        assert datetime.fromisoformat(line["seen"]) == job.last_update
        assert line["seen"].endswith("+00:00")
        assert line["device_name"] == NAMES[job.key.device]
        assert line["job_name"] == job.psp_display_name == "Scan to file share and mail"
        assert line["user"] == job.job_originating_user_name == "CONTOSO\\jdoe"


def test_since_limits_the_replayed_lines(tmp_path):
    now = datetime.now(UTC)
    jobs = filled_journal(tmp_path / "j.sqlite3", now)
    cut = now - timedelta(hours=1, minutes=3)  # between two routine jobs (six minutes apart)
    recent = {j.key.job_token for j in jobs if j.last_update >= cut}
    assert 0 < len(recent) < len(jobs)
    out = watch(tmp_path, tmp_path / "j.sqlite3", "--since", cut.isoformat())
    assert {o["job_token"] for o in out if o["kind"] == "job"} == recent
    assert {o["device"] for o in out if o["kind"] == "device"} == {SERVER}  # SERVER2: 3 h ago
    assert all(datetime.fromisoformat(o["seen"]) >= cut for o in out)
    # A duration counts back from the start; 0s replays nothing.
    assert watch(tmp_path, tmp_path / "j.sqlite3", "--since", "0s") == []
    everything = watch(tmp_path, tmp_path / "j.sqlite3", "--since", "3650d")
    assert len([o for o in everything if o["kind"] == "job"]) == len(jobs)


def test_since_rejects_what_is_neither_a_time_nor_a_duration(tmp_path):
    result = run_wsdmon(tmp_path, *WATCH, "--since", "yesterday", "--journal", str(tmp_path / "j"))
    assert result.returncode == 2
    assert "argument --since: 'yesterday' is neither a duration" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_closed_stdout_ends_watch_quietly_with_status_0(tmp_path):
    """`wsdmon watch … | head -1`: far more replayed lines than a pipe holds, so watch is writing
    when head exits; watch must stop at once, say nothing, and exit 0 (pipefail shows its status)."""
    journal = tmp_path / "j.sqlite3"
    filled_journal(journal, datetime.now(UTC), routine=1500)
    command = " ".join([WSDMON, *WATCH, "--duration", "60", "--journal", str(journal)])
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} 2>{tmp_path / 'stderr'} | head -1"],
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=50,  # well before --duration: it stopped because the reader went away
        check=False,
    )
    assert result.returncode == 0, (tmp_path / "stderr").read_text()
    assert len(result.stdout.splitlines()) == 1
    assert json.loads(result.stdout)["replayed"] is True
    assert (tmp_path / "stderr").read_text() == ""


@pytest.mark.parametrize("command", [(), ("watch", "--json")], ids=["window", "watch"])
@pytest.mark.parametrize("target", ["nonsense::", "host:port", "[::1]x", "bad host", "a:70000"])
def test_a_nonsense_probe_target_is_a_usage_error(tmp_path, command, target):
    journal = str(tmp_path / "j")
    result = run_wsdmon(tmp_path, *command, "--no-discovery", "--probe", target, "--journal", journal)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (error,) = [line for line in result.stderr.splitlines() if "error:" in line]
    assert f"argument --probe: {target!r}" in error


@pytest.mark.parametrize("target", ["127.0.0.1", "localhost:3702", "::1", "[::1]:3702", "scanner.local"])
def test_sound_probe_targets_are_accepted(target):
    from wsdmon.cli import parse_args

    assert parse_args(["watch", "--json", "--probe", target]).probe == [target]


def test_an_unreachable_device_is_offline_with_its_error(tmp_path):
    url = "http://127.0.0.1:1/wsd"  # nothing listens on port 1 of loopback: refused at once
    result = run_wsdmon(
        tmp_path, *WATCH, "--duration", "3", "--device", url, "--journal", str(tmp_path / "j.sqlite3")
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    (device,) = [o for o in lines(result.stdout) if o["kind"] == "device"]
    assert device["device"] == url
    assert device["online"] is False
    assert device["error"]
    assert "replayed" not in device
    assert datetime.fromisoformat(device["seen"]) > datetime.now(UTC) - timedelta(minutes=1)


def test_live_job_lines_name_the_device_the_job_and_the_user(tmp_path):
    async def body() -> None:
        sim = Simulator(
            SimulatorConfig(
                role=Role.SCAN_SERVER,
                scenario=Scenario.STEADY,
                rate=2.0,
                time_scale=20.0,
                host="127.0.0.1",
                discovery=False,
                wsd_port=0,
                name="Loopback",
            )
        )
        await sim.start()
        try:
            server = sim.device(Role.SCAN_SERVER)
            proc = await asyncio.create_subprocess_exec(
                WSDMON, *WATCH, "--duration", "60", "--device", server.metadata_url,
                "--journal", str(tmp_path / "j.sqlite3"),
                env=environment(tmp_path), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            # Until it prints an ended job (--duration 60 is a ceiling), then Ctrl-C: exit 0.
            assert proc.stdout is not None
            head = b""
            while not any(o["kind"] == "job" and o["ended"] for o in lines(head.decode())):
                printed = await asyncio.wait_for(proc.stdout.readline(), 40)
                if not printed:
                    break
                head += printed
            proc.send_signal(signal.SIGINT)
            rest, stderr = await proc.communicate()
            stdout = head + rest
        finally:
            await sim.stop()
        assert proc.returncode == 0, stderr.decode()
        out = lines(stdout.decode())
        ended = [o for o in out if o["kind"] == "job" and o["ended"]]
        assert ended, out[:5]
        for line in ended:
            assert "replayed" not in line
            assert line["device"] == server.endpoint
            assert line["device_name"] == server.friendly_name
            assert line["job_name"]
            assert line["user"]
            assert line["seen"]

    run(body, timeout=60)
