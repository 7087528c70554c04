"""Round-trip cases for the WS-Scan operations (protocol/scan_ops.py) and the ticket and
configuration structures they carry (protocol/scan_ticket.py). Values follow what sane-airscan sends
(its CreateScanJobRequest) and what the Kyocera capture in the shared corpus answers."""

from __future__ import annotations

from datetime import UTC, datetime

from wsdmon.protocol import Headers, Message
from wsdmon.protocol.scan import JobState, JobStateReason, JobStatus
from wsdmon.protocol.scan_ops import (
    JOB_STATUS,
    SCAN_TICKET,
    CancelJobRequest,
    CancelJobResponse,
    CreateScanJobRequest,
    CreateScanJobResponse,
    GetJobElementsRequest,
    GetJobElementsResponse,
    JobElementData,
    JobSummary,
    RetrieveImageRequest,
    RetrieveImageResponse,
    ValidateScanTicketRequest,
    ValidateScanTicketResponse,
)
from wsdmon.protocol.scan_ticket import (
    DocumentFinalParameters,
    DocumentParameters,
    ImageInformation,
    JobDescription,
    MediaBack,
    MediaFront,
    MediaSideInfo,
    ScanRegion,
    ScanTicket,
    Size,
)

from .cases_dsm import mid

SCANNER = "http://192.168.1.30:5357/ScannerService/1"
TOKEN = "urn:uuid:5f1c0d2e-8a7b-4c3d-9e8f-0a1b2c3d4e5f"
CREATED = datetime(2026, 11, 23, 11, 34, 35, tzinfo=UTC)


def request(n: int) -> Headers:
    return Headers.request(SCANNER, message_id=mid(n))


def reply(n: int) -> Headers:
    return Headers.reply(mid(n - 1), message_id=mid(n))


REGION = ScanRegion(0, 0, 8500, 11690)
FRONT = MediaFront(REGION, "RGB24", Size(300, 300))
TICKET = ScanTicket(
    JobDescription("sane-airscan request", "sane-airscan", "sane-airscan"),
    DocumentParameters(
        format="png",
        images_to_transfer=0,
        input_source="ADFDuplex",
        input_media_size=Size(8500, 11690),
        media_sides=(FRONT, MediaBack(REGION, "RGB24", Size(300, 300))),
    ),
)
FINAL = DocumentFinalParameters(
    format="png", images_to_transfer=0, input_source="Platen", content_type="Auto",
    input_media_size=Size(8500, 11690), media_sides=(FRONT, None),
)  # fmt: skip
INFO = ImageInformation(MediaSideInfo(2550, 3507, 7650))
SUMMARY = JobSummary(
    17, "sane-airscan request", "sane-airscan", JobState.COMPLETED, (JobStateReason.NONE,), 1
)
VENDOR_SUMMARY = JobSummary(18, "Scan", "bob", "acme:Parked", ("acme:Waiting",), 0)

CASES: dict[str, Message] = {
    "wscn-validatescanticket": ValidateScanTicketRequest(request(600), TICKET),
    "wscn-validatescanticketresponse": ValidateScanTicketResponse(reply(601), True, INFO, FINAL),
    "wscn-validatescanticketresponse-invalid": ValidateScanTicketResponse(reply(602), False),
    "wscn-createscanjob": CreateScanJobRequest(request(603), None, None, TICKET),
    "wscn-createscanjob-from-device": CreateScanJobRequest(request(604), "42", TOKEN, TICKET),
    "wscn-createscanjobresponse": CreateScanJobResponse(reply(605), 17, TOKEN, INFO, FINAL),
    "wscn-retrieveimage": RetrieveImageRequest(request(606), 17, TOKEN, "IMAGE000.JPG"),
    "wscn-retrieveimageresponse": RetrieveImageResponse(reply(607), "0f3c@wsdmon"),
    "wscn-canceljob": CancelJobRequest(request(608), 17),
    "wscn-canceljobresponse": CancelJobResponse(reply(609)),
    "wscn-getjobelements": GetJobElementsRequest(request(615), 17, (JOB_STATUS, SCAN_TICKET)),
    "wscn-getjobelementsresponse": GetJobElementsResponse(
        reply(616),
        (
            JobElementData(
                JOB_STATUS,
                True,
                JobStatus(17, JobState.PROCESSING, (JobStateReason.JOB_SCANNING,), 0, CREATED),
            ),
            JobElementData(SCAN_TICKET, True, TICKET),
        ),
    ),
}
