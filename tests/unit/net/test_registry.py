"""DeviceRegistry (net/registry.py): the engine's devices behind a small API, on a real journal."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.unit.protocol.cases_scan import CASES
from wsdmon.core import DeviceRecord, OfflineReason, Role, ServiceInfo
from wsdmon.core.changes import ChangeField
from wsdmon.net.registry import LAST_EVENT_RESOLUTION_S, DeviceRegistry
from wsdmon.protocol import Message
from wsdmon.store.journal import Journal

DEV = "urn:uuid:11111111-2222-4333-8444-555555555555"
SCANNER = "http://192.0.2.7:5358/scan"
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


class Fixture:
    def __init__(self, tmp_path: Path) -> None:
        self.journal = Journal(tmp_path / "j.sqlite3")
        self.emitted: list[DeviceRecord] = []
        self.adopted: list[DeviceRecord] = []
        self.unreachable: list[str] = []
        self.registry = DeviceRegistry(
            self.journal,
            self.emitted.append,
            adopted=self.adopted.append,
            unreachable=self.unreachable.append,
            clock=lambda: T0,
        )


@pytest.fixture
def fx(tmp_path: Path):
    f = Fixture(tmp_path)
    yield f
    f.journal.close()


def scanner() -> DeviceRecord:
    return DeviceRecord(DEV, ("http://192.0.2.7:5357/",), services=(ServiceInfo(SCANNER, Role.SCAN_DEVICE),))


def test_adopt_saves_reports_and_returns_no_drivers_for_a_new_device(fx: Fixture) -> None:
    assert fx.registry.adopt(scanner()) == []
    assert fx.emitted == [scanner()]
    assert [d.endpoint for d in fx.journal.load_devices()] == [DEV]
    assert DEV in fx.registry
    assert fx.registry.endpoints() == [DEV]
    assert fx.registry.scan_server(DEV) is None  # a scanner, not a scan server: nothing to cancel on


def test_restore_lists_the_journals_devices_offline(fx: Fixture, tmp_path: Path) -> None:
    fx.journal.upsert_device(scanner())
    fx.registry.restore()
    (record,) = fx.registry.records()
    assert not record.online
    assert record.offline_reason is OfflineReason.NOT_SEEN
    assert fx.emitted == [record]


def test_last_event_is_reported_at_most_once_per_resolution(fx: Fixture) -> None:
    fx.registry.adopt(scanner())
    fx.emitted.clear()
    for ms in (0, 10, 500, 999):
        fx.registry.note_event(DEV, T0 + timedelta(milliseconds=ms))
    assert [r.last_event for r in fx.emitted] == [T0]
    fx.registry.note_event(DEV, T0 + timedelta(seconds=LAST_EVENT_RESOLUTION_S))
    assert [r.last_event for r in fx.emitted] == [T0, T0 + timedelta(seconds=1)]
    fx.registry.note_event("urn:uuid:unknown", T0)  # a device it does not know: nothing
    assert len(fx.emitted) == 2


def test_a_cleared_condition_is_noted_with_the_name_it_was_raised_with(fx: Fixture) -> None:
    fx.registry.adopt(scanner())
    fx.emitted.clear()
    raised = fx.registry.status_event(DEV, SCANNER, CASES["wscn-scannerstatusconditionevent"])
    assert raised is not None
    assert raised.field is ChangeField.CONDITION_RAISED
    (record,) = fx.emitted
    assert [c.condition_id for s in record.services for c in s.conditions] == [1543]
    cleared = fx.registry.status_event(DEV, SCANNER, CASES["wscn-scannerstatusconditionclearedevent"])
    assert cleared is not None
    assert (cleared.field, cleared.new, cleared.subject) == (
        ChangeField.CONDITION_CLEARED,
        "LampError",
        "1543",
    )
    assert [c for s in fx.registry.records()[0].services for c in s.conditions] == []
    # cleared again: the name is no longer remembered; the device stays as it was
    again = fx.registry.status_event(DEV, SCANNER, CASES["wscn-scannerstatusconditionclearedevent"])
    assert again is not None
    assert again.new is None
    assert fx.emitted[-1] == fx.emitted[1]


def test_a_job_event_says_nothing_of_the_device(fx: Fixture) -> None:
    fx.registry.adopt(scanner())
    fx.emitted.clear()
    job_event = next(m for name, m in CASES.items() if name.startswith("wscn-jobstatusevent"))
    assert fx.registry.status_event(DEV, SCANNER, job_event) is None
    assert fx.emitted == []


def test_the_state_now_comes_from_the_scanners_answer_and_a_silent_one_changes_nothing(fx: Fixture) -> None:
    fx.registry.adopt(scanner())
    fx.emitted.clear()
    answer = CASES["wscn-getscannerelements-response-status"]
    asked: list[tuple[str, str, str]] = []

    async def ask(endpoint: str, service: str, request: Message) -> Message | None:
        asked.append((endpoint, service, request.action.rpartition("/")[2]))
        return answer if len(asked) == 1 else None

    asyncio.run(fx.registry.ask_state(ask, DEV, SCANNER, Role.SCAN_DEVICE))
    assert asked == [(DEV, SCANNER, "GetScannerElements")]
    (record,) = fx.emitted
    status = answer.status()  # type: ignore[attr-defined]
    assert record.services[0].state == str(status.scanner_state)
    asyncio.run(fx.registry.ask_state(ask, DEV, SCANNER, Role.SCAN_DEVICE))  # no answer
    assert len(fx.emitted) == 1
    assert fx.registry.get(DEV) == record


def test_update_of_an_unknown_device_is_none_and_trust_is_kept_per_device(fx: Fixture) -> None:
    assert fx.registry.update("urn:uuid:unknown", online=False) is None
    fx.registry.adopt(scanner())
    updated = fx.registry.update(DEV, online=False, offline_reason=OfflineReason.BYE)
    assert updated == dataclasses.replace(scanner(), online=False, offline_reason=OfflineReason.BYE)
    fx.registry.trust(DEV, "AB" * 32)
    assert fx.registry.pinned(DEV) == "ab" * 32
    assert fx.registry.pinned("urn:uuid:other") is None


def test_a_change_of_runtime_state_is_written_to_the_store_and_a_new_last_event_is_not(
    fx: Fixture, tmp_path: Path
) -> None:
    """For the viewers of a shared store (store.devices): the journal's row carries the state."""
    import sqlite3

    from wsdmon.core import SubscriptionStatus
    from wsdmon.store.devices import decode_device_state

    def stored() -> list[tuple[str | None, str | None]]:
        with sqlite3.connect(tmp_path / "j.sqlite3") as conn:
            return conn.execute("SELECT state, state_at FROM devices").fetchall()

    fx.registry.adopt(scanner())
    ((first, first_at),) = stored()
    assert first is not None
    assert decode_device_state(scanner(), first) == scanner()
    fx.registry.note_event(DEV, T0)  # the last event moved: the same state, not written again
    assert stored() == [(first, first_at)]
    record = fx.registry.get(DEV)
    assert record is not None
    fx.registry.put(record.with_subscription(SCANNER, SubscriptionStatus.ACTIVE))
    ((state, _),) = stored()
    assert decode_device_state(scanner(), state).subscribed
    fx.registry.adopt(scanner())  # read afresh: its row again, with the state it has now
    ((again, _),) = stored()
    assert decode_device_state(scanner(), again) == scanner()
