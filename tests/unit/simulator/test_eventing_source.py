"""The event source's rules (eventing.py) called directly: Action filter matching, Subscribe
faults, lifetimes, server-assigned identifiers (no sockets: nothing is published)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from wsdmon.protocol import EndpointReference, Fault, Headers
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.eventing import (
    Filter,
    GetStatus,
    GetStatusResponse,
    Renew,
    RenewResponse,
    Subscribe,
    SubscribeResponse,
    Unsubscribe,
    UnsubscribeResponse,
)
from wsdmon.simulator import Timers
from wsdmon.simulator.eventing import EventSource, action_matches
from wsdmon.simulator.repository import EVENT_ACTIONS


@pytest.mark.parametrize(
    ("filter_uri", "action", "matches"),
    [
        (ns.DSC_POST_SCAN_JOB_STATUS_EVENT, ns.DSC_POST_SCAN_JOB_STATUS_EVENT, True),
        (ns.DSC, ns.DSC_POST_SCAN_JOB_STATUS_EVENT, True),
        (ns.DSC + "/", ns.DSC_POST_SCAN_JOB_STATUS_EVENT, True),
        (ns.DSC + "/PostScan", ns.DSC_POST_SCAN_JOB_STATUS_EVENT, False),  # segment-wise, not string prefix
        (ns.WSCN, ns.DSC_POST_SCAN_JOB_STATUS_EVENT, False),
    ],
)
def test_action_filter_matching(filter_uri: str, action: str, matches: bool) -> None:
    assert action_matches(filter_uri, action) is matches


def subscribe(**kw: object) -> Subscribe:
    notify = EndpointReference("http://127.0.0.1:9/sink", "urn:uuid:me")
    return Subscribe(Headers.request("http://127.0.0.1:1/service"), notify, **kw)  # type: ignore[arg-type]


def fault_name(message: object) -> str:
    assert isinstance(message, Fault)
    assert message.subcode is not None
    return message.subcode.local


def test_subscribe_answers_and_faults() -> None:
    async def body() -> None:
        source = EventSource("http://127.0.0.1:1/service", EVENT_ACTIONS, Timers(max_expires_s=60.0), "t")
        try:
            ok = source.subscribe(subscribe(expires=timedelta(seconds=30)))
            assert isinstance(ok, SubscribeResponse)
            assert ok.expires == timedelta(seconds=30)
            assert ok.subscription_manager.address == "http://127.0.0.1:1/service"
            other = source.subscribe(subscribe(expires=timedelta(days=2)))
            assert isinstance(other, SubscribeResponse)
            assert other.expires == timedelta(seconds=60)  # capped
            assert ok.subscription_manager.identifier != other.subscription_manager.identifier
            assert fault_name(source.subscribe(subscribe(expires=timedelta(0)))) == "InvalidExpirationTime"
            unknown = Filter((ns.WSCN_JOB_STATUS_EVENT,))
            assert fault_name(source.subscribe(subscribe(filter=unknown))) == "FilterActionNotSupported"
            xpath = Filter(dialect=ns.WSE_XPATH_DIALECT, expression="/x")
            assert fault_name(source.subscribe(subscribe(filter=xpath))) == "FilteringRequestedUnavailable"
            bad = Subscribe(Headers.request("x"), EndpointReference("urn:uuid:not-a-url", "urn:uuid:me"))
            assert fault_name(source.subscribe(bad)) == "EventSourceUnableToProcess"

            manager = ok.subscription_manager
            renewed = source.renew(Renew(Headers.request(manager.address, identifier=manager.identifier)))
            assert isinstance(renewed, RenewResponse)
            assert renewed.expires == timedelta(seconds=60)  # the default (3600) capped
            status = source.get_status(
                GetStatus(Headers.request(manager.address, identifier=manager.identifier))
            )
            assert isinstance(status, GetStatusResponse)
            gone = source.unsubscribe(
                Unsubscribe(Headers.request(manager.address, identifier=manager.identifier))
            )
            assert isinstance(gone, UnsubscribeResponse)
            again = source.get_status(
                GetStatus(Headers.request(manager.address, identifier=manager.identifier))
            )
            assert fault_name(again) == "InvalidMessage"
            assert len(source.subscriptions) == 1
        finally:
            await source.close()
        assert source.subscriptions == ()

    asyncio.run(body())
