"""The shape MS-BDSRR (§3.2.4.4, §3.2.4.5) and WS-Scan share for GetActiveJobs / GetJobHistory: an
empty request element (vendor children kept) and a response holding one list element of job rows.
Each protocol module subclasses these with its namespace, its tags and how it reads a row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Generic, Self, TypeVar

from ._part import Part
from ._xml import Element, append_extensions, child, extensions, sub
from .envelope import Headers, Message, body_child

__all__ = ["JobListRequest", "JobListResponse"]

Row = TypeVar("Row", bound=Part)


@dataclass(frozen=True, slots=True)
class JobListRequest(Message):
    """An empty request element (vendor children allowed) asking for a list of jobs."""

    _TAG: ClassVar[str]
    header: Headers
    extensions: tuple[str, ...] = ()

    def write_body(self, body: Element) -> None:
        append_extensions(sub(body, self._TAG), self.extensions)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        return cls(header, extensions(body_child(body, cls._TAG), cls.NAMESPACES[0]))


@dataclass(frozen=True, slots=True)
class JobListResponse(Message, Generic[Row]):
    """A list of job rows (possibly none) inside a list element. The list element is always written
    (ActiveJobs / JobHistory are required); read leniently, a response without it has no jobs
    (MS-BDSRR §4.1's example answers <GetActiveJobsResponse/> without ActiveJobs)."""

    _TAG: ClassVar[str]
    _LIST_TAG: ClassVar[str]
    header: Headers
    jobs: tuple[Row, ...] = ()

    def write_body(self, body: Element) -> None:
        listing = sub(sub(body, self._TAG), self._LIST_TAG)
        for job in self.jobs:
            job.write(listing)

    @classmethod
    def read_body(cls, header: Headers, body: Element) -> Self:
        listing = child(body_child(body, cls._TAG), cls._LIST_TAG)
        if listing is None:
            return cls(header)
        return cls(header, tuple(cls.read_rows(listing)))

    @classmethod
    def read_rows(cls, listing: Element) -> Iterable[Row]:
        """The rows of the list element (children that are not rows are skipped)."""
        raise NotImplementedError
