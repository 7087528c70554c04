"""The engine's device registry (issue 14, item 5): the devices it knows, their metadata and how it is
read, the certificates trusted for them, their subscription drivers and what they say of themselves
(state, scanner conditions).

Every change to a device goes through here and is reported once, to `emit`; the engine, the
subscriptions and the health collector read the devices through this small API instead of a dict.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from wsdmon.core import (
    Change,
    DeviceError,
    DeviceErrorKind,
    DeviceRecord,
    OfflineReason,
    Role,
    ScannerCondition,
    device_from_metadata,
)
from wsdmon.core.devices import runtime_state
from wsdmon.protocol import Headers, Message, RemoteProtocolError, UnknownMessage
from wsdmon.protocol.metadata import GetMetadataResponse, TransferGet
from wsdmon.protocol.repository import GetRepositoryElementsRequest, GetRepositoryElementsResponse
from wsdmon.protocol.repository_types import REPOSITORY_STATUS, RepositoryStatus
from wsdmon.protocol.scan import SCANNER_STATUS, GetScannerElementsRequest, GetScannerElementsResponse

from ._read_gate import ReadGate
from .http import SoapClient, SoapFaultError, TransportError, UntrustedCertificateError, device_error
from .journal_port import JournalPort
from .router import cleared_condition_id, device_update
from .subscriptions import SubscriptionDriver

__all__ = ["LAST_EVENT_RESOLUTION_S", "DeviceRegistry", "is_transport_address"]

log = logging.getLogger(__name__)

LAST_EVENT_RESOLUTION_S = 1.0  # a device's "last event" is reported at most this often

# One request made after subscribing; the answer, or None when the call failed (logged).
Ask = Callable[[str, str, Message], Awaitable[Message | UnknownMessage | None]]


def is_transport_address(address: str) -> bool:
    """An HTTP(S) URL (a device added by its XAddr), not an endpoint address (urn:uuid:, uuid:…)."""
    return urlsplit(address).scheme.lower() in ("http", "https")


@dataclass
class _Device:
    record: DeviceRecord
    drivers: dict[str, SubscriptionDriver] = field(default_factory=dict)


# --- a device's state now, by role (events only tell of changes) -------------------------------


def _repository_state(record: DeviceRecord, service: str, answer: object) -> DeviceRecord | None:
    """GetRepositoryElements RepositoryStatus (§3.2.4.1)."""
    if not isinstance(answer, GetRepositoryElementsResponse):
        return None
    for element in answer.elements:
        if element.valid and isinstance(element.content, RepositoryStatus):
            status = element.content
            record = record.with_state(service, str(status.state), tuple(map(str, status.reasons)))
    return record


def _scanner_state(record: DeviceRecord, service: str, answer: object) -> DeviceRecord | None:
    """GetScannerElements ScannerStatus: the state and every condition active now (it replaces what
    the events had said). A scanner that does not answer keeps what its events say."""
    status = answer.status() if isinstance(answer, GetScannerElementsResponse) else None
    if status is None:
        return None
    record = record.with_state(
        service, str(status.scanner_state), tuple(map(str, status.scanner_state_reasons))
    )
    return record.with_conditions(service, tuple(ScannerCondition.of(c) for c in status.active_conditions))


# role → (the request for its state now, how its answer changes the record)
_STATE_NOW: dict[
    Role, tuple[Callable[[str], Message], Callable[[DeviceRecord, str, Any], DeviceRecord | None]]
] = {
    Role.SCAN_SERVER: (
        lambda service: GetRepositoryElementsRequest(Headers.request(service), (REPOSITORY_STATUS,)),
        _repository_state,
    ),
    Role.SCAN_DEVICE: (
        lambda service: GetScannerElementsRequest(Headers.request(service), (SCANNER_STATUS,)),
        _scanner_state,
    ),
}


class DeviceRegistry:
    """The devices by endpoint, with their subscription drivers; reports every change to `emit`."""

    def __init__(
        self,
        journal: JournalPort,
        emit: Callable[[DeviceRecord], None],
        *,
        adopted: Callable[[DeviceRecord], None],
        unreachable: Callable[[str], None],
        clock: Callable[[], datetime],
        trusted_fingerprints: Iterable[str] = (),
    ) -> None:
        self._journal = journal
        self._report = emit
        self._stored: dict[str, tuple[object, ...]] = {}  # endpoint → the runtime state last stored
        self._adopted = adopted  # a device read afresh: the engine adopts it and subscribes
        self._unreachable = unreachable  # a read failed: its active jobs become unknown
        self._client: SoapClient | None = None
        self._clock = clock
        self._trusted_first_use = frozenset(trusted_fingerprints)
        self._devices: dict[str, _Device] = {}
        self._reads: ReadGate[DeviceRecord | None] = ReadGate()
        self._condition_names: dict[tuple[str, int], str] = {}  # (device, condition Id) → its Name

    def _emit(self, record: DeviceRecord) -> None:
        """Report a change; a change of the runtime state (not a new last-event time) is also
        written to the store, for the viewers of a shared one."""
        state = runtime_state(record)
        if self._stored.get(record.endpoint) != state:
            self._stored[record.endpoint] = state
            try:
                self._journal.save_device_state(record)
            except Exception as exc:  # the store says why in its own log; the monitor goes on
                log.warning("could not store the state of %s: %s", record.endpoint, exc)
        self._report(record)

    def attach(self, client: SoapClient) -> None:
        """The SOAP client metadata is read with (made when the engine starts)."""
        self._client = client

    # --- reading ----------------------------------------------------------------------------------

    def records(self) -> list[DeviceRecord]:
        return [d.record for d in self._devices.values()]

    def endpoints(self) -> list[str]:
        return list(self._devices)

    def __contains__(self, endpoint: object) -> bool:
        return endpoint in self._devices

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._devices))

    def get(self, endpoint: str) -> DeviceRecord | None:
        dev = self._devices.get(endpoint)
        return dev.record if dev is not None else None

    def instance_id(self, endpoint: str) -> int | None:
        """The device's InstanceId as known now (core.jobs rule 6)."""
        dev = self._devices.get(endpoint)
        return dev.record.instance_id if dev is not None else None

    def scan_server(self, endpoint: str) -> str | None:
        """The address of the device's scan server service (where a cancel goes), if it has one."""
        dev = self._devices.get(endpoint)
        services = dev.record.services if dev is not None else ()
        return next((s.address for s in services if s.role is Role.SCAN_SERVER), None)

    # --- subscription drivers -------------------------------------------------------------------

    def drivers(self, endpoint: str) -> dict[str, SubscriptionDriver]:
        """The device's drivers by service address (a copy)."""
        dev = self._devices.get(endpoint)
        return dict(dev.drivers) if dev is not None else {}

    def driver(self, endpoint: str, service: str) -> SubscriptionDriver | None:
        dev = self._devices.get(endpoint)
        return dev.drivers.get(service) if dev is not None else None

    def all_drivers(self) -> list[SubscriptionDriver]:
        return [drv for dev in self._devices.values() for drv in dev.drivers.values()]

    def set_driver(self, endpoint: str, service: str, driver: SubscriptionDriver) -> None:
        self._devices[endpoint].drivers[service] = driver

    # --- changes ----------------------------------------------------------------------------------

    def update(self, endpoint: str, **changes: object) -> DeviceRecord | None:
        """Change fields of a known device's record and report it (None: not known)."""
        dev = self._devices.get(endpoint)
        if dev is None:
            return None
        dev.record = dataclasses.replace(dev.record, **changes)  # type: ignore[arg-type]
        self._emit(dev.record)
        return dev.record

    def put(self, record: DeviceRecord) -> None:
        """A known device's new record (its drivers stay); reported when it differs."""
        dev = self._devices.get(record.endpoint)
        if dev is None or dev.record is record:
            return
        dev.record = record
        self._emit(record)

    def adopt(self, record: DeviceRecord) -> list[SubscriptionDriver]:
        """A device read afresh: it replaces what was known (saved to the journal, reported); the
        old drivers are returned for the caller to stop."""
        old = self._devices.get(record.endpoint)
        self._devices[record.endpoint] = _Device(record)
        self._journal.upsert_device(record)
        self._stored.pop(record.endpoint, None)  # a new row (or none before): its state goes on it
        self._emit(record)
        return list(old.drivers.values()) if old is not None else []

    def restore(self) -> None:
        """The devices the journal knows, offline until seen again."""
        for record in self._journal.load_devices():
            offline = dataclasses.replace(record, online=False, offline_reason=OfflineReason.NOT_SEEN)
            self._devices[record.endpoint] = _Device(offline)
            self._emit(offline)

    def note_event(self, endpoint: str, arrival: datetime) -> None:
        """A notification arrived: "last event" is shown to the second, so it is reported at most
        once a second per device, not once per notification (a burst would repaint the list)."""
        dev = self._devices.get(endpoint)
        if dev is None:
            return
        last = dev.record.last_event
        if last is None or (arrival - last).total_seconds() >= LAST_EVENT_RESOLUTION_S:
            dev.record = dataclasses.replace(dev.record, last_event=arrival)
            self._emit(dev.record)

    def status_event(self, endpoint: str, service: str, message: Message | UnknownMessage) -> Change | None:
        """What a device says of itself in an event (repository or scanner state, scanner conditions):
        its record changes; returned is what the jobs running meanwhile get on their timeline."""
        dev = self._devices.get(endpoint)
        if dev is None:
            return None
        cleared = cleared_condition_id(message)
        name = None if cleared is None else self._condition_names.pop((endpoint, cleared), None)
        update = device_update(dev.record, service, message, name)
        if update is None:
            return None
        if update.condition is not None:
            self._condition_names[endpoint, update.condition[0]] = update.condition[1]
        self.put(update.record)
        return update.note

    async def ask_state(self, ask: Ask, endpoint: str, service: str, role: Role) -> None:
        """The service's state now (and a scanner's standing conditions), asked after subscribing."""
        request, apply = _STATE_NOW[role]
        answer = await ask(endpoint, service, request(service))
        dev = self._devices.get(endpoint)
        record = apply(dev.record, service, answer) if dev is not None else None
        if record is not None:
            self.put(record)

    # --- trust ------------------------------------------------------------------------------------

    def pinned(self, endpoint: str) -> str | None:
        """The SHA-256 of the certificate trusted for the device (None: none pinned)."""
        return self._journal.trusted_fingerprint(endpoint)

    def trust(self, endpoint: str, sha256_hex: str) -> None:
        """Pin a certificate for the device (remembered in the journal)."""
        self._journal.set_trusted_fingerprint(endpoint, sha256_hex.lower())

    # --- metadata ---------------------------------------------------------------------------------

    async def sighting(
        self,
        endpoint: str,
        xaddrs: tuple[str, ...],
        metadata_version: int | None,
        instance_id: int | None,
        *,
        refresh: bool,
        retry_now: bool,
    ) -> DeviceRecord | None:
        """A device was seen: reads its metadata when it is new, restarted (InstanceId) or changed
        (MetadataVersion), then hands the fresh record to `adopted` (which subscribes). One read per
        device and MetadataVersion is in flight at a time: sightings that arrive meanwhile join it.
        After a failed read, sightings wait (ReadGate) unless the device restarted or changed, or
        `retry_now` (a person asked)."""

        async def sighted() -> DeviceRecord | None:
            return await self._sighting(
                endpoint, xaddrs, metadata_version, instance_id, refresh=refresh, retry_now=retry_now
            )

        return await self._reads.run(endpoint, metadata_version, sighted)

    async def _sighting(
        self,
        endpoint: str,
        xaddrs: tuple[str, ...],
        metadata_version: int | None,
        instance_id: int | None,
        *,
        refresh: bool,
        retry_now: bool,
    ) -> DeviceRecord | None:
        known = self._devices.get(endpoint)
        now = self._clock()
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
                    self.update(endpoint, last_seen=now)
                    return rec
        record = await self._read_metadata(endpoint, xaddrs, now, metadata_version, instance_id)
        if record is None:
            return None
        self._reads.succeeded(endpoint)
        record = dataclasses.replace(record, metadata_version=metadata_version, instance_id=instance_id)
        self._adopted(record)
        return self._devices[record.endpoint].record

    async def _read_metadata(
        self,
        endpoint: str,
        xaddrs: tuple[str, ...],
        now: datetime,
        metadata_version: int | None = None,
        instance_id: int | None = None,
    ) -> DeviceRecord | None:
        client = self._client
        assert client is not None, "attach() the SOAP client first"
        errors: list[DeviceError] = []
        for url in xaddrs:
            # DPWS §5.1: the Get goes to the device's endpoint address: `urn:uuid:…`, or `uuid:…` as
            # real MFPs send it. A device added by its URL has none known yet: then the URL itself.
            to = url if is_transport_address(endpoint) else endpoint
            try:
                answer = await client.call(url, TransferGet(Headers.request(to)), device=endpoint)
            except UntrustedCertificateError as exc:
                if exc.fingerprint and exc.fingerprint.lower() in self._trusted_first_use:
                    self.trust(endpoint, exc.fingerprint)
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
            pinned = self.pinned(endpoint)
            if real != endpoint and pinned and not self.pinned(real):
                # Added by URL and trusted under it: the pin follows the device to its urn:uuid,
                # which Subscribe and the snapshot use from now on.
                self._journal.set_trusted_fingerprint(real, pinned)
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
        self._emit(record)
        self._unreachable(endpoint)
