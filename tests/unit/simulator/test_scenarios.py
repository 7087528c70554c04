"""Seeded job plans (scenarios.py): repeatable, and the steady mix the issue asks for."""

from __future__ import annotations

import random

import pytest

from wsdmon.simulator import FilterOutcome, JobEnd, ScanEnd
from wsdmon.simulator.plans import VENDOR_NS, FilterPlan, JobPlan
from wsdmon.simulator.scenarios import job_plan, scan_job_plan, steady_deck


def test_steady_deck_holds_the_realistic_mix() -> None:
    deck = steady_deck(random.Random(1))
    assert len(deck) == 20
    assert {kind: deck.count(kind) for kind in set(deck)} == {
        "ok": 13, "warning": 2, "error": 2, "failure": 1, "cancel": 1, "timeout": 1,
    }  # fmt: skip


def test_same_seed_same_plans() -> None:
    def plans(seed: int) -> list[JobPlan]:
        rng = random.Random(seed)
        return [job_plan(kind, rng) for kind in steady_deck(rng)]

    assert plans(42) == plans(42)
    assert plans(42) != plans(43)


@pytest.mark.parametrize(
    ("kind", "outcome", "end"),
    [
        ("ok", None, JobEnd.NORMAL),
        ("warning", FilterOutcome.WARNING, JobEnd.NORMAL),
        ("error", FilterOutcome.ERROR, JobEnd.NORMAL),
        ("failure", FilterOutcome.FAILURE, JobEnd.NORMAL),
        ("cancel", None, JobEnd.CANCEL),
        ("timeout", None, JobEnd.TIMEOUT),
    ],
)
def test_job_plan_kinds(kind: str, outcome: FilterOutcome | None, end: JobEnd) -> None:
    plan = job_plan(kind, random.Random(7))
    assert plan.end is end
    outcomes = [f.outcome for f in plan.filters]
    if outcome is None:
        assert set(outcomes) == {FilterOutcome.SUCCESS}
    else:
        assert outcomes.count(outcome) == 1
    assert 1 <= plan.images <= 6


def test_fast_and_vendor_plans() -> None:
    fast = job_plan("ok", random.Random(1), fast=True)
    assert fast.image_interval_s == fast.start_delay_s == 0
    assert all(f.duration_s == 0 for f in fast.filters)
    vendor = job_plan("ok", random.Random(1), vendor=True)
    assert vendor.vendor
    assert vendor.filters[-1].dialect.startswith(VENDOR_NS)
    assert str(vendor.document_format).startswith("image/")


def test_scan_job_plans_mostly_complete() -> None:
    rng = random.Random(5)
    ends = [scan_job_plan(rng).end for _ in range(200)]
    assert ends.count(ScanEnd.COMPLETED) > 150
    assert ScanEnd.CANCELED in ends
    assert ScanEnd.ABORTED in ends


def test_plans_refuse_what_cannot_be() -> None:
    with pytest.raises(ValueError, match="filter"):
        JobPlan(filters=())
    with pytest.raises(ValueError, match="images"):
        JobPlan(images=-1)
    assert FilterPlan().outcome is FilterOutcome.SUCCESS
