"""What a simulator run is made of: roles, scenarios, the timers and limits it keeps, its options.

Timers and limits are module constants with their unit in the name and the spec they come from;
`Timers` carries them into a run so tests can shrink them instead of sleeping. Which timers follow
`--time-scale`: only the job engine's (job pacing and the MS-BDSRR 10-minute rule, spec time);
the network's (WS-Discovery delays, subscription lifetimes, delivery timeouts) stay real time, as
a monitor on the other end measures them with a real clock.
"""

from __future__ import annotations

import ipaddress
import math
import random
import re
from dataclasses import dataclass, field
from enum import StrEnum

from wsdmon.protocol import namespaces as ns

__all__ = [
    "APP_MAX_DELAY_S",
    "DEFAULT_EXPIRES_S",
    "DELIVERY_TIMEOUT_S",
    "HISTORY_DEPTH",
    "JOB_TIMEOUT_S",
    "MAX_CLOCK_OFFSET_S",
    "MAX_EXPIRES_S",
    "MAX_FAILED_DELIVERIES",
    "MAX_FAULT_SECONDS",
    "MAX_QUEUED_NOTIFICATIONS",
    "MULTICAST_UDP_REPEAT",
    "PIPELINE_DEPTH",
    "UDP_MAX_DELAY_S",
    "UDP_MIN_DELAY_S",
    "UDP_UPPER_DELAY_S",
    "UNICAST_UDP_REPEAT",
    "Fault",
    "FaultSetting",
    "Faults",
    "Role",
    "Scenario",
    "SimulatorConfig",
    "Timers",
    "fault_usage",
    "new_rng",
]

# --- WS-Discovery 2005/04 §2.4 and SOAP-over-UDP 2004 Appendix I (the protocol reference, §3.1) -----
APP_MAX_DELAY_S = 0.5  # a multicast Probe/Resolve is answered after a random delay up to this
MULTICAST_UDP_REPEAT = 2  # a multicast message is sent once, then repeated this many times
UNICAST_UDP_REPEAT = 1  # a unicast reply is sent once, then repeated this many times
UDP_MIN_DELAY_S = 0.05  # first repeat after a random delay in [UDP_MIN_DELAY, UDP_MAX_DELAY] ...
UDP_MAX_DELAY_S = 0.25
UDP_UPPER_DELAY_S = 0.5  # ... doubling for each further repeat, up to this

# --- WS-Eventing 2004/08 §3.1 (the source MAY grant a shorter lifetime than requested) -------------
DEFAULT_EXPIRES_S = 3600.0  # granted when the Subscribe has no Expires (implementation choice)
MAX_EXPIRES_S = 3600.0  # the cap; Windows devices grant about an hour, so monitors renew as in life
# Delivery: WS-Eventing and DPWS set no numbers; these are implementation choices.
DELIVERY_TIMEOUT_S = 5.0  # one notification POST, connect to response
MAX_FAILED_DELIVERIES = 3  # consecutive failures before SubscriptionEnd(DeliveryFailure)
MAX_QUEUED_NOTIFICATIONS = 10_000  # per subscriber; overflow ends it with DeliveryFailure
PIPELINE_DEPTH = 8  # queued notifications sent together on the subscriber's connection (delivery.py)

# --- MS-BDSRR ------------------------------------------------------------------------------------
JOB_TIMEOUT_S = 600.0  # §2.2.5.11 PostScanJobTimedOut: no EndPostScanJob within 10 minutes
HISTORY_DEPTH = 100  # §3.2.4.5: how many finished jobs GetJobHistory keeps is implementation-defined


class Role(StrEnum):
    """What a simulated device is: a DSM scan server (scan repository) or a WS-Scan scan device."""

    SCAN_SERVER = "scan-server"
    SCAN_DEVICE = "scan-device"
    BOTH = "both"  # one of each per --devices count

    def expand(self) -> tuple[Role, ...]:
        """The concrete roles this choice stands for."""
        return (Role.SCAN_SERVER, Role.SCAN_DEVICE) if self is Role.BOTH else (self,)


class Scenario(StrEnum):
    """What the devices do once started (see scenarios.py)."""

    STEADY = "steady"
    BURST = "burst"
    FAULTS = "faults"
    VENDOR = "vendor"
    IDLE = "idle"


