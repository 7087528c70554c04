"""Devices as the monitor knows them: identity from DPWS metadata, roles from hosted service types
(never from a Hello's Types alone, protocol README §3.2), and per service the subscription state and
what the device last said of itself: the repository's or scanner's state and reasons, and the
scanner's standing conditions (paper jam, lamp error…). Those are live values: not journalled,
unknown until the device reports them."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from wsdmon.protocol import QName
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.metadata import GetMetadataResponse
from wsdmon.protocol.scan import Component, ConditionName, DeviceCondition, Severity

from .device_status import DeviceError, OfflineReason

__all__ = [
    "REPOSITORY_SERVICE_TYPE",
    "SCANNER_SERVICE_TYPE",
    "DeviceRecord",
    "Role",
    "ScannerCondition",
    "ServiceInfo",
    "SubscriptionStatus",
    "device_from_metadata",
    "runtime_state",
]

SCANNER_SERVICE_TYPE = QName(ns.WSCN, "ScannerServiceType")
REPOSITORY_SERVICE_TYPE = QName(ns.DSC, "RepositoryConfigurationServiceType")


class Role(enum.Enum):
    SCAN_SERVER = "scan-server"  # hosts dsc:RepositoryConfigurationServiceType
    SCAN_DEVICE = "scan-device"  # hosts wscn:ScannerServiceType


class SubscriptionStatus(enum.Enum):
    NONE = "none"
    SUBSCRIBING = "subscribing"
    ACTIVE = "active"
    RETRYING = "retrying"  # failed or ended; backing off before resubscribing
    CLOSED = "closed"


_ROLE_OF_TYPE = {SCANNER_SERVICE_TYPE: Role.SCAN_DEVICE, REPOSITORY_SERVICE_TYPE: Role.SCAN_SERVER}


@dataclass(frozen=True, slots=True)
class ScannerCondition:
    """One standing condition of a scanner (a WS-Scan DeviceCondition: paper jam, cover open…), its
    values as the scanner sent them (vendor values as given); models/ words them."""

    condition_id: int
    name: ConditionName | str
    severity: Severity | str
    component: Component | str

    @classmethod
    def of(cls, condition: DeviceCondition) -> ScannerCondition:
        return cls(condition.condition_id, condition.name, condition.severity, condition.component)


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """A hosted service we talk to: where to POST, what it is, and our subscription to it."""

    address: str
    role: Role
    service_id: str | None = None
    subscription: SubscriptionStatus = SubscriptionStatus.NONE
    subscription_error: str | None = None
    state: str | None = None  # RepositoryState / ScannerState as sent (vendor values as given)
    state_reasons: tuple[str, ...] = ()
    conditions: tuple[ScannerCondition, ...] = ()  # a scanner's active conditions, in the order raised


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """Everything the device list shows about one endpoint (keyed by its urn:uuid address)."""

    endpoint: str
    xaddrs: tuple[str, ...] = ()
    friendly_name: str | None = None
    manufacturer: str | None = None
    model_name: str | None = None
    model_number: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    presentation_url: str | None = None
    device_category: tuple[str, ...] = ()
    services: tuple[ServiceInfo, ...] = ()
    metadata_version: int | None = None
    instance_id: int | None = None
    last_seen: datetime | None = None
    last_event: datetime | None = None
    online: bool = True
    offline_reason: OfflineReason | None = None  # why it is offline (None while online)
    error: DeviceError | None = None  # why its metadata could not be read, if it could not
    # A shared store's device: when its site's collector wrote the runtime state above (None: this
    # PC's engine's own, live; or a store that holds none, its state then unknown).
    state_at: datetime | None = None

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(s.role for s in self.services)

    @property
    def name(self) -> str:
        return self.friendly_name or self.model_name or self.endpoint

    @property
    def host(self) -> str | None:
        for url in self.xaddrs:
            host = urlsplit(url).hostname
            if host:
                return host
        return None

    @property
    def subscribed(self) -> bool:
        return bool(self.services) and all(s.subscription is SubscriptionStatus.ACTIVE for s in self.services)

    def with_subscription(
        self, address: str, status: SubscriptionStatus, error: str | None = None
    ) -> DeviceRecord:
        """A copy with one service's subscription state changed."""
        services = tuple(
            dataclasses.replace(s, subscription=status, subscription_error=error)
            if s.address == address
            else s
            for s in self.services
        )
        return dataclasses.replace(self, services=services)

    def with_state(self, address: str, state: str, reasons: tuple[str, ...]) -> DeviceRecord:
        """A copy with one service's reported state (a status summary event or snapshot)."""
        return self._with_service(address, state=state, state_reasons=reasons)

    def with_condition(
        self, address: str, condition_id: int, condition: ScannerCondition | None
    ) -> DeviceRecord:
        """A copy with a scanner condition raised or changed (`condition`) or cleared (None)."""
        for s in self.services:
            if s.address == address:
                kept = tuple(c for c in s.conditions if c.condition_id != condition_id)
                return self.with_conditions(address, kept if condition is None else (*kept, condition))
        return self

    def with_conditions(self, address: str, conditions: tuple[ScannerCondition, ...]) -> DeviceRecord:
        """A copy with one service's standing conditions replaced (a status answer lists them all)."""
        return self._with_service(address, conditions=conditions)

    def _with_service(self, address: str, **changes: object) -> DeviceRecord:
        services = tuple(
            dataclasses.replace(s, **changes) if s.address == address else s  # type: ignore[arg-type]
            for s in self.services
        )
        return dataclasses.replace(self, services=services)


def device_from_metadata(
    endpoint: str, xaddrs: tuple[str, ...], metadata: GetMetadataResponse, *, now: datetime
) -> DeviceRecord:
    """Identity and roles from a WS-Transfer GetResponse; services we do not monitor are left out."""
    model = metadata.this_model
    device = metadata.this_device
    services = []
    for hosted in metadata.hosted:
        role = next((_ROLE_OF_TYPE[t] for t in hosted.types if t in _ROLE_OF_TYPE), None)
        if role is not None and hosted.addresses:
            services.append(ServiceInfo(hosted.addresses[0], role, hosted.service_id))
    return DeviceRecord(
        endpoint=endpoint,
        xaddrs=xaddrs,
        friendly_name=device.friendly_name if device else None,
        manufacturer=model.manufacturer if model else None,
        model_name=model.model_name if model else None,
        model_number=model.model_number if model else None,
        serial_number=device.serial_number if device else None,
        firmware_version=device.firmware_version if device else None,
        presentation_url=model.presentation_url if model else None,
        device_category=model.device_category if model else (),
        services=tuple(services),
        last_seen=now,
    )


def runtime_state(record: DeviceRecord) -> tuple[object, ...]:
    """What a device is doing now, as a value to compare (not its metadata, not its last-event
    time): the part of a record a store writes for the viewers of a shared one when it changes."""
    return (
        record.online,
        record.offline_reason,
        record.error,
        tuple(
            (s.address, s.subscription, s.subscription_error, s.state, s.state_reasons, s.conditions)
            for s in record.services
        ),
    )
