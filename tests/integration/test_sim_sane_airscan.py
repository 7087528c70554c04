"""A real WS-Scan client scans from the simulator: `scanimage` through sane-airscan (Debian packages
sane-airscan and sane-utils), in a peer network namespace, scans one page from the simulated scanner
into a PNG whose header and data are checked, while a plain WS-Eventing subscriber (peers/
scan_subscriber.py) gets that job's JobStatusEvents from Pending to Completed and its JobEndStateEvent
with ScansCompleted 1, and the real `wsdmon watch --json` (the installed console script, in the
client's namespace, subscribed to the same scanner by its metadata URL before the scan starts) prints
that job live from Pending to Completed with ScansCompleted 1 (issue 12, Done-when 1).

sane-airscan finds the scanner through an airscan.conf `[devices]` line naming the simulator's
service URL (SANE_CONFIG_DIR points at the test's own directory), so the test does not depend on
multicast timing; the simulator still runs with WS-Discovery on its namespace's interface."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from .sim_netns import Child, NetnsPair, netns_pair, peer_command, sim_command
from .sim_support import run
from .wsdmon_process import WSDMON, env_command

pytestmark = [pytest.mark.netns, pytest.mark.slow]

SCANIMAGE = shutil.which("scanimage") or "/usr/bin/scanimage"
AIRSCAN = Path("/usr/lib/x86_64-linux-gnu/sane/libsane-airscan.so.1")
WIDTH_MM, HEIGHT_MM, DPI = 100, 80, 100
SCAN_TIMEOUT_S = 60


def expected_pixels(mm: float, dpi: int) -> int:
    """Pixels of `mm` at `dpi`, rounded as SANE backends do."""
    return round(mm / 25.4 * dpi)


def read_png(data: bytes) -> tuple[int, int, int, int, bytes]:
    """Width, height, bit depth, colour type and the inflated image data of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, header, idat = 8, None, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    assert header is not None, "PNG without IHDR"
    return (*header, zlib.decompress(b"".join(idat)))


async def run_in(pair: NetnsPair, argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *pair.exec(pair.peer, *argv),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), SCAN_TIMEOUT_S)
    return process.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


def events(child: Child, kind: str) -> list[dict[str, object]]:
    found = []
    for line in child.lines:
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("event") == kind:
                found.append(event)
    return found


def json_line(line: str) -> dict[str, Any] | None:
    return json.loads(line) if line.startswith("{") else None


def subscribed_device(line: str) -> bool:
    return (o := json_line(line)) is not None and o["kind"] == "device" and o["subscribed"]


def watch_command(pair: NetnsPair, tmp_path: Path, metadata_url: str) -> list[str]:
    """`wsdmon watch --json` (the installed console script) in the peer namespace, with its own data
    and settings folders and journal, subscribed to the device at `metadata_url` (no multicast)."""
    return pair.exec(
        pair.peer, *env_command(tmp_path / "watch"), WSDMON, "watch", "--json", "--no-discovery",
        "--device", metadata_url, "--journal", str(tmp_path / "watch.sqlite3"), "--notify-port", "0",
    )  # fmt: skip


def check_watch_saw_the_job(watch: Child, job_id: int) -> None:
    """watch printed scan job `job_id` from its start (Pending, nothing scanned) to Completed with
    ScansCompleted 1, each line a live one (not replayed) of kind "scan"."""
    lines = [o for line in watch.lines if (o := json_line(line)) and o["kind"] == "job"]
    mine = [o for o in lines if o["job_token"] == str(job_id)]
    assert mine, f"watch printed no line for scan job {job_id}:\n" + "\n".join(watch.lines[-40:])
    assert {o["job_kind"] for o in mine} == {"scan"}
    assert not any(o.get("replayed") for o in mine)
    assert {o["generation"] for o in mine} == {0}
    assert mine[0]["job_state"] == "Pending"
    assert mine[0]["images_received"] == 0
    assert not mine[0]["ended"]
    assert "Processing" in [o["job_state"] for o in mine]
    last = mine[-1]
    assert (last["job_state"], last["images_received"], last["ended"]) == ("Completed", 1, True)
    assert last["job_name"] == "sane-airscan request"
    assert last["user"] == "sane-airscan"
    assert last["device_name"]  # the FriendlyName from its metadata


