"""protocol/repository.py and repository_types.py beyond the round trips: other prefixes, namespaces
declared on the envelope, what a peer may get wrong (RemoteProtocolError) and what we must not build
(LocalProtocolError), and the dsc fault codes."""

from __future__ import annotations

import pytest
from lxml import etree

from wsdmon.protocol import Fault, Headers, LocalProtocolError, RemoteProtocolError, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName, parse_qnames
from wsdmon.protocol.dsm import RepositoryState
from wsdmon.protocol.repository import (
    DscFault,
    GetActiveJobsResponse,
    GetPostScanJobElementsResponse,
    GetRepositoryElementsRequest,
    GetRepositoryElementsResponse,
    dsc_fault,
    dsc_fault_kind,
)
from wsdmon.protocol.repository_types import (
    REPOSITORY_CONFIGURATION,
    REPOSITORY_STATUS,
    Document,
    Documents,
    Filter,
    JobElementData,
    RepositoryConfiguration,
    RepositoryElementData,
    RepositoryStatus,
)

DSC = ns.DSC


def envelope(action: str, body: str, extra_ns: str = "") -> bytes:
    """A peer's envelope with prefixes of its own (S, A, x): namespaces count, not prefixes."""
    return (
        f'<S:Envelope xmlns:S="{ns.SOAP}" xmlns:A="{ns.WSA}" xmlns:x="{DSC}" {extra_ns}>'
        f"<S:Header><A:Action>{DSC}/{action}</A:Action><A:MessageID>urn:uuid:1</A:MessageID></S:Header>"
        f"<S:Body>{body}</S:Body></S:Envelope>"
    ).encode()


def response(elements: str, extra_ns: str = "") -> bytes:
    return envelope(
        "GetRepositoryElementsResponse",
        f"<x:GetRepositoryElementsResponse><x:RepositoryElements>{elements}</x:RepositoryElements>"
        "</x:GetRepositoryElementsResponse>",
        extra_ns,
    )


def test_other_prefixes_and_root_declared_vendor_namespace() -> None:
    data = response(
        '<x:ElementData x:Name="v:Counters" x:Valid="1"><v:Counters n="1"><v:Inner/></v:Counters>'
        '</x:ElementData><x:ElementData x:Name="x:RepositoryStatus" x:Valid="true"><x:RepositoryStatus>'
        "<x:RepositoryState>Idle</x:RepositoryState><v:Extra/></x:RepositoryStatus></x:ElementData>",
        'xmlns:v="urn:vendor"',
    )
    message = decode(data)
    assert isinstance(message, GetRepositoryElementsResponse)
    counters, status = message.elements
    assert counters.name == QName("urn:vendor", "Counters")
    assert counters.valid
    assert counters.content == '<v:Counters xmlns:v="urn:vendor" n="1"><v:Inner></v:Inner></v:Counters>'
    assert status.content == RepositoryStatus(
        RepositoryState.IDLE, (), ('<v:Extra xmlns:v="urn:vendor"></v:Extra>',)
    )
    assert decode(encode(message)) == message


def test_filter_config_keeps_qname_prefixes_declared_on_the_envelope() -> None:
    # The vendor FilterConfig child uses the envelope's q prefix only inside its text: the kept XML
    # must declare it, or the value cannot be resolved once it is detached from this envelope.
    data = response(
        '<x:ElementData x:Name="x:RepositoryConfiguration" x:Valid="true"><x:RepositoryConfiguration>'
        "<x:Filters><x:Filter><x:Dialect>q:ocr</x:Dialect><x:FilterConfig><v:Mode>q:Fast</v:Mode>"
        "</x:FilterConfig></x:Filter></x:Filters></x:RepositoryConfiguration></x:ElementData>",
        'xmlns:v="urn:vendor" xmlns:q="urn:vendor:filters"',
    )
    message = decode(data)
    assert isinstance(message, GetRepositoryElementsResponse)
    configuration = message.elements[0].content
    assert isinstance(configuration, RepositoryConfiguration)
    (filter_,) = configuration.filters
    assert filter_.dialect == QName("urn:vendor:filters", "ocr")
    mode = etree.fromstring(filter_.filter_config)
    assert parse_qnames(mode) == (QName("urn:vendor:filters", "Fast"),)
    assert decode(encode(message)) == message


