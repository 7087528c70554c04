"""The simulator as a WS-Eventing source, over real loopback sockets: a plain aiohttp subscriber
(NotifyTo/EndTo) and an aiohttp client. Multicast is off (these run on loopback only)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import aiohttp

from wsdmon.protocol import EndpointReference, Fault, Headers
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import (
    FilterState,
    JobState,
    JobStateReason,
    PostScanJobEndStateEvent,
    PostScanJobStatusEvent,
)
from wsdmon.protocol.eventing import (
    Filter,
    GetStatus,
    GetStatusResponse,
    Renew,
    RenewResponse,
    Subscribe,
    SubscribeResponse,
    SubscriptionEnd,
    SubscriptionEndStatus,
    Unsubscribe,
    UnsubscribeResponse,
)
from wsdmon.simulator import FilterPlan, JobPlan, Role, Scenario, Simulator, SimulatorConfig, Timers

from .sim_support import Received, Sink, call, dsc_errors, dsc_schema, run

JOB_EVENTS = (ns.DSC_POST_SCAN_JOB_STATUS_EVENT, ns.DSC_POST_SCAN_JOB_END_STATE_EVENT)


def config(**timers: float) -> SimulatorConfig:
    return SimulatorConfig(
        role=Role.SCAN_SERVER,
        scenario=Scenario.IDLE,
        discovery=False,
        wsd_port=0,
        time_scale=1000.0,
        seed=7,
        timers=Timers(**timers),  # type: ignore[arg-type]
    )


def subscribe(
    service_url: str,
    notify: str,
    ident: str,
    *,
    end_to: str | None = None,
    expires: timedelta | datetime | None = timedelta(hours=1),
    actions: tuple[str, ...] | None = JOB_EVENTS,
) -> Subscribe:
    return Subscribe(
        Headers.request(service_url),
        EndpointReference(notify, ident),
        expires,
        Filter(actions) if actions is not None else None,
        EndpointReference(end_to, ident) if end_to else None,
    )


def is_end_state(item: Received) -> bool:
    return isinstance(item.message, PostScanJobEndStateEvent)


async def lifecycle_of(sink: Sink, path: str) -> list[Received]:
    """Everything one path of the sink receives up to and including a PostScanJobEndStateEvent."""
    items: list[Received] = []
    while True:
        item = await sink.until(lambda i: i.path == path)
        items.append(item)
        if is_end_state(item):
            return items


def test_subscriber_sees_a_valid_lifecycle_renews_unsubscribes_and_gets_subscription_end() -> None:
    dsc_schema()  # skips when the shared schema is absent

    async def body() -> None:
        sink = await Sink().start()
        sim = Simulator(config())
        await sim.start()
        try:
            dev = sim.devices[0]
            async with aiohttp.ClientSession() as http:
                a = "urn:uuid:00000000-0000-4000-8000-00000000000a"
                b = "urn:uuid:00000000-0000-4000-8000-00000000000b"
                status, resp_a = await call(
                    http, dev.service_url, subscribe(dev.service_url, sink.url("/a"), a)
                )
                assert status == 200
                assert isinstance(resp_a, SubscribeResponse)
                assert resp_a.expires == timedelta(hours=1)
                manager_a = resp_a.subscription_manager
                assert manager_a.identifier
                assert manager_a.identifier != a
                sub_b = subscribe(dev.service_url, sink.url("/b"), b, end_to=sink.url("/b-end"))
                _, resp_b = await call(http, dev.service_url, sub_b)
                assert isinstance(resp_b, SubscribeResponse)

                plan = JobPlan(filters=(FilterPlan(), FilterPlan(ns.FILTER_EMAIL)), images=3)
                job = dev.submit_job(plan)
                items = await lifecycle_of(sink, "/a")
                await job.wait()

                # Every message: our Identifier echoed, wsa:To our address, body schema-valid.
                for item in items:
                    assert item.message is not None, item.error
                    assert item.message.header.identifier == a
                    assert item.message.header.to == sink.url("/a")
                    assert dsc_errors(item.data) == ""
                statuses = [
                    i.message.job_status for i in items if isinstance(i.message, PostScanJobStatusEvent)
                ]
                assert len(items) == len(statuses) + 1  # the filter kept RepositoryStatusSummaryEvent out
                assert [s.job_state for s in statuses[:2]] == [JobState.CREATING, JobState.PENDING]
                assert [s.images_received for s in statuses[1:5]] == [0, 1, 2, 3]  # one by one
                states = [s.job_state for s in statuses]
                assert states.index(JobState.STARTED) + 1 == states.index(JobState.PROCESSING)
                filters = [tuple(f.state for f in s.filter_statuses) for s in statuses]
                assert (FilterState.PROCESSING, FilterState.PENDING) in filters
                assert (FilterState.COMPLETED_SUCCESSFULLY, FilterState.PROCESSING) in filters
                final = statuses[-1]
                assert final.job_state is JobState.COMPLETED
                assert final.job_state_reasons == (JobStateReason.POST_SCAN_JOB_COMPLETED_SUCCESSFULLY,)
                assert final.job_completed_time is not None
                assert final.job_created_time is not None
                assert all(s.job_token == job.token for s in statuses)
                end = items[-1].message
                assert isinstance(end, PostScanJobEndStateEvent)
                assert end.end_state.job_completed_state is JobState.COMPLETED
                assert end.end_state.images_received == 3

                # Renew and GetStatus with the server's Identifier header.
                renew = Renew(
                    Headers.request(manager_a.address, identifier=manager_a.identifier), timedelta(minutes=30)
                )
                _, renewed = await call(http, manager_a.address, renew)
                assert isinstance(renewed, RenewResponse)
                assert renewed.expires == timedelta(minutes=30)
                get = GetStatus(Headers.request(manager_a.address, identifier=manager_a.identifier))
                _, got = await call(http, manager_a.address, get)
                assert isinstance(got, GetStatusResponse)
                assert isinstance(got.expires, timedelta)
                assert timedelta(minutes=29) < got.expires <= timedelta(minutes=30)

                # Unsubscribe: A gets nothing more, B still does.
                bye = Unsubscribe(Headers.request(manager_a.address, identifier=manager_a.identifier))
                _, unsubscribed = await call(http, manager_a.address, bye)
                assert isinstance(unsubscribed, UnsubscribeResponse)
                seen_a = sum(1 for i in sink.received if i.path == "/a")
                second = dev.submit_job(JobPlan(images=1))
                await second.wait()
                await sink.until(
                    lambda i: (
                        i.path == "/b" and is_end_state(i) and i.message.end_state.job_token == second.token
                    )
                )  # type: ignore[union-attr]
                assert sum(1 for i in sink.received if i.path == "/a") == seen_a
        finally:
            await sim.stop()
        # Stopping: B's EndTo gets SubscriptionEnd(SourceShuttingDown) naming B's subscription.
        ends = [i for i in sink.received if isinstance(i.message, SubscriptionEnd)]
        assert [i.path for i in ends] == ["/b-end"]
        end_msg = ends[0].message
        assert isinstance(end_msg, SubscriptionEnd)
        assert end_msg.status is SubscriptionEndStatus.SOURCE_SHUTTING_DOWN
        assert end_msg.subscription_manager.identifier == resp_b.subscription_manager.identifier
        assert end_msg.header.identifier == b
        await sink.close()

    run(body)


def test_expires_is_capped_kept_in_its_form_and_checked() -> None:
    async def body() -> None:
        sim = Simulator(config(max_expires_s=120.0))
        await sim.start()
        try:
            url = sim.devices[0].service_url
            async with aiohttp.ClientSession() as http:
                _, capped = await call(
                    http,
                    url,
                    subscribe(url, "http://127.0.0.1:9/x", "urn:uuid:1", expires=timedelta(hours=5)),
                )
                assert isinstance(capped, SubscribeResponse)
                assert capped.expires == timedelta(seconds=120)
                until = datetime.now().astimezone() + timedelta(seconds=60)
                _, dated = await call(
                    http, url, subscribe(url, "http://127.0.0.1:9/x", "urn:uuid:2", expires=until)
                )
                assert isinstance(dated, SubscribeResponse)
                assert isinstance(dated.expires, datetime)  # answered in the form asked
                assert abs((dated.expires - until).total_seconds()) <= 2
                _, none = await call(
                    http, url, subscribe(url, "http://127.0.0.1:9/x", "urn:uuid:3", expires=None)
                )
                assert isinstance(none, SubscribeResponse)
                assert none.expires == timedelta(seconds=120)  # the default, capped
                past = datetime.now().astimezone() - timedelta(minutes=1)
                status, fault = await call(
                    http, url, subscribe(url, "http://127.0.0.1:9/x", "urn:uuid:4", expires=past)
                )
                assert status == 400
                assert isinstance(fault, Fault)
                assert fault.subcode is not None
                assert fault.subcode.local == "InvalidExpirationTime"
        finally:
            await sim.stop()

    run(body)


def test_subscription_expires_and_unknown_identifiers_get_invalid_message() -> None:
    async def body() -> None:
        sink = await Sink().start()
        sim = Simulator(config(max_expires_s=0.3))
        await sim.start()
        try:
            dev = sim.devices[0]
            async with aiohttp.ClientSession() as http:
                _, resp = await call(
                    http, dev.service_url, subscribe(dev.service_url, sink.url(), "urn:uuid:5")
                )
                manager = resp.subscription_manager
                await asyncio.sleep(0.5)
                for request in (
                    GetStatus(Headers.request(manager.address, identifier=manager.identifier)),
                    Renew(Headers.request(manager.address, identifier=manager.identifier)),
                    Unsubscribe(Headers.request(manager.address, identifier="urn:uuid:not-ours")),
                ):
                    status, fault = await call(http, manager.address, request)
                    assert status == 400
                    assert isinstance(fault, Fault)
                    assert fault.subcode is not None
                    assert (fault.subcode.namespace, fault.subcode.local) == (ns.WSE, "InvalidMessage")
                await dev.submit_job(JobPlan(images=1)).wait()
                await asyncio.sleep(0.1)
                assert sink.received == []  # an expired subscription gets nothing
        finally:
            await sim.stop()
            await sink.close()

    run(body)


def test_subscribe_faults_for_filters_and_delivery_modes() -> None:
    async def body() -> None:
        sim = Simulator(config())
        await sim.start()
        try:
            url = sim.devices[0].service_url
            notify = EndpointReference("http://127.0.0.1:9/x", "urn:uuid:6")
            cases = {
                "FilteringRequestedUnavailable": Subscribe(
                    Headers.request(url), notify, filter=Filter(dialect="urn:xpath", expression="/x")
                ),
                "FilterActionNotSupported": Subscribe(
                    Headers.request(url), notify, filter=Filter((ns.WSCN_JOB_STATUS_EVENT,))
                ),
                "DeliveryModeRequestedUnavailable": Subscribe(
                    Headers.request(url), None, delivery_mode=ns.WSE + "/DeliveryModes/Pull"
                ),
            }
            async with aiohttp.ClientSession() as http:
                for subcode, request in cases.items():
                    status, fault = await call(http, url, request)
                    assert status == 400, subcode
                    assert isinstance(fault, Fault)
                    assert fault.subcode is not None
                    assert fault.subcode.local == subcode
                # A filter by namespace prefix (DPWS: segment prefix of the action) is accepted.
                _, ok = await call(
                    http, url, Subscribe(Headers.request(url), notify, filter=Filter((ns.DSC,)))
                )
                assert isinstance(ok, SubscribeResponse)
        finally:
            await sim.stop()

    run(body)


def test_failed_deliveries_end_the_subscription_with_delivery_failure() -> None:
    async def body() -> None:
        sink = await Sink().start()
        sink.statuses["/dead"] = 500
        # One request at a time, so that exactly two POSTs fail before the subscription ends.
        sim = Simulator(config(max_failed_deliveries=2, delivery_timeout_s=1.0, pipeline_depth=1))
        await sim.start()
        try:
            dev = sim.devices[0]
            async with aiohttp.ClientSession() as http:
                request = subscribe(dev.service_url, sink.url("/dead"), "urn:uuid:7", end_to=sink.url("/end"))
                _, resp = await call(http, dev.service_url, request)
                assert isinstance(resp, SubscribeResponse)
            dev.submit_job(JobPlan(images=2))
            end = await sink.until(lambda i: i.path == "/end")
            assert isinstance(end.message, SubscriptionEnd)
            assert end.message.status is SubscriptionEndStatus.DELIVERY_FAILURE
            assert end.message.subscription_manager.identifier == resp.subscription_manager.identifier
            assert sum(1 for i in sink.received if i.path == "/dead") == 2  # then it stopped trying
        finally:
            await sim.stop()
            await sink.close()

    run(body)


def test_a_slow_subscriber_does_not_stall_another() -> None:
    async def body() -> None:
        sink = await Sink().start()
        sink.delays["/slow"] = 1.0
        sim = Simulator(config(delivery_timeout_s=5.0, stop_timeout_s=0.5))
        await sim.start()
        try:
            dev = sim.devices[0]
            async with aiohttp.ClientSession() as http:
                await call(http, dev.service_url, subscribe(dev.service_url, sink.url("/slow"), "urn:uuid:8"))
                await call(http, dev.service_url, subscribe(dev.service_url, sink.url("/fast"), "urn:uuid:9"))
            loop = asyncio.get_running_loop()
            started = loop.time()
            job = dev.submit_job(JobPlan(images=4, filters=(FilterPlan(), FilterPlan(ns.FILTER_EMAIL))))
            fast = await lifecycle_of(sink, "/fast")
            took = loop.time() - started
            await job.wait()
            assert len(fast) >= 12
            assert took < 1.5  # the slow sink takes 1 s per message; the fast one is not behind it
            assert sum(1 for i in sink.received if i.path == "/slow") <= 2
        finally:
            await sim.stop()
            await sink.close()

    run(body, timeout=30)
