"""WS-Eventing 2004/08 (protocol/eventing.py): the shared examples parse into the right values,
Expires as xs:duration and xs:dateTime, action filters, faults, and what a peer may get wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from wsdmon.protocol import (
    EndpointReference,
    Fault,
    Headers,
    LocalProtocolError,
    RemoteProtocolError,
    decode,
    encode,
)
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName, is_extension
from wsdmon.protocol.eventing import (
    Filter,
    Renew,
    RenewResponse,
    Subscribe,
    SubscribeResponse,
    SubscriptionEnd,
    SubscriptionEndStatus,
    Unsubscribe,
    UnsubscribeResponse,
    WseFault,
    expires_at,
    fault_delivery_mode_unavailable,
    fault_event_source_unable_to_process,
    fault_filter_action_not_supported,
    fault_filtering_unavailable,
    fault_invalid_expiration_time,
    fault_invalid_message,
    fault_unable_to_renew,
    fault_unsupported_expiration_type,
    format_duration,
    parse_duration,
)

from .cases_eventing import SCAN_DESTINATIONS

EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "protocol" / "examples"
SINK = "http://192.168.1.10:6200/wsdmon/sink"
SERVER = "https://scansrv.example.test:5362/ScanServer/553852db-6d5a-4eee-a34f-5b499c1a2944"
CLIENT_ID = "urn:uuid:d7e6c5b4-a392-4811-b0c1-2a3b4c5d6e7f"
SERVER_ID = "urn:uuid:91a0b2c3-d4e5-4f60-8a7b-9c0d1e2f3a4b"
PUSH = (
    f'<e:Delivery Mode="{ns.WSE_DELIVERY_PUSH}">'
    f"<e:NotifyTo><a:Address>{SINK}</a:Address></e:NotifyTo></e:Delivery>"
)
MANAGER = f"<e:SubscriptionManager><a:Address>{SERVER}</a:Address></e:SubscriptionManager>"


def example(name: str) -> bytes:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"shared example {path} is not present")
    return path.read_bytes()


def envelope(action: str, body: str, header: str = "") -> bytes:
    """A peer's envelope with prefixes of its own (s, a, e): namespaces count, not prefixes."""
    return (
        f'<s:Envelope xmlns:s="{ns.SOAP}" xmlns:a="{ns.WSA}" xmlns:e="{ns.WSE}"><s:Header>'
        f"<a:Action>{action}</a:Action><a:MessageID>urn:uuid:42</a:MessageID>{header}</s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def subscribe(inner: str) -> Subscribe:
    message = decode(envelope(ns.WSE_SUBSCRIBE, f"<e:Subscribe>{inner}</e:Subscribe>"))
    assert isinstance(message, Subscribe)
    return message


# --- the shared examples ---------------------------------------------------------------------


def test_example_05_subscribe() -> None:
    message = decode(example("05-subscribe-postscan-events.xml"))
    sink = EndpointReference(SINK, CLIENT_ID)
    assert message == Subscribe(
        Headers(
            message_id="urn:uuid:6a5f1e0c-2b7d-4c39-9e0a-1f2d3c4b5a05",
            to=SERVER,
            reply_to=ns.WSA_ANONYMOUS,
        ),
        notify_to=sink,
        expires=timedelta(hours=1),
        filter=Filter((ns.DSC_POST_SCAN_JOB_STATUS_EVENT, ns.DSC_POST_SCAN_JOB_END_STATE_EVENT)),
        end_to=sink,
    )
    assert message.is_push
    assert message.filter is not None
    assert message.filter.dialect == ns.WSDP_ACTION_FILTER


def test_example_06_subscribe_response() -> None:
    message = decode(example("06-subscriberesponse.xml"))
    assert message == SubscribeResponse(
        Headers(
            message_id="urn:uuid:6a5f1e0c-2b7d-4c39-9e0a-1f2d3c4b5a06",
            to=ns.WSA_ANONYMOUS,
            relates_to="urn:uuid:6a5f1e0c-2b7d-4c39-9e0a-1f2d3c4b5a05",
        ),
        EndpointReference(SERVER, SERVER_ID),
        timedelta(hours=1),
    )
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert isinstance(message, SubscribeResponse)
    assert expires_at(message.expires, now) == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_example_11_subscription_end() -> None:
    message = decode(example("11-subscriptionend.xml"))
    assert isinstance(message, SubscriptionEnd)
    assert message.header.identifier == CLIENT_ID  # echoed from EndTo: routes to our subscription
    assert message.header.to == SINK
    assert message.subscription_manager == EndpointReference(SERVER, SERVER_ID)
    assert message.status is SubscriptionEndStatus.SOURCE_SHUTTING_DOWN
    assert message.reason == "Scan server service is stopping"
    assert message.reasons[0].lang == "en-US"
    assert message.extensions == ()


# --- xs:duration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("PT1H", timedelta(hours=1)),
        ("PT30M", timedelta(minutes=30)),
        ("PT3600S", timedelta(hours=1)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P2D", timedelta(days=2)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT.5S", timedelta(milliseconds=500)),
        ("PT1.S", timedelta(seconds=1)),
        ("PT1M30.000001S", timedelta(minutes=1, seconds=30, microseconds=1)),
        ("P0Y0M0DT1H0M0S", timedelta(hours=1)),  # what Java stacks write
        ("  PT5M\n", timedelta(minutes=5)),
        ("PT0S", timedelta(0)),
        ("-PT0S", timedelta(0)),  # negative zero is zero: NonNegativeDurationType allows it
    ],
)
def test_parse_duration(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "PT",
        "P1DT",
        "1H",
        "PT1H30",
        "PT-1H",
        "P1.5D",
        "PT1,5S",
        "PTS",
        "pt1h",
        "-PT1H",  # negative
        "P1Y",  # years and months have no fixed length
        "P0Y1M",
        "P999999999999D",  # beyond timedelta
        "P" + "9" * 5000 + "D",  # beyond int() digit limit
        "PT\u0661S",  # ARABIC-INDIC DIGIT ONE: xs:duration digits are ASCII
        "P\uff11D",  # FULLWIDTH DIGIT ONE
    ],
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(hours=1), "PT1H"),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(milliseconds=500), "PT0.5S"),
        (timedelta(minutes=10, seconds=30, microseconds=250000), "PT10M30.25S"),
        (timedelta(seconds=59, microseconds=1), "PT59.000001S"),
        (timedelta(days=3), "P3D"),
        (timedelta(0), "PT0S"),
    ],
)
def test_format_duration(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(text) == value


def test_negative_duration_is_refused_when_building() -> None:
    with pytest.raises(LocalProtocolError):
        format_duration(timedelta(seconds=-1))
    with pytest.raises(LocalProtocolError):
        Renew(Headers(), timedelta(seconds=-1))


# --- Expires as xs:dateTime, and expires_at ---------------------------------------------------


def test_datetime_expires() -> None:
    message = subscribe(f"{PUSH}<e:Expires>2026-11-23T18:00:00Z</e:Expires>")
    assert message.expires == datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    message = subscribe(f"{PUSH}<e:Expires>2026-11-23T10:00:00.5-08:00</e:Expires>")
    assert message.expires == datetime(2026, 11, 23, 18, 0, 0, 500000, tzinfo=UTC)
    message = subscribe(f"{PUSH}<e:Expires>2026-11-23T10:00:00</e:Expires>")
    assert message.expires == datetime(2026, 11, 23, 10, 0)  # offset-less: kept naive


def test_expires_at() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    cet = timezone(timedelta(hours=1))
    assert expires_at(timedelta(minutes=90), now) == datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    assert expires_at(datetime(2026, 11, 23, 12, 0, tzinfo=cet), now) == datetime(
        2026, 11, 23, 11, 0, tzinfo=UTC
    )
    # An offset-less dateTime is read in now's zone.
    assert expires_at(datetime(2026, 11, 23, 12, 0), now.astimezone(cet)) == datetime(
        2026, 11, 23, 12, 0, tzinfo=cet
    )
    with pytest.raises(LocalProtocolError):
        expires_at(timedelta(hours=1), datetime(2026, 11, 23, 9, 0))


@pytest.mark.parametrize("text", ["tomorrow", "P1Y", "-PT1H", "2026-11-23", ""])
def test_bad_expires_is_remote_error(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        subscribe(f"{PUSH}<e:Expires>{text}</e:Expires>")


# --- Subscribe: delivery mode, filter, extensions ---------------------------------------------


def test_filter_action_list_is_whitespace_separated() -> None:
    actions = f"\n  {ns.WSCN_SCAN_AVAILABLE_EVENT}\t{ns.WSCN_JOB_STATUS_EVENT}  \n"
    message = subscribe(f'{PUSH}<e:Filter Dialect="{ns.WSDP_ACTION_FILTER}">{actions}</e:Filter>')
    assert message.filter == Filter((ns.WSCN_SCAN_AVAILABLE_EVENT, ns.WSCN_JOB_STATUS_EVENT))


def test_empty_action_filter_and_no_filter() -> None:
    assert subscribe(f'{PUSH}<e:Filter Dialect="{ns.WSDP_ACTION_FILTER}"/>').filter == Filter()
    assert subscribe(PUSH).filter is None


def test_filter_without_dialect_is_xpath() -> None:
    # WS-Eventing 2004/08 §3.1: the implied Dialect is XPath 1.0, so the source can fault on it.
    message = subscribe(f"{PUSH}<e:Filter> /a/b </e:Filter>")
    assert message.filter == Filter(dialect=ns.WSE_XPATH_DIALECT, expression="/a/b")


def test_filter_of_another_dialect_is_kept() -> None:
    message = subscribe(f'{PUSH}<e:Filter Dialect="urn:acme:topics">jobs/*<x:T xmlns:x="urn:x"/></e:Filter>')
    assert message.filter == Filter(
        dialect="urn:acme:topics", expression="jobs/*", extensions=('<x:T xmlns:x="urn:x"></x:T>',)
    )


def test_filter_dialect_must_be_present() -> None:
    with pytest.raises(RemoteProtocolError):
        subscribe(f'{PUSH}<e:Filter Dialect="">{ns.WSCN_JOB_STATUS_EVENT}</e:Filter>')
    with pytest.raises(LocalProtocolError):
        Filter((ns.WSCN_JOB_STATUS_EVENT,), dialect="")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Filter((ns.WSCN_JOB_STATUS_EVENT,), dialect=ns.WSE_XPATH_DIALECT),  # actions need Action
        lambda: Filter(("two words",)),
        lambda: Filter(("",)),
        lambda: Filter(expression="/a"),  # the Action dialect takes actions
    ],
)
def test_filter_constructor_musts(make: object) -> None:
    with pytest.raises(LocalProtocolError):
        make()  # type: ignore[operator]


