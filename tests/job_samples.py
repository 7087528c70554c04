"""Realistic job records in bulk, for the paging tests and bench/bench_paging.py: post-scan jobs of a
few dozen scan servers and scan jobs of a few scanners, mostly completed, some failed, canceled,
timed out or still running, with users, PSP names, filters and a created/completed time each,
built directly (the reducer is too slow for a million) and deterministic for a seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from wsdmon.core import Change, ChangeField, JobKey, JobKind, JobRecord, ObservationKind, TimelineEntry
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStateReason,
    FilterStatus,
    JobState,
    JobStateReason,
    JobStatus,
)

__all__ = ["T0", "USERS", "device_endpoint", "sample_jobs"]

T0 = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
USERS = tuple(f"CONTOSO\\{n}" for n in ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"))
_PSPS = ("Scan to Finance share", "Scan to e-mail", "Scan to SharePoint", "Invoices", "HR intake")
_FILTERS = (ns.FILTER_FILESHARE, ns.FILTER_EMAIL, ns.FILTER_SHAREPOINT)


def device_endpoint(i: int) -> str:
    return f"urn:uuid:00000000-0000-4000-8000-{i:012d}"


def _outcome(r: random.Random) -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
    """(JobState, reasons, the first filter's state, its reasons)."""
    x = r.random()
    if x < 0.70:
        return (
            JobState.COMPLETED,
            (JobStateReason.POST_SCAN_JOB_COMPLETED_SUCCESSFULLY,),
            (FilterState.COMPLETED_SUCCESSFULLY),
            (),
        )
    if x < 0.80:
        return (
            JobState.COMPLETED,
            (JobStateReason.POST_SCAN_JOB_COMPLETED_WITH_ERRORS,),
            (FilterState.COMPLETED_WITH_ERRORS),
            (FilterStateReason.INVALID_SMTP_SERVER,),
        )
    if x < 0.85:
        return JobState.ABORTED, (JobStateReason.POST_SCAN_JOB_TIMED_OUT,), FilterState.CANCELED, ()
    if x < 0.92:
        return JobState.CANCELED, (JobStateReason.POST_SCAN_JOB_CANCELED,), FilterState.CANCELED, ()
    if x < 0.96:
        return JobState.PROCESSING, (JobStateReason.NONE,), FilterState.PROCESSING, ()
    return JobState.PENDING, (JobStateReason.NONE,), FilterState.PENDING, ()


def sample_jobs(n: int, *, seed: int = 14, devices: int = 40, start: int = 0) -> Iterator[JobRecord]:
    """`n` jobs (numbered from `start`), one every ~2.5 s from T0, spread over `devices` devices."""
    r = random.Random(seed * 1_000_003 + start)
    for i in range(start, start + n):
        dev = r.randrange(devices)
        created = T0 + timedelta(seconds=i * 2.5 + r.random())
        state, reasons, fstate, freasons = _outcome(r)
        terminal = state in (JobState.COMPLETED, JobState.ABORTED, JobState.CANCELED)
        completed = created + timedelta(seconds=r.randint(2, 600)) if terminal else None
        nfilters = 1 + r.randrange(3)
        filters = (
            FilterStatus(_FILTERS[0], fstate, freasons),
            *tuple(
                FilterStatus(
                    _FILTERS[k], FilterState.COMPLETED_SUCCESSFULLY if terminal else FilterState.PENDING
                )
                for k in range(1, nfilters)
            ),
        )
        scan = dev % 10 == 9  # a tenth of the devices are WSD scanners
        status = JobStatus(
            f"{i + 1}" if scan else f"job-{i:08d}",
            state,
            reasons if not scan else (),
            filters,
            r.randint(0, 40),
            created,
            completed,
        )
        last = completed or created + timedelta(seconds=1)
        entry = TimelineEntry(
            last, ObservationKind.STATUS_EVENT, (Change(ChangeField.JOB_STATE, None, str(state)),)
        )
        yield JobRecord(
            JobKey(device_endpoint(dev), status.job_token, 0),
            status,
            created,
            last,
            ended=terminal,
            psp_identifier=None if scan else f"psp-{dev % 5}",
            psp_display_name=None if scan else _PSPS[dev % len(_PSPS)],
            job_originating_user_name=USERS[r.randrange(len(USERS))],
            timeline=(entry,),
            kind=JobKind.SCAN if scan else JobKind.POST_SCAN,
            job_name=f"Scan {i % 1000}" if scan else None,
        )
