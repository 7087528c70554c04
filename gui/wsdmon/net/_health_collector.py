"""The facts behind each device's health (issue 13, item 1), per endpoint, as the engine's hooks
report them: discovery sightings and our Probes (net/wiring.py, net/discovery.py), every SOAP
request's outcome (net/health.py's ObservedSoapClient) and SubscriptionEnd (net/engine.py).
Bounded: HISTORY_MAX items per history (core.device_evidence), MAX_DEVICES endpoints.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import ifaddr

from wsdmon.core.device_evidence import (
    HISTORY_MAX,
    AddressChange,
    DeviceEvidence,
    FaultSeen,
    FoundBy,
    MetadataRead,
    SharedAddress,
    Sighting,
    SubscriptionEvent,
    SubscriptionEventKind,
)
from wsdmon.core.device_status import DeviceError
from wsdmon.core.devices import device_from_metadata
from wsdmon.protocol import Fault, Message, UnknownMessage
from wsdmon.protocol.eventing import (
    GetStatus,
    GetStatusResponse,
    Renew,
    RenewResponse,
    Subscribe,
    SubscribeResponse,
    Unsubscribe,
    expires_at,
)
from wsdmon.protocol.metadata import GetMetadataResponse, TransferGet

__all__ = ["MAX_DEVICES", "HealthCollector", "Network", "local_networks"]

log = logging.getLogger(__name__)

MAX_DEVICES = 1024  # endpoints with evidence (the discovery tracker keeps as many)
MAX_ADDRESSES = 4096  # hosts remembered with the endpoints seen at each
MAX_PER_ADDRESS = 8  # endpoints remembered per host (a DSM server or a PC may host several)
# A present device answers our re-probe every 300 s ± 10 % (net.discovery.REPROBE_INTERVAL_S): one
# silent for two such periods is gone, and a new endpoint at its address is not its neighbour.
GONE_AFTER_S = 660.0
# A device that announces several addresses (one Hello per address, as wsdd does) names them within
# moments; one that moved (a new DHCP lease after a restart) is first heard at the new one at least
# this long after it was last heard at the old one, or after its Bye.
MOVE_MARGIN_S = 10.0
MAX_HOSTS = 8  # hosts remembered per endpoint
# A probe match later than this after our last Probe is not taken as its answer (no latency then):
# the discovery tracker keeps our MessageIDs this long (MESSAGE_ID_MAX_AGE_S).
PROBE_MATCH_MAX_S = 60.0
NETWORKS_REFRESH_S = 60.0  # the local interfaces' subnets are read again after this

Network = ipaddress.IPv4Interface | ipaddress.IPv6Interface


def local_networks() -> list[Network]:
    """This computer's interface addresses with their prefixes (loopback included)."""
    out: list[Network] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            host = ip.ip[0] if isinstance(ip.ip, tuple) else ip.ip
            with contextlib.suppress(ValueError):
                out.append(ipaddress.ip_interface(f"{host.partition('%')[0]}/{ip.network_prefix}"))
    return out


def _netloc(url: str) -> tuple[str, str]:
    """(host, host:port) of an URL; ("", "") when it has none."""
    try:
        parts = urlsplit(url)
        return parts.hostname or "", parts.netloc.lower()
    except ValueError:
        return "", ""


def _qname(q: Any) -> str:
    return f"{{{q.namespace}}}{q.local}"


@dataclass
class _Facts:
    """The mutable side of one endpoint's DeviceEvidence."""

    sightings: deque[Sighting] = field(default_factory=lambda: deque(maxlen=HISTORY_MAX))
    first: dict[FoundBy, Sighting] = field(default_factory=dict)
    hellos: int = 0
    probe_matches: int = 0
    directed_matches: int = 0
    last_multicast_at: datetime | None = None
    last_http_ok_at: datetime | None = None
    last_http_error: DeviceError | None = None
    xaddrs: tuple[str, ...] = ()
    host: str = ""
    reboots: deque[datetime] = field(default_factory=lambda: deque(maxlen=HISTORY_MAX))
    address_changes: deque[AddressChange] = field(default_factory=lambda: deque(maxlen=HISTORY_MAX))
    shared: deque[SharedAddress] = field(default_factory=lambda: deque(maxlen=HISTORY_MAX))
    metadata: MetadataRead | None = None
    subscription: deque[SubscriptionEvent] = field(default_factory=lambda: deque(maxlen=HISTORY_MAX))
    faults: deque[FaultSeen] = field(default_factory=lambda: deque(maxlen=HISTORY_MAX))
    fault_count: int = 0
    left_at: datetime | None = None
    types: tuple[str, ...] = ()
    instance_id: int | None = None  # from its last Hello (AppSequence InstanceId)
    hosts: OrderedDict[str, list[datetime]] = field(default_factory=OrderedDict)  # host → [first, last]

    def moved_from(self, host: str) -> bool:
        """It was heard at `host`, and since then said Bye or was first heard at another host well
        after (MOVE_MARGIN_S) its last word from `host`."""
        seen = self.hosts.get(host)
        if seen is None:
            return True
        last = seen[1]
        if self.left_at is not None and self.left_at >= last:
            return True
        margin = timedelta(seconds=MOVE_MARGIN_S)
        return any(first > last + margin for h, (first, _) in self.hosts.items() if h != host)

    def last_contact(self) -> datetime | None:
        times = [t for t in (self.last_http_ok_at, self.last_multicast_at) if t is not None]
        if self.sightings:
            times.append(self.sightings[-1].at)
        return max(times, default=None)


