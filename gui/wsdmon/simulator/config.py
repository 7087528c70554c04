"""What a simulator run is made of: roles, scenarios, the timers and limits it keeps, its options.

Timers and limits are module constants with their unit in the name and the spec they come from;
`Timers` carries them into a run so tests can shrink them instead of sleeping. Which timers follow
`--time-scale`: only the job engine's (job pacing and the MS-BDSRR 10-minute rule, spec time);
the network's (WS-Discovery delays, subscription lifetimes, delivery timeouts) stay real time, as
a monitor on the other end measures them with a real clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum

from wsdmon.protocol import namespaces as ns

__all__ = [
    "APP_MAX_DELAY_S",
    "DEFAULT_EXPIRES_S",
    "DELIVERY_TIMEOUT_S",
    "HISTORY_DEPTH",
    "JOB_TIMEOUT_S",
    "MAX_EXPIRES_S",
    "MAX_FAILED_DELIVERIES",
    "MAX_QUEUED_NOTIFICATIONS",
    "MULTICAST_UDP_REPEAT",
    "PIPELINE_DEPTH",
    "UDP_MAX_DELAY_S",
    "UDP_MIN_DELAY_S",
    "UDP_UPPER_DELAY_S",
    "UNICAST_UDP_REPEAT",
    "Role",
    "Scenario",
    "SimulatorConfig",
    "Timers",
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
    with its devices); job tokens still differ per run unless seeded.
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


def new_rng(seed: int | None) -> random.Random:
    """The run's random source: seeded for repeatable runs. Not for secrets (identities and demo data)."""
    return random.Random(seed)  # noqa: S311 - simulation data, not cryptography
