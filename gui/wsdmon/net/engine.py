"""The monitor's engine without a window: find devices, read their metadata, keep subscriptions
alive, accept genuine notifications, record them durably and fold them into job state.

Listeners (the Qt bridge, the headless `watch` printer) get domain objects on the loop thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import aiohttp

from wsdmon.core import (
    CancelOutcome,
    CancelResult,
    Change,
    DeviceError,
    DeviceErrorKind,
    DeviceRecord,
    JobChange,
    JobKey,
    JobKind,
    JobTable,
    Observation,
    ObservationKind,
    OfflineReason,
    ResubscribeResult,
    Role,
    ScannerCondition,
    SubscriptionStatus,
    device_from_metadata,
)
from wsdmon.core.device_evidence import FoundBy
from wsdmon.core.health import DeviceHealth
from wsdmon.core.scan_jobs import (
    scan_summary_observation,
)
from wsdmon.protocol import Headers, Message, RemoteProtocolError, UnknownMessage, decode
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.dsm import JobStatus
from wsdmon.protocol.eventing import SubscriptionEnd, SubscriptionEndStatus
from wsdmon.protocol.metadata import GetMetadataResponse, TransferGet
from wsdmon.protocol.repository import (
    CancelPostScanJobRequest,
    CancelPostScanJobResponse,
    GetActiveJobsRequest,
    GetActiveJobsResponse,
    GetJobHistoryRequest,
    GetJobHistoryResponse,
    GetRepositoryElementsRequest,
    GetRepositoryElementsResponse,
    JobSummary,
)
from wsdmon.protocol.repository_types import REPOSITORY_STATUS, RepositoryStatus
from wsdmon.protocol.scan import (
    SCANNER_STATUS,
    GetScannerElementsRequest,
    GetScannerElementsResponse,
)
from wsdmon.protocol.scan_jobs import GetActiveJobsRequest as ScanGetActiveJobsRequest
from wsdmon.protocol.scan_jobs import GetActiveJobsResponse as ScanGetActiveJobsResponse
from wsdmon.protocol.scan_jobs import GetJobHistoryRequest as ScanGetJobHistoryRequest
from wsdmon.protocol.scan_jobs import GetJobHistoryResponse as ScanGetJobHistoryResponse

from ._read_gate import ReadGate
from .health import HealthMonitor, ObservedSoapClient
from .http import SoapClient, SoapFaultError, TransportError, UntrustedCertificateError, device_error
from .journal_port import JournalPort
from .recorder import PendingMessage, Recorder
from .router import cleared_condition_id, device_update, observation, summarize
from .sink import Accepted, NotificationSink, RejectReason, local_address_for
from .subscriptions import SubscriptionDriver

__all__ = ["DEFAULT_NOTIFY_PORT", "Engine", "EngineConfig", "EngineListener", "RawEntry"]

log = logging.getLogger(__name__)


def _is_transport_address(address: str) -> bool:
    """An HTTP(S) URL (a device added by its XAddr), not an endpoint address (urn:uuid:, uuid:…)."""
    return urlsplit(address).scheme.lower() in ("http", "https")


DEFAULT_NOTIFY_PORT = 6200  # the installers open this TCP port in the firewall
JOB_FLUSH_INTERVAL_S = 2.0  # folded job state is written this often (messages are written at once)
RETENTION_INTERVAL_S = 3600.0
LAST_EVENT_RESOLUTION_S = 1.0
# Resubscribe (context menu) reports its outcome within this; a Subscribe gives up after the request
# timeout (EngineConfig.request_timeout_s, 10 s), so this leaves room for the answer to arrive.
RESUBSCRIBE_WAIT_S = 20.0

DSM_ACTIONS = (
    ns.DSC_POST_SCAN_JOB_STATUS_EVENT,
    ns.DSC_POST_SCAN_JOB_END_STATE_EVENT,
    ns.DSC_REPOSITORY_STATUS_SUMMARY_EVENT,
)
SCAN_ACTIONS = (
    ns.WSCN_JOB_STATUS_EVENT,
    ns.WSCN_JOB_END_STATE_EVENT,
    ns.WSCN_SCANNER_STATUS_SUMMARY_EVENT,
    ns.WSCN_SCANNER_STATUS_CONDITION_EVENT,
    ns.WSCN_SCANNER_STATUS_CONDITION_CLEARED_EVENT,
)
ACTIONS_OF_ROLE = {Role.SCAN_SERVER: DSM_ACTIONS, Role.SCAN_DEVICE: SCAN_ACTIONS}


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One line of the raw message log."""

    arrival: datetime
    device: str
    action: str
    summary: str
    journal_id: int | None
    size: int = 0
    peer: str = ""


