"""Run a hook's result: plain values at once, awaitables on the running asyncio (qasync) loop."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["run_hook_result"]

log = logging.getLogger(__name__)
_running: set[asyncio.Future[Any]] = set()


def run_hook_result(
    result: object,
    done: Callable[[object], None],
    failed: Callable[[BaseException], None],
) -> bool:
    """Deliver `result` to `done` (now, or when the awaitable finishes); exceptions go to `failed`.
    Returns True when the answer will come later."""
    if not inspect.isawaitable(result):
        done(result)
        return False
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError as exc:  # no running loop: the app was not started on qasync
        if inspect.iscoroutine(result):
            result.close()  # never awaited: close it instead of leaking a warning
        failed(exc)
        return False
    future = asyncio.ensure_future(result, loop=loop)
    _running.add(future)

    def _finished(f: asyncio.Future[Any]) -> None:
        _running.discard(f)
        if f.cancelled():
            failed(asyncio.CancelledError())
        elif f.exception() is not None:
            failed(f.exception())  # type: ignore[arg-type]
        else:
            done(f.result())

    future.add_done_callback(_finished)
    return True
