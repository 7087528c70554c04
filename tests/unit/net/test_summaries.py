"""The one-line summaries of the raw log and the journal say what each event says."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsdmon.net.router import summarize
from wsdmon.protocol import decode

VALID = Path(__file__).resolve().parents[2] / "data" / "valid"


@pytest.mark.parametrize(
    ("name", "summary"),
    [
        (
            "postscanjobstatusevent-pending.xml",
            "PostScanJobStatusEvent 6a8d7c92-0db3-4978-8aad-180530f8de53 Pending images=2",
        ),
        (
            "postscanjobendstateevent.xml",
            "PostScanJobEndStateEvent 6a8d7c92-0db3-4978-8aad-180530f8de53 Completed",
        ),
        ("repositorystatussummaryevent-idle.xml", "RepositoryStatusSummaryEvent Idle"),
        (
            "repositorystatussummaryevent-vendor.xml",
            "RepositoryStatusSummaryEvent acme:Maintenance (acme:DiskCheck, None)",
        ),
        ("wscn-jobstatusevent-scanning.xml", "JobStatusEvent job 253 Processing scans=4"),
        ("wscn-jobendstateevent.xml", "JobEndStateEvent job 253 Completed (JobCompletedWithWarnings)"),
        ("wscn-jobendstateevent-canceled-no-reasons.xml", "JobEndStateEvent job 254 Canceled"),
        ("wscn-scannerstatussummaryevent-stopped.xml", "ScannerStatusSummaryEvent Stopped (MediaJam)"),
        (
            "wscn-scannerstatusconditionevent.xml",
            "ScannerStatusConditionEvent LampError (Critical, Platen) id=1543",
        ),
        ("wscn-scannerstatusconditionclearedevent.xml", "ScannerStatusConditionClearedEvent id=1543 cleared"),
        ("wse-subscriptionend.xml", "SubscriptionEnd SourceShuttingDown: Scan server service is stopping"),
        (
            "wse-subscriptionend-vendor.xml",
            "SubscriptionEnd urn:acme:eventing:LicenseExpired: Lizenz abgelaufen",
        ),
        ("getpostscanjobelements-request.xml", "GetPostScanJobElements"),  # no detail: the action's name
    ],
)
def test_summary(name: str, summary: str) -> None:
    assert summarize(decode((VALID / name).read_bytes())) == summary