class HealthCollector:
    """The facts the health checks need, per endpoint; every method is cheap and never raises."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        networks: Callable[[], list[Network]] = local_networks,
        on_change: Callable[[str], None] = lambda endpoint: None,
    ) -> None:
        self._clock = clock
        self._read_networks = networks
        self._networks: list[Network] = []
        self._networks_at: datetime | None = None
        self.on_change = on_change
        self._facts: OrderedDict[str, _Facts] = OrderedDict()
        self._probes: deque[datetime] = deque(maxlen=HISTORY_MAX)
        self._directed: OrderedDict[str, deque[datetime]] = OrderedDict()  # probed host → when
        self._owners: OrderedDict[str, list[str]] = OrderedDict()  # host → endpoints seen there
        self._managers: dict[tuple[str, str | None], str] = {}  # (manager address, Identifier) → service

    # --- reading ---------------------------------------------------------------------------------

    def endpoints(self) -> list[str]:
        return list(self._facts)

    def evidence(self, endpoint: str) -> DeviceEvidence:
        """What is known of the endpoint now (an empty DeviceEvidence when nothing is)."""
        f = self._facts.get(endpoint)
        if f is None:
            return DeviceEvidence(endpoint, multicast_probes=tuple(self._probes))
        return DeviceEvidence(
            endpoint,
            sightings=tuple(f.sightings),
            first_sightings=tuple(f.first.values()),
            hellos=f.hellos,
            probe_matches=f.probe_matches,
            directed_matches=f.directed_matches,
            multicast_probes=tuple(self._probes),
            directed_probes=self._directed_to(f),
            last_multicast_at=f.last_multicast_at,
            last_http_ok_at=f.last_http_ok_at,
            last_http_error=f.last_http_error,
            xaddrs=f.xaddrs,
            reboots=tuple(f.reboots),
            address_changes=tuple(f.address_changes),
            shared=tuple(f.shared),
            metadata=f.metadata,
            subscription=tuple(f.subscription),
            faults=tuple(f.faults),
            fault_count=f.fault_count,
            left_at=f.left_at,
            types=f.types,
        )

    def _directed_to(self, f: _Facts) -> tuple[datetime, ...]:
        hosts = {f.host, *(s.peer for s in f.sightings)} - {""}
        times = sorted(t for h in hosts for t in self._directed.get(h, ()))
        return tuple(times[-HISTORY_MAX:])

    # --- internals -------------------------------------------------------------------------------

    def _of(self, endpoint: str) -> _Facts:
        f = self._facts.get(endpoint)
        if f is None:
            f = self._facts[endpoint] = _Facts()
            while len(self._facts) > MAX_DEVICES:
                self._facts.popitem(last=False)
        else:
            self._facts.move_to_end(endpoint)
        return f

    def _changed(self, endpoint: str) -> None:
        try:
            self.on_change(endpoint)
        except Exception:
            log.exception("health change callback failed")

    def _interface_of(self, peer: str, now: datetime) -> str:
        if self._networks_at is None or (now - self._networks_at).total_seconds() > NETWORKS_REFRESH_S:
            try:
                self._networks = self._read_networks()
            except (OSError, ValueError) as exc:
                log.info("could not list the interfaces for the health checks: %s", exc)
                self._networks = []
            self._networks_at = now
        try:
            ip = ipaddress.ip_address(peer.partition("%")[0])
        except ValueError:
            return ""
        for net in self._networks:
            if ip.version == net.version and ip in net.network:
                return str(net)
        return ""

    def _note_addresses(self, endpoint: str, f: _Facts, xaddrs: Sequence[str], now: datetime) -> None:
        if not xaddrs:
            return
        hosts = [h for h in (_netloc(u)[0] for u in xaddrs) if h]
        f.xaddrs = tuple(xaddrs)
        for host in hosts:
            seen = f.hosts.get(host)
            if seen is not None:
                seen[1] = now
                f.hosts.move_to_end(host)
                continue
            f.hosts[host] = [now, now]
            # A host it never had: moved, when every earlier one was left behind (another order, an
            # IPv6 address beside the IPv4 one, one Hello per address: no move).
            earlier = [h for h in f.hosts if h not in hosts]
            if earlier and all(f.moved_from(h) for h in earlier):
                f.address_changes.append(AddressChange(now, earlier[-1], host))
            while len(f.hosts) > MAX_HOSTS:
                f.hosts.popitem(last=False)
        if hosts:
            f.host = hosts[0]
        for url in xaddrs:
            self._note_host(endpoint, f, *_netloc(url), now)

    def _note_host(self, endpoint: str, f: _Facts, host: str, netloc: str, now: datetime) -> None:
        """A new endpoint at a host where another one was: shared when that one has moved on, said
        Bye or fell silent (several devices alive on one host, a DSM server's or a PC's, are not)."""
        if not host:
            return
        seen = self._owners.setdefault(host, [])
        self._owners.move_to_end(host)
        if endpoint in seen:
            return
        for other in seen:
            o = self._facts.get(other)
            if o is None:
                continue
            contact = o.last_contact()
            silent = contact is None or (now - contact).total_seconds() > GONE_AFTER_S
            if o.moved_from(host) or silent:
                f.shared.append(SharedAddress(now, netloc, other))
                o.shared.append(SharedAddress(now, netloc, endpoint))
                self._changed(other)
        seen.append(endpoint)
        del seen[:-MAX_PER_ADDRESS]
        while len(self._owners) > MAX_ADDRESSES:
            self._owners.popitem(last=False)

    def _alias(self, old: str, new: str) -> None:
        """A device added by its URL turned out to be `new` (its metadata's endpoint)."""
        f = self._facts.pop(old, None)
        if f is None:
            return
        target = self._of(new)
        for s in f.sightings:
            target.sightings.append(s)
        for how, s in f.first.items():
            target.first.setdefault(how, s)
        for seen in self._owners.values():
            if old in seen:
                seen.remove(old)
                if new not in seen:
                    seen.append(new)

    # --- discovery -------------------------------------------------------------------------------

    def multicast_probe_sent(self) -> None:
        """We multicast Probes (on every interface discovery uses)."""
        self._probes.append(self._clock())

    def directed_probe_sent(self, host: str) -> None:
        """We sent a Probe to `host` (--probe, a person's directed probe)."""
        self._directed.setdefault(host, deque(maxlen=HISTORY_MAX)).append(self._clock())
        self._directed.move_to_end(host)
        while len(self._directed) > MAX_DEVICES:
            self._directed.popitem(last=False)
        for endpoint, f in self._facts.items():  # a device known at that host: judge it again
            if f.host == host or any(s.peer == host for s in f.sightings):
                self._changed(endpoint)

    def discovered(
        self,
        endpoint: str,
        how: FoundBy,
        *,
        peer: str = "",
        xaddrs: Sequence[str] = (),
        instance_id: int | None = None,
        types: Iterable[Any] = (),
    ) -> None:
        """A Hello, a match, or a device given by URL (`how`); `instance_id`: a Hello's AppSequence
        InstanceId (a larger one than before is a restart; matches carry a responder's, not used)."""
        now = self._clock()
        f = self._of(endpoint)
        latency = None
        if how is FoundBy.PROBE_MATCH and self._probes:
            since = (now - self._probes[-1]).total_seconds()
            latency = since if 0 <= since <= PROBE_MATCH_MAX_S else None
        elif how is FoundBy.DIRECTED and peer in self._directed:
            latency = (now - self._directed[peer][-1]).total_seconds()
        interface = self._interface_of(peer, now) if peer else ""
        seen = Sighting(now, how, peer, interface, tuple(xaddrs), latency)
        f.sightings.append(seen)
        f.first.setdefault(how, seen)
        if how is FoundBy.HELLO:
            f.hellos += 1
        elif how in (FoundBy.PROBE_MATCH, FoundBy.RESOLVE_MATCH):
            f.probe_matches += 1
        elif how is FoundBy.DIRECTED:
            f.directed_matches += 1
        if how.multicast:
            f.last_multicast_at = now
        if how is FoundBy.HELLO and instance_id is not None:
            if f.instance_id is not None and instance_id != f.instance_id:
                f.reboots.append(now)
            f.instance_id = instance_id
        if types:
            f.types = tuple(_qname(t) for t in types)
        if how is not FoundBy.URL:
            self._note_addresses(endpoint, f, xaddrs, now)
        elif not f.xaddrs:
            f.xaddrs = tuple(xaddrs)  # the URL it was added with, until its metadata tells more
        self._changed(endpoint)

    def left(self, endpoint: str) -> None:
        """A Bye."""
        now = self._clock()
        f = self._of(endpoint)
        f.left_at = f.last_multicast_at = now
        self._changed(endpoint)

    # --- requests --------------------------------------------------------------------------------

    def request_ok(self, device: str, url: str, request: Message, answer: Message | UnknownMessage) -> None:
        now = self._clock()
        if isinstance(request, TransferGet) and isinstance(answer, GetMetadataResponse):
            real = answer.host.address if answer.host is not None else device
            if real != device:
                self._alias(device, real)
                device = real
            f = self._of(device)
            record = device_from_metadata(device, (url,), answer, now=now)
            services = tuple(_qname(t) for h in answer.hosted for t in h.types)
            f.metadata = MetadataRead(now, services=services, scan_service=bool(record.services))
            self._note_addresses(device, f, f.xaddrs or (url,), now)
        f = self._of(device)
        f.last_http_ok_at = now
        k = SubscriptionEventKind
        if isinstance(request, Subscribe) and isinstance(answer, SubscribeResponse):
            until = expires_at(answer.expires, now)
            manager = answer.subscription_manager
            self._managers[manager.address, manager.identifier] = url
            seconds = (until - now).total_seconds()
            f.subscription.append(SubscriptionEvent(now, k.GRANTED, url, seconds=seconds, expires_at=until))
        elif isinstance(answer, RenewResponse | GetStatusResponse):
            renewed = expires_at(answer.expires, now) if answer.expires is not None else None
            left_s = (renewed - now).total_seconds() if renewed is not None else None
            service = self._service_of(url, request)
            f.subscription.append(
                SubscriptionEvent(now, k.RENEWED, service, seconds=left_s, expires_at=renewed)
            )
        elif isinstance(request, Unsubscribe):
            f.subscription.append(SubscriptionEvent(now, k.UNSUBSCRIBED, self._service_of(url, request)))
        self._changed(device)

    def _service_of(self, manager: str, request: Message) -> str:
        return self._managers.get((manager, request.header.identifier), manager)

    def request_fault(
        self, device: str, url: str, request: Message, fault: Fault, error: DeviceError
    ) -> None:
        now = self._clock()
        f = self._of(device)
        f.last_http_ok_at = now  # it answered, if with a fault
        code = fault.subcode.local if fault.subcode else fault.code
        f.faults.append(FaultSeen(now, request.action, url, code, fault.reason))
        f.fault_count += 1
        k = SubscriptionEventKind
        if isinstance(request, Subscribe):
            f.subscription.append(
                SubscriptionEvent(now, k.SUBSCRIBE_FAULT, url, code=code, reason=fault.reason)
            )
        elif isinstance(request, Renew | GetStatus):
            service = self._service_of(url, request)
            f.subscription.append(
                SubscriptionEvent(now, k.RENEW_FAULT, service, code=code, reason=fault.reason)
            )
        elif isinstance(request, Unsubscribe):
            f.subscription.append(SubscriptionEvent(now, k.UNSUBSCRIBED, self._service_of(url, request)))
        elif isinstance(request, TransferGet):
            f.metadata = MetadataRead(now, error=error)
        self._changed(device)

    def request_failed(self, device: str, url: str, request: Message, error: DeviceError) -> None:
        now = self._clock()
        f = self._of(device)
        f.last_http_error = error
        k = SubscriptionEventKind
        if isinstance(request, Subscribe | Renew | GetStatus):
            service = url if isinstance(request, Subscribe) else self._service_of(url, request)
            f.subscription.append(SubscriptionEvent(now, k.FAILED, service, error=error))
        elif isinstance(request, Unsubscribe):
            f.subscription.append(SubscriptionEvent(now, k.UNSUBSCRIBED, self._service_of(url, request)))
        elif isinstance(request, TransferGet):
            f.metadata = MetadataRead(now, error=error)
        self._changed(device)

    def subscription_ended(
        self, device: str, service: str, status: str, reason: str, journal_id: int | None
    ) -> None:
        """SubscriptionEnd for our current subscription to `service`."""
        now = self._clock()
        event = SubscriptionEvent(
            now, SubscriptionEventKind.ENDED, service, code=status, reason=reason, journal_id=journal_id
        )
        self._of(device).subscription.append(event)
        self._changed(device)
