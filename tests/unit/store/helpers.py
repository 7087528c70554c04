"""Shared builders for the store tests: messages, job records folded by the real reducer, devices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from wsdmon.core import JobRecord, JobTable, Observation, ObservationKind
from wsdmon.core.devices import DeviceRecord, Role, ServiceInfo, SubscriptionStatus
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStateReason,
    FilterStatus,
    JobState,
    JobStateReason,
    JobStatus,
    PostScanJobEndState,
)
from wsdmon.store import IncomingMessage

DEV = "urn:uuid:553852db-6d5a-4eee-a34f-5b499c1a2944"
DEV2 = "urn:uuid:0c7e4e7a-1111-4c1b-9c1e-2f3f4a5b6c7d"
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
PLUS_ONE = timezone(timedelta(hours=1))
CREATED = datetime(2026, 11, 23, 17, 59, 58, tzinfo=PLUS_ONE)  # an offset other than UTC, kept
ACTION = "http://schemas.microsoft.com/windows/2008/12/wdp/distributedscan/PostScanJobStatusEvent"


def raw(i: int) -> bytes:
    return f"<soap:Envelope><!-- message {i} --></soap:Envelope>".encode()


def message(i: int, device: str = DEV, *, at: datetime | None = None) -> IncomingMessage:
    return IncomingMessage(
        at or T0 + timedelta(seconds=i),
        device,
        "urn:uuid:sub-1",
        ACTION,
        f"urn:uuid:msg-{i}",
        f"job tok-{i}: Processing, {i} images",
        raw(i),
    )


def status(token: str, state: str, images: int, *, fs: str = FilterState.PENDING, **kw: object) -> JobStatus:
    return JobStatus(
        token,
        state,
        kw.pop("reasons", (JobStateReason.NONE,)),  # type: ignore[arg-type]
        (
            FilterStatus(ns.FILTER_FILESHARE, fs, kw.pop("freasons", ())),  # type: ignore[arg-type]
            FilterStatus(ns.FILTER_EMAIL, FilterState.PENDING),
        ),
        images,
        kw.pop("created", CREATED),  # type: ignore[arg-type]
        kw.pop("completed", None),  # type: ignore[arg-type]
    )


def observe(
    table: JobTable, st: JobStatus, seconds: float, journal_id: int | None = None, device: str = DEV
) -> JobRecord:
    obs = Observation(
        ObservationKind.STATUS_EVENT,
        device,
        st,
        T0 + timedelta(seconds=seconds),
        f"m-{st.job_token}-{seconds}",
        journal_id,
    )
    return table.apply(obs).record


def end(
    table: JobTable, token: str, seconds: float, journal_id: int | None = None, device: str = DEV
) -> JobRecord:
    final = PostScanJobEndState(
        token,
        "psp-1",
        "Scan to Finance share",
        "CONTOSO\\alice",
        JobState.COMPLETED,
        (JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_ERRORS, "acme:PartlyDelivered"),
        (
            FilterStatus(ns.FILTER_FILESHARE, FilterState.COMPLETED_SUCCESSFULLY),
            FilterStatus(ns.FILTER_EMAIL, "acme:Quarantined", (FilterStateReason.INVALID_SMTP_SERVER,)),
        ),
        3,
        datetime(2026, 11, 23, 18, 0, 30, tzinfo=PLUS_ONE),
    )
    obs = Observation.from_end_state(
        device, final, T0 + timedelta(seconds=seconds), f"e-{token}-{seconds}", journal_id
    )
    return table.apply(obs).record


def lifecycle(table: JobTable, token: str = "tok-1", device: str = DEV) -> JobRecord:  # noqa: S107
    """A job from Pending to its end-state event, four timeline entries."""
    observe(table, status(token, JobState.PENDING, 0), 1, 1, device)
    observe(table, status(token, JobState.PROCESSING, 2, fs=FilterState.PROCESSING), 2, 2, device)
    observe(table, status(token, JobState.PROCESSING, 1), 3, 3, device)  # stale: goes backwards
    return end(table, token, 4, 4, device)


def device_record(
    endpoint: str = DEV, *, seen: datetime = T0, name: str | None = "Finance scan server"
) -> DeviceRecord:
    return DeviceRecord(
        endpoint,
        xaddrs=("https://10.0.0.5:5362/dsm",),
        friendly_name=name,
        manufacturer="Contoso",
        model_name="ScanServer 2026",
        model_number="SS-26",
        serial_number="SN-0042",
        firmware_version="1.2.3",
        presentation_url="https://10.0.0.5/",
        device_category=("Scanners",),
        services=(
            ServiceInfo(
                "https://10.0.0.5:5362/dsm/rcs", Role.SCAN_SERVER, "urn:svc:rcs", SubscriptionStatus.ACTIVE
            ),
        ),
        metadata_version=7,
        instance_id=1700000000,
        last_seen=seen,
        last_event=seen + timedelta(seconds=5),
    )