class EngineListener:
    """What the engine reports; override what you need (all run on the loop thread)."""

    def device_changed(self, device: DeviceRecord) -> None:
        """A device appeared or changed (metadata, subscription state, last event)."""

    def job_changed(self, change: JobChange) -> None:
        """A job was added or changed (or a stale/duplicate observation was recorded)."""

    def message_logged(self, entry: RawEntry) -> None:
        """An accepted message, for the raw log."""

    def message_rejected(self, reason: str, detail: str) -> None:
        """The sink rejected a message."""

    def jobs_removed(self, keys: list[JobKey]) -> None:
        """Jobs dropped by the retention setting (ended long ago)."""

    def health_changed(self, health: DeviceHealth) -> None:
        """A device's health changed: its worst verdict or any check's verdict or finding."""


@dataclass
class EngineConfig:
    notify_port: int = DEFAULT_NOTIFY_PORT
    notify_port_fallback: bool = True  # a busy notify_port gives way to a free one (sink.wanted_port)
    notify_bind: str = "0.0.0.0"  # noqa: S104 - devices on the LAN deliver notifications here
    notify_host: str | None = None  # address put in NotifyTo; default: the route to each device
    device_urls: tuple[str, ...] = ()
    trusted_fingerprints: tuple[str, ...] = ()  # lower-case SHA-256 hex accepted on first use (headless)
    request_timeout_s: float = 10.0
    snapshot_history: bool = True
    retention: timedelta | None = timedelta(days=30)  # journal: messages and ended jobs older go
    max_messages: int | None = 1_000_000  # journal: at most this many messages are kept
    site: str | None = None  # `wsdmon collect --site`: the site whose collector this is (rows carry it)


# The job lists a snapshot asks for, by role: (active jobs, history) request and response types.
_JobList = tuple[Callable[[Headers], Message], type[Message]]  # request factory, answer type
_JOB_LISTS: dict[Role, tuple[_JobList, _JobList]] = {
    Role.SCAN_SERVER: (
        (GetActiveJobsRequest, GetActiveJobsResponse),
        (GetJobHistoryRequest, GetJobHistoryResponse),
    ),
    Role.SCAN_DEVICE: (
        (ScanGetActiveJobsRequest, ScanGetActiveJobsResponse),
        (ScanGetJobHistoryRequest, ScanGetJobHistoryResponse),
    ),
}


def _status_of_summary(summary: JobSummary) -> JobStatus:
    return JobStatus(
        summary.job_token,
        summary.job_state,
        summary.job_state_reasons,
        summary.filter_statuses,
        summary.images_received,
        extensions=summary.extensions,
    )


@dataclass
class _Device:
    record: DeviceRecord
    drivers: dict[str, SubscriptionDriver] = field(default_factory=dict)