def test_delivery_mode_defaults_to_push() -> None:
    message = subscribe(f"<e:Delivery><e:NotifyTo><a:Address>{SINK}</a:Address></e:NotifyTo></e:Delivery>")
    assert message.is_push
    assert message.delivery_mode == ns.WSE_DELIVERY_PUSH
    assert message.notify_to == EndpointReference(SINK)


def test_other_delivery_mode_is_kept_for_the_fault() -> None:
    message = subscribe('<e:Delivery Mode="urn:acme:pull"><x:Q xmlns:x="urn:x">1</x:Q></e:Delivery>')
    assert not message.is_push
    assert message.delivery_mode == "urn:acme:pull"
    assert message.notify_to is None
    assert message.delivery_extensions == ('<x:Q xmlns:x="urn:x">1</x:Q>',)


@pytest.mark.parametrize(
    "inner",
    [
        "",  # no Delivery
        "<e:Expires>PT1H</e:Expires>",  # no Delivery
        f'<e:Delivery Mode="{ns.WSE_DELIVERY_PUSH}"/>',  # push without NotifyTo
        "<e:Delivery><e:NotifyTo><a:Address> </a:Address></e:NotifyTo></e:Delivery>",  # empty address
        "<e:Delivery><e:NotifyTo/></e:Delivery>",  # NotifyTo without Address
        f"{PUSH}<e:EndTo><a:ReferenceParameters/></e:EndTo>",  # EndTo without Address
    ],
)
def test_subscribe_missing_pieces(inner: str) -> None:
    with pytest.raises(RemoteProtocolError):
        subscribe(inner)


