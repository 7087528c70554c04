"""Round-trip cases for the WS-Scan device events (protocol/scan.py).

Values follow the driver docs' examples (job 253, condition 1543, LampError on the Platen), with
vendor-flavoured variants: extension values as plain str and extension elements as canonical XML.
"""

from __future__ import annotations

from datetime import UTC, datetime

from wsdmon.protocol import Headers, Message, QName
from wsdmon.protocol.scan import (
    SCANNER_STATUS,
    Component,
    ConditionName,
    DeviceCondition,
    DeviceConditionCleared,
    GetScannerElementsRequest,
    GetScannerElementsResponse,
    JobEndState,
    JobEndStateEvent,
    JobState,
    JobStateReason,
    JobStatus,
    JobStatusEvent,
    ScannerElementData,
    ScannerState,
    ScannerStateReason,
    ScannerStatus,
    ScannerStatusConditionClearedEvent,
    ScannerStatusConditionEvent,
    ScannerStatusSummaryEvent,
    Severity,
    StatusSummary,
)

from .cases_dsm import PST, event_headers, mid

SCANNER = "http://192.168.1.30:5357/scanner"

CREATED = datetime(2026, 11, 23, 11, 34, 35, 834500, tzinfo=UTC)
COMPLETED = datetime(2026, 11, 23, 11, 37, 5, 673000, tzinfo=UTC)
LAMP_FAILED = datetime(2026, 11, 23, 17, 22, 27, 524268, tzinfo=UTC)
LAMP_FIXED = datetime(2026, 11, 23, 17, 22, 35, 834500, tzinfo=UTC)

ACME_PRIORITY = '<acme:Priority xmlns:acme="urn:acme">high</acme:Priority>'
ACME_TRACE = '<acme:Trace xmlns:acme="urn:acme" id="9"></acme:Trace>'

CASES: dict[str, Message] = {
    "wscn-jobstatusevent-started": JobStatusEvent(
        event_headers(400), JobStatus(253, JobState.STARTED, (), 0, CREATED)
    ),
    "wscn-jobstatusevent-scanning": JobStatusEvent(
        event_headers(401), JobStatus(253, JobState.PROCESSING, (JobStateReason.JOB_SCANNING,), 4, CREATED)
    ),
    "wscn-jobstatusevent-completed": JobStatusEvent(
        event_headers(402),
        JobStatus(
            253,
            JobState.COMPLETED,
            (JobStateReason.JOB_COMPLETED_WITH_WARNINGS,),
            7,
            CREATED,
            COMPLETED,
        ),
    ),
    "wscn-jobstatusevent-vendor": JobStatusEvent(
        event_headers(403),
        JobStatus(
            9001,
            "acme:Stapling",
            ("acme:FinisherBusy", JobStateReason.NONE),
            0,
            datetime(2026, 11, 23, 17, 0, 0, 250000),  # offset-less: device local clock
            datetime(2026, 11, 23, 9, 1, 0, tzinfo=PST),
            (ACME_PRIORITY,),
        ),
        (ACME_TRACE,),
    ),
    "wscn-jobendstateevent": JobEndStateEvent(
        event_headers(404),
        JobEndState(
            253,
            "Scan from Imaging App",
            "User",
            JobState.COMPLETED,
            (JobStateReason.JOB_COMPLETED_WITH_WARNINGS,),
            7,
            COMPLETED,
        ),
    ),
    "wscn-jobendstateevent-canceled-no-reasons": JobEndStateEvent(
        event_headers(405),
        JobEndState(254, "  spaced name  ", "", JobState.CANCELED, (), 0),
    ),
    "wscn-jobendstateevent-vendor": JobEndStateEvent(
        event_headers(406),
        JobEndState(
            255,
            "Scan to folder",
            "CONTOSO\\alice",
            "acme:Quarantined",
            (JobStateReason.JOB_CANCELED_AT_DEVICE, "acme:VirusFound"),
            2,
            COMPLETED,
            (ACME_PRIORITY,),
        ),
        (ACME_TRACE,),
    ),
    "wscn-scannerstatussummaryevent-stopped": ScannerStatusSummaryEvent(
        event_headers(407), StatusSummary(ScannerState.STOPPED, (ScannerStateReason.MEDIA_JAM,))
    ),
    "wscn-scannerstatussummaryevent-idle": ScannerStatusSummaryEvent(
        event_headers(408), StatusSummary(ScannerState.IDLE)
    ),
    "wscn-scannerstatussummaryevent-vendor": ScannerStatusSummaryEvent(
        event_headers(409),
        StatusSummary(
            "acme:Sleeping",
            (ScannerStateReason.ATTENTION_REQUIRED, "acme:TonerLow"),
            (ACME_PRIORITY,),
        ),
        (ACME_TRACE,),
    ),
    "wscn-scannerstatusconditionevent": ScannerStatusConditionEvent(
        event_headers(410),
        DeviceCondition(1543, LAMP_FAILED, ConditionName.LAMP_ERROR, Component.PLATEN, Severity.CRITICAL),
    ),
    "wscn-scannerstatusconditionevent-vendor": ScannerStatusConditionEvent(
        event_headers(411),
        DeviceCondition(
            1544,
            datetime(2026, 11, 23, 18, 0, 0),
            "acme:DustOnGlass",
            "acme:Stapler",
            Severity.WARNING,
            (ACME_PRIORITY,),
        ),
        (ACME_TRACE,),
    ),
    "wscn-scannerstatusconditionclearedevent": ScannerStatusConditionClearedEvent(
        event_headers(412), DeviceConditionCleared(1543, LAMP_FIXED)
    ),
    "wscn-scannerstatusconditionclearedevent-vendor": ScannerStatusConditionClearedEvent(
        event_headers(413), DeviceConditionCleared(1544, LAMP_FIXED, (ACME_PRIORITY,)), (ACME_TRACE,)
    ),
    "wscn-getscannerelements-request": GetScannerElementsRequest(
        Headers.request(SCANNER, message_id=mid(420)), (SCANNER_STATUS,)
    ),
    "wscn-getscannerelements-response-status": GetScannerElementsResponse(
        Headers.reply(mid(420), message_id=mid(421)),
        (
            ScannerElementData(
                SCANNER_STATUS,
                True,
                ScannerStatus(
                    LAMP_FIXED,
                    ScannerState.STOPPED,
                    (ScannerStateReason.MEDIA_JAM, ScannerStateReason.LAMP_ERROR),
                    (
                        DeviceCondition(
                            1384, LAMP_FAILED, ConditionName.MEDIA_JAM, "MediaPath", Severity.CRITICAL
                        ),
                        DeviceCondition(
                            534, LAMP_FAILED, ConditionName.LAMP_ERROR, Component.PLATEN, Severity.WARNING
                        ),
                    ),
                ),
            ),
        ),
    ),
    "wscn-getscannerelements-response-vendor": GetScannerElementsResponse(
        Headers.reply(mid(422), message_id=mid(423)),
        (
            ScannerElementData(
                SCANNER_STATUS, True, ScannerStatus(None, "acme:Sleeping", (), (), (ACME_PRIORITY,))
            ),
            ScannerElementData(
                QName("urn:acme", "Counters"), True, '<acme:Counters xmlns:acme="urn:acme">7</acme:Counters>'
            ),
            ScannerElementData(QName("urn:acme", "Missing"), False),
        ),
    ),
}
