"""models.format.format_when: a time of today (the viewer's local day) without its date, any other
with it; the day is the local one, as the time shown is."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from wsdmon.models.format import format_when


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Set the process's time zone (TZ, tzset) for one test; the old one back afterwards."""

    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


def test_east_of_utc_after_local_midnight_yesterday_shows_its_date(zone) -> None:
    zone("Asia/Tokyo")  # UTC+9, no summer time
    now = datetime(2026, 12, 5, 15, 30, tzinfo=UTC)  # 00:30 on 6 December in Tokyo
    said = datetime(2026, 12, 5, 14, 50, tzinfo=UTC)  # 23:50 on 5 December in Tokyo: yesterday
    assert format_when(said, now) == "2026-12-05 23:50:00"
    assert format_when(datetime(2026, 12, 5, 15, 10, tzinfo=UTC), now) == "00:10:00"  # today


def test_west_of_utc_before_local_midnight_today_shows_the_time_alone(zone) -> None:
    zone("America/New_York")  # UTC-5 in December
    now = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)  # 20:00 on 5 December in New York
    said = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)  # 18:00 the same local day (another UTC day)
    assert format_when(said, now) == "18:00:00"
    assert format_when(datetime(2026, 12, 4, 23, 0, tzinfo=UTC), now) == "2026-12-04 18:00:00"


def test_without_a_clock_given_it_is_now() -> None:
    assert format_when(datetime.now(UTC)).count(":") == 2
    assert "-" not in format_when(datetime.now(UTC))
