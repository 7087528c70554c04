"""Sans-IO discovery bookkeeping: what the monitor remembers about WS-Discovery traffic.

May live here: MessageID dedupe, our own sent MessageIDs, per-endpoint AppSequence ordering, restart
and MetadataVersion detection, and the bounds on all of that. No asyncio, no sockets, no clock: every
method takes `now` (monotonic seconds). Rules (WS-Discovery 2005/04):
- §7 AppSequence: of two messages from one endpoint, the one with the larger InstanceId is newer; with
  equal InstanceId and SequenceId, the larger MessageNumber is newer. A Hello/Bye that is not newer
  than the last accepted one is stale (a late repeat or a reordered datagram) and is dropped. A larger
  InstanceId means the device restarted: its subscriptions are gone, so `needs_refresh`.
- Ordering is applied to Hello and Bye only. ProbeMatches/ResolveMatches carry the responder's
  AppSequence, which is a proxy's when one answers, and some stacks (wsdiscovery itself) put a random
  InstanceId in every reply; treating those as restarts would re-read metadata on every probe.
- MetadataVersion (§4.1) changes when the metadata does: any change means `needs_refresh`.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from wsdmon.protocol import AppSequence, QName
from wsdmon.protocol.discovery import Bye, Hello, ProbeMatch, ResolveMatch

__all__ = [
    "ENDPOINT_MAX_AGE_S",
    "MAX_ENDPOINTS",
    "MAX_MESSAGE_IDS",
    "MESSAGE_ID_MAX_AGE_S",
    "DeviceLeft",
    "DeviceSeen",
    "DiscoveryEvent",
    "DiscoveryTracker",
    "RecentIds",
    "RefreshReason",
    "Source",
    "TrackerLimits",
]

# SOAP-over-UDP repeats a message for at most a few seconds (UDP_UPPER_DELAY 500 ms, a handful of
# repeats) and WS-Discovery §7 asks receivers to discard duplicates by MessageID; a minute covers every
# repeat with a wide margin. Our own MessageIDs are kept as long, so late ProbeMatches still match.
MESSAGE_ID_MAX_AGE_S = 60.0
MAX_MESSAGE_IDS = 4096
# Ordering state of an endpoint not heard from for this long is forgotten (a periodic re-probe keeps
# present devices fresh); forgetting only costs one metadata re-read when it comes back.
ENDPOINT_MAX_AGE_S = 3600.0
MAX_ENDPOINTS = 1024


class Source(enum.StrEnum):
    """How a device was seen."""

    HELLO = "hello"
    PROBE_MATCH = "probe-match"
    RESOLVE_MATCH = "resolve-match"
    DIRECTED = "directed"


class RefreshReason(enum.StrEnum):
    """Why the engine must (re-)read metadata and (re-)subscribe."""

    APPEARED = "appeared"  # not known, or known to have left (Bye)
    RESTARTED = "restarted"  # a Hello with a larger AppSequence InstanceId
    METADATA_CHANGED = "metadata-changed"  # another MetadataVersion
    XADDRS_CHANGED = "xaddrs-changed"  # transport addresses now known or different


@dataclass(frozen=True, slots=True)
class DeviceSeen:
    """A target service announced itself or answered: pass Types along, classify by metadata."""

    endpoint: str
    types: tuple[QName, ...]
    scopes: tuple[str, ...]
    xaddrs: tuple[str, ...]  # empty until resolved
    metadata_version: int | None
    app_sequence: AppSequence | None
    source: Source
    refresh_reason: RefreshReason | None = None
    peer: tuple[str, int] | None = None  # the datagram's source address

    @property
    def needs_refresh(self) -> bool:
        """True when metadata must be re-read and subscriptions re-made (new, restarted, changed)."""
        return self.refresh_reason is not None


@dataclass(frozen=True, slots=True)
class DeviceLeft:
    """A target service said Bye."""

    endpoint: str
    app_sequence: AppSequence | None
    peer: tuple[str, int] | None = None


DiscoveryEvent = DeviceSeen | DeviceLeft


@dataclass(frozen=True, slots=True)
class TrackerLimits:
    """Bounds on everything the tracker remembers."""

    max_message_ids: int = MAX_MESSAGE_IDS
    message_id_max_age_s: float = MESSAGE_ID_MAX_AGE_S
    max_endpoints: int = MAX_ENDPOINTS
    endpoint_max_age_s: float = ENDPOINT_MAX_AGE_S

    def __post_init__(self) -> None:
        if min(self.max_message_ids, self.max_endpoints) < 1:
            raise ValueError("tracker sizes must be at least 1")
        if min(self.message_id_max_age_s, self.endpoint_max_age_s) <= 0:
            raise ValueError("tracker ages must be positive")


class RecentIds:
    """A set of strings bounded in size and age (oldest dropped first)."""

    __slots__ = ("_items", "_max_age_s", "_max_size")

    def __init__(self, max_size: int, max_age_s: float) -> None:
        self._items: OrderedDict[str, float] = OrderedDict()
        self._max_size = max_size
        self._max_age_s = max_age_s

    def __len__(self) -> int:
        return len(self._items)

    def prune(self, now: float) -> None:
        """Forget entries older than the age limit."""
        items = self._items
        while items:
            key, added = next(iter(items.items()))
            if now - added <= self._max_age_s:
                break
            del items[key]

    def add(self, key: str, now: float) -> bool:
        """Remember `key`; False if it was already there (and still young)."""
        self.prune(now)
        if key in self._items:
            return False
        self._items[key] = now
        while len(self._items) > self._max_size:
            self._items.popitem(last=False)
        return True

    def contains(self, key: str, now: float) -> bool:
        self.prune(now)
        return key in self._items


@dataclass(slots=True)
class _Endpoint:
    instance_id: int | None = None
    sequence_id: str | None = None
    message_number: int | None = None
    metadata_version: int | None = None
    xaddrs: frozenset[str] = frozenset()
    present: bool = False
    heard: float = 0.0


class _Order(enum.Enum):
    NEWER = enum.auto()
    STALE = enum.auto()
    RESTART = enum.auto()
    UNKNOWN = enum.auto()  # nothing to compare (no AppSequence, or another SequenceId)


def _order(state: _Endpoint, seq: AppSequence | None) -> _Order:
    if seq is None or state.instance_id is None:
        return _Order.UNKNOWN
    if seq.instance_id != state.instance_id:
        return _Order.RESTART if seq.instance_id > state.instance_id else _Order.STALE
    if seq.sequence_id != state.sequence_id or state.message_number is None:
        return _Order.UNKNOWN  # §7: MessageNumbers of different sequences are not comparable
    return _Order.NEWER if seq.message_number > state.message_number else _Order.STALE


class DiscoveryTracker:
    """Dedupe, ordering and change detection for one monitor; all state bounded by TrackerLimits."""

    def __init__(self, limits: TrackerLimits | None = None) -> None:
        self.limits = limits or TrackerLimits()
        lim = self.limits
        self._seen = RecentIds(lim.max_message_ids, lim.message_id_max_age_s)
        self._sent = RecentIds(lim.max_message_ids, lim.message_id_max_age_s)
        self._endpoints: OrderedDict[str, _Endpoint] = OrderedDict()

    # --- message ids ---------------------------------------------------------------------------

    def note_sent(self, message_id: str, now: float) -> None:
        """Remember a MessageID we sent: its echoes are ours, and replies relate to it."""
        self._sent.add(message_id, now)

    def sent_by_us(self, message_id: str | None, now: float) -> bool:
        return message_id is not None and self._sent.contains(message_id, now)

    def first_delivery(self, message_id: str | None, now: float) -> bool:
        """False for a repeat of a message already accepted (same MessageID)."""
        return message_id is None or self._seen.add(message_id, now)

    def sizes(self) -> dict[str, int]:
        """How much is remembered (for tests and the status view)."""
        return {"seen_ids": len(self._seen), "sent_ids": len(self._sent), "endpoints": len(self._endpoints)}

    # --- endpoints -----------------------------------------------------------------------------

    def _state(self, endpoint: str, now: float) -> _Endpoint:
        eps = self._endpoints
        while eps:  # forget endpoints not heard from for too long (oldest first)
            oldest = next(iter(eps.values()))
            if now - oldest.heard <= self.limits.endpoint_max_age_s:
                break
            eps.popitem(last=False)
        state = eps.pop(endpoint, None) or _Endpoint()
        state.heard = now
        eps[endpoint] = state  # most recently heard last
        while len(eps) > self.limits.max_endpoints:
            eps.popitem(last=False)
        return state

    def _peek(self, endpoint: str, now: float) -> _Endpoint | None:
        state = self._endpoints.get(endpoint)
        if state is not None and now - state.heard > self.limits.endpoint_max_age_s:
            return None
        return state

    @staticmethod
    def _record_sequence(state: _Endpoint, seq: AppSequence | None) -> None:
        if seq is not None:
            state.instance_id = seq.instance_id
            state.sequence_id = seq.sequence_id
            state.message_number = seq.message_number

    @staticmethod
    def _changes(
        state: _Endpoint | None, metadata_version: int | None, xaddrs: Iterable[str]
    ) -> RefreshReason | None:
        if state is None or not state.present:
            return RefreshReason.APPEARED
        if metadata_version is not None and metadata_version != state.metadata_version:
            return RefreshReason.METADATA_CHANGED
        new = frozenset(xaddrs)
        if new and new != state.xaddrs:
            return RefreshReason.XADDRS_CHANGED
        return None

    @staticmethod
    def _update(state: _Endpoint, metadata_version: int | None, xaddrs: tuple[str, ...]) -> None:
        state.present = True
        if metadata_version is not None:
            state.metadata_version = metadata_version
        if xaddrs:
            state.xaddrs = frozenset(xaddrs)

    def hello(self, msg: Hello, now: float, peer: tuple[str, int] | None = None) -> DeviceSeen | None:
        """A Hello → DeviceSeen, or None if it is stale (§7 ordering)."""
        seq = msg.header.app_sequence
        known = self._peek(msg.address, now)
        order = _order(known, seq) if known is not None else _Order.UNKNOWN
        if order is _Order.STALE:
            return None
        reason = (
            RefreshReason.RESTARTED
            if order is _Order.RESTART
            else self._changes(known, msg.metadata_version, msg.xaddrs)
        )
        state = self._state(msg.address, now)
        self._record_sequence(state, seq)
        self._update(state, msg.metadata_version, msg.xaddrs)
        return DeviceSeen(
            msg.address,
            msg.types,
            msg.scopes,
            msg.xaddrs,
            msg.metadata_version,
            seq,
            Source.HELLO,
            reason,
            peer,
        )

    def bye(self, msg: Bye, now: float, peer: tuple[str, int] | None = None) -> DeviceLeft | None:
        """A Bye → DeviceLeft, or None if it is stale (§7 ordering)."""
        seq = msg.header.app_sequence
        known = self._peek(msg.address, now)
        if known is not None and _order(known, seq) is _Order.STALE:
            return None
        state = self._state(msg.address, now)
        self._record_sequence(state, seq)
        state.present = False
        return DeviceLeft(msg.address, seq, peer)

    def match(
        self,
        match: ProbeMatch | ResolveMatch,
        app_sequence: AppSequence | None,
        source: Source,
        now: float,
        peer: tuple[str, int] | None = None,
    ) -> DeviceSeen:
        """A ProbeMatch or ResolveMatch → DeviceSeen (never stale: see the module header)."""
        known = self._peek(match.address, now)
        reason = self._changes(known, match.metadata_version, match.xaddrs)
        state = self._state(match.address, now)
        self._update(state, match.metadata_version, match.xaddrs)
        return DeviceSeen(
            match.address,
            match.types,
            match.scopes,
            match.xaddrs,
            match.metadata_version,
            app_sequence,
            source,
            reason,
            peer,
        )
