"""Round-trip cases for protocol/repository.py: scan-repository operations, repository events, dsc faults.

Requests go to REPOSITORY (the hosted service address, §3.2.3 port 5362); each response relates to
the request case before it. Vendor variants use the urn:acme namespace (§1.8 extensions).
"""

from __future__ import annotations

from wsdmon.protocol import Headers, Message
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStateReason,
    FilterStatus,
    JobState,
    JobStateReason,
    RepositoryState,
    RepositoryStateReason,
)
from wsdmon.protocol.repository import (
    CancelPostScanJobRequest,
    CancelPostScanJobResponse,
    DscFault,
    GetActiveJobsRequest,
    GetActiveJobsResponse,
    GetJobHistoryRequest,
    GetJobHistoryResponse,
    GetPostScanJobElementsRequest,
    GetPostScanJobElementsResponse,
    GetRepositoryElementsRequest,
    GetRepositoryElementsResponse,
    JobSummary,
    RepositoryElementsChangeEvent,
    RepositoryStatusSummaryEvent,
    dsc_fault,
)
from wsdmon.protocol.repository_types import (
    DOCUMENTS,
    JOB_DESCRIPTION,
    JOB_STATUS,
    REPOSITORY_CONFIGURATION,
    REPOSITORY_STATUS,
    Document,
    DocumentFormat,
    Documents,
    Filter,
    JobDescription,
    JobElementData,
    RepositoryConfiguration,
    RepositoryElementData,
    RepositoryStatus,
)

from .cases_dsm import COMPLETED_STATUS, TOKEN, TWO_FILTERS_DONE, event_headers, mid

REPOSITORY = "https://scansrv.contoso.com:5362/ScanServer/5e1f0c4a-2b7d-4c11-9a0e-7d3c2b1a0f9e"
ACME = "urn:acme"
PSP_ID = "B6EB9213-C1BE-4BBF-880E-FF8F18A53469"
TOKEN_2 = "0f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0"
TOKEN_3 = "9c8b7a69-5847-4362-9150-e1d2c3b4a596"


def request(n: int) -> Headers:
    return Headers.request(REPOSITORY, message_id=mid(n))


def reply(n: int) -> Headers:
    """Headers answering request(n)."""
    return Headers.reply(mid(n), message_id=mid(n + 1))


WINDOWS_CONFIGURATION = RepositoryConfiguration(
    (
        Filter(QName(ns.FILTER_BASE, "fileshare")),
        Filter(QName(ns.FILTER_BASE, "sharepoint")),
        Filter(QName(ns.FILTER_BASE, "email")),
    )
)

VENDOR_CONFIGURATION = RepositoryConfiguration(
    (
        Filter(QName(ns.FILTER_BASE, "fileshare")),
        Filter(
            QName("urn:acme:filters", "ocr"),
            '<acme:OcrConfig xmlns:acme="urn:acme"><acme:Language>de</acme:Language></acme:OcrConfig>'
            '<acme:Engine xmlns:acme="urn:acme" version="3"></acme:Engine>',
            ('<acme:License xmlns:acme="urn:acme">site</acme:License>',),
        ),
    ),
    ('<acme:Quota xmlns:acme="urn:acme">500</acme:Quota>',),
)

FINANCE = JobDescription(PSP_ID, "Scan to Finance share + mail", "alice@CONTOSO")

ACTIVE_PROCESSING = JobSummary(
    TOKEN,
    PSP_ID,
    "Scan to Finance share + mail",
    "alice@CONTOSO",
    JobState.PROCESSING,
    (JobStateReason.NONE,),
    (
        FilterStatus(ns.FILTER_FILESHARE, FilterState.COMPLETED_SUCCESSFULLY),
        FilterStatus(ns.FILTER_EMAIL, FilterState.PROCESSING),
    ),
    3,
)

ACTIVE_PENDING = JobSummary(
    TOKEN_2,
    "0D5C2E77-61F1-4B7E-9C1B-3A2F4E5D6C7B",
    "Invoices to SharePoint",
    "bob@CONTOSO",
    JobState.PENDING,
    (),  # JobStateReasons is optional in JobSummaryType
    (FilterStatus(ns.FILTER_SHAREPOINT, FilterState.PENDING),),
    0,
)