class Fault(StrEnum):
    """A misbehaviour of real devices and networks the devices play (`--fault NAME[=VALUE]`), so that
    a monitor's health checks can be shown on a real peer. Each acts where its behaviour lives:
    discovery in wsd.py, eventing in eventing.py, metadata and XAddrs in device.py, the rest in
    faults.py."""

    DIRECTED_ONLY = "directed-only"  # no Hello/Bye, no answer to multicast: only directed Probes
    NO_PROBE_MATCH = "no-probe-match"  # Hello/Bye as usual, no ProbeMatch at all (a firewall)
    LATE_PROBE = "late-probe"  # =S: Probes answered only after S seconds
    MULTICAST_STOP = "multicast-stop"  # =S: no multicast at all after S seconds; HTTP answers on
    XADDR_HOST = "xaddr-host"  # =HOST: XAddrs name HOST (a host name, another address)
    PRINT_ONLY = "print-only"  # metadata hosts only a WS-Print service
    SUBSCRIBER_LIMIT = "subscriber-limit"  # =N: the (N+1)-th concurrent Subscribe is refused
    RENEW_REFUSED = "renew-refused"  # every Renew: wse:UnableToRenew
    SHORT_GRANT = "short-grant"  # =S: every subscription granted S seconds
    SUBSCRIPTION_END = "subscription-end"  # =S: SubscriptionEnd(SourceCancelling) S s after the grant
    STUCK_JOB = "stuck-job"  # one job reported once, then never again, listed as active forever
    REBOOT_AFTER = "reboot-after"  # =S: Bye, then Hello with a new InstanceId, subscriptions gone
    CLOCK_OFFSET = "clock-offset"  # =S: every time the device sends is S seconds off (+ ahead)


class _Kind(StrEnum):
    NONE = "none"
    SECONDS = "seconds"  # a positive number of seconds
    OFFSET = "offset"  # a number of seconds, any sign
    COUNT = "count"  # a whole number, at least 1
    HOST = "host"  # a host name or an IP address


_FAULT_KINDS = {
    Fault.DIRECTED_ONLY: _Kind.NONE,
    Fault.NO_PROBE_MATCH: _Kind.NONE,
    Fault.LATE_PROBE: _Kind.SECONDS,
    Fault.MULTICAST_STOP: _Kind.SECONDS,
    Fault.XADDR_HOST: _Kind.HOST,
    Fault.PRINT_ONLY: _Kind.NONE,
    Fault.SUBSCRIBER_LIMIT: _Kind.COUNT,
    Fault.RENEW_REFUSED: _Kind.NONE,
    Fault.SHORT_GRANT: _Kind.SECONDS,
    Fault.SUBSCRIPTION_END: _Kind.SECONDS,
    Fault.STUCK_JOB: _Kind.NONE,
    Fault.REBOOT_AFTER: _Kind.SECONDS,
    Fault.CLOCK_OFFSET: _Kind.OFFSET,
}
_SYNTAX = {
    _Kind.NONE: "{name}",
    _Kind.SECONDS: "{name}=S",
    _Kind.OFFSET: "{name}=S",
    _Kind.COUNT: "{name}=N",
    _Kind.HOST: "{name}=HOST",
}
MAX_FAULT_SECONDS = 365 * 86400.0  # a fault's delay or grant: longer would never be seen in a run
MAX_CLOCK_OFFSET_S = 10 * 365 * 86400.0  # a clock more than ten years off is not a device's clock
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")  # RFC 1123 host name


def _is_host(text: str) -> bool:
    """A DNS host name or an IP address (IPv6 with or without brackets, with a zone or not)."""
    try:
        ipaddress.ip_address(text[1:-1] if text.startswith("[") and text.endswith("]") else text)
    except ValueError:
        return len(text) <= 253 and bool(_HOST_NAME.match(text))
    return True


