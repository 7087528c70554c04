"""What every JobState, JobStateReason, FilterState and FilterStateReason value means, in plain words.

The texts follow the MS-BDSRR enumeration tables (§2.2.5.5, §2.2.5.6, §2.2.5.11, §2.2.5.12), written
for a support technician. Values outside the tables are vendor extensions (§1.8): shown as given,
marked as such, never rejected. Texts are marked with QT_TRANSLATE_NOOP and translated on lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QCoreApplication

from wsdmon.core import JobKind
from wsdmon.core.job_rank import lifecycle_rank
from wsdmon.protocol.dsm import FilterState, FilterStateReason, JobState, JobStateReason

from ._i18n import QT_TRANSLATE_NOOP
from .scan_meanings import SCAN_JOB_STATE_MEANINGS, SCAN_JOB_STATE_REASON_MEANINGS

__all__ = [
    "FILTER_STATE_MEANINGS",
    "FILTER_STATE_REASON_MEANINGS",
    "JOB_STATE_MEANINGS",
    "JOB_STATE_REASON_LABELS",
    "JOB_STATE_REASON_MEANINGS",
    "Kind",
    "Meaning",
    "explain",
    "is_vendor",
    "lifecycle_rank",
    "reason_kind",
    "reason_label",
    "state_kind",
]

_CTX = "meanings"

JOB_STATE_MEANINGS: dict[str, str] = {
    JobState.ABORTED: QT_TRANSLATE_NOOP(_CTX, "The scan server aborted the job."),
    JobState.CANCELED: QT_TRANSLATE_NOOP(
        _CTX, "The job was canceled, by a CancelPostScanJob request or on the server itself."
    ),
    JobState.COMPLETED: QT_TRANSLATE_NOOP(
        _CTX, "The job finished: the filters have processed all its documents."
    ),
    JobState.CREATING: QT_TRANSLATE_NOOP(_CTX, "The job is being set up on the scan server."),
    JobState.PENDING: QT_TRANSLATE_NOOP(
        _CTX, "The job is set up and waiting: images are arriving or processing has not begun."
    ),
    JobState.PENDING_HELD: QT_TRANSLATE_NOOP(
        _CTX, "The job is waiting but held: it cannot be scheduled until someone releases it."
    ),
    JobState.PROCESSING: QT_TRANSLATE_NOOP(
        _CTX, "The filters are processing the job's documents (file share, e-mail, SharePoint…)."
    ),
    JobState.STARTED: QT_TRANSLATE_NOOP(_CTX, "Processing has just begun (a short, passing state)."),
    JobState.TERMINATING: QT_TRANSLATE_NOOP(
        _CTX, "The job is being canceled or aborted (Windows servers never report this state)."
    ),
}

JOB_STATE_REASON_MEANINGS: dict[str, str] = {
    JobStateReason.NONE: QT_TRANSLATE_NOOP(_CTX, "No particular reason."),
    JobStateReason.POST_SCAN_JOB_TIMED_OUT: QT_TRANSLATE_NOOP(
        _CTX,
        "Timed out: the scanner did not finish the job (no EndPostScanJob) within 10 minutes of "
        "creating it or of sending its last image.",
    ),
    JobStateReason.NO_VALID_POST_SCAN_INSTRUCTIONS_FOUND: QT_TRANSLATE_NOOP(
        _CTX, "None of the filters named in the job's post-scan instructions is known to this server."
    ),
    JobStateReason.CREATE_POST_SCAN_JOB_FAILED: QT_TRANSLATE_NOOP(
        _CTX, "The server could not create the job the scanner asked for."
    ),
    JobStateReason.SEND_IMAGE_FAILED: QT_TRANSLATE_NOOP(
        _CTX, "Sending a scanned image from the scanner to the server failed."
    ),
    JobStateReason.SEND_IMANGE_FAILED: QT_TRANSLATE_NOOP(
        _CTX,
        "Sending a scanned image from the scanner to the server failed (spelled as in the "
        "specification's schema appendix).",
    ),
    JobStateReason.POST_SCAN_JOB_CANCELED: QT_TRANSLATE_NOOP(
        _CTX,
        "The job was canceled: by a CancelPostScanJob request (from wsdmon, a scan client or an "
        "administrator's tool) or on the server itself. The timeline shows a cancel sent from wsdmon.",
    ),
    JobStateReason.POST_SCAN_JOB_PROCESSING_FAILED: QT_TRANSLATE_NOOP(
        _CTX, "Processing failed with an error the server could not recover from."
    ),
    JobStateReason.POST_SCAN_JOB_COMPLETED_SUCCESSFULLY: QT_TRANSLATE_NOOP(
        _CTX, "Every filter finished without errors or warnings."
    ),
    JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_ERRORS: QT_TRANSLATE_NOOP(
        _CTX, "The job finished, but at least one filter reported an error: check the filters below."
    ),
    JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_WARNINGS: QT_TRANSLATE_NOOP(
        _CTX,
        "The job finished with at least one warning; the documents are expected to have been processed.",
    ),
}

FILTER_STATE_MEANINGS: dict[str, str] = {
    FilterState.PENDING: QT_TRANSLATE_NOOP(_CTX, "This filter has not started yet."),
    FilterState.PROCESSING: QT_TRANSLATE_NOOP(_CTX, "This filter is working on the documents."),
    FilterState.CANCELED: QT_TRANSLATE_NOOP(_CTX, "This filter was canceled before it finished."),
    FilterState.COMPLETED_SUCCESSFULLY: QT_TRANSLATE_NOOP(_CTX, "This filter finished without problems."),
    FilterState.COMPLETED_WITH_ERRORS: QT_TRANSLATE_NOOP(
        _CTX, "This filter finished with errors: its output is missing or incomplete."
    ),
    FilterState.COMPLETED_WITH_WARNINGS: QT_TRANSLATE_NOOP(_CTX, "This filter finished with warnings."),
}

FILTER_STATE_REASON_MEANINGS: dict[str, str] = {
    FilterStateReason.INVALID_ARGS: QT_TRANSLATE_NOOP(
        _CTX, "The filter did not understand the instructions it was given."
    ),
    FilterStateReason.OUT_OF_DISK_SPACE: QT_TRANSLATE_NOOP(_CTX, "The scan server ran out of disk space."),
    FilterStateReason.SERVER_OUT_OF_MEMORY: QT_TRANSLATE_NOOP(_CTX, "The scan server ran out of memory."),
    FilterStateReason.UNKNOWN_ERROR: QT_TRANSLATE_NOOP(_CTX, "An error the server could not classify."),
    FilterStateReason.FILE_SHARE_ACCESS_DENIED: QT_TRANSLATE_NOOP(
        _CTX, "The server was denied access to the destination file share (check its permissions)."
    ),
    FilterStateReason.FILE_SHARE_OUT_OF_DISK_SPACE: QT_TRANSLATE_NOOP(
        _CTX, "The destination file share is full."
    ),
    FilterStateReason.SHARE_POINT_ACCESS_DENIED: QT_TRANSLATE_NOOP(
        _CTX, "The server was denied access to the SharePoint site (check its permissions)."
    ),
    FilterStateReason.SHARE_POINT_OUT_OF_DISK_SPACE: QT_TRANSLATE_NOOP(
        _CTX, "The SharePoint site has no space left."
    ),
    FilterStateReason.INVALID_SMTP_SERVER: QT_TRANSLATE_NOOP(
        _CTX, "The e-mail (SMTP) server configured on the scan server is invalid or unreachable."
    ),
    FilterStateReason.UNABLE_TO_SEND_EMAIL: QT_TRANSLATE_NOOP(_CTX, "The e-mail could not be sent."),
}

_VENDOR = QT_TRANSLATE_NOOP(
    _CTX, "Vendor extension: not defined by the specification; shown exactly as the server sent it."
)


# Short labels for the table's JobStateReasons column: the values share the "PostScanJob" prefix,
# and a cut-off "…ompletedSuccessfully" tells nobody anything. The exact value is in the tooltip and
# in the detail pane; vendor values are shown as sent.
JOB_STATE_REASON_LABELS: dict[str, str] = {
    JobStateReason.NONE: QT_TRANSLATE_NOOP(_CTX, "—"),
    JobStateReason.POST_SCAN_JOB_TIMED_OUT: QT_TRANSLATE_NOOP(_CTX, "Timed out"),
    JobStateReason.NO_VALID_POST_SCAN_INSTRUCTIONS_FOUND: QT_TRANSLATE_NOOP(_CTX, "No valid instructions"),
    JobStateReason.CREATE_POST_SCAN_JOB_FAILED: QT_TRANSLATE_NOOP(_CTX, "Creating the job failed"),
    JobStateReason.SEND_IMAGE_FAILED: QT_TRANSLATE_NOOP(_CTX, "Sending an image failed"),
    JobStateReason.SEND_IMANGE_FAILED: QT_TRANSLATE_NOOP(_CTX, "Sending an image failed"),
    JobStateReason.POST_SCAN_JOB_CANCELED: QT_TRANSLATE_NOOP(_CTX, "Canceled"),
    JobStateReason.POST_SCAN_JOB_PROCESSING_FAILED: QT_TRANSLATE_NOOP(_CTX, "Processing failed"),
    JobStateReason.POST_SCAN_JOB_COMPLETED_SUCCESSFULLY: QT_TRANSLATE_NOOP(_CTX, "Completed"),
    JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_ERRORS: QT_TRANSLATE_NOOP(_CTX, "Completed with errors"),
    JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_WARNINGS: QT_TRANSLATE_NOOP(_CTX, "Completed with warnings"),
}


def reason_label(value: str) -> str:
    """The short label of a JobStateReason (the value itself for a vendor value)."""
    source = JOB_STATE_REASON_LABELS.get(str(value))
    return str(value) if source is None else QCoreApplication.translate(_CTX, source)


class Kind(Enum):
    JOB_STATE = "JobState"
    JOB_STATE_REASON = "JobStateReason"
    FILTER_STATE = "FilterState"
    FILTER_STATE_REASON = "FilterStateReason"
    SCAN_JOB_STATE = "wscn:JobState"  # a scan job's (WS-Scan)
    SCAN_JOB_STATE_REASON = "wscn:JobStateReason"


def state_kind(job: JobKind) -> Kind:
    """Which table explains a job's JobState: MS-BDSRR's or WS-Scan's."""
    return Kind.SCAN_JOB_STATE if job is JobKind.SCAN else Kind.JOB_STATE