HISTORY = (
    JobSummary(
        TOKEN,
        PSP_ID,
        "Scan to Finance share + mail",
        "alice@CONTOSO",
        JobState.COMPLETED,
        (JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_ERRORS,),
        TWO_FILTERS_DONE,
        3,
    ),
    # §4.1's history example: no filter dialect recognised → Aborted, its filter Canceled.
    JobSummary(
        TOKEN_2,
        "0D5C2E77-61F1-4B7E-9C1B-3A2F4E5D6C7B",
        "Invoices to SharePoint",
        "bob@CONTOSO",
        JobState.ABORTED,
        (JobStateReason.NO_VALID_POST_SCAN_INSTRUCTIONS_FOUND,),
        (FilterStatus(ns.FILTER_SHAREPOINT, FilterState.CANCELED),),
        1,
    ),
    JobSummary(
        TOKEN_3,
        "urn:acme:psp:ocr-archive",
        "OCR archive",
        "  carol  ",  # String255: whitespace preserved
        "acme:Quarantined",
        ("acme:VirusScan", JobStateReason.POST_SCAN_JOB_PROCESSING_FAILED),
        (FilterStatus("urn:acme:filter:ocr", "acme:Waiting", (FilterStateReason.UNKNOWN_ERROR,)),),
        2,
        ('<acme:Priority xmlns:acme="urn:acme">high</acme:Priority>',),
    ),
)

