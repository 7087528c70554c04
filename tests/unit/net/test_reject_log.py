"""A flood of rejected notifications is counted in full but logged in bounded lines."""

from __future__ import annotations

import logging

import pytest

from wsdmon.net import sink
from wsdmon.net.sink import REJECT_LOG_BURST, REJECT_LOG_WINDOW_S, RejectReason


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "wsdmon.net.sink"]


def test_a_flood_is_logged_in_bounded_lines_and_summed_up(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    reject_log = sink._RejectLog(clock)
    with caplog.at_level(logging.INFO, logger="wsdmon.net.sink"):
        for i in range(1000):
            reject_log.log(RejectReason.WRONG_PATH, f"path {i}")
        reject_log.log(RejectReason.MALFORMED, "not XML")  # another reason has a budget of its own
        lines = _lines(caplog)
        assert len(lines) == REJECT_LOG_BURST + 2
        assert lines[0] == "rejected notification (wrong-path): path 0"
        assert "further rejections (wrong-path) are counted but not logged" in lines[REJECT_LOG_BURST]
        assert lines[-1] == "rejected notification (malformed): not XML"
        caplog.clear()
        clock.now += REJECT_LOG_WINDOW_S
        reject_log.log(RejectReason.WRONG_PATH, "path again")  # a new window
        assert _lines(caplog) == [
            f"{1000 - REJECT_LOG_BURST} more notifications rejected (wrong-path) in 60 s were not logged",
            "rejected notification (wrong-path): path again",
        ]
        caplog.clear()
        for _ in range(REJECT_LOG_BURST + 5):
            reject_log.log(RejectReason.WRONG_PATH, "again")
        caplog.clear()
        reject_log.flush()  # at stop: what was not logged is said
        assert _lines(caplog) == ["6 more notifications rejected (wrong-path) in 0 s were not logged"]


def test_a_routine_late_message_is_logged_at_info(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="wsdmon.net.sink"):
        sink._RejectLog(Clock()).log(RejectReason.ENDED_SUBSCRIPTION, "late")
        sink._RejectLog(Clock()).log(RejectReason.WRONG_PATH, "guessed")
    assert [r.levelno for r in caplog.records] == [logging.INFO, logging.WARNING]