def test_scanimage_scans_a_page_from_the_simulated_scanner(tmp_path: Path) -> None:
    if not shutil.which(SCANIMAGE) or not AIRSCAN.exists():
        reason = "scanimage / sane-airscan not installed: apt-get install sane-airscan sane-utils"
        print(reason)
        pytest.skip(reason)
    with netns_pair() as pair:

        async def body() -> None:
            children: list[Child] = []
            try:
                sim_args = ["--role", "scan-device", "--interface", pair.sim_if, "--scenario", "idle"]
                sim = await Child.start("simulator", sim_command(pair, *sim_args))
                children.append(sim)
                ready = await sim.wait_for(lambda line: " service http://" in line)
                service = re.search(r" service (http://\S+)", ready)
                assert service is not None
                url = service[1]
                assert url.startswith(f"http://{pair.sim_addr}:")

                subscriber = await Child.start(
                    "subscriber", peer_command(pair, "scan_subscriber.py", pair.peer_addr, url)
                )
                children.append(subscriber)
                await subscriber.wait_for(lambda line: '"subscribed"' in line)
                (subscribed,) = events(subscriber, "subscribed")
                assert subscribed["contexts"] == ["test-context"]  # one DestinationToken per destination
                assert len(subscribed["tokens"]) == 1  # type: ignore[arg-type]

                # The real `wsdmon watch --json`, in the client's namespace, subscribed to the same
                # scanner by its metadata URL, before anything is scanned.
                metadata = re.search(r": metadata (http://\S+),", ready)
                assert metadata is not None, ready
                watch = await Child.start("watch", watch_command(pair, tmp_path, metadata[1]))
                children.append(watch)
                await watch.wait_for(
                    lambda line: (
                        (o := json_line(line)) is not None and o["kind"] == "device" and o["subscribed"]
                    ),
                    timeout=30,
                )

                config = tmp_path / "sane"
                config.mkdir()
                (config / "dll.conf").write_text("airscan\n")
                (config / "airscan.conf").write_text(
                    f'[devices]\n"wsdmon sim" = {url}, WSD\n[options]\ndiscovery = disable\n'
                )
                env = dict(os.environ, SANE_CONFIG_DIR=str(config))
                code, out, err = await run_in(pair, [SCANIMAGE, "-L"], env)
                assert code == 0, err
                names = re.findall(r"device `(airscan:[^']*wsdmon sim)'", out)
                assert names, f"scanimage -L did not list the simulator:\n{out}\n{err[-2000:]}"

                image = tmp_path / "page.png"
                scan = [SCANIMAGE, "-d", names[0], "--resolution", str(DPI), "--mode", "Color"]
                scan += ["-x", str(WIDTH_MM), "-y", str(HEIGHT_MM), "--format=png", "-o", str(image)]
                code, out, err = await run_in(pair, scan, env)
                assert code == 0, f"scanimage failed ({code}):\n{err[-3000:]}"

                width, height, depth, color_type, pixels = read_png(image.read_bytes())
                assert (width, height) == (expected_pixels(WIDTH_MM, DPI), expected_pixels(HEIGHT_MM, DPI))
                assert (depth, color_type) == (8, 2)  # 8-bit RGB
                assert len(pixels) == height * (1 + 3 * width)  # a filter byte and RGB per row

                # The simulator's side: the job a client created ran to the end with one image.
                created = await sim.wait_for(lambda line: "created by a client" in line)
                job_id = int(re.search(r"scan job (\d+) created", created)[1])  # type: ignore[index]
                await subscriber.wait_for(lambda line: '"job-end"' in line)
                statuses = [e for e in events(subscriber, "job-status") if e["job_id"] == job_id]
                assert statuses[0]["state"] == "Pending"
                assert statuses[0]["scans_completed"] == 0
                assert any(e["state"] == "Processing" for e in statuses)
                assert statuses[-1]["state"] == "Completed"
                assert statuses[-1]["scans_completed"] == 1
                (end,) = [e for e in events(subscriber, "job-end") if e["job_id"] == job_id]
                assert end["state"] == "Completed"
                assert end["scans_completed"] == 1
                assert end["job_name"] == "sane-airscan request"  # the name sane-airscan sends
                assert end["user"] == "sane-airscan"
                await watch.wait_for(
                    lambda line: (
                        (o := json_line(line)) is not None
                        and o["kind"] == "job"
                        and o["job_token"] == str(job_id)
                        and o["ended"]
                    )
                )

                # What `wsdmon watch --json` printed of that job, live, from its start to the end.
                check_watch_saw_the_job(watch, job_id)
                assert await watch.interrupt() == 0, "\n".join(watch.lines[-40:])

                await subscriber.send("quit")
                assert await subscriber.exit() == 0, "\n".join(subscriber.lines)
                assert await sim.interrupt() == 0, "\n".join(sim.lines)
            finally:
                for child in reversed(children):
                    await child.kill()

        run(body, timeout=120)