def test_subscribe_constructor_musts() -> None:
    with pytest.raises(LocalProtocolError):
        Subscribe(Headers(), None)  # push needs NotifyTo
    with pytest.raises(LocalProtocolError):
        Subscribe(Headers(), EndpointReference(SINK), delivery_mode="")
    with pytest.raises(LocalProtocolError):
        EndpointReference("")  # NotifyTo address must not be empty


def test_vendor_extension_kept_under_any_prefix() -> None:
    scan = (
        '<q:ScanDestinations xmlns:q="http://schemas.microsoft.com/windows/2006/08/wdp/scan">'
        "<q:ScanDestination><q:ClientDisplayName>Scan to wsdmon</q:ClientDisplayName>"
        "<q:ClientContext>wsdmon-1</q:ClientContext></q:ScanDestination></q:ScanDestinations>"
    )
    message = subscribe(f"{PUSH}{scan}<e:FutureThing/>")
    assert len(message.extensions) == 1  # a wse element we do not know is not a vendor extension
    assert decode(encode(message)) == message
    # Canonical XML: the same extension written with the conventional prefix is not equal by text,
    # but it re-parses to the same element.
    again = subscribe(f"{PUSH}{SCAN_DESTINATIONS}")
    assert again.extensions == (SCAN_DESTINATIONS,)
    assert b"ScanDestinations" in encode(message)


