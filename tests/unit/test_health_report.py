"""The words of a device's health (support/health_report.py): every finding has a sentence, and
advice exactly when its verdict can be a warning or problem; fields come from the evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from wsdmon.core import DeviceError, DeviceErrorKind, JobKey
from wsdmon.core.health import DeviceHealth, HealthCheck, HealthEvidence, HealthFinding, HealthResult
from wsdmon.core.selfcheck import Verdict
from wsdmon.support.health_report import WORDS, advice, duration, health_json, health_text, sentence

T = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
FULL = HealthEvidence(
    first_at=T,
    last_at=T,
    addresses=("http://10.0.0.9/",),
    interface="192.168.1.5/24",
    endpoints=("urn:uuid:x",),
    seconds=-420.0,
    count=3,
    code="UnableToRenew",
    reason="busy",
    jobs=(JobKey("urn:uuid:d", "job-7"),),
    messages=(11, 12),
    error=DeviceError(DeviceErrorKind.UNREACHABLE, "http://127.0.0.1:1/", reason="Connection refused"),
)
# Findings that are only ever OK (or not known): they need no advice.
QUIET = {
    HealthFinding.NOT_KNOWN_YET,
    HealthFinding.FOUND_BY_MULTICAST,
    HealthFinding.PROBE_REPLIES_ARRIVE,
    HealthFinding.MULTICAST_ARRIVES,
    HealthFinding.ADDRESSES_OK,
    HealthFinding.IDENTITY_STABLE,
    HealthFinding.SCAN_SERVICE_PRESENT,
    HealthFinding.NOT_A_SCANNER,
    HealthFinding.SUBSCRIPTION_ACTIVE,
    HealthFinding.NO_FAULTS,
    HealthFinding.JOBS_MOVING,
    HealthFinding.CLOCK_IN_STEP,
}


@pytest.mark.parametrize("finding", list(HealthFinding))
def test_every_finding_has_words_that_format(finding: HealthFinding) -> None:
    assert finding in WORDS
    for said in (HealthEvidence(), FULL):
        result = HealthResult(HealthCheck.DISCOVERY, Verdict.WARNING, finding, said)
        assert sentence(result)
        assert "{" not in sentence(result)
        assert bool(advice(result)) is (finding not in QUIET)


def test_fields_reach_the_sentence() -> None:
    clock = HealthResult(HealthCheck.CLOCK, Verdict.WARNING, HealthFinding.CLOCK_OFFSET, FULL)
    assert sentence(clock) == "its clock is 7 min behind this computer's"
    unread = HealthResult(HealthCheck.SCAN_SERVICE, Verdict.PROBLEM, HealthFinding.METADATA_UNREADABLE, FULL)
    assert (
        sentence(unread)
        == "its metadata could not be read: cannot connect to 127.0.0.1:1 (Connection refused)"
    )
    assert [duration(x) for x in (0.25, 3.21, 600, 7200, 86400 * 3)] == [
        "250 ms",
        "3.2 s",
        "10 min",
        "2.0 h",
        "3 days",
    ]


def test_text_and_json() -> None:
    results = (
        HealthResult(HealthCheck.DISCOVERY, Verdict.OK, HealthFinding.FOUND_BY_MULTICAST, FULL),
        HealthResult(HealthCheck.JOBS, Verdict.WARNING, HealthFinding.JOBS_STUCK, FULL),
    )
    health = DeviceHealth("urn:uuid:d", T, results)
    lines = health_text(health, "Office MFP")
    assert lines[0] == "Device Office MFP (urn:uuid:d): WARNING"
    assert lines[2].startswith(
        "  WARNING   jobs           3 job(s) without progress and without an end state for 7 min."
    )
    assert (
        "Evidence: first 2026-12-06T08:00:00+00:00; last 2026-12-06T08:00:00+00:00; jobs job-7;" in lines[2]
    )
    assert "journal messages 11, 12." in lines[2]
    assert "Next: look at the device's panel" in lines[2]
    doc = json.loads(json.dumps(health_json(health, "Office MFP")))
    assert (doc["device"], doc["name"], doc["verdict"]) == ("urn:uuid:d", "Office MFP", "warning")
    jobs = doc["checks"][1]
    assert (jobs["check"], jobs["finding"], jobs["count"], jobs["seconds"]) == (
        "jobs",
        "jobs-stuck",
        3,
        -420.0,
    )
    assert jobs["jobs"] == [{"device": "urn:uuid:d", "job_token": "job-7", "generation": 0}]
    assert jobs["messages"] == [11, 12]
    assert jobs["error"]["kind"] == "unreachable"
    assert doc["checks"][0]["next"] is None
