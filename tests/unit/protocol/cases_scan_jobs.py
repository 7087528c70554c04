"""Round-trip cases for the WS-Scan job lists (protocol/scan_jobs.py): GetActiveJobs, GetJobHistory."""

from __future__ import annotations

from wsdmon.protocol import Headers, Message
from wsdmon.protocol.scan import JobState, JobStateReason
from wsdmon.protocol.scan_jobs import (
    GetActiveJobsRequest,
    GetActiveJobsResponse,
    GetJobHistoryRequest,
    GetJobHistoryResponse,
    JobSummary,
)

from .cases_dsm import mid
from .cases_scan import ACME_PRIORITY, SCANNER

SCANNING = JobSummary(
    253, "Scan from Imaging App", "User", JobState.PROCESSING, (JobStateReason.JOB_SCANNING,), 4
)
DONE = JobSummary(252, "Scan", "Pat", JobState.COMPLETED, (JobStateReason.JOB_COMPLETED_WITH_WARNINGS,), 7)

CASES: dict[str, Message] = {
    "wscn-getactivejobs": GetActiveJobsRequest(Headers.request(SCANNER, message_id=mid(420))),
    "wscn-getactivejobsresponse": GetActiveJobsResponse(
        Headers.reply(mid(420), message_id=mid(421)), (SCANNING,)
    ),
    "wscn-getactivejobsresponse-empty": GetActiveJobsResponse(Headers.reply(mid(420), message_id=mid(422))),
    "wscn-getjobhistory": GetJobHistoryRequest(Headers.request(SCANNER, message_id=mid(423))),
    "wscn-getjobhistoryresponse": GetJobHistoryResponse(
        Headers.reply(mid(423), message_id=mid(424)),
        (
            DONE,
            JobSummary(
                251, None, None, "acme:Archived", ("acme:Moved", JobStateReason.NONE), 2, (ACME_PRIORITY,)
            ),
        ),
    ),
}
