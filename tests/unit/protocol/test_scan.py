"""WS-Scan device events (protocol/scan.py): the driver docs' examples, any prefix, the DSM docs' dsd:
wrappers, missing or invalid children, and vendor values and elements kept."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from wsdmon.protocol import MESSAGE_TYPES, LocalProtocolError, RemoteProtocolError, decode, encode, scan
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import PostScanJobStatusEvent
from wsdmon.protocol.scan import (
    Component,
    ConditionName,
    DeviceCondition,
    DeviceConditionCleared,
    JobEndState,
    JobEndStateEvent,
    JobState,
    JobStateReason,
    JobStatus,
    JobStatusEvent,
    ScannerState,
    ScannerStateReason,
    ScannerStatusConditionClearedEvent,
    ScannerStatusConditionEvent,
    ScannerStatusSummaryEvent,
    Severity,
    StatusSummary,
)

from .cases_scan import CASES

WSCN = ns.WSCN
W = "{" + WSCN + "}"


def envelope(event: str, body: str, declarations: str = f'xmlns:wscn="{WSCN}"') -> bytes:
    """A notification as a device sends it: `event` names the action, `body` is soap:Body's content."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="{ns.SOAP}" xmlns:wsa="{ns.WSA}" {declarations}>
  <soap:Header>
    <wsa:To>http://192.0.2.10:6200/wsdmon/sink/3b1d</wsa:To>
    <wsa:Action>{WSCN}/{event}</wsa:Action>
    <wsa:MessageID>urn:uuid:00000000-0000-4000-8000-000000000999</wsa:MessageID>
  </soap:Header>
  <soap:Body>{body}</soap:Body>
