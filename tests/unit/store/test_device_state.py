"""A device's runtime state as its collector stores it for the viewers of a shared store (schema v5,
store.devices): the round trip is exact, the error's log-only detail is not stored, and damaged or
later-format text is refused with CodecError (the viewer then shows the device without a state)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.unit.store.helpers import device_record
from wsdmon.core import DeviceError, DeviceErrorKind, OfflineReason, ScannerCondition, SubscriptionStatus
from wsdmon.core.devices import Role, ServiceInfo, runtime_state
from wsdmon.protocol.scan import Component, ConditionName, Severity
from wsdmon.store.codec import CodecError
from wsdmon.store.devices import decode_device_state, encode_device_state

SCANNER = ServiceInfo("https://10.0.0.5:5358/scan", Role.SCAN_DEVICE, "urn:svc:scan")


def _bare(record):
    """The record as the viewer reads its row: metadata only, every runtime field at its default."""
    services = tuple(
        dataclasses.replace(s, subscription=SubscriptionStatus.NONE, subscription_error=None,
                            state=None, state_reasons=(), conditions=())
        for s in record.services
    )  # fmt: skip
    return dataclasses.replace(record, services=services, online=True, offline_reason=None, error=None)


def _busy_scanner():
    record = device_record()
    record = dataclasses.replace(record, services=(*record.services, SCANNER))
    record = record.with_subscription(
        SCANNER.address, SubscriptionStatus.RETRYING, "HTTP 503 from the scanner"
    )
    record = record.with_state(SCANNER.address, "Stopped", ("MediaJam", "acme:TonerLow"))
    record = record.with_condition(
        SCANNER.address, 7, ScannerCondition(7, ConditionName.MEDIA_JAM, Severity.CRITICAL, Component.ADF)
    )
    return record.with_condition(
        SCANNER.address, 9, ScannerCondition(9, "acme:Dusty", "acme:Low", "acme:Lens")
    )


def test_the_runtime_state_round_trips_exactly_with_vendor_values() -> None:
    record = _busy_scanner()
    back = decode_device_state(_bare(record), encode_device_state(record))
    assert back == record
    assert runtime_state(back) == runtime_state(record)
    conditions = back.services[1].conditions
    assert conditions[0].name is ConditionName.MEDIA_JAM  # the well-known value as its member
    assert conditions[1].name == "acme:Dusty"  # a vendor's as given


def test_an_offline_device_with_its_error_round_trips_without_the_log_only_detail() -> None:
    error = DeviceError(
        DeviceErrorKind.UNTRUSTED_CERTIFICATE,
        url="https://10.0.0.5:5362/dsm",
        reason="self-signed",
        fingerprint="ab" * 32,
        detail="<html>the device's own page, for the log</html>",
    )
    record = dataclasses.replace(
        device_record(), online=False, offline_reason=OfflineReason.UNREACHABLE, error=error
    )
    text = encode_device_state(record)
    assert "for the log" not in text
    back = decode_device_state(_bare(record), text)
    assert back == dataclasses.replace(record, error=dataclasses.replace(error, detail=""))
    assert back.offline_reason is OfflineReason.UNREACHABLE


def test_a_service_the_state_does_not_name_keeps_its_defaults() -> None:
    """Metadata read again since (a new service): only the services the state names get theirs."""
    stored = device_record()  # one service, active
    now = dataclasses.replace(stored, services=(*stored.services, SCANNER))
    back = decode_device_state(_bare(now), encode_device_state(stored))
    assert back.services[0].subscription is SubscriptionStatus.ACTIVE
    assert back.services[1] == SCANNER


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"v": 2, "online": True, "services": []}),  # a later format
        json.dumps({"v": 1, "online": "yes", "services": []}),
        json.dumps({"v": 1, "online": False, "offline_reason": "gone fishing", "services": []}),
        json.dumps({"v": 1, "online": True, "services": {}}),
        json.dumps({"v": 1, "online": True, "error": {"kind": "???"}, "services": []}),
        json.dumps({"v": 1, "online": True, "services": [{"address": "https://10.0.0.5:5362/dsm/rcs"}]}),
        json.dumps(
            {
                "v": 1,
                "online": True,
                "services": [
                    {
                        "address": "https://10.0.0.5:5362/dsm/rcs",
                        "subscription": "active",
                        "conditions": [[1, "x"]],
                    }
                ],
            }
        ),
    ],
)
def test_damaged_or_later_state_is_refused_with_a_codec_error(text: str) -> None:
    with pytest.raises(CodecError):
        decode_device_state(device_record(), text)


def test_a_new_last_event_is_no_change_of_the_runtime_state() -> None:
    record = _busy_scanner()
    assert runtime_state(dataclasses.replace(record, last_event=None)) == runtime_state(record)
    assert runtime_state(record.with_state(SCANNER.address, "Idle", ())) != runtime_state(record)
    assert runtime_state(dataclasses.replace(record, online=False)) != runtime_state(record)
