"""Round-trip cases for WS-Discovery 2005/04 (discovery.py).

The scan-device values mirror the shared examples 01, 02, 03 and 12; DEVICE, DEVICE_TYPES and the
app-sequence fixtures are reused by cases_metadata.py and the targeted tests.
"""

from __future__ import annotations

from wsdmon.protocol import AppSequence, Message
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
    multicast_headers,
)

from .cases_dsm import mid

DEVICE = "urn:uuid:3f2b9c2a-1d4e-4f6a-9b7c-5a1e2d3c4b5a"
DEVICE_XADDR = "http://192.168.1.50:5358/3f2b9c2a-1d4e-4f6a-9b7c-5a1e2d3c4b5a/"
REPOSITORY = "urn:uuid:553852db-6d5a-4eee-a34f-5b499c1a2944"
REPOSITORY_XADDR = "https://scansrv.example.test:5362/ScanServer/553852db-6d5a-4eee-a34f-5b499c1a2944"
SEQUENCE = "urn:uuid:0d3b7a52-61e1-4c1b-8f0b-7f9e2a6c5d10"
INSTANCE = 1732406400

WSDP_DEVICE = QName(ns.WSDP, "Device")
SCAN_DEVICE_TYPE = QName(ns.WSCN, "ScanDeviceType")
REPOSITORY_SERVICE_TYPE = QName(ns.DSC, "RepositoryConfigurationServiceType")
DEVICE_TYPES = (WSDP_DEVICE, SCAN_DEVICE_TYPE)
PROBE_ID = "urn:uuid:a1b2c3d4-0000-4000-8000-00000000beef"


def seq(number: int, sequence_id: str | None = SEQUENCE) -> AppSequence:
    return AppSequence(INSTANCE, number, sequence_id)


SCAN_DEVICE_MATCH = ProbeMatch(DEVICE, 2, DEVICE_TYPES, xaddrs=(DEVICE_XADDR,))

CASES: dict[str, Message] = {
    "hello-scan-device": Hello(
        multicast_headers(seq(1), message_id=mid(101)), DEVICE, 2, DEVICE_TYPES, (), (DEVICE_XADDR,)
    ),
    "hello-scan-repository": Hello(
        multicast_headers(seq(1, None), message_id=mid(102)),
        REPOSITORY,
        1,
        (WSDP_DEVICE, REPOSITORY_SERVICE_TYPE),
        xaddrs=(REPOSITORY_XADDR,),
    ),
    "hello-vendor-no-xaddrs": Hello(
        multicast_headers(AppSequence(7, 1), message_id=mid(103)),
        "urn:uuid:0b1c2d3e-4f50-4617-8899-aabbccddeeff",
        4294967295,  # the largest xs:unsignedInt
        (QName("urn:acme:devices", "Copier"),),
        ("ldap:///ou=floor2,o=acme", "http://acme.example/building/2"),
        extensions=('<acme:Site xmlns:acme="urn:acme" code="B2"></acme:Site>',),
    ),
    "bye": Bye(multicast_headers(seq(9), message_id=mid(104)), DEVICE),
    "bye-full": Bye(
        multicast_headers(seq(10), message_id=mid(105)), DEVICE, 3, DEVICE_TYPES, (), (DEVICE_XADDR,)
    ),
    "probe-scan-device": Probe(multicast_headers(message_id=PROBE_ID), (SCAN_DEVICE_TYPE,)),
    "probe-any": Probe(multicast_headers(message_id=mid(106))),
    "probe-scopes-strcmp0": Probe(
        multicast_headers(message_id=mid(107)),
        (WSDP_DEVICE, REPOSITORY_SERVICE_TYPE),
        ("http://acme.example/building/2",),
        ns.WSD_MATCH_STRCMP0,
    ),
    "probematches-scan-device": ProbeMatches(
        match_headers(PROBE_ID, seq(2), message_id=mid(108)), (SCAN_DEVICE_MATCH,)
    ),
    "probematches-none": ProbeMatches(match_headers(mid(106), seq(3), message_id=mid(109))),
    "probematches-two": ProbeMatches(
        match_headers(mid(106), seq(4), message_id=mid(110)),
        (
            SCAN_DEVICE_MATCH,
            ProbeMatch(REPOSITORY, 1, (WSDP_DEVICE, REPOSITORY_SERVICE_TYPE), ("http://acme.example/",)),
        ),
        ('<acme:Hint xmlns:acme="urn:acme">proxy</acme:Hint>',),
    ),
    "resolve": Resolve(multicast_headers(message_id=mid(111)), DEVICE),
    "resolvematches": ResolveMatches(
        match_headers(mid(111), seq(5), message_id=mid(112)),
        ResolveMatch(DEVICE, 2, (DEVICE_XADDR, "http://[fe80::1%25eth0]:5358/3f2b9c2a/"), DEVICE_TYPES),
    ),
    "resolvematches-none": ResolveMatches(match_headers(mid(111), seq(6), message_id=mid(113))),
}
