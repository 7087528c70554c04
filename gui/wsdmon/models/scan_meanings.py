"""What a scan job's (WS-Scan) JobState and JobStateReason values mean, in plain words.

The texts follow the Windows driver docs' "JobState element" and "JobStateReason element" pages,
written for a support technician. Values outside them are vendor extensions ("You can both extend
and subset the allowed values"): shown as given, marked as such. Translated on lookup (meanings.py).
"""

from __future__ import annotations

from wsdmon.protocol.scan import JobState, JobStateReason

from ._i18n import QT_TRANSLATE_NOOP

__all__ = ["SCAN_ELEMENT_MEANINGS", "SCAN_JOB_STATE_MEANINGS", "SCAN_JOB_STATE_REASON_MEANINGS"]

_CTX = "meanings"

SCAN_JOB_STATE_MEANINGS: dict[str, str] = {
    JobState.ABORTED: QT_TRANSLATE_NOOP(
        _CTX, "The scanner aborted the job (an error it could not get past)."
    ),
    JobState.CANCELED: QT_TRANSLATE_NOOP(_CTX, "The job was canceled, at the scanner or by the client."),
    JobState.COMPLETED: QT_TRANSLATE_NOOP(_CTX, "The job finished: every page was scanned and handed over."),
    JobState.CREATING: QT_TRANSLATE_NOOP(_CTX, "The scanner is setting the job up."),
    JobState.HELD: QT_TRANSLATE_NOOP(_CTX, "The job is held: it waits until someone releases it."),
    JobState.PENDING: QT_TRANSLATE_NOOP(_CTX, "The job is waiting for the scanner to start it."),
    JobState.PROCESSING: QT_TRANSLATE_NOOP(
        _CTX, "The scanner is working on the job: scanning pages or sending their images."
    ),
    JobState.STARTED: QT_TRANSLATE_NOOP(_CTX, "Scanning has just begun (a short, passing state)."),
    JobState.TERMINATING: QT_TRANSLATE_NOOP(_CTX, "The job is being canceled or aborted."),
}

SCAN_JOB_STATE_REASON_MEANINGS: dict[str, str] = {
    JobStateReason.NONE: QT_TRANSLATE_NOOP(_CTX, "No particular reason."),
    JobStateReason.INVALID_SCAN_TICKET: QT_TRANSLATE_NOOP(
        _CTX, "The scan settings the client asked for (its scan ticket) are not valid for this scanner."
    ),
    JobStateReason.DOCUMENT_FORMAT_ERROR: QT_TRANSLATE_NOOP(
        _CTX, "The scanner could not produce the image in the file format asked for."
    ),
    JobStateReason.IMAGE_TRANSFER_ERROR: QT_TRANSLATE_NOOP(
        _CTX, "Sending a scanned image to the computer failed (network or client trouble)."
    ),
    JobStateReason.JOB_CANCELED_AT_DEVICE: QT_TRANSLATE_NOOP(
        _CTX, "Somebody canceled the job on the scanner's own panel."
    ),
    JobStateReason.JOB_COMPLETED_WITH_ERRORS: QT_TRANSLATE_NOOP(
        _CTX, "The job finished, but with errors: some pages may be missing."
    ),
    JobStateReason.JOB_COMPLETED_WITH_WARNINGS: QT_TRANSLATE_NOOP(
        _CTX, "The job finished with at least one warning; the pages are expected to be there."
    ),
    JobStateReason.JOB_SCANNING: QT_TRANSLATE_NOOP(_CTX, "The scanner is scanning pages."),
    JobStateReason.JOB_SCANNING_AND_TRANSFERRING: QT_TRANSLATE_NOOP(
        _CTX, "The scanner is scanning pages and sending the images of those already scanned."
    ),
    JobStateReason.JOB_TIMED_OUT: QT_TRANSLATE_NOOP(
        _CTX, "The client did not fetch the images in time, so the scanner gave up on the job."
    ),
    JobStateReason.JOB_TRANSFERRING: QT_TRANSLATE_NOOP(
        _CTX, "Scanning is done; the scanner is sending the images to the computer."
    ),
    JobStateReason.SCANNER_STOPPED: QT_TRANSLATE_NOOP(
        _CTX, "The scanner stopped (a jam, an open cover…): see the scanner's conditions."
    ),
}

# The elements of a scan job, for the detail pane ("JobStatus element", "JobEndState element").
SCAN_ELEMENT_MEANINGS: dict[str, str] = {
    "JobId": QT_TRANSLATE_NOOP(
        _CTX, "The scanner's number for the job; scanners start over at 1 after a restart."
    ),
    "ScansCompleted": QT_TRANSLATE_NOOP(_CTX, "Pages (images) the scanner has scanned so far."),
    "JobName": QT_TRANSLATE_NOOP(_CTX, "The name the client gave the job."),
    "JobOriginatingUserName": QT_TRANSLATE_NOOP(_CTX, "Who started the job, as the client named them."),
}
