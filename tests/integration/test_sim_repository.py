"""The DSM scan server's MS-BDSRR operations and the scan device's WS-Scan events over loopback
HTTP, and the scenarios (steady mix, vendor extensions, faults) as a subscriber sees them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp

from wsdmon.protocol import EndpointReference, Fault, Headers, Message, decode, encode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol._xml import QName
from wsdmon.protocol.dsm import (
    FilterState,
    JobState,
    JobStateReason,
    PostScanJobEndStateEvent,
    PostScanJobStatusEvent,
)
from wsdmon.protocol.eventing import GetStatus, Subscribe, SubscribeResponse, SubscriptionEnd
from wsdmon.protocol.repository import (
    CancelPostScanJobRequest,
    CancelPostScanJobResponse,
    GetActiveJobsRequest,
    GetActiveJobsResponse,
    GetJobHistoryRequest,
    GetJobHistoryResponse,
    GetPostScanJobElementsRequest,
    GetPostScanJobElementsResponse,
    GetRepositoryElementsRequest,
    GetRepositoryElementsResponse,
    RepositoryStatusSummaryEvent,
)
from wsdmon.protocol.repository_types import (
    DOCUMENTS,
    JOB_DESCRIPTION,
    JOB_STATUS,
    REPOSITORY_CONFIGURATION,
    REPOSITORY_STATUS,
    Documents,
    JobDescription,
    RepositoryConfiguration,
    RepositoryStatus,
)
from wsdmon.protocol.scan import JobEndStateEvent, JobStatusEvent, ScannerStatusSummaryEvent
from wsdmon.simulator import (
    FilterPlan,
    JobPlan,
    Role,
    ScanJobPlan,
    Scenario,
    Simulator,
    SimulatorConfig,
    Timers,
)

from .sim_support import Sink, call, dsc_errors, dsc_schema, run

SUBSCRIBER = "urn:uuid:00000000-0000-4000-8000-0000000000aa"  # our wse:Identifier in NotifyTo/EndTo


def config(
    role: Role = Role.SCAN_SERVER, scenario: Scenario = Scenario.IDLE, **kw: object
) -> SimulatorConfig:
    options: dict[str, object] = {"time_scale": 1000.0, **kw}
    return SimulatorConfig(role=role, scenario=scenario, discovery=False, wsd_port=0, seed=11, **options)  # type: ignore[arg-type]


async def subscribe_all(
    http: aiohttp.ClientSession, url: str, sink: Sink, path: str = "/sink"
) -> SubscribeResponse:
    ref = EndpointReference(sink.url(path), SUBSCRIBER)
    _, resp = await call(http, url, Subscribe(Headers.request(url), ref, timedelta(minutes=10), end_to=ref))
    assert isinstance(resp, SubscribeResponse)
    return resp


def test_repository_operations_and_a_real_cancel() -> None:
    dsc_schema()  # skips when the shared schema is absent

    async def body() -> None:
        sink = await Sink().start()
        sim = Simulator(config(time_scale=1.0))
        await sim.start()
        try:
            dev = sim.devices[0]
            url = dev.service_url
            async with aiohttp.ClientSession() as http:

                async def ask(request: Message) -> object:
                    async with http.post(url, data=encode(request)) as r:
                        raw = await r.read()
                    assert dsc_errors(raw) in ("", None), raw
                    return decode(raw)

                await subscribe_all(http, url, sink)
                names = (REPOSITORY_CONFIGURATION, QName("urn:acme", "Unknown"), REPOSITORY_STATUS)
                elements = await ask(GetRepositoryElementsRequest(Headers.request(url), names))
                assert isinstance(elements, GetRepositoryElementsResponse)
                assert [(e.name, e.valid) for e in elements.elements] == [
                    (n, n.namespace == ns.DSC) for n in names
                ]
                config_el, _, status_el = elements.elements
                assert isinstance(config_el.content, RepositoryConfiguration)
                assert {f.dialect.local for f in config_el.content.filters} == {
                    "fileshare",
                    "sharepoint",
                    "email",
                }
                assert isinstance(status_el.content, RepositoryStatus)
                assert status_el.content.state == "Idle"

                # A job that waits for its images (1 per 60 s): active, then really canceled by the operation.
                job = dev.submit_job(
                    JobPlan(
                        images=3,
                        image_interval_s=60.0,
                        start_delay_s=0.0,
                        filters=(FilterPlan(), FilterPlan(ns.FILTER_EMAIL)),
                    )
                )
                await sink.until(
                    lambda i: (
                        isinstance(i.message, PostScanJobStatusEvent)
                        and i.message.job_status.job_state is JobState.PENDING
                    )
                )
                active = await ask(GetActiveJobsRequest(Headers.request(url)))
                assert isinstance(active, GetActiveJobsResponse)
                assert [j.job_token for j in active.jobs] == [job.token]
                assert active.jobs[0].psp_display_name == job.plan.psp_display_name
                canceled = await ask(CancelPostScanJobRequest(Headers.request(url), job.token))
                assert isinstance(canceled, CancelPostScanJobResponse)
                end = await asyncio.wait_for(job.wait(), 2)
                assert end.job_completed_state is JobState.CANCELED
                assert end.job_completed_state_reasons == (JobStateReason.POST_SCAN_JOB_CANCELED,)
                assert {f.state for f in end.filter_completed_statuses} == {FilterState.CANCELED}
                event = await sink.until(lambda i: isinstance(i.message, PostScanJobEndStateEvent))
                assert event.message.end_state.job_token == job.token  # type: ignore[union-attr]

                history = await ask(GetJobHistoryRequest(Headers.request(url)))
                assert isinstance(history, GetJobHistoryResponse)
                assert [j.job_state for j in history.jobs] == [JobState.CANCELED]
                active = await ask(GetActiveJobsRequest(Headers.request(url)))
                assert isinstance(active, GetActiveJobsResponse)
                assert active.jobs == ()
                requested = (JOB_STATUS, JOB_DESCRIPTION, DOCUMENTS)
                got = await ask(GetPostScanJobElementsRequest(Headers.request(url), job.token, requested))
                assert isinstance(got, GetPostScanJobElementsResponse)
                status, description, documents = (e.content for e in got.elements)
                assert status.job_state is JobState.CANCELED  # type: ignore[union-attr]
                assert isinstance(description, JobDescription)
                assert description.job_originating_user_name
                assert isinstance(documents, Documents)
                assert documents.documents == ()

                # No active job with that token any more: ClientErrorJobTokenNotFound, token in Detail.
                for request in (
                    CancelPostScanJobRequest(Headers.request(url), job.token),
                    GetPostScanJobElementsRequest(Headers.request(url), "no-such-token", requested),
                ):
                    fault = await ask(request)
                    assert isinstance(fault, Fault)
                    assert fault.subcode == QName(ns.DSC, "ClientErrorJobTokenNotFound")
                    assert fault.detail in (job.token, "no-such-token")
        finally:
            await sim.stop()
            await sink.close()

    run(body)


def test_cancel_while_filters_run_stops_the_running_one_and_cancels_the_rest() -> None:
    async def body() -> None:
        sim = Simulator(config(time_scale=1.0))
        await sim.start()
        try:
            dev = sim.devices[0]
            plan = JobPlan(
                images=1,
                image_interval_s=0.0,
                start_delay_s=0.0,
                filters=(
                    FilterPlan(duration_s=0.0),
                    FilterPlan(ns.FILTER_EMAIL, duration_s=60.0),
                    FilterPlan(ns.FILTER_SHAREPOINT),
                ),
            )
            job = dev.submit_job(plan)
            while job.filters[1].state != FilterState.PROCESSING:  # type: ignore[union-attr]
                await asyncio.sleep(0.01)
            assert dev.repository is not None
            assert dev.repository.cancel(job.token)
            end = await asyncio.wait_for(job.wait(), 2)
            assert end.job_completed_state is JobState.CANCELED
            assert [f.state for f in end.filter_completed_statuses] == [
                FilterState.COMPLETED_SUCCESSFULLY,
                FilterState.CANCELED,
                FilterState.CANCELED,
            ]
        finally:
            await sim.stop()

    run(body)


def test_scan_device_sends_ws_scan_job_and_status_events() -> None:
    async def body() -> None:
        sink = await Sink().start()
        sim = Simulator(config(role=Role.SCAN_DEVICE))
        await sim.start()
        try:
            dev = sim.devices[0]
            async with aiohttp.ClientSession() as http:
                await subscribe_all(http, dev.service_url, sink)
            job = dev.submit_job(ScanJobPlan(scans=3))
            end = await asyncio.wait_for(job.wait(), 5)
            await sink.until(
                lambda i: (
                    isinstance(i.message, ScannerStatusSummaryEvent)
                    and i.message.summary.scanner_state == "Idle"
                )
            )
        finally:
            await sim.stop()
            await sink.close()
        messages = [i.message for i in sink.received]
        scans = [m.job_status.scans_completed for m in messages if isinstance(m, JobStatusEvent)]
        assert scans[0] == 0
        assert scans[-1] == 3
        assert scans == sorted(scans)
        ends = [m for m in messages if isinstance(m, JobEndStateEvent)]
        assert len(ends) == 1
        assert ends[0].end_state.job_id == end.job_id
        assert end.job_completed_state == "Completed"
        assert end.scans_completed == 3
        states = [m.summary.scanner_state for m in messages if isinstance(m, ScannerStatusSummaryEvent)]
        assert states == ["Processing", "Idle"]
        assert isinstance(messages[-1], SubscriptionEnd)

    run(body)


def test_steady_scenario_gives_the_realistic_mix_in_every_round_of_twenty() -> None:
    dsc_schema()  # skips when the shared schema is absent

    async def body() -> None:
        sink = await Sink().start()
        # 600 s (the 10-minute rule) of spec time pass in 0.3 s at this scale.
        sim = Simulator(config(scenario=Scenario.STEADY, rate=40.0, time_scale=2000.0))
        async with aiohttp.ClientSession() as http:
            await sim.start()
            await subscribe_all(http, sim.devices[0].service_url, sink)
        created: list[str] = []
        ends: dict[str, tuple[str, str]] = {}

        def first_round_done() -> bool:
            return len(created) >= 20 and all(t in ends for t in created[:20])

        try:
            while not first_round_done():
                item = await sink.next(timeout=10)
                message = item.message
                assert dsc_errors(item.data) in ("", None)
                if (
                    isinstance(message, PostScanJobStatusEvent)
                    and message.job_status.job_state is JobState.CREATING
                ):
                    created.append(message.job_status.job_token)
                elif isinstance(message, PostScanJobEndStateEvent):
                    e = message.end_state
                    ends[e.job_token] = (str(e.job_completed_state), str(e.job_completed_state_reasons[0]))
        finally:
            await sim.stop()
            await sink.close()
        # The first 20 jobs may not be the first to arrive in the sink: the scenario's deck decides.
        outcomes = sorted(ends[t] for t in created[:20])
        counts = {o: outcomes.count(o) for o in set(outcomes)}
        assert counts == {
            ("Completed", "PostScanJobCompletedSuccessfully"): 13,
            ("Completed", "PostScanJobCompletedWithWarnings"): 2,
            ("Completed", "PostScanJobCompletedWithErrors"): 2,
            ("Aborted", "PostScanJobProcessingFailed"): 1,
            ("Canceled", "PostScanJobCanceled"): 1,
            ("Aborted", "PostScanJobTimedOut"): 1,
        }

    run(body, timeout=60)


def test_vendor_scenario_sends_schema_valid_vendor_values_and_elements() -> None:
    dsc_schema()  # skips when the shared schema is absent

    async def body() -> None:
        sink = await Sink().start()
        sim = Simulator(config(scenario=Scenario.VENDOR, rate=20.0))
        await sim.start()
        try:
            async with aiohttp.ClientSession() as http:
                await subscribe_all(http, sim.devices[0].service_url, sink)
            await sink.until(lambda i: isinstance(i.message, PostScanJobEndStateEvent), timeout=10)
        finally:
            await sim.stop()
            await sink.close()
        raw = b"".join(i.data for i in sink.received)
        assert b"simv:Quarantined" in raw
        assert b"simv:Waiting" in raw
        assert b"simv:ArchivedToVault" in raw
        assert b"<simv:Priority" in raw
        assert b"<simv:Vault" in raw
        summaries = [i for i in sink.received if isinstance(i.message, RepositoryStatusSummaryEvent)]
        assert summaries
        assert summaries[0].message.extensions
        for item in sink.received:
            assert dsc_errors(item.data) in ("", None), item.data

    run(body)


def test_faults_scenario_injects_each_fault() -> None:
    dsc_schema()  # skips when the shared schema is absent

    async def body() -> None:
        sink = await Sink().start()
        # Faults every 20 spec seconds = every 0.1 s here; slow answers take 0.3 s.
        sim = Simulator(
            config(scenario=Scenario.FAULTS, rate=5.0, time_scale=200.0, timers=Timers(slow_response_s=0.3))
        )
        await sim.start()
        dev = sim.devices[0]
        first_instance = dev.instance_id
        seen: set[str] = set()
        loop = asyncio.get_running_loop()
        try:
            async with aiohttp.ClientSession() as http:
                manager = (await subscribe_all(http, dev.service_url, sink)).subscription_manager
                deadline = loop.time() + 20
                while seen != {"malformed", "wrong-identifier", "subscription-end", "restart", "slow"}:
                    assert loop.time() < deadline, f"only saw {seen}"
                    started = loop.time()
                    _, status = await call(
                        http,
                        manager.address,
                        GetStatus(Headers.request(manager.address, identifier=manager.identifier)),
                    )
                    if loop.time() - started >= 0.3:
                        seen.add("slow")
                    if isinstance(status, Fault):  # gone: ended (SubscriptionEnd) or lost in a restart
                        if dev.instance_id != first_instance:
                            seen.add("restart")
                        manager = (await subscribe_all(http, dev.service_url, sink)).subscription_manager
                    for item in sink.received:
                        if item.message is None or dsc_errors(item.data):  # not XML, or schema-invalid
                            seen.add("malformed")
                        elif isinstance(item.message, SubscriptionEnd):
                            seen.add("subscription-end")
                        elif item.message.header.identifier != SUBSCRIBER:
                            seen.add("wrong-identifier")
                    await asyncio.sleep(0.05)
        finally:
            await sim.stop()
            await sink.close()

    run(body, timeout=60)