</soap:Envelope>""".encode()


# --- the driver docs' examples (namespace corrected from their 2006/01 draft to 2006/08) ---------

DOCS_JOB_STATUS = """
    <wscn:JobStatusEvent>
      <wscn:JobStatus>
        <wscn:JobId>253</wscn:JobId>
        <wscn:JobState>Processing</wscn:JobState>
        <wscn:JobStateReasons>
          <wscn:JobStateReason>JobScanning</wscn:JobStateReason>
        </wscn:JobStateReasons>
        <wscn:ScansCompleted>4</wscn:ScansCompleted>
        <wscn:JobCreatedTime>2006-01-24T11:34:35.8345Z</wscn:JobCreatedTime>
      </wscn:JobStatus>
    </wscn:JobStatusEvent>"""

DOCS_JOB_END_STATE = """
    <wscn:JobEndStateEvent>
      <wscn:JobEndState>
        <wscn:JobId>253</wscn:JobId>
        <wscn:JobCompletedState>Completed</wscn:JobCompletedState>
        <wscn:JobCompletedStateReasons>
          <wscn:JobStateReason>JobCompletedWithWarnings</wscn:JobStateReason>
        </wscn:JobCompletedStateReasons>
        <wscn:JobName>Scan from Imaging App</wscn:JobName>
        <wscn:JobOriginatingUserName>User</wscn:JobOriginatingUserName>
        <wscn:ScansCompleted>7</wscn:ScansCompleted>
        <wscn:JobCompletedTime>
          2006-01-24T11:37:05.673Z
        </wscn:JobCompletedTime>
      </wscn:JobEndState>
    </wscn:JobEndStateEvent>"""

DOCS_SUMMARY = """
    <wscn:ScannerStatusSummaryEvent>
      <wscn:StatusSummary>
        <wscn:ScannerState>Stopped</wscn:ScannerState>
        <wscn:ScannerStateReasons>
          <wscn:ScannerStateReason>MediaJam</wscn:ScannerStateReason>
        </wscn:ScannerStateReasons>
      </wscn:StatusSummary>
    </wscn:ScannerStatusSummaryEvent>"""

DOCS_CONDITION = """
    <wscn:ScannerStatusConditionEvent>
      <wscn:DeviceCondition wscn:Id="1543">
        <wscn:Time>2006-01-21T17:22:27.5242689Z</wscn:Time>
        <wscn:Name>LampError</wscn:Name>
        <wscn:Component>Platen</wscn:Component>
        <wscn:Severity>Critical</wscn:Severity>
      </wscn:DeviceCondition>
    </wscn:ScannerStatusConditionEvent>"""

DOCS_CLEARED = """
    <wscn:ScannerStatusConditionClearedEvent>
      <wscn:DeviceConditionCleared>
        <wscn:ConditionId>1543</wscn:ConditionId>
        <wscn:ConditionClearTime>
          2006-01-21T17:22:35.8345Z
        </wscn:ConditionClearTime>
      </wscn:DeviceConditionCleared>
    </wscn:ScannerStatusConditionClearedEvent>"""

DOCS_EXAMPLES = {
    "JobStatusEvent": (
        DOCS_JOB_STATUS,
        JobStatus(
            253,
            JobState.PROCESSING,
            (JobStateReason.JOB_SCANNING,),
            4,
            datetime(2006, 1, 24, 11, 34, 35, 834500, tzinfo=UTC),
        ),
    ),
    "JobEndStateEvent": (
        DOCS_JOB_END_STATE,
        JobEndState(
            253,
            "Scan from Imaging App",
            "User",
            JobState.COMPLETED,
            (JobStateReason.JOB_COMPLETED_WITH_WARNINGS,),
            7,
            datetime(2006, 1, 24, 11, 37, 5, 673000, tzinfo=UTC),
        ),
    ),
    "ScannerStatusSummaryEvent": (
        DOCS_SUMMARY,
        StatusSummary(ScannerState.STOPPED, (ScannerStateReason.MEDIA_JAM,)),
    ),
    "ScannerStatusConditionEvent": (
        DOCS_CONDITION,
        DeviceCondition(
            1543,
            datetime(2006, 1, 21, 17, 22, 27, 524268, tzinfo=UTC),  # 7 digits, truncated to µs
            ConditionName.LAMP_ERROR,
            Component.PLATEN,
            Severity.CRITICAL,
        ),
    ),
    "ScannerStatusConditionClearedEvent": (
        DOCS_CLEARED,
        DeviceConditionCleared(1543, datetime(2006, 1, 21, 17, 22, 35, 834500, tzinfo=UTC)),
    ),
}


def decoded(data: bytes) -> Any:
    """decode(), typed loosely: the tests reach into the fields of whichever event it returns."""
    return decode(data)


def payload(message: object) -> Any:
    """The one wscn structure an event carries: its field after `header`."""
    assert dataclasses.is_dataclass(message)
    return getattr(message, dataclasses.fields(message)[1].name)


@pytest.mark.parametrize("event", sorted(DOCS_EXAMPLES))
def test_docs_example_parses(event: str) -> None:
    body, expected = DOCS_EXAMPLES[event]
    message = decoded(envelope(event, body))
    assert type(message).__name__ == event
    assert payload(message) == expected
    assert message.extensions == ()


@pytest.mark.parametrize("event", sorted(DOCS_EXAMPLES))
def test_dsm_device_dsd_wrappers_parse_like_wscn(event: str) -> None:
    # The DSM docs' "<Event> Example" pages wrap the event and its payload in dsd: elements.
    body, expected = DOCS_EXAMPLES[event]
    inner = re.search(r"<wscn:(\w+)", body.split(f"<wscn:{event}>", 1)[1])
    assert inner is not None
    for local in (event, inner.group(1)):
        body = body.replace(f"<wscn:{local}>", f"<dsd:{local}>").replace(
            f"</wscn:{local}>", f"</dsd:{local}>"
        )
        body = body.replace(f"<wscn:{local} ", f"<dsd:{local} ")
    body = body.replace('wscn:Id="1543"', 'Id="1543"')
    data = envelope(event, body, f'xmlns:wscn="{WSCN}" xmlns:dsd="{ns.DSD}"')
    assert b"<dsd:" in data
    assert payload(decode(data)) == expected


# --- any prefix, default namespace, declarations where the device puts them -------------------


def with_prefix(data: bytes, prefix: str) -> bytes:
    text = data.decode()
    text = text.replace("xmlns:wscn=", f"xmlns:{prefix}=").replace("<wscn:", f"<{prefix}:")
    return text.replace("</wscn:", f"</{prefix}:").encode()


def with_default_namespace_on_event(data: bytes) -> bytes:
    text = data.decode().replace(f' xmlns:wscn="{WSCN}"', "")
    text = text.replace("<wscn:", "<").replace("</wscn:", "</")
    text = re.sub(r"<soap:Body>\s*<(\w+)", rf'<soap:Body><\1 xmlns="{WSCN}"', text)
    return text.encode()


EVENT_CASES = sorted(n for n in CASES if "getscannerelements" not in n)


@pytest.mark.parametrize("name", EVENT_CASES)
def test_other_prefixes_and_default_namespace(name: str) -> None:
    data = encode(CASES[name])
    assert b"<wscn:" in data
    for variant in (
        with_prefix(data, "s"),
        with_prefix(data, "scan2"),
        with_default_namespace_on_event(data),
    ):
        assert b"<wscn:" not in variant
        assert decode(variant) == CASES[name]


@pytest.mark.parametrize("name", sorted(set(CASES) - set(EVENT_CASES)))
def test_get_scanner_elements_under_another_prefix(name: str) -> None:
    # QName values (Name text, the Name attribute) and the qualified attributes carry the prefix too.
    data = encode(CASES[name])
    variant = data.decode().replace("xmlns:wscn=", "xmlns:s2=").replace("wscn:", "s2:").encode()
    assert b"wscn" not in variant
    assert decode(variant) == CASES[name]


def test_get_scanner_elements_as_the_driver_docs_write_it() -> None:
    # "GetScannerElementsResponse element" example: qualified Name/Valid, wscn:Id on the conditions,
    # values with whitespace around them (its 2006/01 namespace swapped for the released one).
    body = f"""<wscn:GetScannerElementsResponse xmlns:wscn="{WSCN}"><wscn:ScannerElements>
      <wscn:ElementData wscn:Name="wscn:ScannerStatus" wscn:Valid="true"><wscn:ScannerStatus>
        <wscn:ScannerCurrentTime> 2006-01-26T11:17:00Z </wscn:ScannerCurrentTime>
        <wscn:ScannerState>Stopped</wscn:ScannerState>
        <wscn:ScannerStateReasons><wscn:ScannerStateReason>MediaJam</wscn:ScannerStateReason>
        </wscn:ScannerStateReasons>
        <wscn:ActiveConditions><wscn:DeviceCondition wscn:Id="1384">
          <wscn:Time>2005-01-26T11:07:00Z</wscn:Time>
          <wscn:Name>MediaJam</wscn:Name><wscn:Component>MediaPath</wscn:Component>
          <wscn:Severity>Critical</wscn:Severity></wscn:DeviceCondition></wscn:ActiveConditions>
        <wscn:ConditionHistory/>
      </wscn:ScannerStatus></wscn:ElementData>
      <wscn:ElementData Name="wscn:ScannerConfiguration" Valid="false"/>
    </wscn:ScannerElements></wscn:GetScannerElementsResponse>"""
    message = decode(envelope("GetScannerElementsResponse", body, f'xmlns:wscn="{WSCN}"'))
    assert isinstance(message, scan.GetScannerElementsResponse)
    status = message.status()
    assert status is not None
    assert status.scanner_state == ScannerState.STOPPED
    assert [(c.condition_id, c.name, c.component) for c in status.active_conditions] == [
        (1384, "MediaJam", "MediaPath")
    ]
    assert message.elements[1].valid is False


def test_namespace_is_matched_by_uri_not_prefix() -> None:
    # The docs' own 2006/01 draft namespace under the usual prefix is another vocabulary.
    data = envelope(
        "JobStatusEvent",
        DOCS_JOB_STATUS,
        'xmlns:wscn="http://schemas.microsoft.com/windows/2006/01/wdp/scan"',
    )
    with pytest.raises(RemoteProtocolError, match="expected JobStatusEvent"):
        decode(data)


# --- missing and invalid children --------------------------------------------------------------


def edited(name: str, local: str, text: str | None = None) -> bytes:
    """CASES[name] built, with its first wscn:<local> removed (text None) or its text replaced."""
    root = etree.fromstring(encode(CASES[name]))
    el = root.find(f".//{W}{local}")
    assert el is not None, f"{name} has no {local}"
    if text is None:
        parent = el.getparent()
        assert parent is not None
        parent.remove(el)
    else:
        el.text = text
    return etree.tostring(root)


REQUIRED = [
    ("wscn-jobstatusevent-scanning", "JobStatus"),
    ("wscn-jobstatusevent-scanning", "JobId"),
    ("wscn-jobstatusevent-scanning", "JobState"),
    ("wscn-jobstatusevent-scanning", "ScansCompleted"),
    ("wscn-jobendstateevent", "JobEndState"),
    ("wscn-jobendstateevent", "JobId"),
    ("wscn-jobendstateevent", "JobCompletedState"),
    ("wscn-jobendstateevent", "JobCompletedStateReasons"),
    ("wscn-jobendstateevent", "JobName"),
    ("wscn-jobendstateevent", "JobOriginatingUserName"),
    ("wscn-jobendstateevent", "ScansCompleted"),
    ("wscn-scannerstatussummaryevent-stopped", "StatusSummary"),
    ("wscn-scannerstatussummaryevent-stopped", "ScannerState"),
    ("wscn-scannerstatusconditionevent", "DeviceCondition"),
    ("wscn-scannerstatusconditionevent", "Time"),
    ("wscn-scannerstatusconditionevent", "Name"),
    ("wscn-scannerstatusconditionevent", "Component"),
    ("wscn-scannerstatusconditionevent", "Severity"),
    ("wscn-scannerstatusconditionclearedevent", "DeviceConditionCleared"),
    ("wscn-scannerstatusconditionclearedevent", "ConditionId"),
    ("wscn-scannerstatusconditionclearedevent", "ConditionClearTime"),
]


@pytest.mark.parametrize(("name", "local"), REQUIRED)
def test_missing_required_child_is_remote_error(name: str, local: str) -> None:
    with pytest.raises(RemoteProtocolError, match=f"lacks required {local}$"):
        decode(edited(name, local))


OPTIONAL = [
    ("wscn-jobstatusevent-completed", "JobStateReasons", "job_state_reasons", ()),
    ("wscn-jobstatusevent-completed", "JobCreatedTime", "job_created_time", None),
    ("wscn-jobstatusevent-completed", "JobCompletedTime", "job_completed_time", None),
    ("wscn-jobendstateevent", "JobCompletedTime", "job_completed_time", None),
    ("wscn-scannerstatussummaryevent-stopped", "ScannerStateReasons", "scanner_state_reasons", ()),
]


@pytest.mark.parametrize(("name", "local", "attr", "empty"), OPTIONAL)
def test_missing_optional_child_is_fine(name: str, local: str, attr: str, empty: object) -> None:
    assert getattr(payload(decode(edited(name, local))), attr) == empty


def test_empty_reason_lists_are_accepted() -> None:
    # "JobCompletedStateReasons element": "zero or more JobStateReason elements".
    message = decoded(edited("wscn-jobstatusevent-completed", "JobStateReason"))
    assert message.job_status.job_state_reasons == ()


INVALID = [
    ("wscn-jobstatusevent-scanning", "JobId", "0", "outside 1"),
    ("wscn-jobstatusevent-scanning", "JobId", "2147483649", "outside 1"),
    ("wscn-jobstatusevent-scanning", "JobId", "two-five-three", "not an integer"),
    ("wscn-jobstatusevent-scanning", "ScansCompleted", "-1", "outside 0"),
    ("wscn-jobstatusevent-scanning", "JobCreatedTime", "yesterday", "not an xs:dateTime"),
    ("wscn-jobstatusevent-scanning", "JobState", "  ", "NMTOKEN"),
    ("wscn-jobstatusevent-scanning", "JobStateReason", "two words", "NMTOKEN"),
    ("wscn-jobendstateevent", "JobCompletedState", "Processing", "not a final state"),
    ("wscn-jobendstateevent", "JobName", "x" * 256, "exceeds 255"),
    ("wscn-scannerstatussummaryevent-stopped", "ScannerState", "", "NMTOKEN"),
    ("wscn-scannerstatusconditionevent", "Severity", "", "NMTOKEN"),
    ("wscn-scannerstatusconditionevent", "Time", "17:22", "not an xs:dateTime"),
    ("wscn-scannerstatusconditionclearedevent", "ConditionId", "0", "outside 1"),
]


@pytest.mark.parametrize(("name", "local", "text", "match"), INVALID)
def test_invalid_value_is_remote_error(name: str, local: str, text: str, match: str) -> None:
    with pytest.raises(RemoteProtocolError, match=match):
        decode(edited(name, local, text))


def test_job_id_range_is_the_docs() -> None:
    # "JobId element": "An integer value from 1 through 2147483648" (one past xs:int; as written).
    message = decoded(edited("wscn-jobstatusevent-scanning", "JobId", " 2147483648 "))
    assert message.job_status.job_id == 2147483648


def test_device_condition_id_attribute() -> None:
    data = encode(CASES["wscn-scannerstatusconditionevent"])
    assert b'<wscn:DeviceCondition Id="1543">' in data  # the attribute table's unqualified Id
    qualified = data.replace(b' Id="1543"', b' wscn:Id="1543"')
    assert decode(qualified) == CASES["wscn-scannerstatusconditionevent"]
    with pytest.raises(RemoteProtocolError, match="lacks required Id attribute"):
        decode(data.replace(b' Id="1543"', b""))
    with pytest.raises(RemoteProtocolError, match="not an integer"):
        decode(data.replace(b' Id="1543"', b' Id="lamp"'))
    with pytest.raises(RemoteProtocolError, match="outside 1"):
        decode(data.replace(b' Id="1543"', b' Id="0"'))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("", "Body lacks JobStatusEvent"),
        (f'<x:Other xmlns:x="{WSCN}"/>', "expected JobStatusEvent"),
        ("<wscn:JobStatusEvent/>", "JobStatusEvent lacks required JobStatus"),
    ],
)
def test_wrong_body_is_remote_error(body: str, match: str) -> None:
    with pytest.raises(RemoteProtocolError, match=match):
        decode(envelope("JobStatusEvent", body))


# --- vendor values and elements ----------------------------------------------------------------


def test_vendor_values_are_kept_as_plain_strings() -> None:
    status = decoded(encode(CASES["wscn-jobstatusevent-vendor"])).job_status
    assert status.job_state == "acme:Stapling"
    assert not isinstance(status.job_state, JobState)
    assert status.job_state_reasons == ("acme:FinisherBusy", JobStateReason.NONE)
    assert type(status.job_state_reasons[0]) is str
    assert isinstance(status.job_state_reasons[1], JobStateReason)
    condition = decoded(encode(CASES["wscn-scannerstatusconditionevent-vendor"])).condition
    assert (condition.name, condition.component, condition.severity) == (
        "acme:DustOnGlass",
        "acme:Stapler",
        Severity.WARNING,
    )


def test_values_the_docs_do_not_list_are_kept() -> None:
    # The PWG value JobCompletedSuccessfully is not in the wscn JobStateReason list: shown as given.
    message = decoded(edited("wscn-jobendstateevent", "JobStateReason", "JobCompletedSuccessfully"))
    reasons = message.end_state.job_completed_state_reasons
    assert reasons == ("JobCompletedSuccessfully",)
    assert not isinstance(reasons[0], JobStateReason)


@pytest.mark.parametrize(
    "name",
    [
        "wscn-jobstatusevent-vendor",
        "wscn-jobendstateevent-vendor",
        "wscn-scannerstatussummaryevent-vendor",
        "wscn-scannerstatusconditionevent-vendor",
        "wscn-scannerstatusconditionclearedevent-vendor",
    ],
)
def test_vendor_elements_are_kept(name: str) -> None:
    message = decoded(encode(CASES[name]))
    assert message.extensions == ('<acme:Trace xmlns:acme="urn:acme" id="9"></acme:Trace>',)
    assert payload(message).extensions == ('<acme:Priority xmlns:acme="urn:acme">high</acme:Priority>',)


def test_unknown_wscn_children_do_not_reject_the_event() -> None:
    body = DOCS_JOB_STATUS.replace(
        "<wscn:ScansCompleted>", "<wscn:JobFutureThing>x</wscn:JobFutureThing><wscn:ScansCompleted>"
    )
    assert payload(decode(envelope("JobStatusEvent", body))) == DOCS_EXAMPLES["JobStatusEvent"][1]


# --- our own values (LocalProtocolError) and the model --------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: JobStatus(0, JobState.STARTED, (), 0),
        lambda: JobStatus(1, "two words", (), 0),
        lambda: JobStatus(1, JobState.STARTED, ("",), 0),
        lambda: JobStatus(1, JobState.STARTED, (), -1),
        lambda: JobEndState(1, "n" * 256, "u", JobState.COMPLETED, (), 0),
        lambda: JobEndState(1, "n", "u", JobState.PROCESSING, (), 0),
        lambda: StatusSummary(""),
        lambda: DeviceCondition(
            2147483649, datetime(2026, 1, 1), ConditionName.MEDIA_JAM, Component.ADF, Severity.CRITICAL
        ),
        lambda: DeviceConditionCleared(0, datetime(2026, 1, 1)),
    ],
)
def test_constructors_reject_what_the_docs_forbid(build: Callable[[], object]) -> None:
    with pytest.raises(LocalProtocolError):
        build()


def test_job_end_state_accepts_every_final_state_and_vendor_states() -> None:
    for state in (JobState.ABORTED, JobState.CANCELED, JobState.COMPLETED, JobState.TERMINATING, "acme:Gone"):
        assert JobEndState(1, "n", "u", state, (), 0).job_completed_state == state


def test_is_terminal() -> None:
    assert JobStatus(1, JobState.CANCELED, (), 0).is_terminal
    assert not JobStatus(1, JobState.HELD, (), 0).is_terminal
    assert not JobStatus(1, "acme:Done", (), 0).is_terminal


def test_ws_scan_job_is_not_the_dsm_post_scan_job() -> None:
    message = decode(encode(CASES["wscn-jobstatusevent-scanning"]))
    assert isinstance(message, JobStatusEvent)
    assert not isinstance(message, PostScanJobStatusEvent)
    assert message.job_status.job_id == 253
    assert not hasattr(message.job_status, "job_token")


def test_every_scan_message_is_dispatched() -> None:
    assert set(scan.MESSAGES) <= set(MESSAGE_TYPES)
    assert {m.ACTION for m in scan.MESSAGES} == {
        ns.WSCN_JOB_STATUS_EVENT,
        ns.WSCN_JOB_END_STATE_EVENT,
        ns.WSCN_SCANNER_STATUS_SUMMARY_EVENT,
        ns.WSCN_SCANNER_STATUS_CONDITION_EVENT,
        ns.WSCN_SCANNER_STATUS_CONDITION_CLEARED_EVENT,
        ns.WSCN_GET_SCANNER_ELEMENTS,
        ns.WSCN_GET_SCANNER_ELEMENTS_RESPONSE,
    }
    assert {type(m) for m in CASES.values()} == {
        scan.GetScannerElementsRequest,
        scan.GetScannerElementsResponse,
        JobStatusEvent,
        JobEndStateEvent,
        ScannerStatusSummaryEvent,
        ScannerStatusConditionEvent,
        ScannerStatusConditionClearedEvent,
    }


@pytest.mark.parametrize(
    "part",
    [JobStatus, JobEndState, StatusSummary, DeviceCondition, DeviceConditionCleared, scan.ScannerStatus],
)
def test_field_tables_name_dataclass_fields(part: type[Any]) -> None:
    names = {f.name for f in dataclasses.fields(part)}
    assert {f.attr for f in part.FIELDS} <= names
    assert len({f.tag for f in part.FIELDS}) == len(part.FIELDS)
