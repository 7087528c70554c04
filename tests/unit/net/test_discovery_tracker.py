"""The sans-IO discovery tracker: MessageID dedupe, WS-Discovery §7 AppSequence ordering, restart and
MetadataVersion detection, and the bounds on everything it remembers. Time is passed in."""

from __future__ import annotations

import pytest

from wsdmon.net._discovery_tracker import (
    DeviceLeft,
    DeviceSeen,
    DiscoveryTracker,
    RecentIds,
    RefreshReason,
    Source,
    TrackerLimits,
)
from wsdmon.protocol import AppSequence, Headers
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName
from wsdmon.protocol.discovery import Bye, Hello, ProbeMatch, ResolveMatch, multicast_headers

EP = "urn:uuid:00000000-0000-4000-8000-000000000001"
TYPES = (QName(ns.WSDP, "Device"), QName(ns.WSCN, "ScanDeviceType"))
XADDRS = ("http://10.0.0.2:5357/dev",)


def hello(
    instance: int | None,
    number: int = 1,
    *,
    version: int = 1,
    xaddrs: tuple[str, ...] = XADDRS,
    sequence_id: str | None = None,
    endpoint: str = EP,
) -> Hello:
    seq = AppSequence(instance, number, sequence_id) if instance is not None else None
    return Hello(multicast_headers(seq), endpoint, version, TYPES, ("scope:a",), xaddrs)


def bye(instance: int, number: int) -> Bye:
    return Bye(multicast_headers(AppSequence(instance, number)), EP)


def reasons(tracker: DiscoveryTracker, *messages: Hello | Bye) -> list[object]:
    out: list[object] = []
    for now, msg in enumerate(messages):
        if isinstance(msg, Hello):
            seen = tracker.hello(msg, float(now))
            out.append("stale" if seen is None else seen.refresh_reason)
        else:
            left = tracker.bye(msg, float(now))
            out.append("stale" if left is None else "left")
    return out


# --- ids ---------------------------------------------------------------------------------------


def test_recent_ids_bounded_by_size_and_age() -> None:
    ids = RecentIds(max_size=3, max_age_s=10.0)
    assert ids.add("a", 0.0)
    assert not ids.add("a", 1.0)
    for key in "bcd":
        ids.add(key, 2.0)
    assert len(ids) == 3
    assert not ids.contains("a", 2.0)
    assert ids.contains("b", 12.0)
    assert not ids.contains("b", 12.5)
    assert len(ids) == 0


def test_dedupe_by_message_id_and_own_ids() -> None:
    tracker = DiscoveryTracker(TrackerLimits(max_message_ids=2, message_id_max_age_s=5.0))
    assert tracker.first_delivery("m1", 0.0)
    assert not tracker.first_delivery("m1", 1.0)  # a repeat
    assert tracker.first_delivery(None, 1.0)
    assert tracker.first_delivery(None, 1.0)
    assert tracker.first_delivery("m1", 6.5)  # long after: forgotten
    tracker.note_sent("mine", 0.0)
    assert tracker.sent_by_us("mine", 4.0)
    assert not tracker.sent_by_us("theirs", 4.0)
    assert not tracker.sent_by_us(None, 4.0)
    assert not tracker.sent_by_us("mine", 5.5)
    for i in range(10):
        tracker.first_delivery(f"x{i}", 7.0)
        tracker.note_sent(f"y{i}", 7.0)
    assert tracker.sizes() == {"seen_ids": 2, "sent_ids": 2, "endpoints": 0}


@pytest.mark.parametrize(
    "kwargs",
    [{"max_message_ids": 0}, {"max_endpoints": 0}, {"message_id_max_age_s": 0}, {"endpoint_max_age_s": -1}],
)
def test_limits_are_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="tracker"):
        TrackerLimits(**kwargs)  # type: ignore[arg-type]


# --- §7 ordering -------------------------------------------------------------------------------


def test_hello_ordering_and_restart() -> None:
    tracker = DiscoveryTracker()
    assert reasons(
        tracker,
        hello(5, 1),  # first sighting
        hello(5, 2),  # newer, nothing changed
        hello(5, 2),  # same number again (another MessageID): stale
        hello(5, 1),  # older: stale
        hello(4, 9),  # older instance: stale
        hello(6, 1),  # larger InstanceId: the device restarted
        hello(6, 2, version=3),  # MetadataVersion changed
        hello(6, 3, version=3, xaddrs=("http://10.0.0.9/",)),  # transport address changed
        hello(6, 4, version=3, xaddrs=()),  # no XAddrs: not a change
    ) == [
        RefreshReason.APPEARED,
        None,
        "stale",
        "stale",
        "stale",
        RefreshReason.RESTARTED,
        RefreshReason.METADATA_CHANGED,
        RefreshReason.XADDRS_CHANGED,
        None,
    ]


