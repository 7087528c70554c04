"""Suite-wide hooks."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """After a test that ran Qt, collect its cyclic garbage now, on the GUI thread. Left to the
    collector's own timing, a model of that test with a running QTimer (a paged job table renews
    its snapshot on one) could be freed while a later test runs a worker thread that happens to
    trigger the collection: Qt then warns "Timers cannot be stopped from another thread", which
    fails whichever test is running (seen once in a full run). ~8 ms a test."""
    yield
    if {"qapp", "qtbot"} & set(getattr(item, "fixturenames", ())):
        gc.collect()
