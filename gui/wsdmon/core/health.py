"""A device's health as typed values (issue 13, item 1): one result per check, each a verdict, a
finding (what exactly was seen: the key of its sentence and advice, worded in models/ and support/)
and the evidence as fields. No words here and no I/O.

Who fills it: the evidence is gathered in net/ as messages arrive; `evaluate` (in this package,
pure) turns evidence into a DeviceHealth. The window shows the worst verdict as an icon and the whole
report from the device's context menu; `wsdmon doctor` and the support bundle print the same values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from .device_status import DeviceError
from .jobs import JobKey
from .selfcheck import Verdict

__all__ = ["DeviceHealth", "HealthCheck", "HealthEvidence", "HealthFinding", "HealthResult", "worst"]


class HealthCheck(enum.Enum):
    """The checks of one device, in the order the report lists them."""

    DISCOVERY = "discovery"  # found by multicast (Hello / ProbeMatch), or only by directed probe / URL
    PROBE_REPLIES = "probe-replies"  # its ProbeMatches reach us (a firewall drops unicast replies), in time
    MULTICAST = "multicast"  # its multicast keeps arriving (IGMP snooping cuts it after minutes)
    ADDRESSES = "addresses"  # XAddrs on the receiving subnet, numeric, link-local with a zone
    IDENTITY = "identity"  # one endpoint per address (IP changes), reboots (InstanceId)
    SCAN_SERVICE = "scan-service"  # its metadata reads and names a scan service (not print-only)
    SUBSCRIPTION = "subscription"  # granted, renewed, not ended, not refused for a subscriber limit
    FAULTS = "faults"  # faults the device returned to our requests
    JOBS = "jobs"  # jobs without progress and without an end state
    CLOCK = "clock"  # the device's clock against this computer's


class HealthFinding(enum.Enum):
    """What a check saw; each has exactly one sentence and one piece of advice (models/support)."""

    NOT_KNOWN_YET = "not-known-yet"  # no evidence either way (yet)
    # DISCOVERY
    FOUND_BY_MULTICAST = "found-by-multicast"
    FOUND_BY_DIRECTED_PROBE_ONLY = "found-by-directed-probe-only"  # multicast never brought it
    FOUND_BY_URL_ONLY = "found-by-url-only"  # given as --device / Add device, never discovered
    # PROBE_REPLIES
    PROBE_REPLIES_ARRIVE = "probe-replies-arrive"
    HELLO_WITHOUT_PROBE_MATCH = "hello-without-probe-match"  # its Hellos arrive, its replies never do
    PROBE_REPLIES_LATE = "probe-replies-late"  # later than a firewall waits (about 4 s)
    # MULTICAST
    MULTICAST_ARRIVES = "multicast-arrives"
    MULTICAST_STOPPED = "multicast-stopped"  # no multicast for long while its HTTP still answers
    # ADDRESSES
    ADDRESSES_OK = "addresses-ok"
    ADDRESS_OFF_SUBNET = "address-off-subnet"  # an XAddr not on the subnet the message came in on
    ADDRESS_HOST_NAME = "address-host-name"  # an XAddr names a host, which must resolve here
    ADDRESS_LINK_LOCAL_NO_ZONE = "address-link-local-no-zone"  # fe80:: without %zone
    # IDENTITY
    IDENTITY_STABLE = "identity-stable"
    ADDRESS_CHANGED = "address-changed"  # this endpoint moved to a new address
    ADDRESS_SHARED = "address-shared"  # another endpoint now answers at this device's address
    REBOOTED = "rebooted"  # its InstanceId changed (count and times in evidence)
    # SCAN_SERVICE
    SCAN_SERVICE_PRESENT = "scan-service-present"
    PRINT_ONLY = "print-only"  # metadata read; no scan service (WSD scanning switched off)
    NOT_A_SCANNER = "not-a-scanner"  # metadata read; neither a scan nor a print service (a PC's wsdd…)
    METADATA_UNREADABLE = "metadata-unreadable"  # DeviceError says why
    # SUBSCRIPTION
    SUBSCRIPTION_ACTIVE = "subscription-active"
    SUBSCRIPTION_SHORT_GRANT = "subscription-short-grant"  # granted for less than a renew cycle is worth
    SUBSCRIPTION_RENEW_REFUSED = "subscription-renew-refused"
    SUBSCRIPTION_LIMIT = "subscription-limit"  # refused: the device's subscriber table is full
    SUBSCRIPTION_REFUSED = "subscription-refused"  # any other fault to Subscribe
    SUBSCRIPTION_ENDED = "subscription-ended"  # SubscriptionEnd (status, reason in evidence)
    SUBSCRIPTION_LAPSED = "subscription-lapsed"  # expired without a renew going through
    # FAULTS
    NO_FAULTS = "no-faults"
    FAULTS_RETURNED = "faults-returned"
    # JOBS
    JOBS_MOVING = "jobs-moving"
    JOBS_STUCK = "jobs-stuck"  # no progress and no end state for long
    # CLOCK
    CLOCK_IN_STEP = "clock-in-step"
    CLOCK_OFFSET = "clock-offset"  # job times far from this computer's clock (seconds in evidence)


@dataclass(frozen=True, slots=True)
class HealthEvidence:
    """What a finding rests on; only the fields that check uses are set."""

    first_at: datetime | None = None  # when it was first seen (e.g. the first Hello)
    last_at: datetime | None = None  # when it was last seen (e.g. the last multicast message)
    addresses: tuple[str, ...] = ()  # XAddrs, peers, the other address of an IP change
    interface: str = ""  # the receiving interface's address/prefix (ADDRESSES)
    endpoints: tuple[str, ...] = ()  # the other endpoints at this address (ADDRESS_SHARED)
    seconds: float | None = None  # a grant, a latency, a clock offset, how long a job is stuck
    count: int | None = None  # reboots, faults, Hellos without a match…
    code: str = ""  # a fault's subcode or a SubscriptionEnd status, as sent
    reason: str = ""  # the device's own words (fault Reason, SubscriptionEnd reason)
    jobs: tuple[JobKey, ...] = ()  # JOBS_STUCK
    messages: tuple[int, ...] = ()  # journal ids of the messages shown as evidence (raw log links)
    error: DeviceError | None = None  # METADATA_UNREADABLE, a request's failure


@dataclass(frozen=True, slots=True)
class HealthResult:
    check: HealthCheck
    verdict: Verdict
    finding: HealthFinding
    evidence: HealthEvidence = field(default_factory=HealthEvidence)


_RANK = {Verdict.UNKNOWN: 0, Verdict.OK: 1, Verdict.WARNING: 2, Verdict.PROBLEM: 3}


def worst(verdicts: tuple[Verdict, ...] | list[Verdict]) -> Verdict:
    """The verdict a device shows at a glance: problem > warning > ok > not known. A check that
    cannot tell yet does not hide what the others saw: a device with eight checks ok and two not
    known is ok; it is "not known" only when no check could tell (or there are none)."""
    return max(verdicts, key=_RANK.__getitem__, default=Verdict.UNKNOWN)


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """Every check of one device at one moment, in HealthCheck order."""

    endpoint: str
    at: datetime
    results: tuple[HealthResult, ...] = ()

    @property
    def verdict(self) -> Verdict:
        return worst([r.verdict for r in self.results])

    def result(self, check: HealthCheck) -> HealthResult | None:
        return next((r for r in self.results if r.check is check), None)
