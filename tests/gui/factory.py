"""Realistic JobRecords for GUI tests, screenshots and the model benchmark, built the way the engine
builds them: Observations folded by core.JobTable (so timelines are real)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from wsdmon.core import JobRecord, JobTable, Observation, ObservationKind
from wsdmon.protocol import Headers, encode
from wsdmon.protocol.dsm import (
    FilterStatus,
    JobStatus,
    PostScanJobEndState,
    PostScanJobEndStateEvent,
    PostScanJobStatusEvent,
)

__all__ = [
    "EMAIL",
    "FILESHARE",
    "SERVER",
    "SERVER2",
    "SHAREPOINT",
    "Step",
    "build_job",
    "sample_jobs",
]

SERVER = "urn:uuid:5f0c2a4e-8d1b-4c3a-9e7f-0a1b2c3d4e5f"
SERVER2 = "urn:uuid:7a1e9c0b-3f4d-4e2a-8b6c-1d2e3f4a5b6c"
_BASE = "http://schemas.microsoft.com/windows/2007/10/imaging/postscan/filter/"
FILESHARE, EMAIL, SHAREPOINT = _BASE + "fileshare", _BASE + "email", _BASE + "sharepoint"
PST = timezone(timedelta(hours=-8))


@dataclass(frozen=True)
class Step:
    """One status event: seconds after creation, state, reasons, {dialect: (state, reasons)}, images."""

    at_s: float
    state: str
    reasons: tuple[str, ...]
    filters: dict[str, tuple[str, tuple[str, ...]]]
    images: int
    completed: bool = False
    end: bool = False


def build_job(
    table: JobTable,
    device: str,
    token: str,
    created: datetime,
    steps: list[Step],
    *,
    journal_base: int = 1,
    journal: dict[int, str] | None = None,
) -> JobRecord:
    """Fold the steps into `table` as status events (and an end-state event for `end` steps); with a
    `journal`, each message's encoded XML is stored under its journal id."""
    record = None
    for n, step in enumerate(steps):
        filters = tuple(FilterStatus(d, s, r) for d, (s, r) in step.filters.items())
        when = created + timedelta(seconds=step.at_s)
        status = JobStatus(
            token,
            step.state,
            step.reasons,
            filters,
            step.images,
            None if step.end else created,
            when if step.completed else None,
        )
        message_id = f"urn:uuid:{n:08x}-0000-4000-8000-{zlib.crc32(token.encode()):012d}"
        arrival = when.astimezone(UTC) + timedelta(milliseconds=40)
        header = Headers(message_id, "http://192.0.2.50:6200/wsdmon/sink/1", identifier="urn:uuid:sub-1")
        if step.end:
            end = PostScanJobEndState(
                token,
                "psp-1",
                "Scan to file share and mail",
                "CONTOSO\\jdoe",
                step.state,
                step.reasons,
                filters,
                step.images,
                status.job_completed_time,
            )
            obs = Observation.from_end_state(device, end, arrival, message_id, journal_base + n)
            message: PostScanJobStatusEvent | PostScanJobEndStateEvent = PostScanJobEndStateEvent(header, end)
        else:
            obs = Observation(
                ObservationKind.STATUS_EVENT,
                device,
                status,
                arrival,
                message_id,
                journal_base + n,
                "psp-1",
                "Scan to file share and mail",
                "CONTOSO\\jdoe",
            )
            message = PostScanJobStatusEvent(header, status)
        if journal is not None:
            journal[journal_base + n] = encode(message).decode("utf-8")
        record = table.apply(obs).record
    assert record is not None
    return record


def routine_jobs(
    table: JobTable, now: datetime, count: int, journal: dict[int, str] | None
) -> list[JobRecord]:
    """Ordinary successful jobs spread over the last two hours (what fills a real table)."""
    ok = ("CompletedSuccessfully", ())
    out = []
    for i in range(count):
        device = SERVER if i % 3 else SERVER2
        token = f"{zlib.crc32(f'job-{i}'.encode()):08x}-{i:04x}-4{i:03x}-8{i:03x}-{i * 7919:012x}"
        created = now - timedelta(minutes=30 + 6 * i, seconds=17 * i % 60)
        dialects = {FILESHARE: ok} if i % 2 else {FILESHARE: ok, EMAIL: ok}
        steps = [
            Step(0, "Pending", ("None",), dict.fromkeys(dialects, ("Pending", ())), 0),
            Step(5 + i % 7, "Completed", ("PostScanJobCompletedSuccessfully",), dialects, 1 + i % 9, True),
        ]
        base = 1000 + 10 * i
        out.append(build_job(table, device, token, created, steps, journal_base=base, journal=journal))
    return out


