"""The message corpus: vendor-flavoured messages must parse to the right values; malformed ones must
raise RemoteProtocolError and nothing else (no lxml error, no crash, no silent acceptance)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from wsdmon.core.devices import SCANNER_SERVICE_TYPE, Role, device_from_metadata
from wsdmon.protocol import Headers, Message, RemoteProtocolError, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import MAX_MESSAGE_BYTES, QName, parse_qnames
from wsdmon.protocol.discovery import Probe, ProbeMatch, ProbeMatches
from wsdmon.protocol.dsm import FilterState, JobState, JobStateReason, PostScanJobStatusEvent
from wsdmon.protocol.metadata import GetMetadataResponse
from wsdmon.protocol.scan import GetScannerElementsResponse

from .cases_dsm import COMPLETED_STATUS

DATA = Path(__file__).resolve().parents[2] / "data"
EXAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "protocol" / "examples"
PST = timezone(timedelta(hours=-8))


def _example_09() -> PostScanJobStatusEvent:
    # The published example, as a literal so the corpus does not depend on ../shared being present.
    return PostScanJobStatusEvent(
        Headers(
            message_id="urn:uuid:0b1e2d3c-0003-4a5b-8c6d-7e8f9a0b1c03",
            to="http://192.168.1.10:6200/wsdmon/sink",
            identifier="urn:uuid:d7e6c5b4-a392-4811-b0c1-2a3b4c5d6e7f",
        ),
        COMPLETED_STATUS,
    )


BASE = _example_09()


def _status(**changes: object) -> PostScanJobStatusEvent:
    return dataclasses.replace(BASE, job_status=dataclasses.replace(BASE.job_status, **changes))


def _with_filters(*states: object, reason: object = None) -> tuple[object, ...]:
    fs = BASE.job_status.filter_statuses
    out = [dataclasses.replace(f, state=s) for f, s in zip(fs, states, strict=True)]
    if reason is not None:
        out[1] = dataclasses.replace(out[1], reasons=(reason,))
    return tuple(out)


VENDOR: dict[str, Callable[[], object]] = {
    "other-prefixes.xml": lambda: BASE,
    "default-namespace-body.xml": lambda: BASE,
    # wsa:From is dropped; acme:Trace, outside wsa, may be an echoed reference parameter (2004/08
    # does not mark them): kept.
    "extra-headers.xml": lambda: dataclasses.replace(
        BASE,
        header=dataclasses.replace(
            BASE.header,
            reply_to="http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous",
            reference_parameters=(
                '<acme:Trace xmlns:acme="urn:acme:trace" xmlns:soap="http://www.w3.org/2003/05/soap-envelope"'
                ' soap:mustUnderstand="false">42</acme:Trace>',
            ),
        ),
    ),
    "vendor-enum-values.xml": lambda: _status(
        job_state="acme:Quarantined",
        filter_statuses=_with_filters(
            FilterState.COMPLETED_SUCCESSFULLY, "acme:Deferred", reason="acme:RelayDenied"
        ),
    ),
    "whitespace-padding.xml": lambda: BASE,
    "crlf-line-endings.xml": lambda: BASE,
    "comments-and-pis.xml": lambda: BASE,
    "send-image-typo.xml": lambda: _status(
        job_state=JobState.ABORTED, job_state_reasons=(JobStateReason.SEND_IMANGE_FAILED,)
    ),
    "times-utc-and-local.xml": lambda: _status(
        job_created_time=datetime(2026, 11, 23, 17, 14, 5, 123456, tzinfo=UTC),
        job_completed_time=datetime(2026, 11, 23, 9, 14, 41),  # offset-less: server local time
    ),
    "utf8-bom.xml": lambda: BASE,
    "utf16-le-bom.xml": lambda: BASE,
    "no-xml-declaration.xml": lambda: BASE,
    "latin1-declared.xml": lambda: _status(
        extensions=('<acme:Owner xmlns:acme="urn:acme">Jürgen Müller</acme:Owner>',)
    ),
    "vendor-extensions.xml": lambda: dataclasses.replace(
        _status(extensions=('<acme:PageCount xmlns:acme="urn:acme">7</acme:PageCount>',)),
        extensions=('<hp:Extra xmlns:hp="urn:hp:dsm"><hp:Queue>Finance</hp:Queue></hp:Extra>',),
    ),
    # acme and hp are declared only on soap:Envelope: each kept extension declares what it uses,
    # including hp for the QName in ColorMode's text.
    "root-declared-extension-namespace.xml": lambda: dataclasses.replace(
        _status(
            extensions=(
                '<acme:PageCount xmlns:acme="urn:acme">7</acme:PageCount>',
                '<acme:ColorMode xmlns:acme="urn:acme" xmlns:hp="urn:hp:dsm">hp:Mono</acme:ColorMode>',
            )
        ),
        extensions=(
            '<hp:Extra xmlns:acme="urn:acme" xmlns:hp="urn:hp:dsm" acme:source="relay">'
            "<hp:Queue>Finance</hp:Queue></hp:Extra>",
        ),
    ),
}


def test_vendor_corpus_is_complete() -> None:
    assert sorted(p.name for p in (DATA / "vendor").iterdir()) == sorted(VENDOR)


@pytest.mark.parametrize("name", sorted(VENDOR))
def test_vendor_message_parses_correctly(name: str) -> None:
    assert decode((DATA / "vendor" / name).read_bytes()) == VENDOR[name]()


def test_root_declared_extensions_are_self_contained() -> None:
    message = decode((DATA / "vendor" / "root-declared-extension-namespace.xml").read_bytes())
    assert isinstance(message, PostScanJobStatusEvent)
    page_count, color_mode = (etree.fromstring(x) for x in message.job_status.extensions)
    assert page_count.tag == "{urn:acme}PageCount"
    assert color_mode.tag == "{urn:acme}ColorMode"
    assert parse_qnames(color_mode) == (QName("urn:hp:dsm", "Mono"),)
    extra = etree.fromstring(message.extensions[0])
    assert extra.tag == "{urn:hp:dsm}Extra"
    assert extra.get("{urn:acme}source") == "relay"
    assert decode(encode(message)) == message


def test_published_example_matches_corpus_base() -> None:
    path = EXAMPLES / "09-postscanjobstatusevent-3-completed.xml"
    if not path.exists():
        pytest.skip(f"{path} not present (shared/ is not beside this clone)")
    assert decode(path.read_bytes()) == BASE


MALFORMED = sorted(p.name for p in (DATA / "malformed").iterdir())


def test_malformed_corpus_is_large_enough() -> None:
    assert len(MALFORMED) >= 25


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_message_raises_remote_protocol_error(name: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        decode((DATA / "malformed" / name).read_bytes())
    assert str(info.value), "the error must say what is wrong"


def test_over_size_message_is_rejected_before_parsing() -> None:
    data = (DATA / "vendor" / "other-prefixes.xml").read_bytes()
    padded = data.replace(b"</env:Envelope>", b"<!--" + b"x" * MAX_MESSAGE_BYTES + b"--></env:Envelope>")
    assert len(padded) > MAX_MESSAGE_BYTES
    with pytest.raises(RemoteProtocolError, match="cap"):
        decode(padded)


def test_smaller_cap_is_honoured() -> None:
    data = (DATA / "vendor" / "other-prefixes.xml").read_bytes()
    with pytest.raises(RemoteProtocolError, match="cap"):
        decode(data, max_bytes=len(data) - 1)
    assert isinstance(decode(data, max_bytes=len(data)), PostScanJobStatusEvent)


def test_external_entity_is_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&x;</s:Body></s:Envelope>'
    ).encode()
    with pytest.raises(RemoteProtocolError) as info:
        decode(data)
    assert "TOP-SECRET" not in str(info.value)


# --- real devices' messages (../shared/corpus/real-devices, provenance in its README) -------------
# The scanner capture's configuration and ticket are checked value by value in test_scan_ops.py;
# here every well-formed file decodes to what the device said, and the malformed one is refused.

REAL = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "real-devices"
KYOCERA_ID = "4509a320-00a0-008f-00b6-002507510eca"
SCAN_DEVICE = QName(ns.WSCN, "ScanDeviceType")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _real(name: str, *, round_trip: bool = True) -> object:
    # CI runs with a copy of shared/ beside the clone: its absence is a broken checkout, not a skip.
    path = REAL / name
    assert path.is_file(), f"{path} is missing: shared/ must sit beside the repository (../shared)"
    message = decode(path.read_bytes())
    if round_trip:  # what was read can be written back unchanged
        assert isinstance(message, Message)
        assert decode(encode(message)) == message
    return message


def _probe_match(name: str, *, round_trip: bool = True) -> ProbeMatch:
    message = _real(name, round_trip=round_trip)
    assert isinstance(message, ProbeMatches)
    (match,) = message.matches
    return match


def _metadata(name: str) -> GetMetadataResponse:
    message = _real(name)
    assert isinstance(message, GetMetadataResponse)
    return message


def test_kyocera_probe_match_keeps_its_uuid_address_and_both_xaddrs() -> None:
    match = _probe_match("kyocera-ecosys-m2040dn.probematches.xml")
    assert match.address == f"uuid:{KYOCERA_ID}"  # not urn:uuid:
    assert SCAN_DEVICE in match.types
    assert [t.local for t in match.types] == ["Device", "ScanDeviceType", "PrintDeviceType"]
    assert match.xaddrs == (
        "http://192.168.1.102:5358/DeviceService/",
        "http://[fe80::217:c8ff:fe7b:6a91]:5358/DeviceService/",
    )
    assert match.metadata_version == 1


def test_epson_and_camera_probe_matches() -> None:
    epson = _probe_match("epson-xp410.probematches.xml")
    assert SCAN_DEVICE in epson.types
    assert epson.xaddrs == ("http://192.168.1.245:80/WSD/DEVICE",)
    assert epson.metadata_version == 207
    # Without the AppSequence §7 requires of ProbeMatches: read, though wsdmon would never build it.
    camera = _probe_match("onvif-ipcam-631ga.probematches.xml", round_trip=False)
    assert camera.types == ()  # no Types at all: accepted, matches nothing we monitor
    assert "onvif://www.onvif.org/Model/631GA" in camera.scopes


def test_a_real_probe_decodes() -> None:
    probe = _real("noddos.probe.xml")
    assert isinstance(probe, Probe)
    assert probe.types == (QName(ns.WSDP, "Device"),)


def test_kyocera_metadata_has_no_host_and_a_scanner_among_many_services() -> None:
    metadata = _metadata("kyocera-ecosys-m2040dn.getresponse-metadata.xml")
    assert metadata.host is None
    assert metadata.this_device is not None
    assert metadata.this_device.friendly_name == "Kyocera:ECOSYS M2040dn:KM7B6A91"
    assert metadata.this_model is not None
    assert metadata.this_model.device_category == ("MFP", "MobilePrinter")
    assert len(metadata.hosted) >= 20
    (scanner,) = metadata.hosted_services_of_type(SCANNER_SERVICE_TYPE)
    assert scanner.addresses[0] == "http://192.168.1.102:5358/WSDScanner"
    assert scanner.service_id == f"uri:{KYOCERA_ID}/WSDScanner"
    assert any("pnpx" in x and "CompatibleId" in x for x in scanner.extensions)  # vendor extras kept
    # What the monitor makes of it: a scan device, keyed by the address it was discovered under.
    record = device_from_metadata(f"uuid:{KYOCERA_ID}", match_xaddrs(), metadata, now=NOW)
    assert record.roles == {Role.SCAN_DEVICE}
    assert [s.address for s in record.services] == ["http://192.168.1.102:5358/WSDScanner"]
    assert record.name == "Kyocera:ECOSYS M2040dn:KM7B6A91"


def match_xaddrs() -> tuple[str, ...]:
    return _probe_match("kyocera-ecosys-m2040dn.probematches.xml").xaddrs


@pytest.mark.parametrize(
    ("name", "friendly", "host"),
    [
        ("samsung-m2020w.getresponse-metadata.xml", "Samsung M2020W", None),
        (
            "synology-diskstation.getresponse-metadata.xml",
            "Synology DiskStation",
            "urn:uuid:dea604bb-e526-46a1-8bdb-121125389a9d",
        ),
        (
            "windows-pub-service.getresponse-metadata.xml",
            "Microsoft Publication Service Device Host",
            "urn:uuid:38deb0ef-b101-44f7-8eb3-f4466e1eef0c",
        ),
    ],
)
def test_other_real_metadata(name: str, friendly: str, host: str | None) -> None:
    metadata = _metadata(name)
    assert metadata.this_device is not None
    assert metadata.this_device.friendly_name == friendly
    assert (metadata.host.address if metadata.host else None) == host
    # None of them hosts a scanner or a scan server: the monitor lists them with no roles.
    assert device_from_metadata("urn:x", (), metadata, now=NOW).roles == frozenset()


def test_kyocera_scanner_elements_decode() -> None:
    message = _real("kyocera-ecosys-m2040dn.getscannerelementsresponse.xml")
    assert isinstance(message, GetScannerElementsResponse)
    assert [(e.name, e.valid) for e in message.elements] == [
        (QName(ns.WSCN, "ScannerDescription"), True),
        (QName(ns.WSCN, "ScannerConfiguration"), True),
        (QName(ns.WSCN, "DefaultScanTicket"), True),
    ]


def test_the_bare_fault_is_refused_clearly() -> None:
    path = REAL / "gsoap-device.udp3702-bare-fault.xml"
    assert path.is_file(), f"{path} is missing: shared/ must sit beside the repository (../shared)"
    with pytest.raises(RemoteProtocolError, match=r"not a SOAP 1\.2 envelope") as info:
        decode(path.read_bytes())
    assert "Fault" in str(info.value)  # says what it got instead


def test_every_real_device_file_is_checked() -> None:
    assert REAL.is_dir(), f"{REAL} is missing: shared/ must sit beside the repository (../shared)"
    checked = {
        "kyocera-ecosys-m2040dn.probematches.xml",
        "kyocera-ecosys-m2040dn.getresponse-metadata.xml",
        "kyocera-ecosys-m2040dn.getscannerelementsresponse.xml",
        "epson-xp410.probematches.xml",
        "onvif-ipcam-631ga.probematches.xml",
        "noddos.probe.xml",
        "samsung-m2020w.getresponse-metadata.xml",
        "synology-diskstation.getresponse-metadata.xml",
        "windows-pub-service.getresponse-metadata.xml",
        "gsoap-device.udp3702-bare-fault.xml",
    }
    assert {p.name for p in REAL.glob("*.xml")} == checked