# --- responses and manager requests -----------------------------------------------------------


@pytest.mark.parametrize(
    "inner",
    [
        "<e:Expires>PT1H</e:Expires>",  # no SubscriptionManager
        MANAGER,  # no Expires (required in 2004/08)
        f"{MANAGER}<e:Expires>soon</e:Expires>",
        "<e:SubscriptionManager/><e:Expires>PT1H</e:Expires>",
    ],
)
def test_subscribe_response_missing_pieces(inner: str) -> None:
    with pytest.raises(RemoteProtocolError):
        decode(envelope(ns.WSE_SUBSCRIBE_RESPONSE, f"<e:SubscribeResponse>{inner}</e:SubscribeResponse>"))


def test_manager_requests_carry_the_identifier_header() -> None:
    header = f"<e:Identifier> {SERVER_ID} </e:Identifier>"
    message = decode(envelope(ns.WSE_RENEW, "<e:Renew><e:Expires>PT2H</e:Expires></e:Renew>", header))
    assert message == Renew(Headers(message_id="urn:uuid:42", identifier=SERVER_ID), timedelta(hours=2))
    message = decode(envelope(ns.WSE_UNSUBSCRIBE, "<e:Unsubscribe/>", header))
    assert message == Unsubscribe(Headers(message_id="urn:uuid:42", identifier=SERVER_ID))


def test_renew_response_without_expires() -> None:
    message = decode(envelope(ns.WSE_RENEW_RESPONSE, "<e:RenewResponse/>"))
    assert message == RenewResponse(Headers(message_id="urn:uuid:42"))


@pytest.mark.parametrize(
    ("action", "body"),
    [
        (ns.WSE_RENEW, ""),  # the Renew element is required
        (ns.WSE_RENEW, "<e:GetStatus/>"),
        (ns.WSE_GET_STATUS, ""),
        (ns.WSE_GET_STATUS_RESPONSE, "<e:GetStatusResponse><e:Expires>P1Y</e:Expires></e:GetStatusResponse>"),
        (ns.WSE_UNSUBSCRIBE, '<x:Unsubscribe xmlns:x="urn:wrong-namespace"/>'),
    ],
)
def test_manager_messages_missing_pieces(action: str, body: str) -> None:
    with pytest.raises(RemoteProtocolError):
        decode(envelope(action, body))