CASES: dict[str, Message] = {
    # --- GetRepositoryElements (§3.2.4.1) ---
    "getrepositoryelements-request": GetRepositoryElementsRequest(
        request(300), (REPOSITORY_CONFIGURATION, REPOSITORY_STATUS)
    ),
    "getrepositoryelements-response": GetRepositoryElementsResponse(
        reply(300),
        (
            RepositoryElementData(REPOSITORY_CONFIGURATION, True, WINDOWS_CONFIGURATION),
            RepositoryElementData(
                REPOSITORY_STATUS, True, RepositoryStatus(RepositoryState.IDLE, (RepositoryStateReason.NONE,))
            ),
        ),
    ),
    "getrepositoryelements-request-vendor": GetRepositoryElementsRequest(
        request(302),
        (REPOSITORY_STATUS, QName(ACME, "Counters"), QName(ACME, "Unknown"), REPOSITORY_CONFIGURATION),
    ),
    "getrepositoryelements-response-vendor": GetRepositoryElementsResponse(
        reply(302),
        (
            RepositoryElementData(
                REPOSITORY_STATUS,
                True,
                RepositoryStatus(
                    "acme:Warming",
                    ("acme:IndexRebuild", RepositoryStateReason.NONE),
                    ('<acme:Uptime xmlns:acme="urn:acme">PT5M</acme:Uptime>',),
                ),
            ),
            RepositoryElementData(
                QName(ACME, "Counters"),
                True,
                '<acme:Counters xmlns:acme="urn:acme" jobs="12"></acme:Counters>',
            ),
            RepositoryElementData(QName(ACME, "Unknown"), False),
            RepositoryElementData(REPOSITORY_CONFIGURATION, True, VENDOR_CONFIGURATION),
        ),
    ),
    "getrepositoryelements-response-no-filters": GetRepositoryElementsResponse(
        reply(304),
        (
            RepositoryElementData(REPOSITORY_CONFIGURATION, True, RepositoryConfiguration()),
            RepositoryElementData(REPOSITORY_STATUS, True, RepositoryStatus(RepositoryState.STOPPED)),
        ),
    ),
    # --- CancelPostScanJob (§3.2.4.2) ---
    "cancelpostscanjob-request": CancelPostScanJobRequest(request(310), TOKEN),
    "cancelpostscanjob-response": CancelPostScanJobResponse(reply(310)),
    "cancelpostscanjob-request-spaced-token": CancelPostScanJobRequest(request(312), "  spaced token  "),
    "cancelpostscanjob-response-vendor": CancelPostScanJobResponse(
        reply(312), ('<acme:Queued xmlns:acme="urn:acme">true</acme:Queued>',)
    ),
    # --- GetPostScanJobElements (§3.2.4.3) ---
    "getpostscanjobelements-request": GetPostScanJobElementsRequest(
        request(320), TOKEN, (JOB_STATUS, JOB_DESCRIPTION, DOCUMENTS)
    ),
    "getpostscanjobelements-response": GetPostScanJobElementsResponse(
        reply(320),
        (
            JobElementData(JOB_STATUS, True, COMPLETED_STATUS),
            JobElementData(JOB_DESCRIPTION, True, FINANCE),
            JobElementData(
                DOCUMENTS,
                True,
                Documents(
                    (
                        Document(1, DocumentFormat.TIFF_MULTI_G4),
                        Document(2, DocumentFormat.PDF_A),
                        Document(3, DocumentFormat.JFIF),
                    )
                ),
            ),
        ),
    ),
    "getpostscanjobelements-request-vendor": GetPostScanJobElementsRequest(
        request(322), TOKEN_3, (DOCUMENTS, QName(ACME, "OcrText"), QName(ACME, "Unknown"), JOB_DESCRIPTION)
    ),
    "getpostscanjobelements-response-vendor": GetPostScanJobElementsResponse(
        reply(322),
        (
            JobElementData(
                DOCUMENTS,
                True,
                Documents(
                    (
                        Document(
                            7,
                            "acme:djvu-bitonal",  # MIME-like extension; "/" would break the NMTOKEN base
                            ('<acme:Pages xmlns:acme="urn:acme">4</acme:Pages>',),
                            ('<acme:Checksum xmlns:acme="urn:acme">9f2c</acme:Checksum>',),
                        ),
                        Document(9, DocumentFormat.XPS),
                    ),
                    ('<acme:TotalBytes xmlns:acme="urn:acme">81920</acme:TotalBytes>',),
                ),
            ),
            JobElementData(
                QName(ACME, "OcrText"),
                True,
                '<acme:Text xmlns:acme="urn:acme" page="1">Invoice 42</acme:Text>'
                '<acme:Text xmlns:acme="urn:acme" page="2">Total</acme:Text>',
            ),
            JobElementData(QName(ACME, "Unknown"), False),
            JobElementData(
                JOB_DESCRIPTION,
                True,
                JobDescription(
                    "urn:acme:psp:ocr-archive",
                    "OCR archive",
                    "  carol  ",
                    ('<acme:Department xmlns:acme="urn:acme">Legal</acme:Department>',),
                ),
            ),
        ),
    ),
    "getpostscanjobelements-response-no-documents": GetPostScanJobElementsResponse(
        reply(324), (JobElementData(DOCUMENTS, True, Documents()),)
    ),
    # --- GetActiveJobs (§3.2.4.4) ---
    "getactivejobs-request": GetActiveJobsRequest(request(330)),
    "getactivejobs-response": GetActiveJobsResponse(reply(330), (ACTIVE_PROCESSING, ACTIVE_PENDING)),
    "getactivejobs-request-vendor": GetActiveJobsRequest(
        request(332), ('<acme:MaxJobs xmlns:acme="urn:acme">50</acme:MaxJobs>',)
    ),
    "getactivejobs-response-empty": GetActiveJobsResponse(reply(332)),
    # --- GetJobHistory (§3.2.4.5) ---
    "getjobhistory-request": GetJobHistoryRequest(request(340)),
    "getjobhistory-response": GetJobHistoryResponse(reply(340), HISTORY),
    "getjobhistory-response-empty": GetJobHistoryResponse(reply(342)),
    # --- RepositoryStatusSummaryEvent (§3.2.4.7) ---
    "repositorystatussummaryevent-idle": RepositoryStatusSummaryEvent(
        event_headers(350), RepositoryState.IDLE, (RepositoryStateReason.NONE,)
    ),
    "repositorystatussummaryevent-no-reasons": RepositoryStatusSummaryEvent(
        event_headers(351), RepositoryState.PROCESSING
    ),
    "repositorystatussummaryevent-vendor": RepositoryStatusSummaryEvent(
        event_headers(352),
        "acme:Maintenance",
        ("acme:DiskCheck", RepositoryStateReason.NONE),
        ('<acme:Eta xmlns:acme="urn:acme">PT10M</acme:Eta>',),
        ('<acme:Trace xmlns:acme="urn:acme" id="8"></acme:Trace>',),
    ),
    # --- RepositoryElementsChangeEvent (§3.2.4.6) ---
    "repositoryelementschangeevent": RepositoryElementsChangeEvent(event_headers(360), WINDOWS_CONFIGURATION),
    "repositoryelementschangeevent-empty": RepositoryElementsChangeEvent(event_headers(361)),
    "repositoryelementschangeevent-vendor": RepositoryElementsChangeEvent(
        event_headers(362),
        VENDOR_CONFIGURATION,
        ('<acme:Counters xmlns:acme="urn:acme" jobs="13"></acme:Counters>',),
        ('<acme:Trace xmlns:acme="urn:acme" id="9"></acme:Trace>',),
    ),
    # --- dsc faults (§10 of the protocol reference) ---
    "fault-dsc-invalid-args": dsc_fault(
        DscFault.INVALID_ARGS, mid(370), "RequestedElements is empty", "dsc:RequestedElements", mid(371)
    ),
    "fault-dsc-operation-failed": dsc_fault(
        DscFault.OPERATION_FAILED, mid(372), "Configuration change in progress", message_id=mid(373)
    ),
}
