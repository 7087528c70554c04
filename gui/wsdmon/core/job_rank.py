"""Where a JobState stands in the job lifecycle: the job table's sort order of the JobState column,
shared by the in-memory table (models) and the stores' paged queries (store.job_index)."""

from __future__ import annotations

from wsdmon.protocol.dsm import JobState

__all__ = ["VENDOR_RANK", "lifecycle_rank"]

_RANK: dict[str, int] = {
    JobState.CREATING: 0,
    JobState.PENDING: 1,
    JobState.PENDING_HELD: 2,
    JobState.STARTED: 3,
    JobState.PROCESSING: 4,
    JobState.TERMINATING: 5,
    JobState.COMPLETED: 6,
    JobState.CANCELED: 7,
    JobState.ABORTED: 8,
    "Held": 2,  # WS-Scan's Pending-Held
}
VENDOR_RANK = 9


def lifecycle_rank(state: str) -> int:
    """Sort rank of a JobState along the job lifecycle (§8); vendor states sort last."""
    return _RANK.get(str(state), VENDOR_RANK)
