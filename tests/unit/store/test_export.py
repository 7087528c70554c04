"""Export of jobs and events to CSV and JSON: content, filters, damaged rows, cancel, atomicity."""

from __future__ import annotations

import base64
import csv
import json
import logging
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from wsdmon.core import DeviceRecord, JobTable
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import JobState
from wsdmon.store import (
    EVENT_CSV_COLUMNS,
    JOB_CSV_COLUMNS,
    ExportResult,
    Journal,
    JournalError,
    export_events_csv,
    export_events_json,
    export_jobs_csv,
    export_jobs_json,
)
from wsdmon.store import export as export_module

from .helpers import DEV, DEV2, lifecycle, message, observe, raw, status


@pytest.fixture
def filled(db_path: Path) -> Path:
    table = JobTable()
    with Journal(db_path) as j:
        j.append_messages([message(i) for i in range(1, 5)])
        j.append_message(*message(5, DEV2)._replace(raw="<x>é</x>".encode("utf-16"), subscription=None))
        lifecycle(table, "tok-1")  # ended, with times at +01:00 and a vendor filter state
        observe(table, status("tok-2", JobState.PROCESSING, 2, created=None), 5, 5, DEV2)
        j.upsert_jobs(table.jobs.values(), 5)
        j.upsert_device(DeviceRecord(DEV, friendly_name="SCANSRV-01"))  # DEV2's name is not known
    return db_path


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_jobs_csv_content(filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "jobs.csv"
    assert export_jobs_csv(filled, out) == ExportResult(2, 0)
    with out.open(encoding="utf-8", newline="") as fh:
        assert tuple(next(csv.reader(fh))) == JOB_CSV_COLUMNS
    first, second = _csv(out)
    assert first == {
        "device": "SCANSRV-01",  # the name people know it by; its endpoint follows
        "device_id": DEV,
        "job_token": "tok-1",
        "job_state": "Completed",
        "job_state_reasons": "PostScanJobCompletedWithErrors; acme:PartlyDelivered",
        "images_received": "3",
        "created": "2026-11-23T17:59:58+01:00",  # offset as received
        "completed": "2026-11-23T18:00:30+01:00",
        "duration_s": "32.0",
        "filters": "fileshare=CompletedSuccessfully; email=acme:Quarantined[InvalidSMTPServer]",
        "psp_display_name": "Scan to Finance share",
        "user": "CONTOSO\\alice",
        "ended": "true",
        "lost": "false",
        "generation": "0",
        "unknown_since": "",
        "site": "",
    }
    assert (second["device"], second["job_state"], second["created"], second["duration_s"]) == (
        DEV2,
        "Processing",
        "",
        "",
    )
    assert second["ended"] == "false"


def test_naive_times_are_exported_without_an_offset(db_path: Path, tmp_path: Path) -> None:
    table = JobTable()
    observe(table, status("tok-n", JobState.PENDING, 0, created=datetime(2026, 11, 23, 17, 59, 58)), 1, 1)
    with Journal(db_path) as j:
        j.upsert_jobs(table.jobs.values(), 1)
    export_jobs_json(db_path, tmp_path / "jobs.json")
    (job,) = json.loads((tmp_path / "jobs.json").read_text(encoding="utf-8"))
    assert job["created"] == "2026-11-23T17:59:58"


def test_jobs_json_content_with_timeline(filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "jobs.json"
    assert export_jobs_json(filled, out).written == 2
    first, _ = json.loads(out.read_text(encoding="utf-8"))
    assert first["job_state_reasons"] == ["PostScanJobCompletedWithErrors", "acme:PartlyDelivered"]
    assert (first["device"], first["device_id"]) == ("SCANSRV-01", DEV)
    assert first["filters"][1] == {
        "name": "email",
        "dialect": ns.FILTER_EMAIL,
        "state": "acme:Quarantined",
        "reasons": ["InvalidSMTPServer"],
    }
    assert first["duration_s"] == 32.0
    assert first["ended"] is True
    assert first["psp_identifier"] == "psp-1"
    assert [e["kind"] for e in first["timeline"]] == ["status-event"] * 3 + ["end-state-event"]
    assert [e["journal_id"] for e in first["timeline"]] == [1, 2, 3, 4]
    assert first["timeline"][2]["stale"] is True
    # What changed, typed for scripts (a person's words are made in the window).
    assert first["timeline"][0]["changes"] == [
        {"field": "job-state", "new": "Pending"},
        {"field": "images-received", "new": "0"},
    ]
    assert first["timeline"][2]["changes"] == [{"field": "stale"}]


def test_device_filter(filled: Path, tmp_path: Path) -> None:
    assert export_jobs_csv(filled, tmp_path / "j.csv", device=DEV2).written == 1
    assert [r["job_token"] for r in _csv(tmp_path / "j.csv")] == ["tok-2"]
    assert export_events_csv(filled, tmp_path / "e.csv", device=DEV).written == 4
    assert export_jobs_json(filled, tmp_path / "none.json", device="urn:uuid:nobody").written == 0
    assert json.loads((tmp_path / "none.json").read_text(encoding="utf-8")) == []


def test_events_csv_content(filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    assert export_events_csv(filled, out) == ExportResult(5, 0)
    rows = _csv(out)
    assert tuple(rows[0]) == EVENT_CSV_COLUMNS
    assert rows[0] == {
        "id": "1",
        "arrival": "2026-11-23T17:00:01+00:00",
        "device": DEV,
        "subscription": "urn:uuid:sub-1",
        "action": message(1).action,
        "message_id": "urn:uuid:msg-1",
        "summary": "job tok-1: Processing, 1 images",
    }
    assert rows[4]["subscription"] == ""


def test_events_json_includes_the_raw_xml_and_keeps_non_utf8_bytes(filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.json"
    assert export_events_json(filled, out).written == 5
    events = json.loads(out.read_text(encoding="utf-8"))
    assert events[0]["raw"] == raw(1).decode()
    assert events[0]["summary"] == "job tok-1: Processing, 1 images"
    assert events[4]["raw"] is None
    assert base64.b64decode(events[4]["raw_base64"]) == "<x>é</x>".encode("utf-16")


def test_corrupted_json_row_is_skipped_with_a_warning_and_counted(
    filled: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with sqlite3.connect(filled) as conn:
        conn.execute("UPDATE jobs SET record = '{not json' WHERE job_token = 'tok-1'")
        conn.execute("UPDATE messages SET raw = 'text, not a blob' WHERE id = 2")
    with caplog.at_level(logging.WARNING, logger="wsdmon.store"):
        assert export_jobs_csv(filled, tmp_path / "jobs.csv") == ExportResult(1, 1)
        assert export_jobs_json(filled, tmp_path / "jobs.json").skipped == 1
        assert export_events_json(filled, tmp_path / "events.json") == ExportResult(4, 1)
    assert [r["job_token"] for r in _csv(tmp_path / "jobs.csv")] == ["tok-2"]
    assert "skipped damaged job 'tok-1'" in caplog.text
    assert "skipped damaged message row 2" in caplog.text


def test_export_reads_while_the_journal_is_open_and_writing(filled: Path, tmp_path: Path) -> None:
    with Journal(filled) as j:
        j.append_message(*message(6))
        assert export_events_csv(filled, tmp_path / "e.csv").written == 6


def test_cancelled_export_leaves_no_file(
    filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "PROGRESS_EVERY_ROWS", 2)
    out = tmp_path / "events.json"
    out.write_text("previous export", encoding="utf-8")
    calls: list[int] = []

    def progress(done: int) -> bool:
        calls.append(done)
        return done < 4

    result = export_events_json(filled, out, progress=progress)
    assert result.cancelled
    assert calls == [2, 4]
    assert out.read_text(encoding="utf-8") == "previous export"  # untouched
    assert not list(tmp_path.glob("*.part"))


def test_missing_journal_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no journal"):
        export_jobs_csv(tmp_path / "nothing.sqlite3", tmp_path / "out.csv")
    assert not (tmp_path / "nothing.sqlite3").exists()


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_write_records_keeps_the_views_order(tmp_path: Path, kind: str) -> None:
    table = JobTable()
    first = lifecycle(table, "tok-b")
    second = lifecycle(table, "tok-a")
    out = tmp_path / f"view.{kind}"
    result = export_module.write_records(out, kind, [first, second])
    assert result.written == 2
    if kind == "csv":
        rows = _csv(out)
        assert [r["job_token"] for r in rows] == ["tok-b", "tok-a"]
        assert rows[0]["job_state"] == str(first.status.job_state)
    else:
        items = json.loads(out.read_text(encoding="utf-8"))
        assert [i["job_token"] for i in items] == ["tok-b", "tok-a"]
    assert not out.with_name(out.name + ".part").exists()


def test_write_records_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export_module.write_records(tmp_path / "x.xml", "xml", [])


@pytest.mark.parametrize(
    "token",
    ['=HYPERLINK("http://evil","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\tx", "\uff1d1+1"],
)
def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_written_as_text(
    db_path: Path, tmp_path: Path, token: str
) -> None:
    # Tokens and names come from the network: OWASP "CSV injection".
    table = JobTable()
    with Journal(db_path) as j:
        j.append_messages([message(1)._replace(summary=f"PostScanJobStatusEvent {token}", action=token)])
        observe(table, status(token, JobState.PROCESSING, 2), 1, 1)
        j.upsert_jobs(table.jobs.values(), 1)
    jobs_csv, events_csv, jobs_json = tmp_path / "j.csv", tmp_path / "e.csv", tmp_path / "j.json"
    export_jobs_csv(db_path, jobs_csv)
    export_events_csv(db_path, events_csv)
    export_jobs_json(db_path, jobs_json)
    assert _csv(jobs_csv)[0]["job_token"] == "'" + token
    assert _csv(jobs_csv)[0]["images_received"] == "2"  # numbers stay numbers
    event = _csv(events_csv)[0]
    assert event["action"] == "'" + token
    assert event["summary"] == f"PostScanJobStatusEvent {token}"  # does not begin with a formula
    assert json.loads(jobs_json.read_text(encoding="utf-8"))[0]["job_token"] == token  # JSON: as received
    table_rows = tmp_path / "view.csv"
    export_module.write_records(table_rows, "csv", list(table.jobs.values()))
    assert _csv(table_rows)[0]["job_token"] == "'" + token


def test_a_negative_duration_stays_a_number_in_csv(db_path: Path, tmp_path: Path) -> None:
    table = JobTable()
    created = datetime.fromisoformat("2026-11-23T18:00:30+00:00")
    completed = datetime.fromisoformat("2026-11-23T18:00:00+00:00")  # server clock went back
    with Journal(db_path) as j:
        observe(table, status("tok-1", JobState.COMPLETED, 2, created=created, completed=completed), 1, 1)
        j.upsert_jobs(table.jobs.values(), 1)
    out = tmp_path / "j.csv"
    export_jobs_csv(db_path, out)
    assert _csv(out)[0]["duration_s"] == "-30.0"
