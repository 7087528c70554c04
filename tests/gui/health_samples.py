"""Health reports (core.health) of the sample devices, the way the engine will deliver them through
EngineListener.health_changed: one with a problem, one with a warning, one all ok, one not known yet."""

from __future__ import annotations

from datetime import timedelta

from wsdmon.core.health import DeviceHealth, HealthCheck, HealthEvidence, HealthFinding, HealthResult
from wsdmon.core.selfcheck import Verdict

from .factory import SERVER, SERVER2
from .make_screenshots import NOW

__all__ = ["MFP", "RECEPTION", "SUBSCRIBE_FAULT_ID", "sample_health"]

MFP = "urn:uuid:2f8e4b1a-0c3d-4e5f-8a9b-c0d1e2f3a4b5"
RECEPTION = "urn:uuid:8b7c6d5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e"
SUBSCRIBE_FAULT_ID = 4102  # the journal id of the refused Subscribe's fault (raw log link)
_C, _F, _V, _E = HealthCheck, HealthFinding, Verdict, HealthEvidence


def _all_ok(endpoint: str, address: str) -> tuple[HealthResult, ...]:
    return (
        HealthResult(_C.DISCOVERY, _V.OK, _F.FOUND_BY_MULTICAST, _E(first_at=NOW - timedelta(hours=3))),
        HealthResult(_C.PROBE_REPLIES, _V.OK, _F.PROBE_REPLIES_ARRIVE, _E(seconds=0.3)),
        HealthResult(_C.MULTICAST, _V.OK, _F.MULTICAST_ARRIVES, _E(last_at=NOW - timedelta(seconds=40))),
        HealthResult(
            _C.ADDRESSES, _V.OK, _F.ADDRESSES_OK, _E(addresses=(address,), interface="10.20.0.7/16")
        ),
        HealthResult(_C.IDENTITY, _V.OK, _F.IDENTITY_STABLE),
        HealthResult(_C.SCAN_SERVICE, _V.OK, _F.SCAN_SERVICE_PRESENT),
        HealthResult(_C.SUBSCRIPTION, _V.OK, _F.SUBSCRIPTION_ACTIVE, _E(seconds=3600)),
        HealthResult(_C.FAULTS, _V.OK, _F.NO_FAULTS),
        HealthResult(_C.JOBS, _V.OK, _F.JOBS_MOVING),
        HealthResult(_C.CLOCK, _V.OK, _F.CLOCK_IN_STEP, _E(seconds=1.2)),
    )


def _replace(results: tuple[HealthResult, ...], *new: HealthResult) -> tuple[HealthResult, ...]:
    by_check = {r.check: r for r in new}
    return tuple(by_check.get(r.check, r) for r in results)


def sample_health(fault_id: int = SUBSCRIBE_FAULT_ID) -> dict[str, DeviceHealth]:
    """endpoint → its report: SERVER a problem, SERVER2 a warning, MFP ok, RECEPTION not known yet;
    `fault_id` is the journal id of the refused Subscribe's fault."""
    problem = _replace(
        _all_ok(SERVER, "http://10.20.0.15:5357/2b6c7f0e"),
        HealthResult(
            _C.IDENTITY,
            _V.WARNING,
            _F.REBOOTED,
            _E(
                first_at=NOW - timedelta(hours=2),
                last_at=NOW - timedelta(minutes=12),
                count=2,
                messages=(4077,),
            ),
        ),
        HealthResult(
            _C.SUBSCRIPTION,
            _V.PROBLEM,
            _F.SUBSCRIPTION_LIMIT,
            _E(
                last_at=NOW - timedelta(minutes=11),
                code="wse:EventSourceUnableToProcess",
                reason="Maximum number of subscriptions reached",
                messages=(fault_id,),
            ),
        ),
        HealthResult(
            _C.FAULTS,
            _V.WARNING,
            _F.FAULTS_RETURNED,
            _E(count=3, code="wse:EventSourceUnableToProcess", messages=(fault_id, 4110, 4131)),
        ),
        HealthResult(_C.CLOCK, _V.UNKNOWN, _F.NOT_KNOWN_YET),
    )
    warning = _replace(
        _all_ok(SERVER2, "http://10.40.0.9:5357/91ad03c4"),
        HealthResult(
            _C.DISCOVERY, _V.WARNING, _F.FOUND_BY_DIRECTED_PROBE_ONLY, _E(first_at=NOW - timedelta(hours=5))
        ),
        HealthResult(_C.PROBE_REPLIES, _V.WARNING, _F.PROBE_REPLIES_LATE, _E(seconds=4.6)),
        HealthResult(_C.MULTICAST, _V.UNKNOWN, _F.NOT_KNOWN_YET),
    )
    unknown = tuple(HealthResult(check, _V.UNKNOWN, _F.NOT_KNOWN_YET) for check in HealthCheck)
    return {
        SERVER: DeviceHealth(SERVER, NOW, problem),
        SERVER2: DeviceHealth(SERVER2, NOW, warning),
        MFP: DeviceHealth(MFP, NOW, _all_ok(MFP, "http://10.20.3.41:80/wsd/scan")),
        RECEPTION: DeviceHealth(RECEPTION, NOW, unknown),
    }