def reason_kind(job: JobKind) -> Kind:
    """Which table explains a job's JobStateReasons."""
    return Kind.SCAN_JOB_STATE_REASON if job is JobKind.SCAN else Kind.JOB_STATE_REASON


_TABLES: dict[Kind, dict[str, str]] = {
    Kind.JOB_STATE: JOB_STATE_MEANINGS,
    Kind.JOB_STATE_REASON: JOB_STATE_REASON_MEANINGS,
    Kind.FILTER_STATE: FILTER_STATE_MEANINGS,
    Kind.FILTER_STATE_REASON: FILTER_STATE_REASON_MEANINGS,
    Kind.SCAN_JOB_STATE: SCAN_JOB_STATE_MEANINGS,
    Kind.SCAN_JOB_STATE_REASON: SCAN_JOB_STATE_REASON_MEANINGS,
}


@dataclass(frozen=True, slots=True)
class Meaning:
    """One enumeration value as shown: the value verbatim, its explanation, and whether it is vendor."""

    value: str
    text: str
    vendor: bool


def is_vendor(kind: Kind, value: str) -> bool:
    """True for a value outside the spec's table (a vendor extension, §1.8)."""
    return str(value) not in _TABLES[kind]


def explain(kind: Kind, value: str) -> Meaning:
    """The translated plain-words meaning of one enumeration value."""
    value = str(value)
    source = _TABLES[kind].get(value)
    if source is None:
        return Meaning(value, QCoreApplication.translate(_CTX, _VENDOR), True)
    return Meaning(value, QCoreApplication.translate(_CTX, source), False)
