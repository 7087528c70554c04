"""A device's health report (core.health.DeviceHealth) as stored for the viewers of a shared store
(issue 14): what a site's collector last judged of each device, with the evidence, so that the desk
sees what is wrong at a branch (its scanner's subscription refused for a full subscriber table, its
multicast cut by IGMP snooping) as the collector there saw it.

JSON with a format number, values only (no words: the viewer words them as for its own devices).
The device error's `detail` is left out, as in the device's state (store.devices): it may hold what
the device sent. A result whose check, verdict or finding this version does not know (a later
collector's) is left out and counted; anything else damaged refuses the whole report (CodecError).
"""

from __future__ import annotations

from wsdmon.core.health import DeviceHealth, HealthCheck, HealthEvidence, HealthFinding, HealthResult
from wsdmon.core.jobs import JobKey
from wsdmon.core.selfcheck import Verdict

from .codec import (
    CodecError,
    _count,
    _int,
    _list,
    _obj,
    _opt_datetime,
    _text,
    _texts,
    decode_datetime,
    dumps,
    encode_datetime,
    loads,
)
from .devices import decode_device_error, encode_device_error

__all__ = ["HEALTH_FORMAT", "decode_health", "encode_health"]

HEALTH_FORMAT = 1  # "v" of an encoded report; bump and branch in decode_health when it changes
_CHECKS = {c.value: c for c in HealthCheck}
_FINDINGS = {f.value: f for f in HealthFinding}
_VERDICTS = {v.value: v for v in Verdict}


def _evidence(e: HealthEvidence) -> dict[str, object]:
    """Only the fields the finding uses (the others are their defaults)."""
    out: dict[str, object] = {
        "first_at": None if e.first_at is None else encode_datetime(e.first_at),
        "last_at": None if e.last_at is None else encode_datetime(e.last_at),
        "addresses": list(e.addresses),
        "interface": e.interface,
        "endpoints": list(e.endpoints),
        "seconds": e.seconds,
        "count": e.count,
        "code": e.code,
        "reason": e.reason,
        "jobs": [[k.device, k.job_token, k.generation] for k in e.jobs],
        "messages": list(e.messages),
        "error": encode_device_error(e.error),
    }
    return {k: v for k, v in out.items() if v not in (None, "", [])}


def encode_health(health: DeviceHealth) -> str:
    """The report as JSON text for the devices' `health` column (its endpoint is the row's)."""
    return dumps(
        {
            "v": HEALTH_FORMAT,
            "at": encode_datetime(health.at),
            "results": [
                {
                    "check": r.check.value,
                    "verdict": r.verdict.value,
                    "finding": r.finding.value,
                    "evidence": _evidence(r.evidence),
                }
                for r in health.results
            ],
        }
    )


def _seconds(raw: object) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise CodecError(f"evidence seconds must be a number, got {raw!r}")
    return float(raw)


def _job(raw: object) -> JobKey:
    item = _list(raw, "a stuck job")
    if len(item) != 3:
        raise CodecError(f"a stuck job is [device, token, generation], got {raw!r}")
    return JobKey(
        _text(item[0], "a job's device"), _text(item[1], "a job's token"), _count(item[2], "generation")
    )


def _decode_evidence(raw: object) -> HealthEvidence:
    e = _obj(raw, "a check's evidence")
    count = e.get("count")
    return HealthEvidence(
        first_at=_opt_datetime(e.get("first_at")),
        last_at=_opt_datetime(e.get("last_at")),
        addresses=_texts(e.get("addresses", []), "evidence addresses"),
        interface=_text(e.get("interface", ""), "evidence interface"),
        endpoints=_texts(e.get("endpoints", []), "evidence endpoints"),
        seconds=_seconds(e.get("seconds")),
        count=None if count is None else _int(count, "evidence count"),
        code=_text(e.get("code", ""), "evidence code"),
        reason=_text(e.get("reason", ""), "evidence reason"),
        jobs=tuple(_job(j) for j in _list(e.get("jobs", []), "evidence jobs")),
        messages=tuple(_count(m, "a message id") for m in _list(e.get("messages", []), "evidence messages")),
        error=decode_device_error(e.get("error")),
    )


def decode_health(endpoint: str, text: str) -> tuple[DeviceHealth, int]:
    """The report `text` says of `endpoint`, and how many of its results were left out as unknown
    to this version; CodecError when the text is damaged or of a later format."""
    raw = loads(text)
    if not isinstance(raw, dict) or raw.get("v") != HEALTH_FORMAT:
        raise CodecError(f"not a health report of format {HEALTH_FORMAT}")
    results: list[HealthResult] = []
    unknown = 0
    for item in _list(raw.get("results"), "a report's results"):
        r = _obj(item, "a check's result")
        check, verdict, finding = (
            _CHECKS.get(r.get("check")),  # type: ignore[arg-type]
            _VERDICTS.get(r.get("verdict")),  # type: ignore[arg-type]
            _FINDINGS.get(r.get("finding")),  # type: ignore[arg-type]
        )
        if check is None or verdict is None or finding is None:
            if not all(isinstance(r.get(k), str) for k in ("check", "verdict", "finding")):
                raise CodecError(f"a check's result without its check, verdict and finding: {item!r}")
            unknown += 1
            continue
        results.append(HealthResult(check, verdict, finding, _decode_evidence(r.get("evidence", {}))))
    at = decode_datetime(raw.get("at"))
    if at.tzinfo is None:
        raise CodecError("a report's time without its offset")
    return DeviceHealth(endpoint, at, tuple(results)), unknown