class Engine:
    """Owns the sink, the SOAP client, subscriptions, the journal and the job table."""

    def __init__(
        self,
        config: EngineConfig,
        journal: JournalPort,
        listener: EngineListener | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.journal = journal
        self.listener = listener or EngineListener()
        self.clock = clock
        self.jobs = JobTable()
        self._devices: dict[str, _Device] = {}
        self._session: aiohttp.ClientSession | None = None
        self._client: SoapClient | None = None
        self._recorder = Recorder(journal)
        self.sink = NotificationSink(
            record=self._record,
            on_accepted=self._on_accepted,
            on_rejected=self._on_rejected,
            host=config.notify_bind,
            port=config.notify_port,
            clock=clock,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._reads: ReadGate[DeviceRecord | None] = ReadGate()
        # (device, service) → futures a Resubscribe waits on: the next settled subscription status
        self._settled: dict[tuple[str, str], list[asyncio.Future[SubscriptionStatus]]] = {}
        self._dirty_jobs: set[JobKey] = set()
        self._condition_names: dict[tuple[str, int], str] = {}  # (device, condition Id) → its Name
        self._last_folded_id = 0
        self._flush_task: asyncio.Task[None] | None = None
        self.rejected = 0
        self.health_monitor = HealthMonitor(
            clock,
            jobs=lambda: list(self.jobs.jobs.values()),  # the table may replace its dict
            devices=lambda: list(self._devices),
            emit=self._emit_health,
        )

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def devices(self) -> list[DeviceRecord]:
        return [d.record for d in self._devices.values()]

    async def start(self) -> None:
        """Restore from the journal, start listening, add the configured devices."""
        self._restore()
        self._session = aiohttp.ClientSession()
        self._client = ObservedSoapClient(
            self._session,
            timeout_s=self.config.request_timeout_s,
            pinned=self._pinned,
            collector=self.health_monitor.collector,
        )
        await self.sink.start(any_port_if_busy=self.config.notify_port_fallback)
        self.health_monitor.start()
        self._flush_task = asyncio.get_running_loop().create_task(self._flush_loop(), name="job flush")
        for url in self.config.device_urls:
            self.spawn(self.add_device_url(url))

    async def stop(self) -> None:
        """Unsubscribe everywhere (bounded), stop listening, write the folded state."""
        drivers = [drv for dev in self._devices.values() for drv in dev.drivers.values()]
        await asyncio.gather(*(drv.stop() for drv in drivers), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._flush_task is not None:
            self._flush_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush_task
        await self.health_monitor.stop()
        await self.sink.stop()
        if self._session is not None:
            await self._session.close()
        self._flush_jobs()

    def spawn(self, coro: object) -> asyncio.Task[None]:
        """Run a coroutine as a tracked task whose failure is logged, never lost."""
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task failed", exc_info=t.exception())

        task.add_done_callback(done)
        return task

    # --- devices ----------------------------------------------------------------------------

    async def add_device_url(self, url: str, endpoint: str | None = None) -> DeviceRecord | None:
        """Read a device's metadata from a transport address (an XAddr) and start monitoring it."""
        self.health_monitor.collector.discovered(endpoint or url, FoundBy.URL, xaddrs=(url,))
        return await self.sighting(endpoint or url, (url,), None, None, refresh=True, retry_now=True)

    async def sighting(
        self,
        endpoint: str,
        xaddrs: Iterable[str],
        metadata_version: int | None,
        instance_id: int | None,
        *,
        refresh: bool = False,
        retry_now: bool = False,
    ) -> DeviceRecord | None:
        """A device was seen (Hello, ProbeMatch, directed probe, manual URL). Reads metadata when
        it is new, restarted (InstanceId) or changed (MetadataVersion); then (re)subscribes. One
        read per device and MetadataVersion is in flight at a time: sightings that arrive meanwhile
        join it. After a failed read, sightings wait (ReadGate) unless the device restarted or
        changed, or `retry_now` (a person asked)."""
        return await self._reads.run(
            endpoint,
            metadata_version,
            lambda: self._sighting(
                endpoint,
                tuple(xaddrs),
                metadata_version=metadata_version,
                instance_id=instance_id,
                refresh=refresh,
                retry_now=retry_now,
            ),
        )

    async def _sighting(
        self,
        endpoint: str,
        xaddrs: tuple[str, ...],
        *,
        metadata_version: int | None,
        instance_id: int | None,
        refresh: bool,
        retry_now: bool,
    ) -> DeviceRecord | None:
        known = self._devices.get(endpoint)
        now = self.clock()
        if known is not None and not retry_now:
            rec = known.record
            restarted = (
                instance_id is not None and rec.instance_id is not None and instance_id != rec.instance_id
            )
            changed = metadata_version is not None and metadata_version != rec.metadata_version
            if not restarted and not changed:
                if rec.error is not None and self._reads.waiting(endpoint, now):
                    return None  # it failed a moment ago: ask again after the wait, not per datagram
                if not refresh and rec.online and rec.error is None:
                    self._update(endpoint, last_seen=now)
                    return rec
        record = await self._read_metadata(endpoint, xaddrs, now, metadata_version, instance_id)
        if record is None:
            return None
        self._reads.succeeded(endpoint)
        record = dataclasses.replace(record, metadata_version=metadata_version, instance_id=instance_id)
        self._adopt(record)
        return self._devices[record.endpoint].record

    def device_left(self, endpoint: str) -> None:
        """Bye: keep the device listed, offline; its subscriptions are gone, and what becomes of
        its active jobs is unknown until it answers again (core.jobs rule 7)."""
        if endpoint in self._devices:
            self._update(endpoint, online=False, offline_reason=OfflineReason.BYE)
            self._jobs_unknown(endpoint)

    async def _read_metadata(
        self,
        endpoint: str,
        xaddrs: tuple[str, ...],
        now: datetime,
        metadata_version: int | None = None,
        instance_id: int | None = None,
    ) -> DeviceRecord | None:
        assert self._client is not None
        errors: list[DeviceError] = []
        for url in xaddrs:
            # DPWS §5.1: the Get goes to the device's endpoint address: `urn:uuid:…`, or `uuid:…` as
            # real MFPs send it. A device added by its URL has none known yet: then the URL itself.
            to = url if _is_transport_address(endpoint) else endpoint
            try:
                answer = await self._client.call(url, TransferGet(Headers.request(to)), device=endpoint)
            except UntrustedCertificateError as exc:
                if exc.fingerprint and exc.fingerprint.lower() in self.config.trusted_fingerprints:
                    self.accept_fingerprint(endpoint, exc.fingerprint)
                    return await self._read_metadata(endpoint, (url,), now, metadata_version, instance_id)
                errors.append(exc.error)
                continue
            except (TransportError, SoapFaultError, RemoteProtocolError) as exc:
                errors.append(device_error(url, exc))
                continue
            if not isinstance(answer, GetMetadataResponse):
                detail = f"{url}: expected GetResponse, got {answer.action}"
                errors.append(
                    DeviceError(DeviceErrorKind.BAD_ANSWER, url, reason=answer.action, detail=detail)
                )
                continue
            real = answer.host.address if answer.host is not None else endpoint
            pinned = self.journal.trusted_fingerprint(endpoint)
            if real != endpoint and pinned and not self.journal.trusted_fingerprint(real):
                # Added by URL and trusted under it: the pin follows the device to its urn:uuid,
                # which Subscribe and the snapshot use from now on.
                self.journal.set_trusted_fingerprint(real, pinned)
            return device_from_metadata(real, xaddrs, answer, now=now)
        self._read_failed(
            endpoint, xaddrs, now, errors, metadata_version=metadata_version, instance_id=instance_id
        )
        return None

    def _read_failed(
        self,
        endpoint: str,
        xaddrs: tuple[str, ...],
        now: datetime,
        errors: list[DeviceError],
        *,
        metadata_version: int | None,
        instance_id: int | None,
    ) -> None:
        """No XAddr answered: keep what is known of the device, offline, with the reason why (an
        untrusted certificate first: the window offers to trust it)."""
        error = next(
            (e for e in errors if e.kind is DeviceErrorKind.UNTRUSTED_CERTIFICATE),
            errors[0] if errors else DeviceError(DeviceErrorKind.NO_ADDRESS),
        )
        wait = self._reads.failed(endpoint, now)
        log.warning(
            "cannot read metadata of %s: %s (next try after %.0f s)",
            endpoint,
            "; ".join(f"{e.url}: {e}" for e in errors) or error,
            wait.total_seconds(),
        )
        for e in errors:
            log.debug("metadata of %s: %s", endpoint, e.detail)
        old = self._devices.get(endpoint)
        base = old.record if old is not None else DeviceRecord(endpoint, xaddrs)
        record = dataclasses.replace(
            base,
            xaddrs=xaddrs,
            last_seen=now,
            online=False,
            offline_reason=OfflineReason.UNREACHABLE,
            error=error,
            metadata_version=metadata_version if metadata_version is not None else base.metadata_version,
            instance_id=instance_id if instance_id is not None else base.instance_id,
        )
        self._devices[endpoint] = _Device(record, old.drivers if old else {})
        self._emit_device(record)
        self._jobs_unknown(endpoint)

    def _adopt(self, record: DeviceRecord) -> None:
        old = self._devices.get(record.endpoint)
        if old is not None:
            for driver in old.drivers.values():
                self.spawn(driver.stop())
        self._devices[record.endpoint] = _Device(record)
        self.journal.upsert_device(record)
        self._emit_device(record)
        for service in record.services:
            self._subscribe(record, service.address, service.role)

    def _subscribe(self, record: DeviceRecord, service: str, role: Role) -> None:
        assert self._client is not None
        endpoint = record.endpoint
        host = self.config.notify_host or local_address_for(urlsplit(service).hostname or "127.0.0.1")

        def current() -> _Device | None:
            # A driver replaced by a new one (the device restarted or changed) may still report,
            # e.g. CLOSED when its Unsubscribe ends after the new one subscribed: not news any more.
            dev = self._devices.get(endpoint)
            return dev if dev is not None and dev.drivers.get(service) is driver else None

        def on_status(status: SubscriptionStatus, error: str | None) -> None:
            dev = current()
            if dev is not None:
                record = dev.record.with_subscription(service, status, error)
                if (
                    status is SubscriptionStatus.ACTIVE
                    and record.offline_reason is OfflineReason.SHUTTING_DOWN
                ):
                    record = dataclasses.replace(record, online=True, offline_reason=None)  # it is back
                dev.record = record
                self._emit_device(dev.record)
                if status is not SubscriptionStatus.SUBSCRIBING:  # settled: tell a Resubscribe
                    for waiter in self._settled.pop((endpoint, service), []):
                        if not waiter.done():
                            waiter.set_result(status)
                if status is SubscriptionStatus.RETRYING:
                    self._jobs_unknown(endpoint)  # no events until resubscribed (rule 7)

        def on_subscribed() -> None:
            if current() is None:
                return
            self.spawn(self._snapshot(endpoint, service, role))

        driver = SubscriptionDriver(
            client=self._client,
            sink=self.sink,
            notify_host=host,
            device=endpoint,
            service=service,
            actions=ACTIONS_OF_ROLE[role],
            on_status=on_status,
            on_subscribed=on_subscribed,
            clock=self.clock,
        )
        self._devices[endpoint].drivers[service] = driver
        driver.start()

    async def resubscribe(self, endpoint: str) -> ResubscribeResult:
        """Drop and renew every subscription of a device (the device list's context menu); the
        outcome once each has settled (active or failed), or NO_ANSWER_YET after RESUBSCRIBE_WAIT_S."""
        dev = self._devices.get(endpoint)
        if dev is None or not dev.drivers:
            return ResubscribeResult.NOTHING_TO_SUBSCRIBE
        loop = asyncio.get_running_loop()
        waiters: list[asyncio.Future[SubscriptionStatus]] = []
        for service, driver in dev.drivers.items():
            driver.device_restarted()  # reports SUBSCRIBING at once; the next status settles it
            waiter: asyncio.Future[SubscriptionStatus] = loop.create_future()
            self._settled.setdefault((endpoint, service), []).append(waiter)
            waiters.append(waiter)
        try:
            async with asyncio.timeout(RESUBSCRIBE_WAIT_S):
                statuses = await asyncio.gather(*waiters)
        except TimeoutError:
            return ResubscribeResult.NO_ANSWER_YET
        finally:
            for key in list(self._settled):
                self._settled[key] = [w for w in self._settled[key] if w not in waiters]
                if not self._settled[key]:
                    del self._settled[key]
        if all(status is SubscriptionStatus.ACTIVE for status in statuses):
            return ResubscribeResult.SUBSCRIBED
        return ResubscribeResult.FAILED

    async def refresh(self, endpoint: str) -> None:
        """Read the device's metadata again and resubscribe."""
        dev = self._devices.get(endpoint)
        if dev is not None:
            record = dev.record
            await self.sighting(
                endpoint,
                record.xaddrs,
                record.metadata_version,
                record.instance_id,
                refresh=True,
                retry_now=True,
            )

    def _update(self, endpoint: str, **changes: object) -> None:
        dev = self._devices[endpoint]
        dev.record = dataclasses.replace(dev.record, **changes)  # type: ignore[arg-type]
        self._emit_device(dev.record)

    def _emit_device(self, record: DeviceRecord) -> None:
        try:
            self.listener.device_changed(record)
        except Exception:
            log.exception("device listener failed")

    # --- snapshot and cancel ----------------------------------------------------------------

    async def _ask(self, endpoint: str, service: str, request: Message) -> Message | UnknownMessage | None:
        """One request made after subscribing (snapshot, current status): the answer, or None when
        the call failed (logged; the events that follow keep the monitor right)."""
        assert self._client is not None
        try:
            return await self._client.call(service, request, device=endpoint)
        except (TransportError, SoapFaultError, UntrustedCertificateError, RemoteProtocolError) as exc:
            log.info("%s of %s failed: %s", request.action.rpartition("/")[2], service, exc)
            return None

    async def _snapshot(self, endpoint: str, service: str, role: Role = Role.SCAN_SERVER) -> None:
        """GetActiveJobs (+ GetJobHistory) of a scan server (dsc) or a scanner (wscn): the table is
        right before the next event (issue 4.5). When both answered, the device's active jobs of
        that kind that neither lists are lost (jobs.py rule 5)."""
        lists = _JOB_LISTS[role] if self.config.snapshot_history else _JOB_LISTS[role][:1]
        requests = [(request(Headers.request(service)), expected) for request, expected in lists]
        if role is Role.SCAN_SERVER:
            await self._repository_status(endpoint, service)
        else:
            await self._scanner_status(endpoint, service)
        kind = JobKind.POST_SCAN if role is Role.SCAN_SERVER else JobKind.SCAN
        asked = self.clock()
        dev = self._devices.get(endpoint)
        instance = dev.record.instance_id if dev is not None else None
        reported: set[str] = set()
        answered = 0
        for request, expected in requests:
            answer = await self._ask(endpoint, service, request)
            if not isinstance(answer, expected):
                continue
            answered += 1
            now = self.clock()
            if isinstance(answer, ScanGetActiveJobsResponse | ScanGetJobHistoryResponse):
                for row in answer.jobs:
                    reported.add(str(row.job_id))
                    self._fold(scan_summary_observation(endpoint, row, now, instance, asked))
                continue
            assert isinstance(answer, GetActiveJobsResponse | GetJobHistoryResponse)
            for summary in answer.jobs:
                reported.add(summary.job_token)
                obs = Observation(
                    ObservationKind.SNAPSHOT,
                    endpoint,
                    _status_of_summary(summary),
                    now,
                    psp_identifier=summary.psp_identifier,
                    psp_display_name=summary.psp_display_name,
                    job_originating_user_name=summary.job_originating_user_name,
                    instance=instance,
                    asked=asked,
                )
                self._fold(obs)
        if answered == 2:  # without the history, a job that ended is not told from a lost one
            for change in self.jobs.mark_lost(endpoint, reported, asked, self.clock(), kind):
                log.info("%s no longer reports job %s: lost", endpoint, change.record.key.job_token)
                self._changed(change)

    async def _repository_status(self, endpoint: str, service: str) -> None:
        """The repository's state now (GetRepositoryElements RepositoryStatus, §3.2.4.1): events
        only tell of changes."""
        request = GetRepositoryElementsRequest(Headers.request(service), (REPOSITORY_STATUS,))
        answer = await self._ask(endpoint, service, request)
        dev = self._devices.get(endpoint)
        if not isinstance(answer, GetRepositoryElementsResponse) or dev is None:
            return
        for element in answer.elements:
            if element.valid and isinstance(element.content, RepositoryStatus):
                status = element.content
                dev.record = dev.record.with_state(
                    service, str(status.state), tuple(map(str, status.reasons))
                )
                self._emit_device(dev.record)

    async def _scanner_status(self, endpoint: str, service: str) -> None:
        """The scanner's state and active conditions now (GetScannerElements ScannerStatus): its
        events only tell of changes. A scanner that does not answer keeps what its events say."""
        request = GetScannerElementsRequest(Headers.request(service), (SCANNER_STATUS,))
        answer = await self._ask(endpoint, service, request)
        dev = self._devices.get(endpoint)
        status = answer.status() if isinstance(answer, GetScannerElementsResponse) else None
        if dev is None or status is None:
            return
        record = dev.record.with_state(
            service, str(status.scanner_state), tuple(map(str, status.scanner_state_reasons))
        )
        # The answer lists every condition active now: it replaces what the events had said.
        conditions = tuple(ScannerCondition.of(c) for c in status.active_conditions)
        dev.record = record.with_conditions(service, conditions)
        self._emit_device(dev.record)

    async def cancel_job(self, key: JobKey) -> CancelOutcome:
        """CancelPostScanJob on the job's scan server; the outcome is also put on the job's timeline."""
        outcome = await self._cancel(key)
        change = self.jobs.note_cancel(key, outcome, self.clock())
        if change is not None:
            self._changed(change)
        log.info("cancel of %s on %s: %s %s", key.job_token, key.device, outcome.result.value, outcome.code)
        return outcome

    async def _cancel(self, key: JobKey) -> CancelOutcome:
        assert self._client is not None
        asked = self.clock()
        dev = self._devices.get(key.device)
        service = (
            next((s.address for s in dev.record.services if s.role is Role.SCAN_SERVER), None)
            if dev
            else None
        )
        if service is None:
            return CancelOutcome(CancelResult.NOT_POSSIBLE, asked)
        try:
            answer = await self._client.call(
                service, CancelPostScanJobRequest(Headers.request(service), key.job_token), device=key.device
            )
        except SoapFaultError as exc:
            sub = exc.fault.subcode.local if exc.fault.subcode else exc.fault.code
            return CancelOutcome(CancelResult.REFUSED, asked, code=sub, reason=exc.fault.reason)
        except (TransportError, UntrustedCertificateError, RemoteProtocolError) as exc:
            return CancelOutcome(CancelResult.FAILED, asked, error=device_error(service, exc))
        if isinstance(answer, CancelPostScanJobResponse):
            return CancelOutcome(CancelResult.ACCEPTED, asked)
        return CancelOutcome(CancelResult.UNEXPECTED, asked, code=answer.action)

    # --- notifications ----------------------------------------------------------------------

    async def _record(self, accepted: Accepted) -> int:
        message = accepted.message
        reg = accepted.registration
        return await self._recorder.record(
            PendingMessage(
                accepted.arrival,
                reg.device,
                reg.identifier,
                message.action,
                message.header.message_id,
                summarize(message),
                accepted.raw,
            )
        )

    def _on_rejected(self, reason: RejectReason, detail: str) -> None:
        self.rejected += 1
        self.listener.message_rejected(str(reason), detail)

    def _on_accepted(self, accepted: Accepted) -> None:
        message, reg = accepted.message, accepted.registration
        if accepted.journal_id is not None:
            self._last_folded_id = max(self._last_folded_id, accepted.journal_id)
        dev = self._devices.get(reg.device)
        if dev is not None:
            last = dev.record.last_event
            # "Last event" is shown to the second: report it at most once a second per device, not
            # once per notification (a burst would otherwise repaint the device list per message).
            if last is None or (accepted.arrival - last).total_seconds() >= LAST_EVENT_RESOLUTION_S:
                dev.record = dataclasses.replace(dev.record, last_event=accepted.arrival)
                self._emit_device(dev.record)
        self.listener.message_logged(
            RawEntry(
                accepted.arrival,
                reg.device,
                message.action,
                summarize(message),
                accepted.journal_id,
                len(accepted.raw),
                accepted.peer,
            )
        )
        instance = dev.record.instance_id if dev is not None else None
        obs = observation(message, reg.device, accepted.arrival, accepted.journal_id, instance)
        if obs is not None:
            self._fold(obs)
        elif isinstance(message, SubscriptionEnd) and dev is not None:
            driver = dev.drivers.get(reg.service)
            if driver is not None and driver.registration == reg:
                log.info("%s ended our subscription: %s", reg.device, message.status)
                reason = message.reasons[0].text.strip() if message.reasons else ""
                self.health_monitor.collector.subscription_ended(
                    reg.device, reg.service, str(message.status), reason, accepted.journal_id
                )
                if message.status is SubscriptionEndStatus.SOURCE_SHUTTING_DOWN:
                    why = OfflineReason.SHUTTING_DOWN
                    dev.record = dataclasses.replace(dev.record, online=False, offline_reason=why)
                    self._emit_device(dev.record)
                driver.subscription_ended(str(message.status))
        elif dev is not None:
            self._device_status(dev, reg.service, message, accepted.arrival, accepted.journal_id)

    def _note_condition(
        self, endpoint: str, change: Change, arrival: datetime, journal_id: int | None
    ) -> None:
        for job_change in self.jobs.note_condition(endpoint, change, arrival, journal_id):
            self._changed(job_change)

    def _device_status(
        self,
        dev: _Device,
        service: str,
        message: Message | UnknownMessage,
        arrival: datetime,
        journal_id: int | None,
    ) -> None:
        """What a device says of itself: repository or scanner state, scanner conditions."""
        record = dev.record
        cleared = cleared_condition_id(message)
        name = None if cleared is None else self._condition_names.pop((record.endpoint, cleared), None)
        update = device_update(record, service, message, name)
        if update is None:
            return
        if update.condition is not None:
            self._condition_names[record.endpoint, update.condition[0]] = update.condition[1]
        if update.note is not None:
            self._note_condition(record.endpoint, update.note, arrival, journal_id)
        if update.record is not dev.record:
            dev.record = update.record
            self._emit_device(update.record)

    def _fold(self, obs: Observation) -> None:
        self._changed(self.jobs.apply(obs))

    def _jobs_unknown(self, endpoint: str) -> None:
        """The monitor lost sight of the device: its active jobs are unknown from now on (rule 7)."""
        for change in self.jobs.mark_unknown(self.clock(), endpoint):
            self._changed(change)

    def _changed(self, change: JobChange) -> None:
        self._dirty_jobs.add(change.record.key)
        self.health_monitor.job_changed(change.record)
        try:
            self.listener.job_changed(change)
        except Exception:
            log.exception("job listener failed")

    # --- health -----------------------------------------------------------------------------

    def health(self, endpoint: str) -> DeviceHealth | None:
        """The device's health judged now (None for an endpoint this engine never saw)."""
        return self.health_monitor.health(endpoint)

    def health_all(self) -> list[DeviceHealth]:
        """The health of every device this engine knows, judged now."""
        return self.health_monitor.health_all()

    def _emit_health(self, health: DeviceHealth) -> None:
        try:
            self.listener.health_changed(health)
        except Exception:
            log.exception("health listener failed")

    # --- journal ----------------------------------------------------------------------------

    def _restore(self) -> None:
        for record in self.journal.load_devices():
            offline = dataclasses.replace(record, online=False, offline_reason=OfflineReason.NOT_SEEN)
            self._devices[record.endpoint] = _Device(offline)
            self._emit_device(self._devices[record.endpoint].record)
        self.jobs.restore(self.journal.load_jobs())
        self._last_folded_id = self.journal.last_folded_message_id()
        # Messages that arrived after the last flush of folded state (e.g. after a kill -9) are
        # folded again from the journal: the journal, not the job cache, is the truth.
        replayed = 0
        for row, arrival, device, _action, raw in self.journal.messages_after(self._last_folded_id):
            try:
                message = decode(raw)
            except RemoteProtocolError as exc:
                log.warning("journal row %d no longer parses (%s); skipped", row, exc)
                continue
            obs = observation(message, device, arrival, row)
            if obs is not None:
                change = self.jobs.apply(obs)
                self._dirty_jobs.add(change.record.key)
                replayed += 1
            self._last_folded_id = max(self._last_folded_id, row)
        if replayed:
            log.info("replayed %d journal messages newer than the saved job state", replayed)
        # What became of the jobs that were active when the monitor stopped is unknown until their
        # devices answer (the snapshot after subscribing settles them: core.jobs rule 7).
        for change in self.jobs.mark_unknown(None):
            self._dirty_jobs.add(change.record.key)
        for job in self.jobs.jobs.values():
            self.listener.job_changed(JobChange(job, added=True, accepted=True))

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_retention = loop.time() + JOB_FLUSH_INTERVAL_S
        while True:
            await asyncio.sleep(JOB_FLUSH_INTERVAL_S)
            self._flush_jobs()
            if loop.time() >= next_retention:
                next_retention = loop.time() + RETENTION_INTERVAL_S
                self.apply_retention()

    def apply_retention(self, now: datetime | None = None) -> int:
        """Bounded growth: drop journal rows and in-memory jobs older than the retention setting
        (never an active job), telling the listener which jobs went. Returns journal rows deleted."""
        from wsdmon.store.journal import RETENTION_BATCH_ROWS

        cfg = self.config
        if cfg.retention is None and cfg.max_messages is None:
            return 0
        now = now or self.clock()
        deleted = 0
        try:
            while True:  # the journal deletes in short batches; a backlog takes a few rounds
                n = self.journal.apply_retention(now, cfg.retention, cfg.max_messages)
                deleted += n
                if n < RETENTION_BATCH_ROWS:
                    break
        except Exception:
            log.exception("journal retention failed")
        if cfg.retention is not None:
            cutoff = now - cfg.retention
            gone = [k for k, r in self.jobs.jobs.items() if not r.is_active and r.last_update < cutoff]
            self.jobs.remove(gone)
            self._dirty_jobs.difference_update(gone)
            if gone:
                self.listener.jobs_removed(gone)
        if deleted:
            log.info("retention removed %d journal rows", deleted)
        return deleted

    def _flush_jobs(self) -> None:
        if not self._dirty_jobs:
            return
        records = [self.jobs.jobs[k] for k in self._dirty_jobs if k in self.jobs.jobs]
        self._dirty_jobs.clear()
        try:
            self.journal.upsert_jobs(records, self._last_folded_id)
        except Exception:
            log.exception("could not write folded job state (messages are safe in the journal)")

    def _pinned(self, device: str) -> str | None:
        return self.journal.trusted_fingerprint(device)

    def accept_fingerprint(self, device: str, sha256_hex: str) -> None:
        """The user accepted a device's self-signed certificate: pin it (remembered per device)."""
        self.journal.set_trusted_fingerprint(device, sha256_hex.lower())

    def raw_message(self, journal_id: int) -> bytes | None:
        """The raw bytes of an accepted message (the detail pane's raw XML)."""
        return self.journal.raw_message(journal_id)