def sample_jobs(
    now: datetime | None = None, journal: dict[int, str] | None = None, *, routine: int = 0
) -> list[JobRecord]:
    """Six jobs a technician meets: completed, failed with filter errors, processing, timed out,
    canceled, and one in a vendor state (offset-less "server local" times); plus `routine` ordinary
    completed jobs."""
    now = now or datetime(2026, 11, 23, 9, 30, tzinfo=PST)
    t = JobTable()
    ok = ("CompletedSuccessfully", ())
    return [
        *routine_jobs(t, now, routine, journal),
        build_job(
            t,
            SERVER,
            "6a8d7c92-0db3-4978-8aad-180530f8de53",
            now - timedelta(minutes=16),
            [
                Step(0, "Pending", ("None",), {FILESHARE: ("Pending", ())}, 0),
                Step(4, "Processing", ("None",), {FILESHARE: ("Processing", ())}, 4),
                Step(9, "Completed", ("PostScanJobCompletedSuccessfully",), {FILESHARE: ok}, 4, True),
                Step(9.2, "Completed", ("PostScanJobCompletedSuccessfully",), {FILESHARE: ok}, 4, True, True),
            ],
            journal_base=100,
            journal=journal,
        ),
        build_job(
            t,
            SERVER,
            "0f3b5e21-77c4-4d0e-9a51-3c2b1a0f9e8d",
            now - timedelta(minutes=12),
            [
                Step(
                    0,
                    "Pending",
                    ("None",),
                    {FILESHARE: ("Pending", ()), EMAIL: ("Pending", ()), SHAREPOINT: ("Pending", ())},
                    0,
                ),
                Step(
                    6,
                    "Processing",
                    ("None",),
                    {FILESHARE: ("Processing", ()), EMAIL: ("Pending", ()), SHAREPOINT: ("Pending", ())},
                    3,
                ),
                Step(
                    21,
                    "Completed",
                    ("PostScanJobCompletedWithErrors",),
                    {
                        FILESHARE: ok,
                        EMAIL: ("CompletedWithErrors", ("InvalidSMTPServer",)),
                        SHAREPOINT: ("CompletedWithErrors", ("SharePointAccessDenied",)),
                    },
                    3,
                    True,
                ),
            ],
            journal_base=200,
            journal=journal,
        ),
        build_job(
            t,
            SERVER2,
            "b71c4a90-2e5f-4c8d-a3b6-9d0e1f2a3b4c",
            now - timedelta(seconds=40),
            [
                Step(0, "Pending", ("None",), {FILESHARE: ("Pending", ()), EMAIL: ("Pending", ())}, 0),
                Step(18, "Processing", ("None",), {FILESHARE: ok, EMAIL: ("Processing", ())}, 7),
            ],
            journal_base=300,
            journal=journal,
        ),
        build_job(
            t,
            SERVER2,
            "3c9e1d7a-5b2f-4a6e-8c0d-4e5f6a7b8c9d",
            now - timedelta(minutes=27),
            [
                Step(0, "Pending", ("None",), {FILESHARE: ("Pending", ())}, 1),
                Step(600, "Aborted", ("PostScanJobTimedOut",), {FILESHARE: ("Canceled", ())}, 1, True),
            ],
            journal_base=400,
            journal=journal,
        ),
        build_job(
            t,
            SERVER,
            "e4f5a6b7-c8d9-4e0f-a1b2-c3d4e5f6a7b8",
            now - timedelta(minutes=5),
            [
                Step(0, "Pending", ("None",), {EMAIL: ("Pending", ())}, 2),
                Step(12, "Canceled", ("PostScanJobCanceled",), {EMAIL: ("Canceled", ())}, 2, True),
            ],
            journal_base=500,
            journal=journal,
        ),
        build_job(
            t,
            SERVER,
            "acme-000417",
            now.replace(tzinfo=None) - timedelta(minutes=2),
            [
                Step(0, "Pending", ("None",), {"urn:acme:filter:ocr": ("Pending", ())}, 0),
                Step(
                    3,
                    "acme:Quarantined",
                    ("acme:VirusScan",),
                    {"urn:acme:filter:ocr": ("acme:Waiting", ("acme:LicenseExpired",))},
                    5,
                ),
            ],
            journal_base=600,
            journal=journal,
        ),
    ]
