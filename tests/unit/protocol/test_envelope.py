"""The envelope's header blocks (protocol/envelope.py): reference parameters echoed from an endpoint
reference (WS-Addressing 2004/08 §3.3), and the names wsdmon.protocol re-exports."""

from __future__ import annotations

import pytest
from lxml import etree

from wsdmon import protocol
from wsdmon.protocol import (
    EndpointReference,
    Headers,
    LocalProtocolError,
    decode,
    encode,
    parse_envelope,
)
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName as XmlQName
from wsdmon.protocol.eventing import Subscribe, UnsubscribeResponse

ROUTE = '<acme:Route xmlns:acme="urn:acme">desk 7</acme:Route>'
TENANT = '<t:Tenant xmlns:t="urn:tenant" t:kind="scan">finance</t:Tenant>'
SINK = "http://192.168.1.10:6200/wsdmon/sink"


def test_qname_is_re_exported() -> None:
    assert protocol.QName is XmlQName
    assert "QName" in protocol.__all__


def test_reference_parameters_round_trip_as_header_blocks() -> None:
    header = Headers("urn:uuid:1", SINK, identifier="urn:uuid:me", reference_parameters=(ROUTE, TENANT))
    message = UnsubscribeResponse(header)
    data = encode(message)
    assert decode(data) == message
    blocks = etree.fromstring(data).find(f"{{{ns.SOAP}}}Header")
    assert blocks is not None
    assert [el.tag for el in blocks][-3:] == [
        f"{{{ns.WSE}}}Identifier",
        "{urn:acme}Route",
        "{urn:tenant}Tenant",
    ]


def test_echoed_parameters_equal_the_endpoint_reference_ones() -> None:
    # What a Subscribe's NotifyTo carries comes back, unchanged, on the notifications sent to it.
    notify = EndpointReference(SINK, "urn:uuid:me", (ROUTE, TENANT))
    subscribe = decode(encode(Subscribe(Headers.request("http://device/scan"), notify)))
    assert isinstance(subscribe, Subscribe)
    assert subscribe.notify_to == notify
    echoed = Headers(
        "urn:uuid:2", SINK, identifier=notify.identifier, reference_parameters=notify.extra_parameters
    )
    assert parse_envelope(encode(UnsubscribeResponse(echoed))).header == echoed


def test_unknown_header_blocks_outside_wsa_are_kept_wsa_ones_dropped() -> None:
    data = encode(UnsubscribeResponse(Headers("urn:uuid:1", SINK)))
    extra = (
        f'<wsa:From xmlns:wsa="{ns.WSA}"><wsa:Address>urn:uuid:peer</wsa:Address></wsa:From>'
        f'<wsa:FaultTo xmlns:wsa="{ns.WSA}"><wsa:Address>urn:uuid:peer</wsa:Address></wsa:FaultTo>'
        f"{ROUTE}"
    )
    data = data.replace(b"</soap:Header>", extra.encode() + b"</soap:Header>")
    assert parse_envelope(data).header.reference_parameters == (ROUTE,)


@pytest.mark.parametrize(
    "parameter",
    [
        f'<wse:Identifier xmlns:wse="{ns.WSE}">urn:uuid:other</wse:Identifier>',
        f'<wsa:To xmlns:wsa="{ns.WSA}">http://elsewhere/</wsa:To>',
        f'<wsd:AppSequence xmlns:wsd="{ns.WSD}" InstanceId="1" MessageNumber="1"/>',
        "not xml",
        f"{ROUTE}{ROUTE}",
    ],
)
def test_a_parameter_that_would_read_back_as_something_else_is_refused(parameter: str) -> None:
    header = Headers("urn:uuid:1", SINK, reference_parameters=(parameter,))
    with pytest.raises(LocalProtocolError):
        encode(UnsubscribeResponse(header))
