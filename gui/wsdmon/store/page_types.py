"""The types of a paged job table's questions to a store (store.job_pages answers them): which jobs
(JobFilter), in which order (JobSort), and the interface both stores' pages have (JobPages)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from wsdmon.core import JobKey, JobRecord

__all__ = ["JobFilter", "JobPages", "JobSort", "Quick", "SortKey"]


class Quick(Enum):
    """The quick filters (job_index.quick_flag's flags)."""

    ALL = ""
    ACTIVE = "A"
    COMPLETED = "C"
    FAILED = "F"


class SortKey(Enum):
    """What the job table sorts by (its columns, and NONE: the order jobs were first stored in)."""

    NONE = "none"
    DEVICE = "device"
    TOKEN = "token"
    STATE = "state"
    REASONS = "reasons"
    IMAGES = "images"
    CREATED = "created"
    COMPLETED = "completed"
    DURATION = "duration"
    FILTERS = "filters"
    KIND = "kind"
    SITE = "site"  # a shared store's (a single PC's journal: every job is its own site's)


@dataclass(frozen=True, slots=True)
class JobFilter:
    quick: Quick = Quick.ALL
    device: str | None = None  # one device's endpoint
    kind: str | None = None  # a JobKind's value
    search: str = ""
    site: str | None = None  # one site of a shared store
    devices_named: tuple[str, ...] = ()  # endpoints whose name matches `search` (the window knows names)


def _endpoint_name(endpoint: str, site: str) -> str:
    return endpoint


@dataclass(frozen=True, slots=True)
class JobSort:
    key: SortKey = SortKey.NONE
    descending: bool = False
    device_name: Callable[[str, str], str] = field(default=_endpoint_name, compare=False)  # (endpoint, site)


class JobPages(Protocol):
    location: str

    def count(self, flt: JobFilter) -> int: ...
    def count_upto(self, flt: JobFilter, cap: int) -> tuple[int, bool]: ...
    def count_later(self, purpose: str, flt: JobFilter, done: Callable[[int, int | None], None]) -> int: ...
    def accept_count(self, token: int, flt: JobFilter, n: int) -> bool: ...
    def known_count(self, flt: JobFilter) -> int | None: ...
    def stream(self, flt: JobFilter, sort: JobSort, *, timeline: bool) -> Iterator[JobRecord]: ...
    def page(self, flt: JobFilter, sort: JobSort, offset: int, limit: int) -> list[JobRecord]: ...
    def position(self, key: JobKey, flt: JobFilter, sort: JobSort) -> int | None: ...
    def record(self, key: JobKey) -> JobRecord | None: ...
    def counts(self, site: str | None = None, total: int | None = None) -> tuple[int, int, int]: ...
    def failed_since(self, epoch: float, site: str | None = None) -> int: ...
    def changed(self) -> None: ...
    def snapshot(self, same: JobFilter | None = None, count: int = 0) -> None: ...
    def close(self) -> None: ...