@dataclass(frozen=True, slots=True)
class FaultSetting:
    """One `--fault`: the fault and its value (seconds, a count, a host, or None for a flag)."""

    fault: Fault
    value: float | int | str | None = None

    def __post_init__(self) -> None:
        kind = _FAULT_KINDS[self.fault]
        v = self.value
        if kind is _Kind.NONE:
            ok = v is None
        elif kind is _Kind.COUNT:
            ok = isinstance(v, int) and not isinstance(v, bool) and v >= 1
        elif kind is _Kind.HOST:
            ok = isinstance(v, str) and _is_host(v)
        else:
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            if ok and kind is _Kind.OFFSET:
                ok = abs(float(v)) <= MAX_CLOCK_OFFSET_S  # type: ignore[arg-type]
            elif ok:
                ok = 0 < float(v) <= MAX_FAULT_SECONDS  # type: ignore[arg-type]
        if not ok:
            raise ValueError(f"{self.fault} does not take {v!r}: give {_usage(self.fault)}")

    @classmethod
    def parse(cls, text: str) -> FaultSetting:
        """A setting from `NAME[=VALUE]`; ValueError with a one-line message a person understands."""
        name, has_value, raw = text.strip().partition("=")
        try:
            fault = Fault(name.strip().lower())
        except ValueError:
            known = ", ".join(f.value for f in Fault)
            raise ValueError(f"unknown fault {name.strip()!r} (known: {known})") from None
        kind = _FAULT_KINDS[fault]
        raw = raw.strip()
        if kind is _Kind.NONE:
            if has_value:
                raise ValueError(f"{fault} takes no value (give just {fault})")
            return cls(fault)
        if not raw:
            raise ValueError(f"{fault} needs a value: {_usage(fault)}")
        value: float | int | str
        if kind is _Kind.HOST:
            if not _is_host(raw):
                raise ValueError(f"{fault}: {raw!r} is not a host name or an IP address")
            return cls(fault, raw)
        try:
            value = int(raw) if kind is _Kind.COUNT else float(raw)
        except ValueError:
            what = "a whole number" if kind is _Kind.COUNT else "a number of seconds"
            raise ValueError(f"{fault}: {raw!r} is not {what} ({_usage(fault)})") from None
        if kind is _Kind.COUNT and value < 1:
            raise ValueError(f"{fault}: the limit must be at least 1, not {raw}")
        if kind is _Kind.SECONDS and not (math.isfinite(value) and 0 < value <= MAX_FAULT_SECONDS):
            raise ValueError(
                f"{fault}: the seconds must be a positive number up to {MAX_FAULT_SECONDS:.0f}, not {raw}"
            )
        if kind is _Kind.OFFSET and not (math.isfinite(value) and abs(value) <= MAX_CLOCK_OFFSET_S):
            raise ValueError(
                f"{fault}: the offset must be a number of seconds within ±{MAX_CLOCK_OFFSET_S:.0f}, not {raw}"
            )
        return cls(fault, value)

    def __str__(self) -> str:
        if self.value is None:
            return self.fault.value
        value = f"{self.value:g}" if isinstance(self.value, float) else self.value
        return f"{self.fault}={value}"


def _usage(fault: Fault) -> str:
    return _SYNTAX[_FAULT_KINDS[fault]].format(name=fault.value)


_FAULT_HELP = {
    Fault.DIRECTED_ONLY: "no Hello/Bye, only directed Probes answered",
    Fault.NO_PROBE_MATCH: "Hello/Bye as usual, no Probe answered",
    Fault.LATE_PROBE: "Probes answered S seconds late",
    Fault.MULTICAST_STOP: "no multicast after S seconds, HTTP answers on",
    Fault.XADDR_HOST: "XAddrs name HOST instead of the bound address",
    Fault.PRINT_ONLY: "a WS-Print device: no scan or repository service",
    Fault.SUBSCRIBER_LIMIT: "a Subscribe beyond N concurrent subscriptions is refused",
    Fault.RENEW_REFUSED: "every Renew gets wse:UnableToRenew",
    Fault.SHORT_GRANT: "every subscription granted S seconds",
    Fault.SUBSCRIPTION_END: "SubscriptionEnd(SourceCancelling) S seconds after the grant",
    Fault.STUCK_JOB: "one job reported once, then no progress and no end",
    Fault.REBOOT_AFTER: "after S seconds: Bye, then Hello with a new InstanceId",
    Fault.CLOCK_OFFSET: "the device's clock S seconds off (positive: ahead)",
}


def fault_usage() -> str:
    """Every fault with its value and what it does, for --help."""
    return "; ".join(f"{_usage(f)}: {_FAULT_HELP[f]}" for f in Fault)


@dataclass(frozen=True, slots=True)
class Faults:
    """What the run's faults ask, by where they act (None/False: behave)."""

    directed_only: bool = False
    no_probe_match: bool = False
    late_probe_s: float | None = None
    multicast_stop_s: float | None = None
    xaddr_host: str | None = None
    print_only: bool = False
    subscriber_limit: int | None = None
    renew_refused: bool = False
    short_grant_s: float | None = None
    subscription_end_s: float | None = None
    stuck_job: bool = False
    reboot_after_s: float | None = None
    clock_offset_s: float = 0.0

    @classmethod
    def of(cls, settings: tuple[FaultSetting, ...]) -> Faults:
        """The faults `settings` name (each at most once)."""
        values: dict[Fault, float | int | str | None] = {}
        for setting in settings:
            if setting.fault in values:
                raise ValueError(f"fault {setting.fault} is given twice")
            values[setting.fault] = setting.value

        def seconds(fault: Fault) -> float | None:
            v = values.get(fault)
            return float(v) if isinstance(v, int | float) else None

        limit = values.get(Fault.SUBSCRIBER_LIMIT)
        host = values.get(Fault.XADDR_HOST)
        return cls(
            directed_only=Fault.DIRECTED_ONLY in values,
            no_probe_match=Fault.NO_PROBE_MATCH in values,
            late_probe_s=seconds(Fault.LATE_PROBE),
            multicast_stop_s=seconds(Fault.MULTICAST_STOP),
            xaddr_host=host if isinstance(host, str) else None,
            print_only=Fault.PRINT_ONLY in values,
            subscriber_limit=limit if isinstance(limit, int) else None,
            renew_refused=Fault.RENEW_REFUSED in values,
            short_grant_s=seconds(Fault.SHORT_GRANT),
            subscription_end_s=seconds(Fault.SUBSCRIPTION_END),
            stuck_job=Fault.STUCK_JOB in values,
            reboot_after_s=seconds(Fault.REBOOT_AFTER),
            clock_offset_s=seconds(Fault.CLOCK_OFFSET) or 0.0,
        )


