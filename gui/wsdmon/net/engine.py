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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp

from wsdmon.core import (
    CancelOutcome,
    CancelResult,
    DeviceRecord,
    JobChange,
    JobKey,
    JobTable,
    Observation,
    OfflineReason,
    ResubscribeResult,
    Role,
    SubscriptionStatus,
)
from wsdmon.core.device_evidence import FoundBy
from wsdmon.core.feed import FeedCommands, FeedListener, FeedSink, RawEntry
from wsdmon.core.health import DeviceHealth
from wsdmon.core.sites import HEARTBEAT_S
from wsdmon.protocol import Message, RemoteProtocolError, UnknownMessage
from wsdmon.protocol.eventing import SubscriptionEnd, SubscriptionEndStatus

from .health import HealthMonitor, ObservedSoapClient
from .http import SoapClient, SoapFaultError, TransportError, UntrustedCertificateError
from .job_ledger import JOB_FLUSH_INTERVAL_S, JobLedger
from .journal_port import JournalPort
from .recorder import PendingMessage, Recorder
from .registry import DeviceRegistry
from .router import observation, summarize
from .sink import Accepted, NotificationSink, RejectReason, local_address_for
from .snapshot import cancel_post_scan_job, take_snapshot
from .subscriptions import ACTIONS_OF_ROLE, SubscriptionDriver

__all__ = ["DEFAULT_NOTIFY_PORT", "Engine", "EngineConfig", "EngineListener", "RawEntry"]

log = logging.getLogger(__name__)


DEFAULT_NOTIFY_PORT = 6200  # the installers open this TCP port in the firewall
# Resubscribe (context menu) reports its outcome within this; a Subscribe gives up after the request
# timeout (EngineConfig.request_timeout_s, 10 s), so this leaves room for the answer to arrive.
RESUBSCRIBE_WAIT_S = 20.0


# The feed contract the window consumes (core/feed.py); an engine's listener is a FeedSink.
EngineListener = FeedListener


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
    job_flush_interval_s: float = JOB_FLUSH_INTERVAL_S  # the folded jobs are written this often
    job_flush_busy_s: float | None = None  # ... up to this often while short of CPU (JobLedger.run)


