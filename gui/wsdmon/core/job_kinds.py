"""The two kinds of job a monitor shows, and the WS-Scan status in the fields both share.

A post-scan job (MS-BDSRR, a scan server's) carries a dsc JobStatus; a scan job (WS-Scan, a
scanner's) a wscn JobStatus. The reducer (jobs.py) keeps one set of rules for both, so a scan job's
status is converted into the shared fields: JobId → job_token (its decimal text), ScansCompleted →
images_received, no filters. ScanJobStatus is that converted value: a dsm.JobStatus in shape (the
reducer, the timeline and the models read the same attributes), of its own type so that it is never
taken for a post-scan job's (it has no FilterStatus, which §2.2.4.11 requires of those), and whose
values stay the wscn enumerations (Held, JobScanning…) or the vendor's text as sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from wsdmon.protocol._xml import check_token
from wsdmon.protocol.dsm import JobStatus, check_images_received, check_job_token

__all__ = ["JobKind", "ScanJobStatus"]


class JobKind(Enum):
    """Which protocol a job comes from."""

    POST_SCAN = "post-scan"  # a DSM scan server's post-scan job (dsc)
    SCAN = "scan"  # a WS-Scan scanner's scan job (wscn)


@dataclass(frozen=True, slots=True)
class ScanJobStatus(JobStatus):
    """A WS-Scan JobStatus in the shared fields (see the module docstring); filter_statuses is ()."""

    def __post_init__(self) -> None:
        check_job_token(self.job_token)
        check_token("JobState", self.job_state)
        for reason in self.job_state_reasons:
            check_token("JobStateReason", reason)
        check_images_received(self.images_received)