@dataclass(frozen=True, slots=True)
class Timers:
    """The timers and limits of one run; defaults are the module constants above."""

    app_max_delay_s: float = APP_MAX_DELAY_S
    multicast_udp_repeat: int = MULTICAST_UDP_REPEAT
    unicast_udp_repeat: int = UNICAST_UDP_REPEAT
    udp_min_delay_s: float = UDP_MIN_DELAY_S
    udp_max_delay_s: float = UDP_MAX_DELAY_S
    udp_upper_delay_s: float = UDP_UPPER_DELAY_S
    default_expires_s: float = DEFAULT_EXPIRES_S
    max_expires_s: float = MAX_EXPIRES_S
    delivery_timeout_s: float = DELIVERY_TIMEOUT_S
    max_failed_deliveries: int = MAX_FAILED_DELIVERIES
    max_queued_notifications: int = MAX_QUEUED_NOTIFICATIONS
    pipeline_depth: int = PIPELINE_DEPTH  # 1: one request at a time
    job_timeout_s: float = JOB_TIMEOUT_S  # spec time: follows --time-scale
    history_depth: int = HISTORY_DEPTH
    stop_timeout_s: float = 3.0  # how long stop() lets queued notifications and SubscriptionEnd go out
    slow_response_s: float = 2.0  # the faults scenario's slow HTTP answers (real time)


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Options of one simulator run (the CLI flags, for in-process use).

    host: the address to bind and advertise; None = the chosen interface's (127.0.0.1 / ::1 when
    `discovery` is off and no interface is named). http_port: the first device's port, the others
    follow (0 = each an ephemeral port). wsd_port: UDP port of the WS-Discovery endpoint (0 =
    ephemeral; only useful with `discovery` off, for directed Probes). discovery: multicast Hello,
    Bye, Probe and Resolve on the interface; when off, directed (unicast) Probes are still answered.
    devices: how many devices per role (Role.BOTH gives one scan server and one scan device each).
    rate: jobs per second per device (steady, faults, vendor); time_scale: how much faster than real
    time the job engine's clock runs; seed: repeatable identities, tokens and job plans.
    stable_identity: each device's endpoint (urn:uuid) follows from its friendly name, the same on
    every run, as a real device keeps its endpoint across restarts (the demo's history then stays
    with its devices); job tokens still differ per run unless seeded. faults: the misbehaviours
    every device plays (Fault), each at most once; `fault_plan` is what they ask, typed.
    """

    role: Role = Role.SCAN_SERVER
    devices: int = 1
    scenario: Scenario = Scenario.IDLE
    rate: float = 0.2
    time_scale: float = 1.0
    seed: int | None = None
    host: str | None = None
    interface: str | None = None
    ipv6: bool = False
    http_port: int = 0
    wsd_port: int = ns.DISCOVERY_PORT
    discovery: bool = True
    name: str = "wsdmon Sim"
    stable_identity: bool = False
    faults: tuple[FaultSetting, ...] = ()
    timers: Timers = field(default_factory=Timers)

    def __post_init__(self) -> None:
        if self.devices < 1:
            raise ValueError("devices must be at least 1")
        if self.rate <= 0:
            raise ValueError("rate must be positive (jobs per second)")
        if self.time_scale <= 0:
            raise ValueError("time_scale must be positive")
        for what, port in (("http_port", self.http_port), ("wsd_port", self.wsd_port)):
            if not 0 <= port <= 65535:
                raise ValueError(f"{what} {port} is not a port number")
        Faults.of(self.faults)  # each fault at most once

    @property
    def fault_plan(self) -> Faults:
        """What the faults ask, by where they act."""
        return Faults.of(self.faults)


def new_rng(seed: int | None) -> random.Random:
    """The run's random source: seeded for repeatable runs. Not for secrets (identities and demo data)."""
    return random.Random(seed)  # noqa: S311 - simulation data, not cryptography