def test_raw_content_keeps_its_prefix_when_the_envelope_binds_its_namespace_to_another() -> None:
    # dsc is declared on our envelope as "dsc"; the raw content declares the same URI as "d" and uses
    # "d" in its text. Moving it into ElementData must not re-point it at "dsc" and drop "d".
    raw = f'<d:Note xmlns:d="{DSC}">d:JobStatus</d:Note>'
    message = GetPostScanJobElementsResponse(
        Headers.reply("urn:uuid:1"), (JobElementData(QName(DSC, "Note"), True, raw),)
    )
    assert decode(encode(message)) == message


def test_unqualified_attributes_accepted() -> None:
    message = decode(response('<x:ElementData Name="x:RepositoryStatus" Valid="false"/>'))
    assert isinstance(message, GetRepositoryElementsResponse)
    assert message.elements == (RepositoryElementData(REPOSITORY_STATUS, False),)


@pytest.mark.parametrize(
    "elements",
    [
        "",
        '<x:ElementData x:Valid="true"/>',
        '<x:ElementData x:Name="x:RepositoryStatus"/>',
        '<x:ElementData x:Name="nope:Thing" x:Valid="true"/>',
        '<x:ElementData x:Name="x:Repository Status" x:Valid="true"/>',
        '<x:ElementData x:Name="x:RepositoryStatus" x:Valid="yes"/>',
        '<x:ElementData x:Name="x:RepositoryStatus" x:Valid="true"><x:RepositoryStatus/></x:ElementData>',
        '<x:ElementData x:Name="x:RepositoryConfiguration" x:Valid="true"><x:RepositoryConfiguration>'
        "<x:Filters><x:Filter><x:FilterConfig/></x:Filter></x:Filters></x:RepositoryConfiguration>"
        "</x:ElementData>",
        '<x:ElementData x:Name="x:RepositoryConfiguration" x:Valid="true"><x:RepositoryConfiguration>'
        "<x:Filters><x:Filter><x:Dialect>q:fileshare</x:Dialect><x:FilterConfig/></x:Filter></x:Filters>"
        "</x:RepositoryConfiguration></x:ElementData>",
        '<x:ElementData x:Name="x:RepositoryConfiguration" x:Valid="true"><x:RepositoryConfiguration>'
        "<x:Filters><x:Filter><x:Dialect>x:a x:b</x:Dialect><x:FilterConfig/></x:Filter></x:Filters>"
        "</x:RepositoryConfiguration></x:ElementData>",
    ],
)
def test_malformed_repository_elements_are_remote_errors(elements: str) -> None:
    with pytest.raises(RemoteProtocolError):
        decode(response(elements))


@pytest.mark.parametrize(
    "documents",
    [
        "<x:Document><x:DocumentDescription><x:DocumentId>0</x:DocumentId><x:Format>png</x:Format>"
        "</x:DocumentDescription></x:Document>",
        "<x:Document><x:DocumentDescription><x:DocumentId>a</x:DocumentId><x:Format>png</x:Format>"
        "</x:DocumentDescription></x:Document>",
        "<x:Document><x:DocumentDescription><x:DocumentId>1_0</x:DocumentId><x:Format>png</x:Format>"
        "</x:DocumentDescription></x:Document>",
        "<x:Document/>",
        "<x:Document><x:DocumentDescription><x:DocumentId>1</x:DocumentId><x:Format>png</x:Format>"
        "</x:DocumentDescription></x:Document>" * 2,
    ],
)
def test_malformed_documents_are_remote_errors(documents: str) -> None:
    data = envelope(
        "GetPostScanJobElementsResponse",
        '<x:GetPostScanJobElementsResponse><x:JobElements><x:ElementData x:Name="x:Documents" '
        f'x:Valid="true"><x:Documents>{documents}</x:Documents></x:ElementData></x:JobElements>'
        "</x:GetPostScanJobElementsResponse>",
    )
    with pytest.raises(RemoteProtocolError):
        decode(data)


def test_bare_active_jobs_response() -> None:
    # §4.1's example answers <GetActiveJobsResponse/> without ActiveJobs: read as "no jobs".
    message = decode(envelope("GetActiveJobsResponse", "<x:GetActiveJobsResponse/>"))
    assert isinstance(message, GetActiveJobsResponse)
    assert message.jobs == ()


