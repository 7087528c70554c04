"""The health report's typed values: the worst verdict a device shows at a glance."""

from datetime import UTC, datetime

from wsdmon.core.health import DeviceHealth, HealthCheck, HealthFinding, HealthResult, worst
from wsdmon.core.selfcheck import Verdict


def test_worst_orders_problem_over_warning_over_ok_over_unknown() -> None:
    assert worst([]) is Verdict.UNKNOWN
    assert worst([Verdict.UNKNOWN, Verdict.UNKNOWN]) is Verdict.UNKNOWN
    assert worst([Verdict.OK, Verdict.UNKNOWN]) is Verdict.OK  # what could be told was fine
    assert worst([Verdict.UNKNOWN, Verdict.WARNING, Verdict.OK]) is Verdict.WARNING
    assert worst([Verdict.WARNING, Verdict.PROBLEM, Verdict.UNKNOWN]) is Verdict.PROBLEM


def test_device_health_verdict_and_lookup() -> None:
    results = (
        HealthResult(HealthCheck.DISCOVERY, Verdict.OK, HealthFinding.FOUND_BY_MULTICAST),
        HealthResult(HealthCheck.SUBSCRIPTION, Verdict.PROBLEM, HealthFinding.SUBSCRIPTION_LIMIT),
    )
    health = DeviceHealth("urn:uuid:1", datetime(2026, 12, 6, tzinfo=UTC), results)
    assert health.verdict is Verdict.PROBLEM
    found = health.result(HealthCheck.SUBSCRIPTION)
    assert found is not None
    assert found.finding is HealthFinding.SUBSCRIPTION_LIMIT
    assert health.result(HealthCheck.CLOCK) is None
