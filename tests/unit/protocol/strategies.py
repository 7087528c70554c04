"""Hypothesis strategies for protocol values (shared by the property tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from wsdmon.protocol import Headers
from wsdmon.protocol.dsm import (
    FilterState,
    FilterStateReason,
    FilterStatus,
    JobState,
    JobStateReason,
    JobStatus,
    PostScanJobEndState,
)

# XML 1.0 Char production minus the characters XML would normalise (CR) or that are not allowed.
xml_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters="\r", whitelist_characters="\t\n"
    ),
    max_size=40,
)
xml_token = st.text(alphabet=st.characters(whitelist_categories=("L", "Nd")), min_size=1, max_size=20)
uri = st.builds(lambda a, b: f"urn:{a}:{b}", xml_token, xml_token)
message_id = st.uuids().map(lambda u: u.urn)
vendor_keyword = st.builds(lambda p, n: f"{p}:{n}", xml_token, xml_token)


def enum_or_vendor(enum: type) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(list(enum)), vendor_keyword)


offsets = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
xs_datetimes = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)),
    offsets,
)
# A job token is opaque: any non-empty String255 without characters XML cannot carry; a token made
# only of whitespace is legal per the schema but libxml2 drops blank text, so it is excluded here.
job_tokens = xml_text.filter(lambda t: t.strip() != "" and len(t) <= 255)

filter_statuses = st.builds(
    FilterStatus,
    uri,
    enum_or_vendor(FilterState),
    st.lists(enum_or_vendor(FilterStateReason), max_size=3).map(tuple),
)

job_statuses = st.builds(
    JobStatus,
    job_tokens,
    enum_or_vendor(JobState),
    st.lists(enum_or_vendor(JobStateReason), max_size=3).map(tuple),
    st.lists(filter_statuses, min_size=1, max_size=4).map(tuple),
    st.integers(min_value=0, max_value=2**31 - 1),
    st.one_of(st.none(), xs_datetimes),
    st.one_of(st.none(), xs_datetimes),
)

end_states = st.builds(
    PostScanJobEndState,
    job_tokens,
    xml_text.filter(lambda t: t.strip() == t),
    xml_text.filter(lambda t: t.strip() == t),
    xml_text.filter(lambda t: t.strip() == t),
    enum_or_vendor(JobState),
    st.lists(enum_or_vendor(JobStateReason), min_size=1, max_size=3).map(tuple),
    st.lists(filter_statuses, min_size=1, max_size=4).map(tuple),
    st.integers(min_value=0, max_value=2**31 - 1),
    st.one_of(st.none(), xs_datetimes),
)

event_headers = st.builds(
    Headers,
    message_id=message_id,
    to=uri,
    identifier=st.one_of(st.none(), message_id),
)