def test_sequences_without_order_are_accepted() -> None:
    tracker = DiscoveryTracker()
    assert reasons(
        tracker,
        hello(5, 7, sequence_id="urn:s1"),
        hello(5, 1, sequence_id="urn:s2"),  # another sequence of the same instance: not comparable
        hello(None),  # no AppSequence (lenient: some devices omit it)
        hello(5, 2, sequence_id="urn:s2"),
        hello(5, 1, sequence_id="urn:s2"),
    ) == [RefreshReason.APPEARED, None, None, None, "stale"]


def test_bye_and_return() -> None:
    tracker = DiscoveryTracker()
    assert reasons(
        tracker,
        hello(5, 1),
        bye(5, 2),
        hello(5, 2),  # a late Hello sent before the Bye: stale
        bye(5, 2),  # the Bye's repeat with another MessageID: stale
        hello(5, 3),  # back again, same instance
        bye(5, 4),
        hello(6, 1),  # back after a restart
    ) == [
        RefreshReason.APPEARED,
        "left",
        "stale",
        "stale",
        RefreshReason.APPEARED,
        "left",
        RefreshReason.RESTARTED,
    ]


def test_events_carry_everything_along() -> None:
    tracker = DiscoveryTracker()
    seen = tracker.hello(hello(5, 1, version=4), 0.0, ("10.0.0.2", 3702))
    assert seen == DeviceSeen(
        EP,
        TYPES,
        ("scope:a",),
        XADDRS,
        4,
        AppSequence(5, 1),
        Source.HELLO,
        RefreshReason.APPEARED,
        ("10.0.0.2", 3702),
    )
    assert seen.needs_refresh
    left = tracker.bye(bye(5, 2), 1.0, ("10.0.0.2", 3702))
    assert left == DeviceLeft(EP, AppSequence(5, 2), ("10.0.0.2", 3702))
    unknown = tracker.bye(Bye(Headers(message_id="urn:x"), "urn:uuid:other"), 2.0)
    assert unknown == DeviceLeft("urn:uuid:other", None)


def test_matches_have_no_ordering_but_detect_changes() -> None:
    tracker = DiscoveryTracker()
    match = ProbeMatch(EP, 1, TYPES, xaddrs=XADDRS)
    # wsdiscovery puts a random InstanceId in every ProbeMatches: never a restart, never stale
    first = tracker.match(match, AppSequence(99, 1), Source.PROBE_MATCH, 0.0)
    again = tracker.match(match, AppSequence(3, 1), Source.PROBE_MATCH, 1.0)
    resolved = tracker.match(ResolveMatch(EP, 2, XADDRS, TYPES), None, Source.RESOLVE_MATCH, 2.0)
    assert [first.refresh_reason, again.refresh_reason, resolved.refresh_reason] == [
        RefreshReason.APPEARED,
        None,
        RefreshReason.METADATA_CHANGED,
    ]
    assert again.app_sequence == AppSequence(3, 1)
    assert resolved.source is Source.RESOLVE_MATCH
    # a Hello after matches still orders against later Hellos
    assert reasons(tracker, hello(5, 2, version=2), hello(5, 1, version=2)) == [None, "stale"]


def test_endpoint_state_is_bounded_in_number_and_age() -> None:
    tracker = DiscoveryTracker(TrackerLimits(max_endpoints=3, endpoint_max_age_s=100.0))
    for i in range(10):
        tracker.hello(hello(1, 1, endpoint=f"urn:uuid:{i}"), float(i))
    assert tracker.sizes()["endpoints"] == 3
    # an evicted endpoint is simply new again (one metadata re-read), even with an older number
    seen = tracker.hello(hello(1, 1, endpoint="urn:uuid:0"), 10.0)
    assert seen is not None
    assert seen.refresh_reason is RefreshReason.APPEARED
    # and state not heard from for longer than the age limit is forgotten
    seen = tracker.hello(hello(1, 1, endpoint="urn:uuid:0"), 500.0)
    assert seen is not None
    assert seen.refresh_reason is RefreshReason.APPEARED
    assert tracker.sizes()["endpoints"] == 1
