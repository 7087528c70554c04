"""make_room: keeps a cache dict within a size by dropping its older half when it is full.

The job table's caches (the rows' cells, the cells' text layouts) grow with every new job. Emptied
all at once when full, the next repaint rebuilt every row on screen (a 10-14 ms repaint at 1,000
events/s, bench/bench_latency.py); the older half (insertion order) are mostly rows long scrolled
away. A hit costs nothing (no reordering, unlike an LRU), which matters more here than dropping
exactly the least recently used.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

__all__ = ["make_room"]


def make_room(cache: dict[Any, Any], limit: int) -> None:
    """Before an insert: when `cache` holds `limit` entries or more, drop the oldest inserted down
    to half of `limit`."""
    if len(cache) >= limit:
        for key in list(islice(cache, len(cache) - limit // 2)):
            del cache[key]
