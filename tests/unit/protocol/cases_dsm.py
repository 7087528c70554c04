"""Round-trip cases for SOAP faults and the MS-BDSRR job events (dsm.py).

Shared fixtures (PST, SINK, IDENT, TOKEN, mid, event_headers) are reused by the other case modules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from wsdmon.protocol import Fault, Headers, Message
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStateReason,
    FilterStatus,
    JobState,
    JobStateReason,
    JobStatus,
    PostScanJobEndState,
    PostScanJobEndStateEvent,
    PostScanJobStatusEvent,
)

PST = timezone(timedelta(hours=-8))
SINK = "http://192.0.2.10:6200/wsdmon/sink/3b1d"
IDENT = "urn:uuid:d7e6c5b4-a392-4811-b0c1-2a3b4c5d6e7f"
TOKEN = "6a8d7c92-0db3-4978-8aad-180530f8de53"


def mid(n: int) -> str:
    """A fixed message id, so canonical files are stable."""
    return f"urn:uuid:00000000-0000-4000-8000-{n:012d}"


def event_headers(n: int) -> Headers:
    return Headers(message_id=mid(n), to=SINK, identifier=IDENT)


TWO_FILTERS_DONE = (
    FilterStatus(ns.FILTER_FILESHARE, FilterState.COMPLETED_SUCCESSFULLY),
    FilterStatus(
        ns.FILTER_EMAIL, FilterState.COMPLETED_WITH_ERRORS, (FilterStateReason.INVALID_SMTP_SERVER,)
    ),
)

COMPLETED_STATUS = JobStatus(
    job_token=TOKEN,
    job_state=JobState.COMPLETED,
    job_state_reasons=(JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_ERRORS,),
    filter_statuses=TWO_FILTERS_DONE,
    images_received=3,
    job_created_time=datetime(2026, 11, 23, 9, 14, 5, tzinfo=PST),
    job_completed_time=datetime(2026, 11, 23, 9, 14, 41, tzinfo=PST),
)

CASES: dict[str, Message] = {
    "fault-dsc-job-token-not-found": Fault(
        Headers.reply(mid(1), message_id=mid(2)),
        "Sender",
        QName(ns.DSC, "ClientErrorJobTokenNotFound"),
        "No job with this JobToken",
        TOKEN,
    ),
    "fault-receiver-no-subcode": Fault(
        Headers.reply(mid(3), message_id=mid(4)), "Receiver", None, "Internal error", None, "en-US"
    ),
    "postscanjobstatusevent-pending": PostScanJobStatusEvent(
        event_headers(10),
        JobStatus(
            TOKEN,
            JobState.PENDING,
            (JobStateReason.NONE,),
            (
                FilterStatus(ns.FILTER_FILESHARE, FilterState.PENDING),
                FilterStatus(ns.FILTER_EMAIL, FilterState.PENDING),
            ),
            2,
            datetime(2026, 11, 23, 9, 14, 5, tzinfo=PST),
        ),
    ),
    "postscanjobstatusevent-completed": PostScanJobStatusEvent(event_headers(11), COMPLETED_STATUS),
    "postscanjobstatusevent-vendor": PostScanJobStatusEvent(
        event_headers(12),
        JobStatus(
            "  spaced token  ",
            "acme:Quarantined",
            ("acme:VirusScan", JobStateReason.NONE),
            (FilterStatus("urn:acme:filter:ocr", "acme:Waiting", ("acme:LicenseExpired",)),),
            0,
            datetime(2026, 11, 23, 17, 0, 0, 250000),  # offset-less: "server local" (§2.2.4.1)
            datetime(2026, 11, 23, 17, 0, 1, tzinfo=UTC),
            ('<acme:Priority xmlns:acme="urn:acme">high</acme:Priority>',),
        ),
        ('<acme:Trace xmlns:acme="urn:acme" id="7"></acme:Trace>',),
    ),
    "postscanjobendstateevent": PostScanJobEndStateEvent(
        event_headers(13),
        PostScanJobEndState(
            TOKEN,
            "B6EB9213-C1BE-4BBF-880E-FF8F18A53469",
            "Scan to Finance share + mail",
            "alice@CONTOSO",
            JobState.COMPLETED,
            (JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_ERRORS,),
            TWO_FILTERS_DONE,
            3,
            datetime(2026, 11, 23, 9, 14, 41, tzinfo=PST),
        ),
    ),
}
