"""What a paged job table (models.paged_jobs) hands to other threads: its rows for an export, read
from the store as they are written (ExportRows), and the relay that brings the exact counts made
off the GUI thread back to it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot

from wsdmon.core import JobRecord
from wsdmon.store.job_pages import JobFilter, JobPages, JobSort

from .device_key import device_key, endpoint_of

if TYPE_CHECKING:
    from .paged_jobs import PagedJobModel

__all__ = ["ExportRows", "export_rows", "relay"]


def export_rows(  # noqa: PLR0917 - the table's state, handed over whole
    pages: JobPages,
    flt: JobFilter,
    sort: JobSort,
    count: int,
    keys: Iterable[str],
    device_name: Callable[[str], str],
    timeline: bool,
) -> ExportRows:
    """The rows a table shows (filter and order), for File ▸ Export table…: streamed from the store
    when written (store.job_pages stream: a batch at a time, on the writer's thread, in this
    snapshot for PostgreSQL), each with its timeline when asked (JSON). The device names (of the
    device keys the window knows) are taken now, on the GUI thread, as the table shows them."""
    by_key = {k: device_name(k) for k in keys}
    names: dict[str, str] = {}
    for k, name in by_key.items():  # one endpoint under two sites has one name, as JSON keys it
        names.setdefault(endpoint_of(k), name)

    def endpoint_name(endpoint: str, site: str) -> str:
        key = device_key(endpoint, site)
        return by_key.get(key, key)

    sort = JobSort(sort.key, sort.descending, endpoint_name)
    return ExportRows(pages.stream(flt, sort, timeline=timeline), count, names)


class ExportRows:
    """A paged table's rows for an export: iterated once (on the writer's thread), read from the
    store as they are written; `len` is the rows the table shows; `device_name` names an endpoint
    as the table does (store.export.write_records' DeviceNames)."""

    def __init__(self, rows: Iterable[JobRecord], count: int, names: dict[str, str]) -> None:
        self._rows = rows
        self._count = count
        self._names = names

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[JobRecord]:
        return iter(self._rows)

    def device_name(self, endpoint: str) -> str:
        return self._names.get(endpoint, endpoint)


class _Relay(QObject):
    """Hands an exact count from the counting thread to the model on the GUI thread (a queued
    signal). One for the process, never deleted: the counting thread holds no Qt object of a
    model, which may be gone when its count is done (a closed shared window)."""

    counted = Signal(object)  # (weakref to the model, purpose, token, JobFilter, n | None)

    @Slot(object)
    def _deliver(self, payload: tuple[Any, str, int, JobFilter, int | None]) -> None:
        ref, purpose, token, flt, n = payload
        model: PagedJobModel | None = ref()
        if model is not None and shiboken6.isValid(model):
            model._on_counted(purpose, token, flt, n)


_RELAY: list[_Relay] = []


def relay() -> _Relay:
    """The process's relay, made on the GUI thread (the first model's)."""
    if not _RELAY:
        relay = _Relay()
        relay.counted.connect(relay._deliver, Qt.ConnectionType.QueuedConnection)
        _RELAY.append(relay)
    return _RELAY[0]
