"""The window's feed contract (core/feed.py): the bridge takes every call a producer makes, with the
contract's parameters. (mypy checks the engine against FeedCommands; it cannot check QtBridge, whose
Qt base class it sees as Any.)"""

from __future__ import annotations

import inspect

import pytest

from wsdmon.bridge import QtBridge
from wsdmon.core.feed import FeedListener, FeedSink

CALLS = sorted(n for n, v in vars(FeedSink).items() if inspect.isfunction(v) and not n.startswith("_"))


def test_the_contract_names_what_producers_call() -> None:
    assert CALLS == [
        "device_changed",
        "health_changed",
        "job_changed",
        "jobs_removed",
        "message_logged",
        "message_rejected",
    ]


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("sink", [QtBridge, FeedListener])
def test_a_sink_takes_each_call_with_the_contracts_parameters(sink: type, name: str) -> None:
    wanted = list(inspect.signature(getattr(FeedSink, name)).parameters)
    assert list(inspect.signature(getattr(sink, name)).parameters) == wanted
