"""What the health checks of one device rest on (issue 13, item 1), as plain typed values: how it
was found, what its multicast and HTTP did and when, its addresses and restarts, its metadata, its
subscriptions' outcomes and the faults it returned. net/health.py gathers them as messages arrive;
core.health_evaluate judges them; the support bundle builds the part the journal can tell.

Every history is a tuple of the last HISTORY_MAX items (bounded memory); counts keep counting.
No words here and no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from .device_status import DeviceError

__all__ = [
    "HISTORY_MAX",
    "AddressChange",
    "DeviceEvidence",
    "FaultSeen",
    "FoundBy",
    "MetadataRead",
    "SharedAddress",
    "Sighting",
    "SubscriptionEvent",
    "SubscriptionEventKind",
]

HISTORY_MAX = 20  # items kept of each history per device (the "last 20 of each")


class FoundBy(enum.Enum):
    """How one sighting of the device came about."""

    HELLO = "hello"  # its multicast Hello
    PROBE_MATCH = "probe-match"  # its (unicast) ProbeMatch to our multicast Probe
    RESOLVE_MATCH = "resolve-match"  # its ResolveMatch to our Resolve
    DIRECTED = "directed"  # its ProbeMatch to a Probe sent to its address (--probe)
    URL = "url"  # its metadata URL given by a person (--device, Add device)

    @property
    def multicast(self) -> bool:
        """True when the device heard (or sent) WS-Discovery multicast for this sighting."""
        return self in (FoundBy.HELLO, FoundBy.PROBE_MATCH, FoundBy.RESOLVE_MATCH)


@dataclass(frozen=True, slots=True)
class Sighting:
    at: datetime
    how: FoundBy
    peer: str = ""  # the datagram's source address ("" for URL)
    interface: str = ""  # the local address/prefix whose subnet holds the peer ("" when none does)
    xaddrs: tuple[str, ...] = ()
    latency_s: float | None = None  # from our Probe to this match (PROBE_MATCH, DIRECTED)


@dataclass(frozen=True, slots=True)
class AddressChange:
    at: datetime
    old: str  # host of its previous XAddr
    new: str


@dataclass(frozen=True, slots=True)
class SharedAddress:
    """Another endpoint was seen at an address (host:port) this one had, or the reverse."""

    at: datetime
    address: str  # host:port
    other: str  # the other endpoint


@dataclass(frozen=True, slots=True)
class MetadataRead:
    at: datetime
    error: DeviceError | None = None  # None: read
    services: tuple[str, ...] = ()  # every hosted service type, "{namespace}Local"
    scan_service: bool = False  # a WS-Scan scanner or DSM repository service with an address


class SubscriptionEventKind(enum.Enum):
    GRANTED = "granted"  # SubscribeResponse (seconds: the lifetime granted)
    RENEWED = "renewed"  # RenewResponse / GetStatusResponse
    SUBSCRIBE_FAULT = "subscribe-fault"  # a SOAP fault to Subscribe (code, reason)
    RENEW_FAULT = "renew-fault"  # a SOAP fault to Renew or GetStatus
    FAILED = "failed"  # Subscribe/Renew got no answer (error)
    ENDED = "ended"  # SubscriptionEnd (code: its status URI, reason: its text)
    UNSUBSCRIBED = "unsubscribed"  # we ended it


@dataclass(frozen=True, slots=True)
class SubscriptionEvent:
    at: datetime
    kind: SubscriptionEventKind
    service: str  # the service's address
    seconds: float | None = None  # GRANTED/RENEWED: the lifetime granted
    expires_at: datetime | None = None  # GRANTED/RENEWED: when it ends unless renewed
    code: str = ""  # a fault's subcode (or code); ENDED: the status as sent
    reason: str = ""  # the device's own words
    error: DeviceError | None = None  # FAILED
    journal_id: int | None = None  # ENDED: the SubscriptionEnd message in the journal


@dataclass(frozen=True, slots=True)
class FaultSeen:
    at: datetime
    request: str  # the request's action, as sent
    url: str
    code: str  # the fault's subcode local name (or its code)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DeviceEvidence:
    """Everything known of one endpoint that the checks use; an empty one judges as not known."""

    endpoint: str
    sightings: tuple[Sighting, ...] = ()  # the last HISTORY_MAX, oldest first
    first_sightings: tuple[Sighting, ...] = ()  # the first of each FoundBy
    hellos: int = 0
    probe_matches: int = 0  # matches to our multicast Probes/Resolves
    directed_matches: int = 0
    # Our multicast Probes, sent on every interface (the last HISTORY_MAX send times, engine-wide):
    # which of them the device answered tells PROBE_REPLIES and MULTICAST.
    multicast_probes: tuple[datetime, ...] = ()
    directed_probes: tuple[datetime, ...] = ()  # our Probes sent to its address (--probe), last HISTORY_MAX
    last_multicast_at: datetime | None = None  # its last Hello/Bye, or match to a multicast request
    last_http_ok_at: datetime | None = None  # its last HTTP exchange that gave a SOAP answer
    last_http_error: DeviceError | None = None  # the last request that got no answer, if later
    xaddrs: tuple[str, ...] = ()  # the latest known
    reboots: tuple[datetime, ...] = ()  # when its InstanceId changed
    address_changes: tuple[AddressChange, ...] = ()
    shared: tuple[SharedAddress, ...] = ()
    metadata: MetadataRead | None = None  # the latest read
    subscription: tuple[SubscriptionEvent, ...] = ()
    faults: tuple[FaultSeen, ...] = ()
    fault_count: int = 0
    left_at: datetime | None = None  # its last Bye
    types: tuple[str, ...] = ()  # WS-Discovery Types it announced, "{namespace}Local"

    @property
    def multicast_sightings(self) -> tuple[Sighting, ...]:
        return tuple(s for s in self.sightings if s.how.multicast)
