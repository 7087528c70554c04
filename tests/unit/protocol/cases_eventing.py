"""Round-trip cases for WS-Eventing 2004/08 (protocol/eventing.py). Names start with `wse-`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from wsdmon.protocol import EndpointReference, Headers, Message
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.eventing import (
    Filter,
    GetStatus,
    GetStatusResponse,
    Reason,
    Renew,
    RenewResponse,
    Subscribe,
    SubscribeResponse,
    SubscriptionEnd,
    SubscriptionEndStatus,
    Unsubscribe,
    UnsubscribeResponse,
    fault_delivery_mode_unavailable,
    fault_filter_action_not_supported,
)

from .cases_dsm import IDENT, PST, SINK, mid

SERVICE = "https://scansrv.example.test:5362/ScanServer/553852db-6d5a-4eee-a34f-5b499c1a2944"
SCANNER = "http://192.0.2.20:5357/3f1c2a9e-5b1d-4c7a-9e0f-2b6d8a4c1e77/ScannerService"
MANAGER_ID = "urn:uuid:91a0b2c3-d4e5-4f60-8a7b-9c0d1e2f3a4b"
SINK_EPR = EndpointReference(SINK, IDENT)
MANAGER = EndpointReference(SERVICE, MANAGER_ID)
POSTSCAN_FILTER = Filter((ns.DSC_POST_SCAN_JOB_STATUS_EVENT, ns.DSC_POST_SCAN_JOB_END_STATE_EVENT))
SCAN_DESTINATIONS = (
    '<wscn:ScanDestinations xmlns:wscn="http://schemas.microsoft.com/windows/2006/08/wdp/scan">'
    "<wscn:ScanDestination><wscn:ClientDisplayName>Scan to wsdmon</wscn:ClientDisplayName>"
    "<wscn:ClientContext>wsdmon-1</wscn:ClientContext></wscn:ScanDestination></wscn:ScanDestinations>"
)


def manager_headers(n: int) -> Headers:
    """A request to the subscription manager, carrying the server's Identifier (§3.2-§3.4)."""
    return Headers.request(SERVICE, identifier=MANAGER_ID, message_id=mid(n))


CASES: dict[str, Message] = {
    # Example 05: what the monitor sends to a scan server.
    "wse-subscribe-postscan": Subscribe(
        Headers.request(SERVICE, message_id=mid(500)),
        SINK_EPR,
        timedelta(hours=1),
        POSTSCAN_FILTER,
        end_to=SINK_EPR,
    ),
    "wse-subscribe-minimal": Subscribe(Headers.request(SERVICE, message_id=mid(501)), SINK_EPR),
    # A WS-Scan device subscription: absolute Expires and the wscn:ScanDestinations extension.
    "wse-subscribe-scan-available": Subscribe(
        Headers.request(SCANNER, message_id=mid(502)),
        SINK_EPR,
        datetime(2026, 11, 23, 18, 0, tzinfo=UTC),
        Filter((ns.WSCN_SCAN_AVAILABLE_EVENT, ns.WSCN_JOB_STATUS_EVENT)),
        extensions=(SCAN_DESTINATIONS,),
    ),
    # What a source must still parse to answer DeliveryModeRequestedUnavailable / FilteringRequested-
    # Unavailable: another delivery mode without NotifyTo, and an XPath filter.
    "wse-subscribe-vendor-mode": Subscribe(
        Headers.request(SERVICE, message_id=mid(503)),
        None,
        timedelta(minutes=10, seconds=30, milliseconds=250),
        Filter(dialect=ns.WSE_XPATH_DIALECT, expression="/*[local-name()='JobStatus']"),
        delivery_mode="urn:acme:eventing:pull",
        delivery_extensions=('<acme:Batch xmlns:acme="urn:acme">20</acme:Batch>',),
    ),
    # Example 06.
    "wse-subscriberesponse": SubscribeResponse(
        Headers.reply(mid(500), message_id=mid(510)), MANAGER, timedelta(hours=1)
    ),
    "wse-subscriberesponse-datetime": SubscribeResponse(
        Headers.reply(mid(502), message_id=mid(511)),
        EndpointReference(SCANNER, "urn:uuid:5d4c3b2a-0000-4000-8000-00000000beef"),
        datetime(2026, 11, 23, 9, 30, tzinfo=PST),
        ('<acme:Granted xmlns:acme="urn:acme">shortened</acme:Granted>',),
    ),
    "wse-renew": Renew(manager_headers(520), timedelta(hours=1)),
    "wse-renew-no-expires": Renew(manager_headers(521)),
    "wse-renewresponse": RenewResponse(
        Headers.reply(mid(520), message_id=mid(522)), timedelta(days=1, hours=2)
    ),
    "wse-getstatus": GetStatus(manager_headers(530)),
    "wse-getstatusresponse": GetStatusResponse(
        Headers.reply(mid(530), message_id=mid(531)), timedelta(minutes=42, seconds=7)
    ),
    "wse-unsubscribe": Unsubscribe(manager_headers(540)),
    "wse-unsubscriberesponse": UnsubscribeResponse(Headers.reply(mid(540), message_id=mid(541))),
    # Example 11: to EndTo, echoing EndTo's Identifier as a header.
    "wse-subscriptionend": SubscriptionEnd(
        Headers(message_id=mid(550), to=SINK, identifier=IDENT),
        MANAGER,
        SubscriptionEndStatus.SOURCE_SHUTTING_DOWN,
        (Reason("Scan server service is stopping", "en-US"),),
    ),
    "wse-subscriptionend-vendor": SubscriptionEnd(
        Headers(message_id=mid(551), to=SINK, identifier=IDENT),
        MANAGER,
        "urn:acme:eventing:LicenseExpired",
        (Reason("Lizenz abgelaufen", "de"), Reason("no language")),
        ('<acme:Detail xmlns:acme="urn:acme" code="7"></acme:Detail>',),
    ),
    # Faults from the helpers, MessageID pinned so the canonical file is stable.
    "wse-fault-delivery-mode-unavailable": replace(
        fault_delivery_mode_unavailable(mid(503)), header=Headers.reply(mid(503), message_id=mid(560))
    ),
    "wse-fault-filter-action-not-supported": replace(
        fault_filter_action_not_supported(mid(502)), header=Headers.reply(mid(502), message_id=mid(561))
    ),
}
