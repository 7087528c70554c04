"""The JSON codec of the folded job state: exact round trips, types included, and CodecError only."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.protocol.strategies import filter_statuses, job_statuses, xs_datetimes
from wsdmon.core import Change, ChangeField, JobKey, JobRecord, JobTable, ObservationKind, TimelineEntry
from wsdmon.protocol.dsm import FilterState, FilterStatus, JobStateReason, JobStatus
from wsdmon.store.codec import (
    CodecError,
    decode_change,
    decode_datetime,
    decode_filter_status,
    decode_job_record,
    decode_job_status,
    decode_timeline_entry,
    dumps,
    encode_datetime,
    encode_filter_status,
    encode_job_record,
    encode_job_status,
    encode_timeline_entry,
    loads,
)

from .helpers import lifecycle


def shape(value: object) -> object:
    """Value and exact type of everything inside, with each datetime's offset and fold: equality of
    dataclasses says "Pending" == JobState.PENDING and 10:00+01:00 == 09:00Z; this does not."""
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), value.utcoffset(), value.fold)
    if isinstance(value, StrEnum):
        return (type(value).__name__, value.value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, tuple):
        return tuple(shape(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, *(shape(getattr(value, f.name)) for f in dataclasses.fields(value)))
    return (type(value).__name__, value)


def through_json(value: object) -> object:
    return loads(dumps(value))


# --- table-driven ------------------------------------------------------------------------------

DATETIMES = [
    datetime(2026, 11, 23, 17, 0, tzinfo=UTC),
    datetime(2026, 11, 23, 18, 0, 1, 250000, tzinfo=timezone(timedelta(hours=1))),
    datetime(2026, 11, 23, 12, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(2026, 11, 23, 17, 0),  # naive: "server local" (MS-BDSRR §2.2.4.1)
    datetime(2026, 11, 23, 17, 0, fold=1),
]


@pytest.mark.parametrize("value", DATETIMES, ids=str)
def test_datetime_round_trip_keeps_offset_or_its_absence(value: datetime) -> None:
    back = decode_datetime(through_json(encode_datetime(value)))
    assert shape(back) == shape(value)


def test_well_known_values_come_back_as_enum_members_and_vendor_values_as_str() -> None:
    st_ = JobStatus(
        "tok-1",
        "acme:Quarantined",
        (JobStateReason.POST_SCAN_JOB_TIMED_OUT, "acme:Held"),
        (FilterStatus("urn:f", FilterState.COMPLETED_WITH_ERRORS, ("acme:Disk", "InvalidArgs")),),
        4,
        extensions=('<acme:x xmlns:acme="urn:acme">1</acme:x>',),
    )
    back = decode_job_status(through_json(encode_job_status(st_)))
    assert type(back.job_state) is str
    assert type(back.job_state_reasons[0]) is JobStateReason
    assert type(back.job_state_reasons[1]) is str
    assert type(back.filter_statuses[0].state) is FilterState
    # A well-known value stored as text comes back as the member, as the protocol parser gives it.
    assert shape(back.filter_statuses[0].reasons) == (
        ("str", "acme:Disk"),
        ("FilterStateReason", "InvalidArgs"),
    )
    assert back == st_


def test_job_record_with_real_timeline_round_trips() -> None:
    record = lifecycle(JobTable())
    assert len(record.timeline) == 4
    assert any(e.stale for e in record.timeline)
    back = decode_job_record(through_json(encode_job_record(record)))
    assert back == record
    assert shape(back) == shape(record)


def test_record_without_timeline_takes_the_one_given() -> None:
    record = lifecycle(JobTable())
    encoded = encode_job_record(record, timeline=False)
    assert "timeline" not in encoded
    assert decode_job_record(through_json(encoded), record.timeline) == record
    assert decode_job_record(through_json(encoded)).timeline == ()


def test_encoded_record_is_plain_readable_json() -> None:
    record = lifecycle(JobTable())
    obj = json.loads(dumps(encode_job_record(record)))
    assert obj["status"]["job_state"] == "Completed"
    assert obj["status"]["job_created_time"] == "2026-11-23T17:59:58+01:00"
    assert obj["timeline"][0]["kind"] == "status-event"


# --- properties --------------------------------------------------------------------------------

_opt_text = st.one_of(st.none(), st.text(max_size=30))
changes = st.one_of(
    st.builds(
        Change,
        st.sampled_from([f for f in ChangeField if f is not ChangeField.TEXT]),
        _opt_text,
        _opt_text,
        _opt_text,
        st.lists(st.text(max_size=20), max_size=3).map(tuple),
    ),
    st.text(max_size=30).map(lambda line: Change(ChangeField.TEXT, new=line)),
)
timeline_entries = st.builds(
    TimelineEntry,
    xs_datetimes,
    st.sampled_from(list(ObservationKind)),
    st.lists(changes, max_size=4).map(tuple),
    st.booleans(),
    st.one_of(st.none(), st.text(max_size=40)),
    st.one_of(st.none(), st.integers(min_value=1, max_value=2**62)),
)


@st.composite
def job_records(draw: st.DrawFn) -> JobRecord:
    s = draw(job_statuses)
    return JobRecord(
        JobKey(draw(st.text(min_size=1, max_size=40)), s.job_token, draw(st.integers(0, 2**31))),
        s,
        draw(xs_datetimes),
        draw(xs_datetimes),
        draw(st.booleans()),
        draw(st.one_of(st.none(), st.text(max_size=20))),
        draw(st.one_of(st.none(), st.text(max_size=20))),
        draw(st.one_of(st.none(), st.text(max_size=20))),
        tuple(draw(st.lists(timeline_entries, max_size=4))),
        draw(st.integers(min_value=0, max_value=2**40)),
        draw(st.booleans()),
        draw(st.one_of(st.none(), st.integers(min_value=0, max_value=2**32 - 1))),
        draw(st.one_of(st.none(), xs_datetimes)),
    )


PROPERTIES = settings(max_examples=300, deadline=None)


@PROPERTIES
@given(filter_statuses)
def test_filter_status_round_trips(value: FilterStatus) -> None:
    assert shape(decode_filter_status(through_json(encode_filter_status(value)))) == shape(value)


@PROPERTIES
@given(job_statuses)
def test_job_status_round_trips(value: JobStatus) -> None:
    assert shape(decode_job_status(through_json(encode_job_status(value)))) == shape(value)


# Whole seconds: xs:dateTime offsets are whole minutes, and Python 3.11's fromisoformat drops the
# microseconds of an offset (a CPython quirk no received value can reach).
fixed_offsets = st.integers(min_value=-86399, max_value=86399).map(lambda s: timezone(timedelta(seconds=s)))


@PROPERTIES
@given(st.datetimes(), st.one_of(st.none(), fixed_offsets))
def test_any_datetime_round_trips(value: datetime, tz: timezone | None) -> None:
    # Any naive or fixed-offset value, down to offsets with seconds: a received
    # xs:dateTime is always one of these (zoneinfo zones are not: ISO-8601 cannot name them).
    value = value.replace(tzinfo=tz)
    back = decode_datetime(through_json(encode_datetime(value)))
    assert shape(back) == shape(value)


@PROPERTIES
@given(job_records())
def test_job_record_round_trips(value: JobRecord) -> None:
    assert shape(decode_job_record(through_json(encode_job_record(value)))) == shape(value)


# --- damaged input -----------------------------------------------------------------------------


def _good() -> dict[str, object]:
    return encode_job_record(lifecycle(JobTable()))


def _bad_variants() -> list[tuple[str, object]]:
    def edit(path: tuple[str, ...], value: object) -> dict[str, object]:
        obj = json.loads(json.dumps(_good()))
        target = obj
        for part in path[:-1]:
            target = target[part]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return obj  # type: ignore[no-any-return]

    return [
        ("not an object", [1, 2]),
        ("unknown format", edit(("v",), 99)),
        ("missing status", edit(("status",), KeyError)),
        ("state not text", edit(("status", "job_state"), 3)),
        ("empty token", edit(("status", "job_token"), "")),
        ("no filters", edit(("status", "filter_statuses"), [])),
        ("images negative", edit(("status", "images_received"), -1)),
        ("images a bool", edit(("status", "images_received"), True)),
        ("bad time", edit(("first_seen",), "yesterday")),
        ("time not text", edit(("last_update",), 12)),
        ("ended not bool", edit(("ended",), "yes")),
        ("dropped negative", edit(("timeline_dropped",), -3)),
        ("dropped not a count", edit(("timeline_dropped",), "many")),
        ("lost not bool", edit(("lost",), 1)),
        ("generation negative", edit(("generation",), -1)),
        ("generation not a count", edit(("generation",), "2")),
        ("instance not an integer", edit(("instance_id",), "5")),
        ("unknown since not a time", edit(("unknown_since",), "since lunch")),
        ("unknown kind", edit(("timeline",), [{**_good()["timeline"][0], "kind": "rumour"}])),  # type: ignore[index]
        ("filter lacks dialect", edit(("status", "filter_statuses"), [{"state": "Pending", "reasons": []}])),
    ]


@pytest.mark.parametrize(("why", "raw"), _bad_variants(), ids=[w for w, _ in _bad_variants()])
def test_damaged_record_raises_codec_error_only(why: str, raw: object) -> None:
    with pytest.raises(CodecError):
        decode_job_record(raw)


def test_loads_raises_codec_error_for_broken_json() -> None:
    with pytest.raises(CodecError):
        loads('{"v": 1, "status": ')
    with pytest.raises(CodecError):
        loads(b"\xff\xfe")


def test_timeline_entry_rejects_a_bool_journal_id() -> None:
    entry = encode_timeline_entry(
        TimelineEntry(datetime(2026, 1, 1, tzinfo=UTC), ObservationKind.SNAPSHOT, ())
    )
    entry["journal_id"] = True
    with pytest.raises(CodecError):
        decode_timeline_entry(entry)


def test_a_record_written_before_generations_and_unknown_reads_as_generation_0_known() -> None:
    old = _good()
    for key in ("generation", "instance_id", "unknown_since"):
        assert key not in old  # a first job, never unknown: written exactly as before
    record = decode_job_record(through_json(old))
    assert record.key.generation == 0
    assert (record.instance_id, record.unknown_since) == (None, None)


def test_a_timeline_line_stored_as_english_by_an_older_wsdmon_comes_back_verbatim_and_stays_so() -> None:
    stored = {
        "arrival": "2026-11-23T17:00:01+00:00",
        "kind": "status-event",
        "changes": ["JobState: Pending → Processing", "ImagesReceived: 1 → 2"],
        "stale": False,
        "message_id": "urn:uuid:m2",
        "journal_id": 2,
    }
    entry = decode_timeline_entry(through_json(stored))
    assert entry.changes == (
        Change(ChangeField.TEXT, new="JobState: Pending → Processing"),
        Change(ChangeField.TEXT, new="ImagesReceived: 1 → 2"),
    )
    assert encode_timeline_entry(entry) == stored  # rewritten byte for byte: not "changed"


@pytest.mark.parametrize(
    "raw",
    [
        {"field": "rumour"},
        {"field": "text", "new": "x"},
        {"field": ["job-state"]},
        {"field": "filter", "old": 3},
        7,
    ],
)
def test_a_damaged_change_raises_codec_error_only(raw: object) -> None:
    with pytest.raises(CodecError):
        decode_change(raw)
