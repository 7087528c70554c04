"""Property tests: for generated values, parse(build(x)) == x (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings

from wsdmon.protocol import Headers, decode, encode
from wsdmon.protocol.dsm import (
    JobStatus,
    PostScanJobEndState,
    PostScanJobEndStateEvent,
    PostScanJobStatusEvent,
)

from .strategies import end_states, event_headers, job_statuses

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


@PROPERTY_SETTINGS
@given(event_headers, job_statuses)
def test_job_status_event_round_trips(header: Headers, status: JobStatus) -> None:
    event = PostScanJobStatusEvent(header, status)
    assert decode(encode(event)) == event


@PROPERTY_SETTINGS
@given(event_headers, end_states)
def test_end_state_event_round_trips(header: Headers, end_state: PostScanJobEndState) -> None:
    event = PostScanJobEndStateEvent(header, end_state)
    assert decode(encode(event)) == event
