"""The detail pane's timeline words typed changes (core.changes) through tr(), and shows the English
lines an older wsdmon stored in its journal as they were written."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QTranslator

from wsdmon.core import JobTable, Observation, ObservationKind
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import FilterStatus, JobStatus
from wsdmon.store.codec import decode_timeline_entry
from wsdmon.widgets import DetailPane

DEV = "urn:uuid:5f0c2a4e-8d1b-4c3a-9e7f-0a1b2c3d4e5f"
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
LOST = "Lost: the server reports it neither as active (GetActiveJobs) nor in its history (GetJobHistory)"


class Marking(QTranslator):
    def translate(self, context, source, disambiguation=None, n=-1):
        return f"‹{source}›"

    def isEmpty(self):
        return False


def _status(state: str, images: int, fs: str) -> JobStatus:
    return JobStatus(
        "tok-1", state, ("None",), (FilterStatus(ns.FILTER_FILESHARE, fs, ("acme:Slow",)),), images
    )


def _lines(pane: DetailPane) -> list[str]:
    model = pane.timeline
    return [model.index(r, 2).data() for r in range(model.rowCount())]


@pytest.fixture
def record():
    table = JobTable()
    table.apply(Observation(ObservationKind.STATUS_EVENT, DEV, _status("Pending", 0, "Pending"), T0, "m1"))
    later = T0 + timedelta(seconds=2)
    table.apply(
        Observation(ObservationKind.STATUS_EVENT, DEV, _status("Processing", 2, "Processing"), later, "m2")
    )
    (lost,) = table.mark_lost(DEV, [], T0 + timedelta(seconds=5), T0 + timedelta(seconds=6))
    return lost.record


def test_the_timeline_words_what_each_observation_changed(qtbot, record):
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.show_record(record)
    assert _lines(pane) == [
        "JobState: Pending\nImagesReceived: 0",
        "JobState: Pending → Processing\nImagesReceived: 0 → 2\n"
        "Filter fileshare: Pending → Processing (acme:Slow)",
        LOST,
    ]


def test_the_timeline_words_go_through_tr(qtbot, qapp, record):
    translator = Marking()
    qapp.installTranslator(translator)
    try:
        pane = DetailPane()
        qtbot.addWidget(pane)
        pane.show_record(record)
        lines = _lines(pane)
    finally:
        qapp.removeTranslator(translator)
    assert "JobState: ‹Pending → Processing›" in lines[1]  # the arrow's form is the translator's
    assert "‹Filter fileshare: ‹Pending → Processing››" in lines[1]
    assert lines[2] == f"‹{LOST}›"


def test_lines_stored_by_an_older_wsdmon_are_shown_as_written(qtbot, record):
    old = decode_timeline_entry(
        {
            "arrival": "2026-11-23T17:00:09+00:00",
            "kind": "status-event",
            "changes": [
                "JobState: Processing → Completed",
                "Filter fileshare: Processing → CompletedSuccessfully",
            ],
            "stale": False,
            "message_id": "urn:uuid:m9",
            "journal_id": 9,
        }
    )
    pane = DetailPane()
    qtbot.addWidget(pane)
    pane.show_record(dataclasses.replace(record, timeline=(*record.timeline, old)))
    assert (
        _lines(pane)[-1]
        == "JobState: Processing → Completed\nFilter fileshare: Processing → CompletedSuccessfully"
    )
