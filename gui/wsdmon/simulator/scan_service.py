"""The WS-Scan operations of the simulated scanner: what a real scan client (sane-airscan, Windows)
asks and gets.

GetScannerElements answers ScannerDescription, ScannerConfiguration (a platen and a duplex ADF, the
resolutions in RESOLUTIONS_DPI, three colour modes, PNG and uncompressed TIFF), DefaultScanTicket and
ScannerStatus (a vendor element in its own namespace beside wscn in the description, as real
MFPs have); vendor or unknown names come back Valid="false". ValidateScanTicket and CreateScanJob
check a ticket against that configuration; RetrieveImage renders the job's next page (page_image.py)
and sends it as an MTOM/XOP attachment; CancelJob, GetJobElements, GetActiveJobs and GetJobHistory
read the scanner's jobs (scanner.py), whose events reach every subscriber. A ScanAvailableEvent
subscription with ScanDestinations gets a DestinationToken per destination.

Sizes are thousandths of an inch. Like real scanners (the Kyocera in the shared corpus), the maximum
size is given as width x height of the page as placed: US Letter wide, A4 long.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from wsdmon.protocol import Fault, Headers, Message, QName
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.errors import RemoteProtocolError
from wsdmon.protocol.eventing import Subscribe
from wsdmon.protocol.mtom import Attachment, new_content_id
from wsdmon.protocol.scan import GetScannerElementsRequest, GetScannerElementsResponse, ScannerElementData
from wsdmon.protocol.scan_destinations import (
    DestinationResponse,
    ScanDestination,
    read_scan_destinations,
    write_destination_responses,
)
from wsdmon.protocol.scan_ops import (
    JOB_STATUS,
    SCAN_TICKET,
    CancelJobRequest,
    CancelJobResponse,
    CreateScanJobRequest,
    CreateScanJobResponse,
    GetActiveJobsRequest,
    GetActiveJobsResponse,
    GetJobElementsRequest,
    GetJobElementsResponse,
    GetJobHistoryRequest,
    GetJobHistoryResponse,
    JobElementData,
    JobSummary,
    RetrieveImageRequest,
    RetrieveImageResponse,
    ScanFault,
    ValidateScanTicketRequest,
    ValidateScanTicketResponse,
    scan_fault,
)
from wsdmon.protocol.scan_ticket import (
    DefaultScanTicket,
    DocumentFinalParameters,
    DocumentParameters,
    ImageInformation,
    JobDescription,
    MediaFront,
    MediaSideInfo,
    Range,
    ScannerConfiguration,
    ScannerDescription,
    ScanRegion,
    ScanTicket,
    Size,
    SourceConfiguration,
    to_raw,
)

from .page_image import FORMATS, ColorMode, ImageFormat, render_page
from .plans import VENDOR_NS
from .scanner import ScanJob, Scanner

__all__ = ["ADF_SHEETS", "MAX_SIZE", "RESOLUTIONS_DPI", "Multipart", "ScanService"]

log = logging.getLogger(__name__)

RESOLUTIONS_DPI = (75, 100, 150, 200, 300)  # 600 dpi pages are too big for a simulator to render
MAX_SIZE = Size(8500, 11690)  # US Letter width, A4 height (thousandths of an inch)
MIN_SIZE = Size(1000, 1000)
ADF_SHEETS = 2  # sheets in the simulated feeder: an ADF job gives 2 images, ADFDuplex 4
_SOURCES = ("Platen", "ADF", "ADFDuplex")
_COLORS = tuple(ColorMode)

_DESCRIPTION = QName(ns.WSCN, "ScannerDescription")
_CONFIGURATION = QName(ns.WSCN, "ScannerConfiguration")
_DEFAULT_TICKET = QName(ns.WSCN, "DefaultScanTicket")
_STATUS = QName(ns.WSCN, "ScannerStatus")


@dataclass(frozen=True, slots=True)
class Multipart:
    """A reply sent as MTOM multipart/related: the message and its binary attachments."""

    message: Message
    attachments: tuple[Attachment, ...]


def _source() -> SourceConfiguration:
    return SourceConfiguration(
        Size(300, 300), RESOLUTIONS_DPI, RESOLUTIONS_DPI, tuple(c.value for c in _COLORS), MIN_SIZE, MAX_SIZE
    )


CONFIGURATION = ScannerConfiguration(
    formats=tuple(f.value for f in FORMATS),
    content_types=("Auto", "Text", "Photo", "Mixed"),
    compression_quality=Range(100, 100),  # lossless formats only
    platen=_source(),
    adf_front=_source(),
    adf_back=_source(),
    adf_duplex=True,
)

_FULL_PAGE = ScanRegion(0, 0, MAX_SIZE.width, MAX_SIZE.height)
DEFAULT_DOCUMENT = DocumentParameters(
    format=ImageFormat.PNG.value,
    images_to_transfer=0,
    input_source="Platen",
    content_type="Auto",
    input_media_size=MAX_SIZE,
    media_sides=(MediaFront(_FULL_PAGE, ColorMode.RGB24.value, Size(300, 300)), None),
)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A checked ticket: what the job will produce."""

    fmt: ImageFormat
    mode: ColorMode
    dpi: Size
    region: ScanRegion
    source: str
    images: int

    @property
    def pixels(self) -> tuple[int, int]:
        return (
            max(1, round(self.region.width * self.dpi.width / 1000)),
            max(1, round(self.region.height * self.dpi.height / 1000)),
        )

    def image_information(self) -> ImageInformation:
        width, height = self.pixels
        per_line = {ColorMode.RGB24: width * 3, ColorMode.GRAYSCALE8: width}.get(self.mode, (width + 7) // 8)
        return ImageInformation(MediaSideInfo(width, height, per_line))

    def final(self, asked: DocumentParameters | None) -> DocumentFinalParameters:
        front = MediaFront(self.region, self.mode.value, self.dpi)
        return DocumentFinalParameters(
            format=self.fmt.value,
            images_to_transfer=asked.images_to_transfer if asked and asked.images_to_transfer else 0,
            input_source=self.source,
            content_type=(asked.content_type if asked else None) or "Auto",
            input_media_size=(asked.input_media_size if asked else None) or MAX_SIZE,
            media_sides=(front, None),
        )


class _BadTicketError(Exception):
    """A ticket value this scanner cannot honour: the message names it."""


def _check(ticket: ScanTicket) -> _Plan:
    doc = ticket.document_parameters or DocumentParameters()
    try:
        fmt = ImageFormat(doc.format or ImageFormat.PNG.value)
    except ValueError:
        raise _BadTicketError(
            f"Format {doc.format} is not supported (supported: png, tiff-single-uncompressed)"
        ) from None
    source = doc.input_source or "Platen"
    if source not in _SOURCES:
        raise _BadTicketError(f"InputSource {source} is not supported")
    front = doc.front or MediaFront()
    try:
        mode = ColorMode(front.color_processing or ColorMode.RGB24.value)
    except ValueError:
        raise _BadTicketError(f"ColorProcessing {front.color_processing} is not supported") from None
    dpi = front.resolution or Size(300, 300)
    if dpi.width not in RESOLUTIONS_DPI or dpi.height not in RESOLUTIONS_DPI:
        raise _BadTicketError(f"Resolution {dpi.width}x{dpi.height} is not offered ({RESOLUTIONS_DPI} dpi)")
    media = doc.input_media_size or MAX_SIZE
    region = front.scan_region or ScanRegion(
        0, 0, min(media.width, MAX_SIZE.width), min(media.height, MAX_SIZE.height)
    )
    if region.x_offset + region.width > MAX_SIZE.width or region.y_offset + region.height > MAX_SIZE.height:
        raise _BadTicketError(
            f"ScanRegion {region.width}x{region.height}+{region.x_offset}+{region.y_offset} exceeds the "
            f"maximum size {MAX_SIZE.width}x{MAX_SIZE.height}"
        )
    images = {"Platen": 1, "ADF": ADF_SHEETS, "ADFDuplex": 2 * ADF_SHEETS}[source]
    if doc.images_to_transfer:
        images = min(images, doc.images_to_transfer)
    return _Plan(fmt, mode, dpi, region, source, images)


def _summary(job: ScanJob) -> JobSummary:
    return JobSummary(job.job_id, job.plan.job_name, job.plan.user, job.state, job.reasons, job.scans)


class ScanService:
    """The WS-Scan operations of `scanner`."""

    def __init__(self, scanner: Scanner, *, location: str = "Simulated office") -> None:
        self.scanner = scanner
        self.location = location
        self.destinations: dict[str, ScanDestination] = {}  # DestinationToken → destination
        self._plans: dict[int, _Plan] = {}  # JobId → plan, for the jobs clients created

    def handlers(self) -> dict[type[Message], Callable[[Message], object]]:
        """Request class → handler, for the service's SOAP endpoint."""
        table: dict[type[Message], Callable[..., object]] = {
            GetScannerElementsRequest: self.get_scanner_elements,
            ValidateScanTicketRequest: self.validate_scan_ticket,
            CreateScanJobRequest: self.create_scan_job,
            RetrieveImageRequest: self.retrieve_image,
            CancelJobRequest: self.cancel_job,
            GetJobElementsRequest: self.get_job_elements,
            GetActiveJobsRequest: self.get_active_jobs,
            GetJobHistoryRequest: self.get_job_history,
        }
        return table

    # --- the scanner's elements -------------------------------------------------------------------

    def description(self) -> ScannerDescription:
        # A vendor element beside the wscn ones, as real MFPs bring their own namespaces.
        vendor = f'<simv:ScannerFamily xmlns:simv="{VENDOR_NS}">4200</simv:ScannerFamily>'
        return ScannerDescription(self.scanner.name, "wsdmon simulated scanner", self.location, (vendor,))

    def default_ticket(self) -> DefaultScanTicket:
        return DefaultScanTicket(JobDescription("Scan", "DefaultUser"), DEFAULT_DOCUMENT)

    def get_scanner_elements(self, request: GetScannerElementsRequest) -> Message:
        elements = []
        for name in request.requested:
            if name == _STATUS:
                elements.append(ScannerElementData(name, True, self.scanner.status()))
            elif name == _DESCRIPTION:
                elements.append(ScannerElementData(name, True, to_raw(self.description())))
            elif name == _CONFIGURATION:
                elements.append(ScannerElementData(name, True, to_raw(CONFIGURATION)))
            elif name == _DEFAULT_TICKET:
                elements.append(ScannerElementData(name, True, to_raw(self.default_ticket())))
            else:  # vendor or unknown elements
                elements.append(ScannerElementData(name, False))
        return GetScannerElementsResponse(Headers.reply(request.header.message_id), tuple(elements))

    # --- tickets and jobs -------------------------------------------------------------------------

    def validate_scan_ticket(self, request: ValidateScanTicketRequest) -> Message:
        reply = Headers.reply(request.header.message_id)
        try:
            plan = _check(request.ticket)
        except _BadTicketError as exc:
            log.info("%s: ValidateScanTicket: %s", self.scanner.name, exc)
            return ValidateScanTicketResponse(reply, False)
        return ValidateScanTicketResponse(
            reply, True, plan.image_information(), plan.final(request.ticket.document_parameters)
        )

    def create_scan_job(self, request: CreateScanJobRequest) -> Message:
        mid = request.header.message_id
        token = request.destination_token
        if token is not None and token not in self.destinations:
            return scan_fault(
                ScanFault.INVALID_DESTINATION_TOKEN, mid, "The DestinationToken parameter value is not valid."
            )
        try:
            plan = _check(request.ticket)
        except _BadTicketError as exc:
            log.info("%s: CreateScanJob refused: %s", self.scanner.name, exc)
            return scan_fault(
                ScanFault.INVALID_ARGS, mid, "At least one input argument is invalid.", str(exc)
            )
        job = self.scanner.create_client_job(request.ticket, plan.images)
        self._plans[job.job_id] = plan
        assert job.token is not None
        return CreateScanJobResponse(
            Headers.reply(mid),
            job.job_id,
            job.token,
            plan.image_information(),
            plan.final(request.ticket.document_parameters),
        )

    def _client_job(self, job_id: int, token: str | None, mid: str | None) -> ScanJob | Fault:
        job = self.scanner.find(job_id)
        if job is None:
            return scan_fault(
                ScanFault.JOB_ID_NOT_FOUND, mid, "The specified JobId was not found.", f"JobId: {job_id}"
            )
        if token is not None and job.token != token:
            return scan_fault(ScanFault.INVALID_JOB_TOKEN, mid, "The JobToken is not valid for this JobId.")
        return job

    async def retrieve_image(self, request: RetrieveImageRequest) -> Message | Multipart:
        mid = request.header.message_id
        job = self._client_job(request.job_id, request.job_token, mid)
        if isinstance(job, Fault):
            return job
        plan = self._plans.get(job.job_id)
        if job.state == "Canceled":
            return scan_fault(ScanFault.JOB_CANCELLED, mid, "The current scan job was cancelled.")
        if plan is None or job.job_id not in {j.job_id for j in self.scanner.active_jobs}:
            return scan_fault(
                ScanFault.NO_IMAGES_AVAILABLE, mid, "The server has no images available to acquire."
            )
        self.scanner.image_starting(job)
        width, height = plan.pixels
        page = job.scans + 1
        image = await asyncio.to_thread(
            render_page, plan.fmt, plan.mode, width, height, page=page, dpi=(plan.dpi.width, plan.dpi.height)
        )
        if job.job_id not in {j.job_id for j in self.scanner.active_jobs}:  # canceled meanwhile
            return scan_fault(ScanFault.JOB_CANCELLED, mid, "The current scan job was cancelled.")
        self.scanner.image_taken(job)
        log.info(
            "%s: scan job %d: image %d (%s, %dx%d px, %d bytes) retrieved",
            self.scanner.name,
            job.job_id,
            page,
            plan.fmt.value,
            width,
            height,
            len(image.data),
        )
        content_id = new_content_id()
        response = RetrieveImageResponse(Headers.reply(mid), content_id)
        return Multipart(response, (Attachment(content_id, image.media_type, image.data),))

    def cancel_job(self, request: CancelJobRequest) -> Message:
        mid = request.header.message_id
        job = self._client_job(request.job_id, None, mid)
        if isinstance(job, Fault):
            return job
        if job.job_id in {j.job_id for j in self.scanner.active_jobs}:
            self.scanner.cancel(job)
        return CancelJobResponse(Headers.reply(mid))

    def get_job_elements(self, request: GetJobElementsRequest) -> Message:
        mid = request.header.message_id
        job = self._client_job(request.job_id, None, mid)
        if isinstance(job, Fault):
            return job
        elements = []
        for name in request.requested:
            if name == JOB_STATUS:
                elements.append(JobElementData(name, True, job.status()))
            elif name == SCAN_TICKET and job.ticket is not None:
                elements.append(JobElementData(name, True, job.ticket))
            else:
                elements.append(JobElementData(name, False))
        return GetJobElementsResponse(Headers.reply(mid), tuple(elements))

    def get_active_jobs(self, request: GetActiveJobsRequest) -> Message:
        jobs = tuple(_summary(j) for j in self.scanner.active_jobs)
        return GetActiveJobsResponse(Headers.reply(request.header.message_id), jobs)

    def get_job_history(self, request: GetJobHistoryRequest) -> Message:
        jobs = tuple(_summary(j) for j in self.scanner.history)
        return GetJobHistoryResponse(Headers.reply(request.header.message_id), jobs)

    # --- ScanAvailableEvent subscriptions ---------------------------------------------------------

    def subscribe_extensions(self, request: Subscribe) -> tuple[str, ...]:
        """DestinationResponses for the ScanDestinations of a Subscribe: one token each."""
        try:
            destinations = read_scan_destinations(request.extensions)
        except RemoteProtocolError as exc:
            log.warning("%s: ignored malformed ScanDestinations: %s", self.scanner.name, exc)
            return ()
        if not destinations:
            return ()
        responses = []
        for destination in destinations:
            token = uuid.uuid4().urn
            self.destinations[token] = destination
            responses.append(DestinationResponse(destination.client_context, token))
            log.info("%s: scan destination %r registered", self.scanner.name, destination.client_display_name)
        return (write_destination_responses(responses),)
