"""Every dsc message we build is schema-valid: its Body child validates against the dsc XSD (§6.2.1).

Covers every round-trip case whose body element is in the dsc namespace (dsm.py and repository.py),
vendor-extension variants included (the schema admits `prefix:Keyword` and MIME-like values). The
negative checks show the schema is really applied, and that the schema-invalid forms real servers
send (§4.1's bare <GetActiveJobsResponse/>) are still parsed leniently.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from wsdmon.protocol import Headers, Message, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import JobStatus, PostScanJobStatusEvent
from wsdmon.protocol.repository import (
    GetActiveJobsResponse,
    GetPostScanJobElementsResponse,
    RepositoryStatusSummaryEvent,
)
from wsdmon.protocol.repository_types import DOCUMENTS, Document, Documents, JobElementData

from .cases import CASES
from .cases_dsm import COMPLETED_STATUS, event_headers, mid

SCHEMA_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "protocol" / "schema"
DSC_XSD = SCHEMA_DIR / "WDPRepositoryConfig.xsd"
DSC = "{" + ns.DSC + "}"
BODY = "{" + ns.SOAP + "}Body"
XS = "http://www.w3.org/2001/XMLSchema"


def _d(local: str) -> str:
    return DSC + local


def body_child(root: etree._Element) -> etree._Element | None:
    """The first element in soap:Body of an envelope."""
    body = root.find(BODY)
    assert body is not None
    return next((el for el in body if isinstance(el.tag, str)), None)


def is_dsc(message: Message) -> bool:
    el = body_child(etree.fromstring(encode(message)))
    return el is not None and el.tag.startswith(DSC)


DSC_CASES = sorted(name for name, message in CASES.items() if is_dsc(message))


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    if not DSC_XSD.exists():
        reason = (
            f"dsc schema not found at {DSC_XSD}: the shared protocol folder is not next to the repository"
        )
        print(reason)
        pytest.skip(reason)
    # The XSD imports PostScan.xsd (and that WDPScan.xsd) from its own folder: local files only.
    return etree.XMLSchema(etree.parse(str(DSC_XSD)))


def vendor_elements(el: etree._Element) -> dict[str, set[str]]:
    """Namespace URI → local names of the non-dsc elements in el's subtree."""
    found: dict[str, set[str]] = {}
    for item in el.iter():
        if isinstance(item.tag, str) and not item.tag.startswith(DSC):
            name = etree.QName(item)
            found.setdefault(name.namespace or "", set()).add(name.localname)
    return found


@pytest.fixture(scope="module")
def schema_with_vendors(schema: etree.XMLSchema, tmp_path_factory: pytest.TempPathFactory) -> etree.XMLSchema:
    """The dsc schema plus a stand-in schema for each vendor namespace the cases use. Every
    xs:any ##other in the dsc XSD is a *strict* wildcard (no processContents): a vendor element is
    only valid if its own schema declares it, so a vendor would ship one; this stands in for it
    (every element global, of xs:anyType)."""
    found: dict[str, set[str]] = {}
    for name in DSC_CASES:
        for uri, names in vendor_elements(built(CASES[name])).items():
            found.setdefault(uri, set()).update(names)
    folder = tmp_path_factory.mktemp("vendor-xsd")
    imports = [f'<xs:import namespace="{ns.DSC}" schemaLocation="{DSC_XSD.as_uri()}"/>']
    for i, (uri, names) in enumerate(sorted(found.items())):
        declarations = "".join(f'<xs:element name="{n}" type="xs:anyType"/>' for n in sorted(names))
        path = folder / f"vendor{i}.xsd"
        path.write_text(f'<xs:schema xmlns:xs="{XS}" targetNamespace="{uri}">{declarations}</xs:schema>')
        imports.append(f'<xs:import namespace="{uri}" schemaLocation="{path.as_uri()}"/>')
    return etree.XMLSchema(etree.fromstring(f'<xs:schema xmlns:xs="{XS}">{"".join(imports)}</xs:schema>'))


def errors(schema: etree.XMLSchema, el: etree._Element) -> str:
    """The schema's error log, empty when el validates. el stays in its envelope, so the namespace
    declarations that QName values (dsc:Name, Dialect) rely on are in scope."""
    if schema.validate(etree.ElementTree(el)):
        return ""
    return str(schema.error_log)


def built(message: Message, change: Callable[[etree._Element], None] | None = None) -> etree._Element:
    """The dsc Body child of the built envelope, optionally changed in place."""
    el = body_child(etree.fromstring(encode(message)))
    assert el is not None
    if change is not None:
        change(el)
    return el


