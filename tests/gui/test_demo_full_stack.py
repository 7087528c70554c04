"""Full stack: `wsdmon --demo` (simulator, engine on real loopback sockets, journal, bridge, models,
window) until a job has completed and one has failed; then the detail pane must show all seven
JobStatus sub-elements with the values the simulator sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import qasync

from wsdmon.app import Application
from wsdmon.cli import parse_args
from wsdmon.core import JobKey
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import FilterStateReason, JobStatus
from wsdmon.simulator import FilterOutcome, FilterPlan, JobPlan, Role
from wsdmon.widgets import SECTIONS

DEADLINE_S = 60.0


async def until(condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE_S
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def assert_pane_shows(pane: Any, sent: JobStatus) -> None:
    texts = {name: pane.section_text(name) for name in SECTIONS}
    assert texts["JobToken"] == sent.job_token
    assert str(sent.job_state) in texts["JobState"]
    for reason in sent.job_state_reasons:
        assert str(reason) in texts["JobStateReasons"]
    for f in sent.filter_statuses:
        name = f.dialect.rstrip("/").rpartition("/")[2]
        row = next(line for line in texts["FilterStatuses"].splitlines() if line.startswith(name))
        assert str(f.state) in row
        for reason in f.reasons:
            assert str(reason) in row
    assert str(sent.images_received) in texts["ImagesReceived"]
    assert sent.job_created_time is not None
    assert sent.job_completed_time is not None
    assert utc_text(sent.job_created_time) in texts["JobCreatedTime"]
    assert utc_text(sent.job_completed_time) in texts["JobCompletedTime"]
    assert texts["Duration"].strip()


@pytest.mark.timeout(120)
def test_demo_detail_pane_shows_what_the_simulator_sent(qapp: Any, tmp_path: Path) -> None:
    args = parse_args(["--demo", "--journal", str(tmp_path / "journal.sqlite3")])
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)

    async def scenario() -> None:
        app = Application(qapp, args)
        await app.start()
        try:
            server = app.simulator.device(Role.SCAN_SERVER)
            await until(lambda: app.devices.device(server.endpoint) is not None, "the scan server")
            # Besides the demo's own random jobs, one that surely completes and one that surely
            # fails (a filter error), so the test never waits on chance.
            good = server.submit_job(JobPlan(images=3, image_interval_s=0.1))
            bad = server.submit_job(
                JobPlan(
                    images=2,
                    image_interval_s=0.1,
                    filters=(
                        FilterPlan(ns.FILTER_FILESHARE),
                        FilterPlan(
                            ns.FILTER_EMAIL, FilterOutcome.ERROR, FilterStateReason.INVALID_SMTP_SERVER
                        ),
                    ),
                )
            )
            await asyncio.wait_for(asyncio.gather(good.wait(), bad.wait()), DEADLINE_S)
            table = app.window.job_table
            for job, failed in ((good, False), (bad, True)):
                sent = job.status()

                def shown(job: Any = job, sent: JobStatus = sent) -> bool:
                    row = app.jobs.row_of(JobKey(server.endpoint, job.token))
                    return row is not None and app.jobs.record(row).status == sent

                await until(shown, f"job {job.token} in its final state")
                assert table.select_key(JobKey(server.endpoint, job.token))
                record = table.current_record()
                assert record.is_failed is failed
                assert_pane_shows(app.window.detail, sent)
        finally:
            await app.stop()

    try:
        loop.run_until_complete(scenario())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
