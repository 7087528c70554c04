"""WS-Scan GetActiveJobs / GetJobHistory (protocol/scan_jobs.py): the driver docs' shapes, any prefix,
ActiveJobs/Job rows, vendor values and elements kept, malformed rows rejected clearly."""

from __future__ import annotations

import pytest

from wsdmon.protocol import RemoteProtocolError, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.scan import JobState, JobStateReason
from wsdmon.protocol.scan_jobs import GetActiveJobsResponse, GetJobHistoryResponse, JobSummary

from .cases_scan_jobs import CASES

WSCN = ns.WSCN


def response(action: str, body: str, prefix: str = "wscn") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="{ns.SOAP}" xmlns:wsa="{ns.WSA}" xmlns:{prefix}="{WSCN}">
  <soap:Header>
    <wsa:To>{ns.WSA_ANONYMOUS}</wsa:To>
    <wsa:Action>{WSCN}/{action}</wsa:Action>
    <wsa:MessageID>urn:uuid:00000000-0000-4000-8000-000000000777</wsa:MessageID>
  </soap:Header>
  <soap:Body>{body}</soap:Body>
</soap:Envelope>""".encode()


def test_empty_active_jobs_as_the_docs_answer_it() -> None:
    data = response(
        "GetActiveJobsResponse", "<wscn:GetActiveJobsResponse><wscn:ActiveJobs/></wscn:GetActiveJobsResponse>"
    )
    message = decode(data)
    assert isinstance(message, GetActiveJobsResponse)
    assert message.jobs == ()


def test_job_history_under_another_prefix_with_vendor_values() -> None:
    body = """<s:GetJobHistoryResponse><s:JobHistory>
        <s:JobSummary>
          <s:JobId>7</s:JobId><s:JobName>Invoice</s:JobName><s:JobOriginatingUserName>Pat</s:JobOriginatingUserName>
          <s:JobState>Completed</s:JobState>
          <s:JobStateReasons><s:JobStateReason>acme:Archived</s:JobStateReason></s:JobStateReasons>
          <s:ScansCompleted>3</s:ScansCompleted>
          <acme:Where xmlns:acme="urn:acme">tray 2</acme:Where>
        </s:JobSummary>
      </s:JobHistory></s:GetJobHistoryResponse>"""
    message = decode(response("GetJobHistoryResponse", body, "s"))
    assert isinstance(message, GetJobHistoryResponse)
    (job,) = message.jobs
    assert (job.job_id, job.job_name, job.job_originating_user_name) == (7, "Invoice", "Pat")
    assert job.job_state is JobState.COMPLETED
    assert job.job_state_reasons == ("acme:Archived",)
    assert job.scans_completed == 3
    assert len(job.extensions) == 1
    assert "tray 2" in job.extensions[0]


def test_an_active_jobs_job_element_reads_as_its_summary() -> None:
    body = """<wscn:GetActiveJobsResponse><wscn:ActiveJobs><wscn:Job>
        <wscn:JobStatus>
          <wscn:JobId>12</wscn:JobId><wscn:JobState>Processing</wscn:JobState>
          <wscn:JobStateReasons><wscn:JobStateReason>JobScanning</wscn:JobStateReason></wscn:JobStateReasons>
          <wscn:ScansCompleted>1</wscn:ScansCompleted>
        </wscn:JobStatus>
        <wscn:ScanTicket><wscn:JobDescription>
          <wscn:JobName>Scan</wscn:JobName><wscn:JobOriginatingUserName>Kim</wscn:JobOriginatingUserName>
        </wscn:JobDescription></wscn:ScanTicket>
      </wscn:Job></wscn:ActiveJobs></wscn:GetActiveJobsResponse>"""
    message = decode(response("GetActiveJobsResponse", body))
    assert isinstance(message, GetActiveJobsResponse)
    expected = JobSummary(12, "Scan", "Kim", JobState.PROCESSING, (JobStateReason.JOB_SCANNING,), 1)
    assert message.jobs == (expected,)


@pytest.mark.parametrize(
    ("row", "match"),
    [
        (
            "<wscn:JobSummary><wscn:JobState>Pending</wscn:JobState><wscn:ScansCompleted>0</wscn:ScansCompleted>"
            "</wscn:JobSummary>",
            "lacks required JobId",
        ),
        (
            "<wscn:JobSummary><wscn:JobId>0</wscn:JobId><wscn:JobState>Pending</wscn:JobState>"
            "<wscn:ScansCompleted>0</wscn:ScansCompleted></wscn:JobSummary>",
            "JobId 0",
        ),
        ("<wscn:Job><wscn:ScanTicket/></wscn:Job>", "Job lacks required JobStatus"),
    ],
)
def test_malformed_rows_are_remote_errors(row: str, match: str) -> None:
    listing = f"<wscn:ActiveJobs>{row}</wscn:ActiveJobs>"
    body = f"<wscn:GetActiveJobsResponse>{listing}</wscn:GetActiveJobsResponse>"
    with pytest.raises(RemoteProtocolError, match=match):
        decode(response("GetActiveJobsResponse", body))


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip(name: str) -> None:
    assert decode(encode(CASES[name])) == CASES[name]
