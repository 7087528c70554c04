"""Targeted tests for discovery.py and metadata.py: the shared examples, QName resolution, AppSequence,
required elements, leniency and vendor extensions, the §5.1 matching rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsdmon.protocol import AppSequence, Headers, LocalProtocolError, RemoteProtocolError, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName
from wsdmon.protocol.discovery import (
    Bye,
    Hello,
    Probe,
    ProbeMatch,
    ProbeMatches,
    Resolve,
    ResolveMatch,
    ResolveMatches,
    match_headers,
    matches_probe,
    multicast_headers,
)
from wsdmon.protocol.metadata import (
    GetMetadataResponse,
    HostedService,
    LocalizedText,
    Relationship,
    ThisDevice,
    ThisModel,
    TransferGet,
    pick_localized,
)

from .cases_discovery import (
    DEVICE,
    DEVICE_TYPES,
    DEVICE_XADDR,
    INSTANCE,
    PROBE_ID,
    REPOSITORY,
    REPOSITORY_SERVICE_TYPE,
    REPOSITORY_XADDR,
    SCAN_DEVICE_MATCH,
    SCAN_DEVICE_TYPE,
    SEQUENCE,
    WSDP_DEVICE,
    seq,
)
from .cases_metadata import EXAMPLE_04, SCAN_SERVICE, SCANNER_SERVICE_TYPE

# The shared protocol reference lives beside the repository (../shared) in development.
EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "protocol" / "examples"
needs_examples = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="shared protocol examples not present")


def example(stem: str) -> bytes:
    (path,) = EXAMPLES.glob(f"{stem}-*.xml")
    return path.read_bytes()


def message_id(n: int) -> str:
    return f"urn:uuid:8c1c8a3e-4b0f-4a2e-9d41-0a6c1e2f3b{n:02d}"


# An envelope with unusual prefixes: only namespace URIs may matter.
NS = (
    'xmlns:s12="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:addr="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:disco="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
    'xmlns:dp="http://schemas.xmlsoap.org/ws/2006/02/devprof" '
    'xmlns:mx="http://schemas.xmlsoap.org/ws/2004/09/mex" '
    'xmlns:acme="urn:acme"'
)
SEQ_HEADER = '<disco:AppSequence InstanceId="5" MessageNumber="3"/>'


def envelope(action: str, body: str, header: str = SEQ_HEADER) -> bytes:
    return (
        f"<s12:Envelope {NS}><s12:Header><addr:Action>{action}</addr:Action>"
        f"<addr:MessageID>urn:uuid:11111111-2222-4333-8444-555555555555</addr:MessageID>{header}"
        f"</s12:Header><s12:Body>{body}</s12:Body></s12:Envelope>"
    ).encode()


EPR = f"<addr:EndpointReference><addr:Address>{DEVICE}</addr:Address></addr:EndpointReference>"
SCAN_TYPES = (
    '<disco:Types xmlns:sc="http://schemas.microsoft.com/windows/2006/08/wdp/scan">'
    "dp:Device sc:ScanDeviceType</disco:Types>"
)


def hello(inner: str, header: str = SEQ_HEADER) -> bytes:
    return envelope(ns.WSD_HELLO, f"<disco:Hello>{inner}</disco:Hello>", header)


# --- the shared examples ------------------------------------------------------------------------


@needs_examples
def test_example_01_hello_scan_device() -> None:
    assert decode(example("01")) == Hello(
        Headers(message_id(1), ns.WSD_URN, app_sequence=AppSequence(INSTANCE, 1, SEQUENCE)),
        DEVICE,
        2,
        (WSDP_DEVICE, SCAN_DEVICE_TYPE),
        (),
        (DEVICE_XADDR,),
    )


@needs_examples
def test_example_02_hello_scan_repository() -> None:
    assert decode(example("02")) == Hello(
        Headers(message_id(2), ns.WSD_URN, app_sequence=AppSequence(INSTANCE, 1)),
        REPOSITORY,
        1,
        (WSDP_DEVICE, REPOSITORY_SERVICE_TYPE),
        xaddrs=(REPOSITORY_XADDR,),
    )


@needs_examples
def test_example_03_probematches() -> None:
    parsed = decode(example("03"))
    assert parsed == ProbeMatches(
        match_headers(PROBE_ID, seq(2), message_id=message_id(3)), (SCAN_DEVICE_MATCH,)
    )
    assert isinstance(parsed, ProbeMatches)
    assert Probe(multicast_headers(), (SCAN_DEVICE_TYPE,)).matches(parsed.matches[0].types, ())


@needs_examples
def test_example_04_metadata() -> None:
    parsed = decode(example("04"))
    assert parsed == EXAMPLE_04
    assert isinstance(parsed, GetMetadataResponse)
    model, device, host = parsed.this_model, parsed.this_device, parsed.host
    assert model is not None
    assert device is not None
    assert host is not None
    assert (model.manufacturer, model.model_name) == ("Example Imaging", "Demo MFP 4200")
    assert device.friendly_name == "Demo MFP 4200 (2nd floor)"
    assert host.address == DEVICE
    assert parsed.hosted_services_of_type(SCANNER_SERVICE_TYPE) == (SCAN_SERVICE,)
    assert parsed.hosted_services_of_type(REPOSITORY_SERVICE_TYPE) == ()
    assert parsed.hosted[0].address == "http://192.168.1.50:5358/ScanService/"


@needs_examples
def test_example_12_bye() -> None:
    assert decode(example("12")) == Bye(multicast_headers(seq(9), message_id=message_id(12)), DEVICE)


# --- QName Types: by namespace URI, any prefix, default namespace -------------------------------


def test_types_resolved_by_uri_with_other_prefixes_and_default_namespace() -> None:
    types = (
        '<disco:Types xmlns="http://schemas.microsoft.com/windows/2006/08/wdp/scan" '
        'xmlns:x="http://schemas.xmlsoap.org/ws/2006/02/devprof">x:Device\n\tScanDeviceType</disco:Types>'
    )
    parsed = decode(hello(f"{EPR}{types}<disco:MetadataVersion>1</disco:MetadataVersion>"))
    assert isinstance(parsed, Hello)
    assert parsed.types == DEVICE_TYPES
    assert matches_probe((QName(ns.WSCN, "ScanDeviceType"),), (), None, parsed.types, ())


def test_hosted_types_resolved_by_uri() -> None:
    body = (
        '<mx:Metadata><mx:MetadataSection Dialect="http://schemas.xmlsoap.org/ws/2006/02/devprof/Relationship">'
        '<dp:Relationship Type="http://schemas.xmlsoap.org/ws/2006/02/devprof/host"><dp:Hosted>'
        "<addr:EndpointReference><addr:Address>http://h/scan</addr:Address></addr:EndpointReference>"
        '<dp:Types xmlns="http://schemas.microsoft.com/windows/2006/08/wdp/scan">ScannerServiceType</dp:Types>'
        "<dp:ServiceId>uri:scan</dp:ServiceId></dp:Hosted></dp:Relationship></mx:MetadataSection></mx:Metadata>"
    )
    parsed = decode(envelope(ns.WXF_GET_RESPONSE, body, ""))
    assert isinstance(parsed, GetMetadataResponse)
    assert parsed.host is None  # a Relationship without Host is accepted
    assert [h.addresses for h in parsed.hosted_services_of_type(SCANNER_SERVICE_TYPE)] == [("http://h/scan",)]


def test_undeclared_type_prefix_is_remote_error() -> None:
    with pytest.raises(RemoteProtocolError, match="not declared"):
        decode(
            hello(
                f"{EPR}<disco:Types>nope:Device</disco:Types><disco:MetadataVersion>1</disco:MetadataVersion>"
            )
        )


# --- AppSequence (§7) ---------------------------------------------------------------------------


def test_app_sequence_is_read_from_the_header() -> None:
    parsed = decode(hello(f"{EPR}<disco:MetadataVersion>1</disco:MetadataVersion>"))
    assert parsed.header.app_sequence == AppSequence(5, 3)


def test_app_sequence_missing_is_accepted_on_parse() -> None:
    parsed = decode(hello(f"{EPR}<disco:MetadataVersion>1</disco:MetadataVersion>", header=""))
    assert isinstance(parsed, Hello)
    assert parsed.header.app_sequence is None


@pytest.mark.parametrize(
    "message",
    [
        Hello(multicast_headers(), DEVICE, 1),
        Bye(multicast_headers(), DEVICE),
        ProbeMatches(match_headers(PROBE_ID, None)),
        ResolveMatches(match_headers(PROBE_ID, None)),
    ],
    ids=lambda m: type(m).__name__,
)
def test_app_sequence_is_required_on_build(message: Hello) -> None:
    with pytest.raises(LocalProtocolError, match="AppSequence"):
        encode(message)


def test_probe_and_resolve_need_no_app_sequence() -> None:
    assert isinstance(decode(encode(Probe(multicast_headers()))), Probe)
    assert isinstance(decode(encode(Resolve(multicast_headers(), DEVICE))), Resolve)


# --- required elements → RemoteProtocolError ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (hello(f"{EPR}{SCAN_TYPES}"), "lacks required MetadataVersion"),
        (hello("<disco:MetadataVersion>1</disco:MetadataVersion>"), "lacks required EndpointReference"),
        (
            hello("<addr:EndpointReference/><disco:MetadataVersion>1</disco:MetadataVersion>"),
            "lacks required Address",
        ),
        (
            hello(
                "<addr:EndpointReference><addr:Address> </addr:Address></addr:EndpointReference>"
                "<disco:MetadataVersion>1</disco:MetadataVersion>"
            ),
            "empty Address",
        ),
        (hello(f"{EPR}<disco:MetadataVersion>two</disco:MetadataVersion>"), "not an integer"),
        (hello(f"{EPR}<disco:MetadataVersion>4294967296</disco:MetadataVersion>"), "unsignedInt"),
        (
            envelope(
                ns.WSD_PROBE_MATCHES,
                f"<disco:ProbeMatches><disco:ProbeMatch>{EPR}</disco:ProbeMatch></disco:ProbeMatches>",
            ),
            "ProbeMatch lacks required MetadataVersion",
        ),
        (
            envelope(
                ns.WSD_RESOLVE_MATCHES,
                f"<disco:ResolveMatches><disco:ResolveMatch>{EPR}<disco:MetadataVersion>1"
                "</disco:MetadataVersion></disco:ResolveMatch></disco:ResolveMatches>",
            ),
            "ResolveMatch lacks required XAddrs",
        ),
        (envelope(ns.WSD_RESOLVE, "<disco:Resolve/>"), "Resolve lacks required EndpointReference"),
        (envelope(ns.WSD_BYE, "<acme:Bye/>"), "expected Bye"),
        (envelope(ns.WXF_GET_RESPONSE, "", ""), "Body lacks Metadata"),
    ],
)
def test_missing_required_element_is_remote_error(data: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        decode(data)


def _relationship(inner: str) -> bytes:
    body = (
        f'<mx:Metadata><mx:MetadataSection Dialect="{ns.WSDP_RELATIONSHIP}">'
        f'<dp:Relationship Type="{ns.WSDP_HOST_RELATIONSHIP}">{inner}</dp:Relationship>'
        "</mx:MetadataSection></mx:Metadata>"
    )
    return envelope(ns.WXF_GET_RESPONSE, body, "")


@pytest.mark.parametrize(
    ("inner", "message"),
    [
        ("<dp:Host><dp:ServiceId>x</dp:ServiceId></dp:Host>", "Host lacks required EndpointReference"),
        ("<dp:Host><addr:EndpointReference/></dp:Host>", "lacks required Address"),
        ("<dp:Hosted><dp:Types>dp:Device</dp:Types></dp:Hosted>", "Hosted lacks required EndpointReference"),
    ],
)
def test_relationship_without_addresses_is_remote_error(inner: str, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        decode(_relationship(inner))


# --- leniency and vendor extensions -------------------------------------------------------------


def test_hello_any_order_whitespace_and_vendor_extras() -> None:
    inner = (
        "<disco:MetadataVersion> 7 </disco:MetadataVersion>"
        '<acme:Site code="B2"/>'
        f"<disco:XAddrs>\n  {DEVICE_XADDR}\n  http://[fe80::1]:5358/x  </disco:XAddrs>"
        f"{SCAN_TYPES}<disco:Scopes> http://acme.example/a\thttp://acme.example/b </disco:Scopes>{EPR}"
    )
    parsed = decode(hello(inner))
    assert parsed == Hello(
        Headers("urn:uuid:11111111-2222-4333-8444-555555555555", app_sequence=AppSequence(5, 3)),
        DEVICE,
        7,
        DEVICE_TYPES,
        ("http://acme.example/a", "http://acme.example/b"),
        (DEVICE_XADDR, "http://[fe80::1]:5358/x"),
        # the vendor element's namespace is declared on the envelope: the kept XML declares it itself
        ('<acme:Site xmlns:acme="urn:acme" code="B2"></acme:Site>',),
    )
    assert decode(encode(parsed)) == parsed


def test_metadata_lenient_sections_and_vendor_extras() -> None:
    body = (
        "<mx:Metadata>"
        # Dialect is wrong: the section is recognised by its content
        '<mx:MetadataSection Dialect="urn:acme:model"><dp:ThisModel>'
        '<acme:Colour>blue</acme:Colour><dp:ModelName xml:lang="de">Demo</dp:ModelName>'
        '<pnpx:DeviceCategory xmlns:pnpx="http://schemas.microsoft.com/windows/pnpx/2005/10">'
        " Printers\n Scanners </pnpx:DeviceCategory>"
        "<dp:Manufacturer>  Example  </dp:Manufacturer><dp:SerialNumber/></dp:ThisModel></mx:MetadataSection>"
        # a wsdl section whose QName attribute uses a prefix declared only on the envelope
        '<mx:MetadataSection Dialect="http://schemas.xmlsoap.org/wsdl/">'
        '<acme:definitions name="acme:Scan"/></mx:MetadataSection>'
        '<mx:MetadataSection Dialect="urn:acme:rel">'
        '<dp:Relationship Type="urn:acme:peer"/></mx:MetadataSection>'
        "</mx:Metadata>"
    )
    parsed = decode(envelope(ns.WXF_GET_RESPONSE, body, ""))
    assert isinstance(parsed, GetMetadataResponse)
    assert parsed.this_device is None
    assert parsed.relationship is None
    assert parsed.this_model == ThisModel(
        manufacturer_names=(LocalizedText("Example"),),
        model_names=(LocalizedText("Demo", "de"),),
        device_category=("Printers", "Scanners"),
        extensions=(
            '<acme:Colour xmlns:acme="urn:acme">blue</acme:Colour>',
            f'<dp:SerialNumber xmlns:dp="{ns.WSDP}"></dp:SerialNumber>',
        ),
    )
    assert parsed.other_sections == (
        f'<mx:MetadataSection xmlns:acme="urn:acme" xmlns:mx="{ns.WSX}" Dialect="http://schemas.xmlsoap.org/wsdl/">'
        '<acme:definitions name="acme:Scan"></acme:definitions></mx:MetadataSection>',
        f'<mx:MetadataSection xmlns:mx="{ns.WSX}" Dialect="urn:acme:rel">'
        f'<dp:Relationship xmlns:dp="{ns.WSDP}" Type="urn:acme:peer"></dp:Relationship></mx:MetadataSection>',
    )
    # Not compared after a rebuild: lxml rebinds the kept "mx:"/"dp:" elements to the envelope's
    # wsx/wsdp declarations (same URIs), so the kept strings differ in prefix only.


def test_two_host_relationship_sections_are_merged() -> None:
    hosted = (
        "<dp:Hosted><addr:EndpointReference><addr:Address>http://h/{0}</addr:Address></addr:EndpointReference>"
        "<dp:Types>dp:Device</dp:Types></dp:Hosted>"
    )
    body = "".join(
        f'<mx:MetadataSection Dialect="{ns.WSDP_RELATIONSHIP}"><dp:Relationship>{hosted.format(n)}'
        "</dp:Relationship></mx:MetadataSection>"
        for n in (1, 2)
    )
    parsed = decode(envelope(ns.WXF_GET_RESPONSE, f"<mx:Metadata>{body}</mx:Metadata>", ""))
    assert isinstance(parsed, GetMetadataResponse)
    assert [h.address for h in parsed.hosted] == ["http://h/1", "http://h/2"]
    assert parsed.hosted[0].service_id is None  # required by DPWS, tolerated on parse


def test_required_dpws_children_enforced_only_on_build() -> None:
    header = Headers.reply(PROBE_ID)
    with pytest.raises(LocalProtocolError, match="Manufacturer"):
        encode(GetMetadataResponse(header, ThisModel(model_names=(LocalizedText("x"),))))
    with pytest.raises(LocalProtocolError, match="FriendlyName"):
        encode(GetMetadataResponse(header, this_device=ThisDevice()))
    no_id = HostedService(("http://h/s",), (SCANNER_SERVICE_TYPE,))
    with pytest.raises(LocalProtocolError, match="ServiceId"):
        encode(GetMetadataResponse(header, relationship=Relationship(EXAMPLE_04.host, (no_id,))))
    assert isinstance(decode(encode(GetMetadataResponse(header))), GetMetadataResponse)  # no sections: fine


def test_transfer_get_needs_a_destination() -> None:
    with pytest.raises(LocalProtocolError, match="wsa:To"):
        encode(TransferGet(Headers(message_id=PROBE_ID)))
    parsed = decode(encode(TransferGet.to_device(DEVICE)))
    assert isinstance(parsed, TransferGet)
    assert parsed.header.to == DEVICE
    assert parsed.header.reply_to == ns.WSA_ANONYMOUS


def test_constructors_reject_invalid_values() -> None:
    with pytest.raises(LocalProtocolError, match="unsignedInt"):
        Hello(multicast_headers(seq(1)), DEVICE, -1)
    with pytest.raises(LocalProtocolError, match="whitespace"):
        ProbeMatch(DEVICE, 1, xaddrs=("http://a b/",))
    with pytest.raises(LocalProtocolError, match="QName"):
        Probe(multicast_headers(), (QName("", "Device"),))
    with pytest.raises(LocalProtocolError, match="XAddr"):
        ResolveMatch(DEVICE, 1, ())
    with pytest.raises(LocalProtocolError, match="EndpointReference"):
        HostedService(())


def test_pick_localized() -> None:
    names = (LocalizedText("Example"), LocalizedText("Exemple", "fr-FR"), LocalizedText("Beispiel", "de"))
    assert pick_localized(names, "fr-fr") == "Exemple"
    assert pick_localized(names, "fr-CA") == "Exemple"
    assert pick_localized(names, "de-AT") == "Beispiel"
    assert pick_localized(names, "ja") == "Example"
    assert pick_localized(names) == "Example"
    assert pick_localized(()) is None


# --- §5.1 matching ------------------------------------------------------------------------------


def test_type_matching_needs_every_probe_type() -> None:
    assert matches_probe((), (), None, DEVICE_TYPES, ())
    assert matches_probe(DEVICE_TYPES, (), None, (*DEVICE_TYPES, REPOSITORY_SERVICE_TYPE), ())
    assert not matches_probe((SCAN_DEVICE_TYPE, REPOSITORY_SERVICE_TYPE), (), None, DEVICE_TYPES, ())
    assert not matches_probe((QName("urn:other", "ScanDeviceType"),), (), None, DEVICE_TYPES, ())


@pytest.mark.parametrize(
    ("probe", "target", "expected"),
    [
        ("http://acme.example/a/b", "http://acme.example/a/b", True),
        ("http://acme.example/a/b", "http://acme.example/a/b/c", True),
        ("http://acme.example/a/b/", "http://acme.example/a/b/c", True),
        ("http://acme.example/a/b", "http://acme.example/a/bc", False),  # segment-wise, not string
        ("http://acme.example/a/b/c", "http://acme.example/a/b", False),
        ("HTTP://ACME.example/a", "http://acme.EXAMPLE/a/b", True),  # scheme and authority ignore case
        ("http://acme.example/A", "http://acme.example/a", False),  # the path does not
        ("http://acme.example", "http://acme.example/a", True),
        ("http://acme.example/a?x=1#f", "http://acme.example/a/b?y=2", True),  # query/fragment ignored
        ("http://acme.example/a%20b", "http://acme.example/a b/c", True),  # compared unescaped
        ("http://acme.example/a/./b", "http://acme.example/a/./b", False),  # dot segments never match
        ("http://acme.example/a", "http://acme.example:8080/a", False),
        ("http://acme.example/a", "https://acme.example/a", False),
    ],
)
def test_rfc2396_scope_matching(probe: str, target: str, expected: bool) -> None:
    for rule in (None, ns.WSD_MATCH_RFC2396, ns.WSD_MATCH_RFC3986):
        assert matches_probe((), (probe,), rule, (), (target, "urn:other")) is expected


def test_strcmp0_and_uuid_scope_matching() -> None:
    scope = "http://acme.example/Floor2"
    assert matches_probe((), (scope,), ns.WSD_MATCH_STRCMP0, (), (scope,))
    assert not matches_probe((), (scope,), ns.WSD_MATCH_STRCMP0, (), (scope + "/x",))
    assert not matches_probe((), (scope.lower(),), ns.WSD_MATCH_STRCMP0, (), (scope,))
    upper = "UUID:3F2B9C2A-1D4E-4F6A-9B7C-5A1E2D3C4B5A"
    assert matches_probe((), (upper,), ns.WSD_MATCH_UUID, (), ("uuid:3f2b9c2a-1d4e-4f6a-9b7c-5a1e2d3c4b5a",))
    assert not matches_probe((), (upper,), ns.WSD_MATCH_UUID, (), (DEVICE,))  # urn:uuid is another scheme
    assert not matches_probe((), ("uuid:not-a-uuid",), ns.WSD_MATCH_UUID, (), ("uuid:not-a-uuid",))


def test_scope_matching_edge_cases() -> None:
    scopes = ("http://acme.example/a", "http://acme.example/b")
    assert matches_probe((), (), "urn:acme:unknown-rule", (), scopes)  # no Probe scopes: any target
    assert not matches_probe((), scopes[:1], "urn:acme:unknown-rule", (), scopes)
    assert not matches_probe((), scopes[:1], ns.WSD_MATCH_LDAP, (), scopes)  # ldap: not implemented
    assert matches_probe((), scopes, None, (), (*scopes, "http://acme.example/c"))  # every scope matches
    assert not matches_probe((), (*scopes, "http://acme.example/d"), None, (), scopes)
    assert not matches_probe((), scopes[:1], None, (), ())
    assert not matches_probe((), ("http://[::1",), None, (), ("http://[::1",))  # unparsable: no match
