"""The simulator's fault options as values (no sockets): parsing `NAME[=VALUE]`, what a set of faults
asks (Faults), and the clock that runs off by clock-offset."""

from __future__ import annotations

from datetime import datetime

import pytest

from wsdmon.simulator import Fault, Faults, FaultSetting, SimulatorConfig
from wsdmon.simulator.clock import Clock


@pytest.mark.parametrize(
    ("text", "fault", "value"),
    [
        ("directed-only", Fault.DIRECTED_ONLY, None),
        ("late-probe=1.5", Fault.LATE_PROBE, 1.5),
        ("subscriber-limit=10", Fault.SUBSCRIBER_LIMIT, 10),
        ("xaddr-host=scanner.local", Fault.XADDR_HOST, "scanner.local"),
        ("xaddr-host=fe80::1%eth0", Fault.XADDR_HOST, "fe80::1%eth0"),
        ("clock-offset=-3600", Fault.CLOCK_OFFSET, -3600.0),
        ("clock-offset=0", Fault.CLOCK_OFFSET, 0.0),
        (" Renew-Refused ", Fault.RENEW_REFUSED, None),
    ],
)
def test_a_fault_parses_to_its_typed_value(text: str, fault: Fault, value: object) -> None:
    setting = FaultSetting.parse(text)
    assert setting == FaultSetting(fault, value)  # type: ignore[arg-type]
    assert type(setting.value) is type(value)


@pytest.mark.parametrize(
    "text",
    [
        "late-probe=abc",
        "late-probe=0",
        "late-probe=nan",
        "late-probe=1e12",
        "subscriber-limit=0",
        "subscriber-limit=-1",
        "subscriber-limit=1.5",
        "print-only=yes",
        "stuck-job=",
        "reboot-after",
        "clock-offset=inf",
        "clock-offset=1e10",
        "xaddr-host=",
        "xaddr-host=http://x/",
        "xaddr-host=-bad",
        "bogus",
        "",
    ],
)
def test_a_value_that_does_not_fit_is_one_line_of_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"^[^\n]+$"):
        FaultSetting.parse(text)


def test_a_setting_made_in_code_is_checked_too() -> None:
    with pytest.raises(ValueError, match="subscriber-limit"):
        FaultSetting(Fault.SUBSCRIBER_LIMIT, 0)
    with pytest.raises(ValueError, match="print-only"):
        FaultSetting(Fault.PRINT_ONLY, 3)
    with pytest.raises(ValueError, match="late-probe"):
        FaultSetting(Fault.LATE_PROBE, True)


def test_faults_say_what_the_settings_ask_and_none_twice() -> None:
    settings = tuple(
        FaultSetting.parse(t)
        for t in ("directed-only", "late-probe=2", "subscriber-limit=3", "xaddr-host=h", "clock-offset=60")
    )
    plan = SimulatorConfig(faults=settings).fault_plan
    assert plan == Faults(
        directed_only=True, late_probe_s=2.0, subscriber_limit=3, xaddr_host="h", clock_offset_s=60.0
    )
    assert SimulatorConfig().fault_plan == Faults()
    with pytest.raises(ValueError, match="late-probe is given twice"):
        SimulatorConfig(faults=(FaultSetting.parse("late-probe=1"), FaultSetting.parse("late-probe=2")))


def test_the_clock_runs_off_by_the_offset() -> None:
    real = datetime.now().astimezone()
    ahead = Clock(offset_s=3600).now()
    behind = Clock(offset_s=-86400).now()
    assert (ahead - real).total_seconds() == pytest.approx(3600, abs=5)
    assert (behind - real).total_seconds() == pytest.approx(-86400, abs=5)