def test_there_are_dsc_cases_from_both_modules() -> None:
    assert "postscanjobstatusevent-vendor" in DSC_CASES
    assert "getrepositoryelements-response-vendor" in DSC_CASES
    assert not any(name.startswith("fault-") for name in DSC_CASES)  # faults are soap:Fault bodies


@pytest.mark.parametrize("name", DSC_CASES)
def test_built_dsc_body_is_schema_valid(
    schema: etree.XMLSchema, schema_with_vendors: etree.XMLSchema, name: str
) -> None:
    el = built(CASES[name])
    # Bodies without vendor elements validate against the dsc XSD alone.
    against = schema_with_vendors if vendor_elements(el) else schema
    assert errors(against, el) == "", f"{name}: {etree.QName(el).localname} is not schema-valid"


def test_vendor_elements_need_their_own_schema(schema: etree.XMLSchema) -> None:
    # Documents the strict wildcards: the same vendor case fails against the dsc XSD alone.
    el = built(CASES["postscanjobstatusevent-vendor"])
    assert "strict wildcard" in errors(schema, el)


# --- negative checks: the schema is really applied ----------------------------------------------


def status_event(state: str) -> PostScanJobStatusEvent:
    status = JobStatus(
        COMPLETED_STATUS.job_token,
        state,
        COMPLETED_STATUS.job_state_reasons,
        COMPLETED_STATUS.filter_statuses,
        COMPLETED_STATUS.images_received,
    )
    return PostScanJobStatusEvent(event_headers(900), status)


def test_unknown_unprefixed_job_state_is_rejected(schema: etree.XMLSchema) -> None:
    # "Bogus" is an NMTOKEN our constructor accepts, but neither a WKV nor `prefix:Keyword` (§1.8).
    assert "JobState" in errors(schema, built(status_event("Bogus")))


def test_namespaced_vendor_job_state_is_accepted(schema: etree.XMLSchema) -> None:
    assert errors(schema, built(status_event("acme:Quarantined"))) == ""


def test_negative_images_received_is_rejected(schema: etree.XMLSchema) -> None:
    def negative(el: etree._Element) -> None:
        images = el.find(f"{_d('JobStatus')}/{_d('ImagesReceived')}")
        assert images is not None
        images.text = "-1"

    assert "ImagesReceived" in errors(schema, built(status_event("Completed"), negative))


def test_unknown_unprefixed_repository_state_is_rejected(schema: etree.XMLSchema) -> None:
    event = RepositoryStatusSummaryEvent(event_headers(901), "Bogus")
    assert "RepositoryState" in errors(schema, built(event))


def test_document_id_zero_is_rejected(schema: etree.XMLSchema) -> None:
    def zero(el: etree._Element) -> None:
        doc_id = el.find(f".//{_d('DocumentId')}")
        assert doc_id is not None
        doc_id.text = "0"

    message = CASES["getpostscanjobelements-response"]
    assert "DocumentId" in errors(schema, built(message, zero))


# --- schema-invalid forms we still accept --------------------------------------------------------


def unqualify_element_data(el: etree._Element) -> None:
    for data in el.iter(_d("ElementData")):
        for local in ("Name", "Valid"):
            data.set(local, data.attrib.pop(_d(local)))


def test_unqualified_element_data_attributes_are_invalid_but_parsed(schema: etree.XMLSchema) -> None:
    message = CASES["getrepositoryelements-response"]
    el = built(message, unqualify_element_data)
    assert "Name" in errors(schema, el)  # dsc:Name and dsc:Valid are form="qualified"
    assert decode(etree.tostring(el.getroottree())) == message


def test_bare_get_active_jobs_response_is_invalid_but_parsed_as_no_jobs(schema: etree.XMLSchema) -> None:
    # §4.1's example answers <GetActiveJobsResponse/> with no ActiveJobs child.
    message = GetActiveJobsResponse(Headers.reply(mid(902), message_id=mid(903)))

    def bare(el: etree._Element) -> None:
        for item in list(el):
            el.remove(item)

    el = built(message, bare)
    assert len(el) == 0
    assert "ActiveJobs" in errors(schema, el)
    assert errors(schema, built(message)) == ""  # what we build has the (empty) ActiveJobs
    assert decode(etree.tostring(el.getroottree())) == message


def test_mime_type_with_slash_is_rejected(schema: etree.XMLSchema) -> None:
    # MimeExtensionPatternType admits "/", but restricts xs:NMTOKEN, which does not: a real MIME type
    # cannot validate. We still build and parse it (vendor values are kept as given).
    message = GetPostScanJobElementsResponse(
        Headers.reply(mid(904), message_id=mid(905)),
        (JobElementData(DOCUMENTS, True, Documents((Document(1, "image/tiff"),))),),
    )
    assert "Format" in errors(schema, built(message))
    assert decode(encode(message)) == message
