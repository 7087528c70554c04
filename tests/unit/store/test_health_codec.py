"""A device's health report as its collector stores it for the viewers of a shared store
(store.health): the round trip is exact for every evidence field, the error's log-only detail is
not stored, a result a later collector added is left out and counted, and damaged or later-format
text is refused with CodecError (the viewer then shows the device without a report)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.gui.health_samples import MFP, sample_health
from wsdmon.core import DeviceError, DeviceErrorKind
from wsdmon.core.health import DeviceHealth, HealthCheck, HealthEvidence, HealthFinding, HealthResult
from wsdmon.core.jobs import JobKey
from wsdmon.core.selfcheck import Verdict
from wsdmon.store.codec import CodecError
from wsdmon.store.health import decode_health, encode_health

AT = datetime(2026, 12, 6, 20, 15, 3, 250000, tzinfo=UTC)
ERROR = DeviceError(
    DeviceErrorKind.UNTRUSTED_CERTIFICATE,
    url="https://10.0.0.5:5358/wsd",
    status=None,
    code="",
    reason="self-signed certificate",
    errno=None,
    fingerprint="ab" * 32,
    limit=None,
    detail="ssl.SSLCertVerificationError: … what the device sent …",
)


def _everything() -> DeviceHealth:
    """A report whose evidence uses every field, with vendor text and another offset."""
    east = timezone(timedelta(hours=9))
    evidence = HealthEvidence(
        first_at=datetime(2026, 12, 6, 8, 0, tzinfo=east),
        last_at=AT - timedelta(minutes=3),
        addresses=("http://10.0.0.5:5357/wsd", "http://[fe80::1%eth0]:5357/wsd"),
        interface="10.0.0.2/24",
        endpoints=("urn:uuid:other",),
        seconds=0.0,
        count=0,
        code="wse:EventSourceUnableToProcess",
        reason="Maximum number of subscriptions reached — ÄÖÜ",
        jobs=(JobKey("urn:uuid:server", "job-7", 2), JobKey("urn:uuid:server", "42")),
        messages=(17, 4102),
        error=ERROR,
    )
    return DeviceHealth(
        "urn:uuid:device",
        AT,
        (
            HealthResult(
                HealthCheck.SUBSCRIPTION, Verdict.PROBLEM, HealthFinding.SUBSCRIPTION_LIMIT, evidence
            ),
            HealthResult(HealthCheck.CLOCK, Verdict.UNKNOWN, HealthFinding.NOT_KNOWN_YET),
        ),
    )


def test_a_report_round_trips_exactly_without_the_errors_log_only_detail() -> None:
    health = _everything()
    text = encode_health(health)
    assert "what the device sent" not in text
    got, unknown = decode_health(health.endpoint, text)
    assert unknown == 0
    error = dataclasses.replace(ERROR, detail="")
    first = health.results[0]
    first = dataclasses.replace(first, evidence=dataclasses.replace(first.evidence, error=error))
    want = dataclasses.replace(health, results=(first, health.results[1]))
    assert got == want
    assert got.results[0].evidence.first_at.utcoffset() == timedelta(hours=9)  # type: ignore[union-attr]


def test_the_sample_reports_round_trip() -> None:
    for endpoint, health in sample_health().items():
        assert decode_health(endpoint, encode_health(health)) == (health, 0)
    assert sample_health()[MFP].verdict is Verdict.OK


def test_a_result_a_later_collector_added_is_left_out_and_counted() -> None:
    raw = json.loads(encode_health(_everything()))
    raw["results"].append({"check": "dns", "verdict": "ok", "finding": "dns-ok", "evidence": {}})
    raw["results"].append({"check": "clock", "verdict": "grave", "finding": "clock-in-step"})
    got, unknown = decode_health("urn:uuid:device", json.dumps(raw))
    assert unknown == 2
    assert [r.check for r in got.results] == [HealthCheck.SUBSCRIPTION, HealthCheck.CLOCK]
    assert got.verdict is Verdict.PROBLEM


def _damaged(**change: object) -> str:
    raw = json.loads(encode_health(_everything()))
    evidence = change.pop("evidence", None)
    if evidence is not None:
        raw["results"][0]["evidence"].update(evidence)
    raw.update(change)
    return json.dumps(raw)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        json.dumps({"v": 2, "at": AT.isoformat(), "results": []}),  # a later format
        json.dumps({"at": AT.isoformat(), "results": []}),  # no format
        _damaged(at="yesterday"),
        _damaged(at="2026-12-06T20:15:03"),  # no offset
        _damaged(results={}),
        _damaged(results=[{"check": 1, "verdict": "ok", "finding": "clock-in-step"}]),
        _damaged(results=["subscription"]),
        _damaged(evidence={"seconds": "ten"}),
        _damaged(evidence={"seconds": True}),
        _damaged(evidence={"count": 1.5}),
        _damaged(evidence={"messages": [-1]}),
        _damaged(evidence={"messages": ["#17"]}),
        _damaged(evidence={"jobs": [["urn:uuid:server", "job-7"]]}),
        _damaged(evidence={"addresses": "http://10.0.0.5/"}),
        _damaged(evidence={"error": {"kind": "gremlins"}}),
        _damaged(evidence={"last_at": 17}),
    ],
)
def test_damaged_or_later_reports_are_refused_with_a_codec_error(text: str) -> None:
    with pytest.raises(CodecError):
        decode_health("urn:uuid:device", text)