@pytest.mark.parametrize("body", ["", "<e:UnsubscribeResponse/>"])
def test_unsubscribe_response_body_may_be_empty(body: str) -> None:
    assert decode(envelope(ns.WSE_UNSUBSCRIBE_RESPONSE, body)) == UnsubscribeResponse(
        Headers(message_id="urn:uuid:42")
    )
    built = encode(UnsubscribeResponse(Headers.reply("urn:uuid:1", message_id="urn:uuid:2")))
    assert b"<soap:Body/>" in built


# --- SubscriptionEnd --------------------------------------------------------------------------


def test_subscription_end_vendor_status_and_reasons() -> None:
    body = (
        f"<e:SubscriptionEnd>{MANAGER}<e:Status> urn:acme:Gone </e:Status>"
        '<e:Reason xml:lang="de">weg</e:Reason><e:Reason>gone</e:Reason>'
        '<x:Why xmlns:x="urn:x"/></e:SubscriptionEnd>'
    )
    message = decode(envelope(ns.WSE_SUBSCRIPTION_END, body))
    assert isinstance(message, SubscriptionEnd)
    assert message.status == "urn:acme:Gone"
    assert is_extension(message.status)
    assert [(r.text, r.lang) for r in message.reasons] == [("weg", "de"), ("gone", None)]
    assert message.extensions == ('<x:Why xmlns:x="urn:x"></x:Why>',)


def test_subscription_end_without_reason() -> None:
    status = f"<e:Status>{ns.WSE_STATUS_DELIVERY_FAILURE}</e:Status>"
    body = f"<e:SubscriptionEnd>{MANAGER}{status}</e:SubscriptionEnd>"
    message = decode(envelope(ns.WSE_SUBSCRIPTION_END, body))
    assert isinstance(message, SubscriptionEnd)
    assert message.status is SubscriptionEndStatus.DELIVERY_FAILURE
    assert message.reason is None


@pytest.mark.parametrize(
    "inner",
    [
        f"<e:Status>{ns.WSE_STATUS_SOURCE_CANCELLING}</e:Status>",  # no SubscriptionManager
        MANAGER,  # no Status
        f"{MANAGER}<e:Status/>",  # empty Status
    ],
)
def test_subscription_end_missing_pieces(inner: str) -> None:
    with pytest.raises(RemoteProtocolError):
        decode(envelope(ns.WSE_SUBSCRIPTION_END, f"<e:SubscriptionEnd>{inner}</e:SubscriptionEnd>"))


# --- faults (§4) ------------------------------------------------------------------------------

FAULTS = [
    (fault_delivery_mode_unavailable, "Sender", WseFault.DELIVERY_MODE_REQUESTED_UNAVAILABLE),
    (fault_invalid_expiration_time, "Sender", WseFault.INVALID_EXPIRATION_TIME),
    (fault_unsupported_expiration_type, "Sender", WseFault.UNSUPPORTED_EXPIRATION_TYPE),
    (fault_filtering_unavailable, "Sender", WseFault.FILTERING_REQUESTED_UNAVAILABLE),
    (fault_invalid_message, "Sender", WseFault.INVALID_MESSAGE),
    (fault_event_source_unable_to_process, "Receiver", WseFault.EVENT_SOURCE_UNABLE_TO_PROCESS),
    (fault_unable_to_renew, "Receiver", WseFault.UNABLE_TO_RENEW),
]


@pytest.mark.parametrize(("make", "code", "subcode"), FAULTS)
def test_fault_helpers(make: object, code: str, subcode: WseFault) -> None:
    fault = make("urn:uuid:req")  # type: ignore[operator]
    assert isinstance(fault, Fault)
    assert fault.action == ns.WSA_FAULT_ACTION
    assert (fault.code, fault.subcode) == (code, QName(ns.WSE, subcode))
    assert fault.header.relates_to == "urn:uuid:req"
    assert fault.header.message_id
    assert fault.reason
    assert decode(encode(fault)) == fault
    assert make("urn:uuid:req", "custom").reason == "custom"  # type: ignore[operator]


def test_dpws_filter_action_fault() -> None:
    fault = fault_filter_action_not_supported(None)
    assert (fault.code, fault.subcode) == ("Sender", QName(ns.WSDP, "FilterActionNotSupported"))
    assert decode(encode(fault)) == fault
