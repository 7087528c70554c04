"""Start-up failures of the real `wsdmon` window and `wsdmon watch` processes (issue 11, item 2): a
busy notify port, a journal that cannot be written, a damaged journal, a second window on the same
journal. Each ends without a traceback, with a message that names the fix and the documented exit
code (cli.EXIT_*); a damaged journal is moved aside byte-identical and a fresh one started."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from wsdmon.cli import EXIT_ALREADY_RUNNING, EXIT_CANNOT_START, EXIT_OK
from wsdmon.net.engine import DEFAULT_NOTIFY_PORT
from wsdmon.store import Journal

from .wsdmon_process import damaged_journal, port_taken, run_wsdmon, sha256, start_wsdmon

pytestmark = pytest.mark.timeout(180)

WINDOW = ("--no-discovery", "--quit-after", "1")
WATCH = ("watch", "--json", "--no-discovery", "--duration", "1")


def no_traceback(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr


@pytest.mark.parametrize("command", [WINDOW, WATCH], ids=["window", "watch"])
def test_a_busy_default_notify_port_gives_way_to_a_free_one_and_says_which(tmp_path, command):
    with port_taken(DEFAULT_NOTIFY_PORT):
        result = run_wsdmon(tmp_path, *command, "--journal", str(tmp_path / "journal.sqlite3"))
    stderr = no_traceback(result)
    assert result.returncode == EXIT_OK, stderr
    m = re.search(rf"notify port {DEFAULT_NOTIFY_PORT} is in use .*listening on port (\d+)", stderr)
    assert m, stderr
    assert int(m[1]) not in {0, DEFAULT_NOTIFY_PORT}
    if command is WATCH:
        (line,) = [x for x in stderr.splitlines() if "notify port" in x]
        assert line.startswith("wsdmon: ")


@pytest.mark.parametrize("command", [WINDOW, WATCH], ids=["window", "watch"])
def test_a_busy_notify_port_asked_for_on_the_command_line_is_an_error(tmp_path, command):
    with port_taken(DEFAULT_NOTIFY_PORT):
        result = run_wsdmon(
            tmp_path, *command, "--notify-port", str(DEFAULT_NOTIFY_PORT), "--journal", str(tmp_path / "j")
        )
    stderr = no_traceback(result)
    assert result.returncode == EXIT_CANNOT_START, stderr
    assert "choose another notify port" in stderr


@pytest.mark.parametrize("command", [WINDOW, WATCH], ids=["window", "watch"])
def test_a_journal_that_cannot_be_written_is_named_with_the_fix(tmp_path, command):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("in the way\n")
    journal = not_a_folder / "journal.sqlite3"
    result = run_wsdmon(tmp_path, *command, "--notify-port", "0", "--journal", str(journal))
    stderr = no_traceback(result)
    assert result.returncode == EXIT_CANNOT_START, stderr
    assert str(journal) in stderr
    assert f"{not_a_folder} is a file, not a folder" in stderr
    assert "--journal PATH" in stderr
    if command is WATCH:
        (line,) = stderr.strip().splitlines()
        assert line.startswith("wsdmon: cannot write the journal")


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder nobody may write into. Root writes through permission bits, so as root (CI) it is
    a read-only tmpfs mounted by the test; otherwise a folder with mode 0500."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_read_only_folder_is_named_too(tmp_path, read_only_folder):
    journal = read_only_folder / "j.sqlite3"
    result = run_wsdmon(tmp_path, *WATCH, "--notify-port", "0", "--journal", str(journal))
    assert result.returncode == EXIT_CANNOT_START
    stderr = no_traceback(result)
    assert "wsdmon: cannot write the journal" in stderr
    assert str(journal) in stderr


@pytest.mark.parametrize("command", [WINDOW, WATCH], ids=["window", "watch"])
def test_a_damaged_journal_is_moved_aside_unchanged_and_a_new_one_started(tmp_path, command):
    path = tmp_path / "journal.sqlite3"
    digest = damaged_journal(path)
    result = run_wsdmon(tmp_path, *command, "--notify-port", "0", "--journal", str(path))
    stderr = no_traceback(result)
    assert result.returncode == EXIT_OK, stderr
    (moved,) = tmp_path.glob("journal.sqlite3.damaged-*[0-9]")
    assert re.fullmatch(r"journal\.sqlite3\.damaged-\d{8}-\d{6}", moved.name)
    assert sha256(moved) == digest  # never changed
    assert f"kept unchanged as {moved}" in stderr
    assert "malformed" in stderr
    with Journal(path) as fresh:  # a new, sound journal in its place
        assert fresh.load_jobs() == []
        assert list(fresh.messages_after(0)) == []


def wait_for(condition, what: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_one_window_per_journal(tmp_path):
    """A second window on the same journal says so and exits 1; another journal (the demo's is
    separate) is not blocked; a lock left by a killed window is taken over."""
    journal = tmp_path / "journal.sqlite3"
    lock = Path(f"{journal}.lock")
    first = start_wsdmon(tmp_path, "--no-discovery", "--notify-port", "0", "--journal", str(journal))
    try:
        wait_for(lambda: Path(f"{journal}-wal").exists() or first.poll() is not None, "the first window")
        assert first.poll() is None, first.communicate()
        assert lock.exists()
        second = run_wsdmon(tmp_path, *WINDOW, "--notify-port", "0", "--journal", str(journal))
        stderr = no_traceback(second)
        assert second.returncode == EXIT_ALREADY_RUNNING, stderr
        assert f"already running with the journal {journal} (process {first.pid})" in stderr
        other = run_wsdmon(tmp_path, *WINDOW, "--notify-port", "0", "--journal", str(tmp_path / "other"))
        assert other.returncode == EXIT_OK, no_traceback(other)
    finally:
        first.kill()  # as a crash would: the lock file stays behind
        first.communicate()
    assert lock.exists()
    again = run_wsdmon(tmp_path, *WINDOW, "--notify-port", "0", "--journal", str(journal))
    assert again.returncode == EXIT_OK, no_traceback(again)


def test_the_demo_keeps_its_history_with_the_same_devices_across_restarts(tmp_path):
    """Issue 11, item 10: `wsdmon --demo` twice. Its journal lives in the user's data folder beside
    (not in) the default journal, survives the first run, and the second run meets the same two
    demo devices again (stable endpoints) instead of two new ones of the same name."""
    demo = ("--demo", "--quit-after", "6")
    first = run_wsdmon(tmp_path, *demo)
    assert first.returncode == EXIT_OK, no_traceback(first)
    journal = tmp_path / "data" / "wsdmon" / "demo-journal.sqlite3"
    assert journal.exists()
    assert not (tmp_path / "data" / "wsdmon" / "journal.sqlite3").exists()  # the real one is untouched
    with Journal(journal) as j:
        devices = {d.endpoint: d.name for d in j.load_devices()}
        jobs = {job.key for job in j.load_jobs()}
    assert sorted(devices.values()) == ["Demo Scan Server 1", "Demo Scanner 1"]
    assert jobs, "the first demo run journalled no job"
    second = run_wsdmon(tmp_path, *demo)
    assert second.returncode == EXIT_OK, no_traceback(second)
    with Journal(journal) as j:
        assert {d.endpoint: d.name for d in j.load_devices()} == devices  # the same two, no more
        assert jobs <= {job.key for job in j.load_jobs()}  # the first run's jobs are still there
