"""The job table's sort and filter values of a job, kept as columns of the stores' `jobs` table so
that the window can page a large history from the store (issue 14, item 4; store.job_pages).

The writers (journal.Journal, pg_jobs.write_jobs) store them beside the encoded record; the schema
migrations (sqlite v4, PostgreSQL v2) fill them for the rows already there. Each value is what the
in-memory table sorts and filters by (models.job_columns.sort_values, models.job_text.filter_text),
so a paged table orders and filters its rows as the in-memory one does:

- quick: "A" active, "F" finished and failed, "C" finished otherwise (terminal), "" neither
  (ended, lost or unknown without a terminal state) — the quick filters' flags;
- kind, state_rank + state, reasons (", "-joined), images, created / completed (epoch seconds, NULL
  when absent: sorts first as the in-memory -inf does), duration (NULL when unknown), filters_key;
- search: the words a search matches, lower-cased (see `search_text`).
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from wsdmon.core import JobKey, JobRecord, filter_summary
from wsdmon.core.job_rank import lifecycle_rank

from .codec import CodecError, decode_job_record, loads

__all__ = ["INDEX_COLUMNS", "IndexValues", "decode_record_row", "index_values", "search_text"]

_log = logging.getLogger(__name__)

INDEX_COLUMNS = (
    "quick",
    "kind",
    "state_rank",
    "state",
    "reasons",
    "images",
    "created",
    "completed",
    "duration",
    "filters_key",
    "search",
)


class IndexValues(NamedTuple):
    quick: str
    kind: str
    state_rank: int
    state: str
    reasons: str
    images: int
    created: float | None
    completed: float | None
    duration: float | None
    filters_key: int
    search: str


def quick_flag(rec: JobRecord) -> str:
    """The quick filters' flag (models.job_text.filter_text's, without the pinned mark)."""
    if rec.is_active:
        return "A"
    if rec.is_failed:  # timed-out reasons are failures too
        return "F"
    return "C" if rec.is_terminal else ""


def search_text(rec: JobRecord) -> str:
    """What a search in a paged table matches, lower-cased: the device endpoint, the token, the state
    and reasons, each filter's dialect, state and reasons, the job's name, PSP display name and
    originating user. The device's name is matched by the model (it knows the names: a few devices,
    turned into a device condition); the words the table makes (reason labels, "3/3 filters done")
    are translated and are not searched in the store."""
    s = rec.status
    words = [rec.key.device, s.job_token, str(s.job_state), *map(str, s.job_state_reasons)]
    for f in s.filter_statuses:
        words += [f.dialect, str(f.state), *map(str, f.reasons)]
    words += [x for x in (rec.job_name, rec.psp_display_name, rec.job_originating_user_name) if x]
    return " ".join(words).casefold()


def _epoch(rec: JobRecord, completed: bool) -> float | None:
    dt = rec.status.job_completed_time if completed else rec.status.job_created_time
    return None if dt is None else dt.timestamp()


def index_values(rec: JobRecord) -> IndexValues:
    s = rec.status
    done, total, failed = filter_summary(s.filter_statuses)
    return IndexValues(
        quick_flag(rec),
        rec.kind.value,
        lifecycle_rank(s.job_state),
        str(s.job_state),
        ", ".join(map(str, s.job_state_reasons)),
        s.images_received,
        _epoch(rec, completed=False),
        _epoch(rec, completed=True),
        rec.duration_s,
        failed * 1_000_000 + (total - done) * 1_000 + total,
        search_text(rec),
    )


def decode_record_row(row: tuple[Any, ...], site: str = "") -> JobRecord | None:
    """A stored job without its timeline from (device, job_token, generation, record), keyed with
    `site` (a shared store's); None, logged, when the row is damaged."""
    device, token, generation, record = row
    try:
        rec = decode_job_record(loads(record), ())
        if (rec.key.device, rec.key.job_token, rec.key.generation) != (device, token, generation):
            raise CodecError(f"the record is of {rec.key}")
    except (CodecError, TypeError) as exc:
        _log.warning("store: skipped damaged job %r on %s: %s", token, device, exc)
        return None
    if site:
        rec = _with_site(rec, site)
    return rec


def _with_site(rec: JobRecord, site: str) -> JobRecord:
    from dataclasses import replace

    return replace(rec, key=JobKey(rec.key.device, rec.key.job_token, rec.key.generation, site))
