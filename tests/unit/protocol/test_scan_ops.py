"""WS-Scan operations beyond the round-trip table: MTOM packing of RetrieveImageResponse, the scanner
configuration and tickets as ElementData content (against the real Kyocera capture), scan
destinations in Subscribe / SubscribeResponse, and clear rejections of malformed input."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsdmon.protocol import Headers, RemoteProtocolError, decode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.mtom import Attachment, decode_mtom, encode_mtom
from wsdmon.protocol.scan import GetScannerElementsResponse
from wsdmon.protocol.scan_destinations import (
    DestinationResponse,
    ScanDestination,
    read_destination_responses,
    read_scan_destinations,
    write_destination_responses,
    write_scan_destinations,
)
from wsdmon.protocol.scan_ops import RetrieveImageResponse
from wsdmon.protocol.scan_ticket import (
    DefaultScanTicket,
    Range,
    ScannerConfiguration,
    ScannerDescription,
    Size,
    SourceConfiguration,
    from_raw,
    to_raw,
)

CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "real-devices"
KYOCERA = CORPUS / "kyocera-ecosys-m2040dn.getscannerelementsresponse.xml"

# Binary data that looks like MIME structure must come through untouched.
IMAGE = b"\x89PNG\r\n\x1a\n\r\n--not-the-boundary\r\n\r\n\x00\xff" * 50


def test_mtom_round_trip_keeps_binary_bytes() -> None:
    message = RetrieveImageResponse(Headers.reply("urn:uuid:1"), "img@test")
    content_type, body = encode_mtom(message, [Attachment("img@test", "image/png", IMAGE)])
    assert content_type.startswith("multipart/related;")
    assert 'type="application/xop+xml"' in content_type
    decoded, parts = decode_mtom(content_type, body)
    assert decoded == message
    assert parts["img@test"].data == IMAGE
    assert parts["img@test"].media_type == "image/png"


@pytest.mark.parametrize(
    ("content_type", "body", "words"),
    [
        ("application/soap+xml", b"<x/>", "multipart/related"),
        ("multipart/related", b"--b\r\n", "boundary"),
        ('multipart/related; boundary="b"', b"--b\r\nContent-Type: a/b\r\n\r\nx\r\n", "closing"),
        ('multipart/related; boundary="b"', b"--b\r\nno blank line--b--\r\n", "blank line"),
        (
            'multipart/related; boundary="b"; start="<r>"',
            b"--b\r\nContent-ID: <x>\r\n\r\nx\r\n--b--",
            "start",
        ),
        (
            'multipart/related; boundary="b"',
            b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
            "root part",
        ),
    ],
)
def test_malformed_multipart_is_a_clear_remote_error(content_type: str, body: bytes, words: str) -> None:
    with pytest.raises(RemoteProtocolError, match=words):
        decode_mtom(content_type, body)


def _kyocera_elements() -> dict[str, object]:
    message = decode(KYOCERA.read_bytes())
    assert isinstance(message, GetScannerElementsResponse)
    return {e.name.local: e.content for e in message.elements}


def test_the_real_scanners_configuration_and_default_ticket_parse() -> None:
    elements = _kyocera_elements()
    config = from_raw(elements["ScannerConfiguration"], ScannerConfiguration)
    assert "jfif" in config.formats
    assert config.platen is not None
    assert config.platen.widths == (200, 300, 400, 600)
    assert config.platen.maximum_size == Size(14016, 8504)  # Kyocera's swapped width and height
    assert config.adf_duplex
    assert config.adf_back is not None
    assert from_raw(to_raw(config), ScannerConfiguration) == config
    ticket = from_raw(elements["DefaultScanTicket"], DefaultScanTicket)
    assert ticket.document_parameters is not None
    assert ticket.document_parameters.format == "pdf-a"
    front = ticket.document_parameters.front
    assert front is not None
    assert front.resolution == Size(300, 300)
    assert from_raw(to_raw(ticket), DefaultScanTicket) == ticket
    description = from_raw(elements["ScannerDescription"], ScannerDescription)
    assert description.scanner_name == "ECOSYS M2040dn"


def test_raw_content_of_another_element_is_rejected_clearly() -> None:
    raw = to_raw(ScannerDescription("x"))
    with pytest.raises(RemoteProtocolError, match="does not hold one ScannerConfiguration"):
        from_raw(raw, ScannerConfiguration)
    source = SourceConfiguration(Size(300, 300), (300,), (300,), ("RGB24",), Size(1, 1), Size(2, 2))
    config = ScannerConfiguration(("png",), ("Auto",), Range(1, 2), platen=source)
    broken = to_raw(config).replace("<wscn:PlatenMaximumSize>", "<wscn:Other>", 1)
    broken = broken.replace("</wscn:PlatenMaximumSize>", "</wscn:Other>", 1)
    with pytest.raises(RemoteProtocolError, match="PlatenMaximumSize"):
        from_raw(broken, ScannerConfiguration)


def test_scan_destinations_and_their_tokens_round_trip() -> None:
    destinations = (ScanDestination("Scan to PC", "ctx-1"), ScanDestination("Scan to mail", "ctx-2"))
    assert read_scan_destinations([write_scan_destinations(destinations)]) == destinations
    responses = (DestinationResponse("ctx-1", "tok-1"), DestinationResponse("ctx-2", "tok-2"))
    assert (
        read_destination_responses(["<a xmlns='urn:x'/>", write_destination_responses(responses)])
        == responses
    )
    assert read_scan_destinations([]) == ()


def test_a_destination_response_without_token_is_a_remote_error() -> None:
    raw = f'<wscn:DestinationResponses xmlns:wscn="{ns.WSCN}"><wscn:DestinationResponse>'
    raw += "<wscn:ClientContext>c</wscn:ClientContext></wscn:DestinationResponse></wscn:DestinationResponses>"
    with pytest.raises(RemoteProtocolError, match="DestinationToken"):
        read_destination_responses([raw])
