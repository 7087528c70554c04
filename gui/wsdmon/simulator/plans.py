"""Job plans: what one simulated job will do, decided up front (by a scenario, a test or the engine).

A DSM post-scan job plan says which PostScan Process it runs, how many images arrive and how fast,
how each filter ends, and how the job ends (normally, by the 10-minute rule, by a cancel, or by one
of the MS-BDSRR failure reasons). A scan job plan does the same for a WS-Scan device's scan job.
Durations are spec seconds (the job clock's, see clock.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import FilterStateReason
from wsdmon.protocol.repository_types import DocumentFormat

__all__ = [
    "VENDOR_NS",
    "FilterOutcome",
    "FilterPlan",
    "JobEnd",
    "JobPlan",
    "ScanEnd",
    "ScanJobPlan",
]

# The namespace of the simulator's vendor extensions (vendor scenario): enumeration values such as
# simv:Quarantined (MS-BDSRR §1.8 KeywordNsExtensionPatternType) and elements in xs:any ##other.
VENDOR_NS = "urn:wsdmon:simulator:vendor"


class FilterOutcome(StrEnum):
    """How one filter of a job ends (§2.2.5.6 FilterState)."""

    SUCCESS = "success"  # CompletedSuccessfully
    WARNING = "warning"  # CompletedWithWarnings; the job ends ...CompletedWithWarnings
    ERROR = "error"  # CompletedWithErrors; the job ends ...CompletedWithErrors
    FAILURE = "failure"  # unrecoverable: the job is Aborted, PostScanJobProcessingFailed


class JobEnd(StrEnum):
    """How a post-scan job ends (§8 of the protocol reference)."""

    NORMAL = "normal"  # EndPostScanJob arrives; filters run
    TIMEOUT = "timeout"  # no EndPostScanJob: the 10-minute rule (PostScanJobTimedOut)
    CANCEL = "cancel"  # canceled while its filters run (as by CancelPostScanJob)
    CREATE_FAILURE = "create-failure"  # Aborted, CreatePostScanJobFailed
    SEND_IMAGE_FAILURE = "send-image-failure"  # Aborted, SendImageFailed
    NO_VALID_INSTRUCTIONS = "no-valid-instructions"  # Aborted, NoValidPostScanInstructionsFound
    STUCK = "stuck"  # reported Processing once, then nothing: never ends (the stuck-job fault)


@dataclass(frozen=True, slots=True)
class FilterPlan:
    """One filter of a job: its dialect URI, its outcome (with a FilterStateReason unless it
    succeeds) and how long it processes."""

    dialect: str = ns.FILTER_FILESHARE
    outcome: FilterOutcome = FilterOutcome.SUCCESS
    reason: FilterStateReason | str | None = None
    duration_s: float = 1.0


@dataclass(frozen=True, slots=True)
class JobPlan:
    """A post-scan job, created on the scan server as if a DSM device had sent CreatePostScanJob."""

    psp_identifier: str = "{5d9a4b40-0c1e-4b8a-9f4e-2f3b1a7c0de1}"
    psp_display_name: str = "Scan to Finance share"
    user: str = "CONTOSO\\alice"
    filters: tuple[FilterPlan, ...] = (FilterPlan(),)
    images: int = 2
    image_interval_s: float = 1.0
    document_format: DocumentFormat | str = DocumentFormat.PDF_A
    end: JobEnd = JobEnd.NORMAL
    cancel_after_s: float = 0.5  # JobEnd.CANCEL: how long after processing starts
    continue_on_error: bool = False  # psp:ContinueOnError: a failed filter does not stop the others
    start_delay_s: float = 0.5  # Creating → Pending
    vendor: bool = False  # vendor extension values and elements (vendor scenario)
    token: str | None = None  # None: the repository allocates a GUID

    def __post_init__(self) -> None:
        if not self.filters:
            raise ValueError("a post-scan job runs at least one filter")
        if self.images < 0:
            raise ValueError("images must not be negative")


class ScanEnd(StrEnum):
    """How a WS-Scan scan job ends."""

    COMPLETED = "completed"
    CANCELED = "canceled"  # JobCanceledAtDevice
    ABORTED = "aborted"  # ImageTransferError
    STUCK = "stuck"  # reported Processing once, then nothing: never ends (the stuck-job fault)


@dataclass(frozen=True, slots=True)
class ScanJobPlan:
    """A scan job on a WS-Scan device: `scans` pages, one every `scan_interval_s`."""

    job_name: str = "Scan"
    user: str = "alice"
    scans: int = 3
    scan_interval_s: float = 1.0
    end: ScanEnd = ScanEnd.COMPLETED
    vendor: bool = False  # vendor extension values and elements (vendor scenario)