@pytest.mark.parametrize("bad", ["not xml <", "text only", "<a:x xmlns:a='urn:a'/>tail"])
def test_raw_content_that_is_not_elements_is_refused_when_building(bad: str) -> None:
    element = RepositoryElementData(REPOSITORY_STATUS, True, bad)
    with pytest.raises(LocalProtocolError):
        encode(GetRepositoryElementsResponse(Headers.reply("urn:uuid:1"), (element,)))
    with pytest.raises(LocalProtocolError):
        Filter(QName("urn:f", "x"), bad).write(etree.Element("r"))


def test_build_errors_are_local() -> None:
    h = Headers.request("http://x")
    with pytest.raises(LocalProtocolError):
        GetRepositoryElementsRequest(h, ())
    with pytest.raises(LocalProtocolError):
        GetRepositoryElementsRequest(h, (QName("", "x"),))
    with pytest.raises(LocalProtocolError):
        GetRepositoryElementsRequest(h, (QName(DSC, "two words"),))  # would not read back as one QName
    with pytest.raises(LocalProtocolError):
        RepositoryElementData(QName("", "x"), True)
    with pytest.raises(LocalProtocolError):
        Documents((Document(1, "png"), Document(1, "xps")))
    with pytest.raises(LocalProtocolError):
        Document(0, "png")
    with pytest.raises(LocalProtocolError):
        dsc_fault("Bogus", None, "x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (DscFault.INVALID_ARGS, "Sender"),
        (DscFault.CLIENT_ERROR_JOB_TOKEN_NOT_FOUND, "Sender"),
        (DscFault.CLIENT_ERROR_CURRENT_USER_NOT_SCAN_ADMIN, "Sender"),
        (DscFault.OPERATION_FAILED, "Receiver"),
        (DscFault.SERVER_ERROR_INTERNAL_ERROR, "Receiver"),
        (DscFault.SERVER_ERROR_TEMPORARY_ERROR, "Receiver"),
        (DscFault.SERVER_ERROR_POST_SCAN_JOB_CANCELED, "Receiver"),
    ],
)
def test_dsc_fault_codes(kind: DscFault, code: str) -> None:
    fault = dsc_fault(kind, "urn:uuid:1", "why", "detail", "urn:uuid:2")
    assert fault.code == code
    assert fault.subcode == QName(DSC, kind)
    assert fault.header.relates_to == "urn:uuid:1"
    assert fault.header.message_id == "urn:uuid:2"
    parsed = decode(encode(fault))
    assert isinstance(parsed, Fault)
    assert dsc_fault_kind(parsed) is kind


def test_dsc_fault_kind_matches_local_name_under_any_code_and_namespace() -> None:
    h = Headers.reply(None)
    # §4.2's example: ClientErrorJobTokenNotFound under soap:Receiver
    not_found = Fault(h, "Receiver", QName(DSC, "ClientErrorJobTokenNotFound"), "")
    assert dsc_fault_kind(not_found) is DscFault.CLIENT_ERROR_JOB_TOKEN_NOT_FOUND
    assert dsc_fault_kind(Fault(h, "Sender", QName("urn:other", "InvalidArgs"), "")) is DscFault.INVALID_ARGS
    assert dsc_fault_kind(Fault(h, "Sender", QName(ns.WSA, "ActionNotSupported"), "")) is None
    assert dsc_fault_kind(Fault(h, "Receiver", None, "")) is None


def test_element_data_reuses_the_raw_content_prefix_for_its_name() -> None:
    raw = '<acme:Counters xmlns:acme="urn:acme" jobs="1"></acme:Counters>'
    message = GetRepositoryElementsResponse(
        Headers.reply("urn:uuid:1"),
        (
            RepositoryElementData(QName("urn:acme", "Counters"), True, raw),
            RepositoryElementData(REPOSITORY_CONFIGURATION, True, RepositoryConfiguration()),
        ),
    )
    data = encode(message)
    assert b'<dsc:ElementData xmlns:acme="urn:acme" dsc:Name="acme:Counters" dsc:Valid="true">' in data
    assert b'dsc:Name="dsc:RepositoryConfiguration"' in data
    assert decode(data) == message