class Engine:
    """Owns the sink, the SOAP client, subscriptions, the journal and the job table; the devices are
    its DeviceRegistry's, the jobs its JobLedger's. It is the in-process producer of the window's
    feed (core/feed.py): it reports to `listener` (a FeedSink) and answers FeedCommands."""

    def __init__(
        self,
        config: EngineConfig,
        journal: JournalPort,
        listener: FeedSink | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.journal = journal
        self.listener: FeedSink = listener or FeedListener()
        self.clock = clock
        self.ledger = JobLedger(journal)
        self.registry = DeviceRegistry(
            journal,
            self._emit_device,
            adopted=self._adopt,
            unreachable=self._jobs_unknown,
            clock=clock,
            trusted_fingerprints=config.trusted_fingerprints,
        )
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
        # (device, service) → futures a Resubscribe waits on: the next settled subscription status
        self._settled: dict[tuple[str, str], list[asyncio.Future[SubscriptionStatus]]] = {}
        self._flush_task: asyncio.Task[None] | None = None
        self.rejected = 0
        self.health_monitor = HealthMonitor(
            clock,
            jobs=lambda: list(self.jobs.jobs.values()),  # the table may replace its dict
            devices=self.registry.endpoints,
            emit=self._emit_health,
        )

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def devices(self) -> list[DeviceRecord]:
        return self.registry.records()

    @property
    def jobs(self) -> JobTable:
        return self.ledger.jobs

    async def start(self) -> None:
        """Restore from the journal, start listening, add the configured devices."""
        self._restore()
        self._session = aiohttp.ClientSession()
        self._client = ObservedSoapClient(
            self._session,
            timeout_s=self.config.request_timeout_s,
            pinned=self.registry.pinned,
            collector=self.health_monitor.collector,
        )
        self.registry.attach(self._client)
        await self.sink.start(any_port_if_busy=self.config.notify_port_fallback)
        self.health_monitor.start()
        loop = asyncio.get_running_loop()
        self._flush_task = loop.create_task(
            self.ledger.run(
                self.apply_retention, self.config.job_flush_interval_s, self.config.job_flush_busy_s
            ),
            name="job flush",
        )
        for url in self.config.device_urls:
            self.spawn(self.add_device_url(url))
        self.spawn(self._heartbeat())

    async def _heartbeat(self) -> None:
        """Tell the store this engine is alive, from the loop that does the work (core.sites): a
        collector whose loop hangs falls silent for the viewers of a shared store, as one killed."""
        while True:
            try:
                self.journal.heartbeat()
            except Exception as exc:  # the store says why in its own log; the monitor goes on
                log.warning("could not write the heartbeat: %s", exc)
            await asyncio.sleep(HEARTBEAT_S)

    async def stop(self) -> None:
        """Unsubscribe everywhere (bounded), stop listening, write the folded state."""
        drivers = self.registry.all_drivers()
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
        self.ledger.flush()

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
        it is new, restarted (InstanceId) or changed (MetadataVersion); then (re)subscribes
        (DeviceRegistry.sighting: one read per device and version in flight, a wait after a
        failure unless `retry_now`: a person asked)."""
        return await self.registry.sighting(
            endpoint,
            tuple(xaddrs),
            metadata_version,
            instance_id,
            refresh=refresh,
            retry_now=retry_now,
        )

    def device_left(self, endpoint: str) -> None:
        """Bye: keep the device listed, offline; its subscriptions are gone, and what becomes of
        its active jobs is unknown until it answers again (core.jobs rule 7)."""
        if self.registry.update(endpoint, online=False, offline_reason=OfflineReason.BYE) is not None:
            self._jobs_unknown(endpoint)

    def _adopt(self, record: DeviceRecord) -> None:
        for driver in self.registry.adopt(record):
            self.spawn(driver.stop())
        for service in record.services:
            self._subscribe(record, service.address, service.role)

    def _subscribe(self, record: DeviceRecord, service: str, role: Role) -> None:
        assert self._client is not None
        endpoint = record.endpoint
        host = self.config.notify_host or local_address_for(urlsplit(service).hostname or "127.0.0.1")
        registry = self.registry

        def current() -> DeviceRecord | None:
            # A driver replaced by a new one (the device restarted or changed) may still report,
            # e.g. CLOSED when its Unsubscribe ends after the new one subscribed: not news any more.
            return registry.get(endpoint) if registry.driver(endpoint, service) is driver else None

        def on_status(status: SubscriptionStatus, error: str | None) -> None:
            record = current()
            if record is None:
                return
            record = record.with_subscription(service, status, error)
            if status is SubscriptionStatus.ACTIVE and record.offline_reason is OfflineReason.SHUTTING_DOWN:
                record = dataclasses.replace(record, online=True, offline_reason=None)  # it is back
            registry.put(record)
            if status is not SubscriptionStatus.SUBSCRIBING:  # settled: tell a Resubscribe
                for waiter in self._settled.pop((endpoint, service), []):
                    if not waiter.done():
                        waiter.set_result(status)
            if status is SubscriptionStatus.RETRYING:
                self._jobs_unknown(endpoint)  # no events until resubscribed (rule 7)

        def on_subscribed() -> None:
            if current() is not None:
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
        registry.set_driver(endpoint, service, driver)
        driver.start()

    async def resubscribe(self, endpoint: str) -> ResubscribeResult:
        """Drop and renew every subscription of a device (the device list's context menu); the
        outcome once each has settled (active or failed), or NO_ANSWER_YET after RESUBSCRIBE_WAIT_S."""
        drivers = self.registry.drivers(endpoint)
        if not drivers:
            return ResubscribeResult.NOTHING_TO_SUBSCRIBE
        loop = asyncio.get_running_loop()
        waiters: list[asyncio.Future[SubscriptionStatus]] = []
        for service, driver in drivers.items():
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
        record = self.registry.get(endpoint)
        if record is not None:
            await self.sighting(
                endpoint,
                record.xaddrs,
                record.metadata_version,
                record.instance_id,
                refresh=True,
                retry_now=True,
            )

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
        """The device's state now, then its job lists (net/snapshot.py): the table is right before
        the next event (issue 4.5). When both lists answered, the device's active jobs of that kind
        that neither lists are lost (jobs.py rule 5)."""
        await self.registry.ask_state(self._ask, endpoint, service, role)
        snap = await take_snapshot(
            self._ask,
            endpoint,
            service,
            role,
            history=self.config.snapshot_history,
            instance=self.registry.instance_id(endpoint),
            clock=self.clock,
            fold=self._fold,
        )
        if snap.complete:
            for change in self.jobs.mark_lost(endpoint, snap.reported, snap.asked, self.clock(), snap.kind):
                log.info("%s no longer reports job %s: lost", endpoint, change.record.key.job_token)
                self._changed(change)

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
        service = self.registry.scan_server(key.device)
        if service is None:
            return CancelOutcome(CancelResult.NOT_POSSIBLE, asked)
        return await cancel_post_scan_job(self._client, service, key, asked)

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
        self.ledger.folded(accepted.journal_id)
        self.registry.note_event(reg.device, accepted.arrival)
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
        known = reg.device in self.registry
        instance = self.registry.instance_id(reg.device)
        obs = observation(message, reg.device, accepted.arrival, accepted.journal_id, instance)
        if obs is not None:
            self._fold(obs)
        elif isinstance(message, SubscriptionEnd):
            if known:
                self._subscription_ended(accepted, message)
        elif known:
            note = self.registry.status_event(reg.device, reg.service, message)
            if note is not None:
                jobs = self.jobs.note_condition(reg.device, note, accepted.arrival, accepted.journal_id)
                for job_change in jobs:
                    self._changed(job_change)

    def _subscription_ended(self, accepted: Accepted, message: SubscriptionEnd) -> None:
        reg = accepted.registration
        driver = self.registry.driver(reg.device, reg.service)
        if driver is None or driver.registration != reg:
            return
        log.info("%s ended our subscription: %s", reg.device, message.status)
        reason = message.reasons[0].text.strip() if message.reasons else ""
        self.health_monitor.collector.subscription_ended(
            reg.device, reg.service, str(message.status), reason, accepted.journal_id
        )
        if message.status is SubscriptionEndStatus.SOURCE_SHUTTING_DOWN:
            self.registry.update(reg.device, online=False, offline_reason=OfflineReason.SHUTTING_DOWN)
        driver.subscription_ended(str(message.status))

    def _fold(self, obs: Observation) -> None:
        self._changed(self.ledger.fold(obs))

    def _jobs_unknown(self, endpoint: str) -> None:
        """The monitor lost sight of the device: its active jobs are unknown from now on (rule 7)."""
        for change in self.jobs.mark_unknown(self.clock(), endpoint):
            self._changed(change)

    def _changed(self, change: JobChange) -> None:
        self.ledger.changed(change)
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
        """A device's report changed (a verdict or a finding): to the listener, and to the store for
        the viewers of a shared one (a journal keeps none)."""
        try:
            self.journal.save_device_health(health)
        except Exception as exc:  # the store says why in its own log; the monitor goes on
            log.warning("could not store the health of %s: %s", health.endpoint, exc)
        try:
            self.listener.health_changed(health)
        except Exception:
            log.exception("health listener failed")

    # --- journal ----------------------------------------------------------------------------

    def _restore(self) -> None:
        self.registry.restore()
        for change in self.ledger.restore():
            self.listener.job_changed(change)

    def apply_retention(self, now: datetime | None = None) -> int:
        """Bounded growth: drop journal rows and in-memory jobs older than the retention setting
        (never an active job), telling the listener which jobs went. Returns journal rows deleted."""
        cfg = self.config
        deleted, gone = self.ledger.apply_retention(now or self.clock(), cfg.retention, cfg.max_messages)
        if gone:
            self.listener.jobs_removed(gone)
        return deleted

    def accept_fingerprint(self, device: str, sha256_hex: str) -> None:
        """The user accepted a device's self-signed certificate: pin it (remembered per device)."""
        self.registry.trust(device, sha256_hex)

    def raw_message(self, journal_id: int) -> bytes | None:
        """The raw bytes of an accepted message (the detail pane's raw XML)."""
        return self.journal.raw_message(journal_id)


if TYPE_CHECKING:
    _ANSWERS_THE_WINDOW: type[FeedCommands] = Engine  # mypy checks the engine against the contract
