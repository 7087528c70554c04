"""Issue 14's Done-when with real namespaces: two sites, each its own subnet in network namespaces
made by the test, each with its own `wsdmon-sim` and its own `wsdmon collect` discovering it by
multicast, one PostgreSQL for both (sites_netns.py says how it is built). `wsdmon watch --json
--store` and the window on the store (offscreen), each as a SELECT-only role, show both sites live
and every job exactly as the simulators ended it; then site A's PC link goes down and comes back
during its flow of jobs: every notification collector A acknowledged is stored once, the jobs end,
and the subscription is back within one renew period."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.wsdmon_process import WSDMON, env_command
from wsdmon.cli import EXIT_OK
from wsdmon.simulator.config import PIPELINE_DEPTH

from .sites_netns import (
    Process,
    SimRecord,
    StoredJob,
    TwoSites,
    mismatches,
    stored_jobs,
    stored_messages,
    two_sites,
    until,
)

__all__ = ["two_sites"]

pytestmark = pytest.mark.timeout(180)

LIVE_JOBS = 3  # jobs per site that must start and end while watch follows
RECOVERY_SLACK_S = 1.5  # the Subscribe round trip on a busy 2-core machine, over the renew period
# Link down until the collector failed to subscribe this often: by then the backoff (1, 2, 4, 8 s…)
# would wait 16 s ± 20 % before the next try, longer than the 6 s renew period of the 12 s grant.
FAILED_SUBSCRIBES = 4


def _objects(watch: Process) -> list[dict[str, Any]]:
    return [json.loads(text) for text in watch.texts() if text.startswith("{")]


def _live_ended(watch: Process, site: str) -> dict[str, dict[str, Any]]:
    """The last live (not replayed) line of each job of `site` that watch printed as ended."""
    return {
        o["job_token"]: o
        for o in _objects(watch)
        if o["kind"] == "job" and o.get("site") == site and o["ended"] and not o.get("replayed")
    }


def test_watch_follows_both_sites_live_and_every_job_is_exact(two_sites: TwoSites, tmp_path: Path) -> None:
    sites = two_sites.sites
    argv = [*env_command(tmp_path / "watch"), WSDMON, "watch", "--json", "--store", two_sites.viewer_dsn]
    watch = Process("watch", argv)
    try:
        for name, site in sites.items():
            endpoint = site.record().endpoint
            watch.wait_for(
                lambda text, name=name, endpoint=endpoint: (
                    text.startswith("{")
                    and (o := json.loads(text))["kind"] == "device"
                    and (o.get("site"), o["device"]) == (name, endpoint)
                )
            )
        already = {name: set(site.record().created) for name, site in sites.items()}
        checked: dict[str, Any] = {}  # each site's record as the last check read it

        def live_jobs_seen() -> bool:
            for name, site in sites.items():
                checked[name] = site.record()
                new = [t for t in checked[name].ended if t not in already[name]]
                if len(new) < LIVE_JOBS or not set(new) <= set(_live_ended(watch, name)):
                    return False
            return True

        until(live_jobs_seen, f"{LIVE_JOBS} new jobs per site ended in watch", timeout=45)
        for name, site in sites.items():
            # The jobs that had ended when watch was found to show them all (a job that ends after
            # that check may not be printed yet: it is not what this compares).
            printed = _live_ended(watch, name)
            for token in set(checked[name].ended) - already[name]:
                o, end = printed[token], checked[name].ended[token]
                assert o["device"] == checked[name].endpoint, o
                assert (o["job_state"], o["images_received"]) == (end.state, end.images), (o, end)
                assert end.reason in o["job_state_reasons"], (o, end)
            # Every job the simulator ended so far, also those from before watch started, is in the
            # store as it ended, and the store holds no job the simulator never made.
            record = site.record()
            until(
                lambda site=site, record=record: (
                    not mismatches(record, stored_jobs(two_sites.dsn, site.name, record.endpoint))
                ),
                f"{name}'s jobs stored as the simulator ended them",
                timeout=15,
            )
        assert watch.stop(signal.SIGTERM) == EXIT_OK, "\n".join(watch.texts()[-30:])
    finally:
        watch.kill()
    assert not [t for t in watch.texts() if "Traceback" in t]


def _window_jobs(shared: Any, site: str) -> dict[str, StoredJob]:
    """The jobs of `site` in the shared window's job table, as the store's rows are compared."""
    proxy = shared.window.proxy
    jobs = {}
    for row in range(proxy.rowCount()):
        rec = proxy.record(row)
        if rec.key.site == site:
            s = rec.status
            reasons = tuple(str(r) for r in s.job_state_reasons)
            over = rec.ended or rec.is_terminal
            jobs[rec.key.job_token] = StoredJob(
                rec.key.job_token, rec.key.generation, str(s.job_state), reasons, s.images_received, over
            )
    return jobs


def test_the_window_shows_both_sites_live_and_every_job_exact(
    qapp: Any, two_sites: TwoSites, tmp_path: Path
) -> None:
    """The window on the shared store (offscreen, this process, a SELECT-only role) shows each site's
    device under its site, new jobs of both sites as they end, and every job each simulator ended,
    exactly so (state, reason, images), and no job a simulator never made."""
    from PySide6.QtCore import QSettings

    from tests.gui.test_app import run
    from wsdmon.shared_app import SharedWindows

    sites = two_sites.sites

    async def wait(condition: Any, what: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.1)

    async def scenario() -> None:
        settings = QSettings(str(tmp_path / "wsdmon.ini"), QSettings.Format.IniFormat)
        windows = SharedWindows(qapp, settings)
        try:
            shared = await windows.open(two_sites.viewer_dsn)
            expected = {(name, site.record().endpoint) for name, site in sites.items()}
            await wait(
                lambda: {(r.site, r.endpoint) for r in shared.devices.devices()} == expected,
                "both sites' devices in the window",
                timeout=20,
            )
            assert "2 site" in shared.window.windowTitle()
            # Each as its collector knows it (subscribed), each collector heard from.
            from wsdmon.core.sites import CollectorState
            from wsdmon.models import SubscriptionState

            await wait(
                lambda: {r.subscription for r in shared.devices.devices()} == {SubscriptionState.SUBSCRIBED},
                "both sites' devices subscribed, as their collectors say",
                timeout=20,
            )
            assert {n: shared.devices.collector(n).state for n in sites} == dict.fromkeys(  # type: ignore[union-attr]
                sites, CollectorState.LIVE
            )
            already = {name: set(site.record().ended) for name, site in sites.items()}

            def live_jobs_shown() -> bool:
                for name, site in sites.items():
                    new = set(site.record().ended) - already[name]
                    shown = _window_jobs(shared, name)
                    if len(new) < LIVE_JOBS or not all(shown.get(t) and shown[t].over for t in new):
                        return False
                return True

            await wait(live_jobs_shown, f"{LIVE_JOBS} new jobs per site ended in the window", timeout=45)
            for name, site in sites.items():
                record = site.record()
                await wait(
                    lambda record=record, name=name: not mismatches(record, _window_jobs(shared, name)),
                    f"{name}'s jobs in the window as the simulator ended them",
                    timeout=15,
                )
        finally:
            await windows.stop_all()

    run(qapp, scenario)


def _renew_period(record: SimRecord) -> float:
    """Seconds between the last two renewals of the current subscription, as the simulator saw them."""
    current = record.granted[-1][1]
    times = [at for at, ident in record.renewed if ident == current]
    assert len(times) >= 2, record.renewed
    return times[-1] - times[-2]


def test_a_link_down_and_up_at_site_a_loses_nothing_and_the_subscription_returns(
    two_sites: TwoSites,
) -> None:
    site = two_sites.sites["site-a"]
    assert site.collector is not None
    until(lambda: len([1 for _, i in site.record().renewed if i == site.record().granted[-1][1]]) >= 2,
          "two renewals of site A's subscription", timeout=20)  # fmt: skip
    period = _renew_period(site.record())
    before = site.record()
    log_start = len(site.collector.texts())

    site.link(up=False)
    try:
        # Down until the subscription lapsed and the collector failed to subscribe again a few times.
        until(
            lambda: (
                sum("subscribe failed" in t for t in site.collector.texts()[log_start:]) >= FAILED_SUBSCRIBES
            ),
            "collector A failing to subscribe while its link is down",
            timeout=45,
            poll=0.02,
        )
    finally:
        site.link(up=True)
    up = time.monotonic()
    until(lambda: site.record().granted[-1][0] > up, "collector A subscribed again", timeout=30, poll=0.02)
    recovery = site.record().granted[-1][0] - up
    assert recovery <= period + RECOVERY_SLACK_S, f"back after {recovery:.1f} s; renew period {period:.1f} s"
    print(f"site A: back {recovery:.2f} s after the link came up; renew period {period:.2f} s")
    unheard = set(site.record().ended) - set(before.ended)  # their end notifications never arrived
    assert unheard  # checked below with every other job: settled by the snapshot after resubscribing

    # Jobs after the outage are heard of again; then the simulator stops: it delivers what it queued,
    # says SubscriptionEnd, and logs what the collector acknowledged.
    after = set(site.record().ended)
    until(lambda: len(set(site.record().ended) - after) >= 2, "two more jobs at site A", timeout=20)
    assert site.simulator.stop(signal.SIGINT) == 0
    record = site.record()
    assert len(record.granted) >= 2
    assert set(record.delivered) == {ident for _, ident in record.granted}
    acknowledged = record.acknowledged

    def all_stored() -> bool:
        return stored_messages(two_sites.dsn, site.name)[0] >= acknowledged

    until(all_stored, "every acknowledged notification of site A stored", timeout=20)
    messages, distinct = stored_messages(two_sites.dsn, site.name)
    assert messages == distinct  # none twice
    # Those the simulator counted, at most the few whose answer the outage swallowed, and the batch
    # its stop cut short before it read their 202s (at most a pipeline's depth; seen once with the
    # suite in two workers: 242 stored, 238 acknowledged, 3 unanswered). None twice.
    most = acknowledged + record.unanswered + PIPELINE_DEPTH
    assert acknowledged <= messages <= most, (messages, acknowledged, record)
    print(f"site A: {messages} stored, {acknowledged} acknowledged, {record.unanswered} unanswered")
    until(
        lambda: not mismatches(record, stored_jobs(two_sites.dsn, site.name, record.endpoint)),
        "site A's jobs stored as the simulator ended them",
        timeout=15,
    )
    assert not [t for t in site.collector.texts() if "Traceback" in t]
    # The site goes on for whoever uses the fixture next: a new simulator run, found and subscribed.
    site.start_simulator()
    until(lambda: site.record().granted, "collector A subscribed to the new simulator")
