"""One simulated device: its identity, DPWS metadata, discovery state and HTTP endpoint.

Each device has its own endpoint address, friendly name and port. Its XAddr (`metadata_url`) answers
the WS-Transfer Get with ThisModel (PnP-X DeviceCategory included), ThisDevice and the host
Relationship; its hosted service (`service_url`) answers WS-Eventing and the role's operations
(MS-BDSRR for a scan server, WS-Scan's for a scan device: scan_service.py). SOAP handling is in soaphttp.py.

PnP-X DeviceCategory: "Scanners" for a scan device (what WSD scanners send); "Computers" for a scan
server, which is a role of a Windows Server machine, not a scanner (Windows would otherwise look
for a scanner driver for it). The scan server's device Types follow the shared example 02.

The two roles are shaped like what is met in the field. The scan server, a Windows role, looks like
WSDAPI: a `urn:uuid:` endpoint and a Host in the relationship. The scan device looks like the real MFP
in the shared corpus (kyocera-ecosys-m2040dn.*): a `uuid:` endpoint (not urn:uuid:), no Host (only
the Hosted scanner service, with a `uri:` ServiceId and PnP-X CompatibleId/HardwareId), a Device
Foundation ContainerId in ThisDevice and vendor elements in their own namespace beside wscn.

Two faults (config.Fault) act here: xaddr-host (the XAddrs a peer discovers name another host than
the one the HTTP server is bound to) and print-only (a printer whose WSD scanning is switched off:
Types and metadata say a WS-Print device, its only hosted service is a print service, which
answers every action with wsa:ActionNotSupported; no scan or repository service is served).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
import uuid
from collections.abc import Callable

from aiohttp import web

from wsdmon.protocol import AppSequence, Headers, Message, QName
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.eventing import GetStatus, Renew, Subscribe, Unsubscribe
from wsdmon.protocol.metadata import (
    GetMetadataResponse,
    HostedService,
    HostService,
    LocalizedText,
    Relationship,
    ThisDevice,
    ThisModel,
    TransferGet,
)

from . import repository, scanner
from .clock import Clock
from .config import Faults, Role, Timers
from .eventing import EventSource
from .plans import VENDOR_NS, JobPlan, ScanJobPlan
from .postscan import PostScanJob
from .repository import Repository
from .scan_service import ScanService
from .scanner import ScanJob, Scanner
from .soaphttp import Handler, SoapEndpoint
from .sockets import Binding, tcp_listener

__all__ = [
    "DEVICE_TYPES",
    "PRINT_DEVICE_TYPES",
    "PRINT_SERVICE_TYPE",
    "SERVICE_TYPES",
    "SimDevice",
    "endpoint_address",
]

log = logging.getLogger(__name__)

_DEVICE = QName(ns.WSDP, "Device")
SERVICE_TYPES = {
    Role.SCAN_SERVER: QName(ns.DSC, "RepositoryConfigurationServiceType"),
    Role.SCAN_DEVICE: QName(ns.WSCN, "ScannerServiceType"),
}
DEVICE_TYPES = {
    Role.SCAN_SERVER: (_DEVICE, QName(ns.DSC, "RepositoryConfigurationServiceType")),  # example 02
    Role.SCAN_DEVICE: (_DEVICE, QName(ns.WSCN, "ScanDeviceType")),  # example 01
}
_CATEGORY = {Role.SCAN_SERVER: ("Computers",), Role.SCAN_DEVICE: ("Scanners",)}
# The print-only fault: a WS-Print device (Types as printers announce them; no scan service).
PRINT_DEVICE_TYPES = (_DEVICE, QName(ns.PRI, "PrintDeviceType"))
PRINT_SERVICE_TYPE = QName(ns.PRI, "PrinterServiceType")
_PRINT_MODEL = ("Printer 4200", "P4200")
_MODEL = {
    Role.SCAN_SERVER: ("Distributed Scan Server", "DSS-2026"),
    Role.SCAN_DEVICE: ("Scanner 4200", "4200"),
}
# Vendor and Windows namespaces a real MFP's metadata carries beside DPWS (the Kyocera capture).
PNPX = "http://schemas.microsoft.com/windows/pnpx/2005/10"
DEVICE_FOUNDATION = "http://schemas.microsoft.com/windows/2008/09/devicefoundation"
_HARDWARE_ID = "VEN_5753&amp;DEV_4200"  # PnP-X HardwareId, as the Kyocera's VEN_0103&DEV_069D


def endpoint_address(role: Role, identity: uuid.UUID) -> str:
    """A device's WS-Addressing endpoint address: `urn:uuid:` for the scan server (WSDAPI), bare
    `uuid:` for the scan device, as real MFPs send it (the Kyocera capture's ProbeMatch)."""
    return identity.urn if role is Role.SCAN_SERVER else f"uuid:{identity}"


def _identity(endpoint: str) -> uuid.UUID:
    return uuid.UUID(endpoint.rpartition(":")[2])


def url_host(host: str) -> str:
    """`host` as the host part of a URL: IPv6 addresses in brackets, a zone's % escaped (RFC 6874)."""
    if ":" in host and not host.startswith("["):
        return f"[{host.replace('%', '%25')}]"
    return host


def _element(namespace: str, prefix: str, local: str, text: str) -> str:
    return f'<{prefix}:{local} xmlns:{prefix}="{namespace}">{text}</{prefix}:{local}>'


def _this_model(model_name: str, model_number: str, category: tuple[str, ...]) -> ThisModel:
    """The simulator's ThisModel: its manufacturer, a model name and number, the PnP-X category."""
    return ThisModel(
        (LocalizedText("wsdmon simulator", "en"),),
        "https://wsdmon.invalid/",
        (LocalizedText(f"{model_name} (simulated)", "en"),),
        model_number,
        None,
        None,
        category,
    )


class SimDevice:
    """A device of the simulator. `endpoint`, `role`, `metadata_url`, `service_url` and
    `friendly_name` are what a peer discovers; `submit_job()` drives its jobs."""

    def __init__(
        self,
        role: Role,
        *,
        endpoint: str,
        friendly_name: str,
        binding: Binding,
        port: int,
        clock: Clock,
        rng: random.Random,
        timers: Timers,
        faults: Faults | None = None,
    ) -> None:
        if role is Role.BOTH:
            raise ValueError("a device has one role")
        self.role = role
        self.faults = faults = faults or Faults()
        self.endpoint = endpoint
        self.friendly_name = friendly_name
        self.serial_number = f"SIM-{_identity(endpoint).hex[:8].upper()}"
        self.binding = binding
        self._timers = timers
        self.metadata_version = 1
        self.instance_id = int(time.time())  # WS-Discovery §7: grows with each restart
        self._message_number = 0
        self.announce: Callable[[SimDevice], None] = lambda device: None  # set by the Simulator
        self.slow_response_s = 0.0  # the faults scenario's slow answers
        self._listener: socket.socket = tcp_listener(binding, port)
        self.port = int(self._listener.getsockname()[1])
        base = f"http://{binding.url_host}:{self.port}"
        key = str(_identity(endpoint))
        self.metadata_url = f"{base}/{key}/"
        self._xaddr = self.metadata_url
        if faults.xaddr_host is not None:
            self._xaddr = f"http://{url_host(faults.xaddr_host)}:{self.port}/{key}/"
        service = "ScanServer" if role is Role.SCAN_SERVER else "ScannerService"
        if faults.print_only:
            service = "PrinterService"
        self.service_url = f"{base}/{service}/{key}"
        actions = repository.EVENT_ACTIONS if role is Role.SCAN_SERVER else scanner.EVENT_ACTIONS
        self.events = EventSource(self.service_url, actions, timers, friendly_name, faults=faults)
        self.repository: Repository | None = None
        self.scanner: Scanner | None = None
        self.scan_service: ScanService | None = None
        service_handlers: dict[type[Message], Handler] = {
            Subscribe: self.events.subscribe,  # type: ignore[dict-item]
            Renew: self.events.renew,  # type: ignore[dict-item]
            GetStatus: self.events.get_status,  # type: ignore[dict-item]
            Unsubscribe: self.events.unsubscribe,  # type: ignore[dict-item]
        }
        if role is Role.SCAN_SERVER:
            self.repository = Repository(self.events, clock, rng, timers, friendly_name)
            service_handlers.update(self.repository.handlers())
        else:
            self.scanner = Scanner(self.events, clock, rng, friendly_name)
            self.scan_service = ScanService(self.scanner)
            self.events.subscribe_extensions = self.scan_service.subscribe_extensions
            service_handlers.update(self.scan_service.handlers())  # type: ignore[arg-type]
        self._http = SoapEndpoint(
            friendly_name,
            {
                f"/{key}/": {TransferGet: self._metadata},  # type: ignore[dict-item]
                f"/{key}": {TransferGet: self._metadata},  # type: ignore[dict-item]  # without the slash
                # print-only: the print service answers nothing (ActionNotSupported), scanning is off
                f"/{service}/{key}": {} if faults.print_only else service_handlers,
            },
            delay=lambda: self.slow_response_s,
        )
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return f"<SimDevice {self.role} {self.friendly_name!r} {self.endpoint} at {self.metadata_url}>"

    # --- discovery (wsd.DiscoveryTarget) --------------------------------------------------------

    @property
    def types(self) -> tuple[QName, ...]:
        return PRINT_DEVICE_TYPES if self.faults.print_only else DEVICE_TYPES[self.role]

    @property
    def scopes(self) -> tuple[str, ...]:
        return ()

    @property
    def xaddrs(self) -> tuple[str, ...]:
        """What Hello, ProbeMatch and ResolveMatch advertise: the metadata URL (with the
        xaddr-host fault, on that host instead of the bound address)."""
        return (self._xaddr,)

    def next_app_sequence(self) -> AppSequence:
        """The AppSequence of the next discovery message (MessageNumber grows per message)."""
        self._message_number += 1
        return AppSequence(self.instance_id, self._message_number)

    # --- driving --------------------------------------------------------------------------------

    def submit_job(self, plan: JobPlan | ScanJobPlan | None = None) -> PostScanJob | ScanJob:
        """Start a job: a post-scan job on a scan server, a scan job on a scan device."""
        if self.repository is not None:
            if isinstance(plan, ScanJobPlan):
                raise TypeError("a scan server runs post-scan jobs (JobPlan)")
            return self.repository.submit(plan)
        assert self.scanner is not None
        if isinstance(plan, JobPlan):
            raise TypeError("a scan device runs scan jobs (ScanJobPlan)")
        return self.scanner.submit(plan)

    @property
    def jobs_finished(self) -> int:
        """How many jobs have ended on this device."""
        if self.repository is not None:
            return self.repository.finished
        return self.scanner.finished if self.scanner is not None else 0

    def set_friendly_name(self, name: str) -> None:
        """Change the friendly name: MetadataVersion grows and a Hello tells peers (WS-Discovery §4.1)."""
        self.friendly_name = self.events.name = name
        for engine in (self.repository, self.scanner):
            if engine is not None:
                engine.name = name
        self.metadata_version += 1
        log.info("%s: metadata changed, MetadataVersion %d", name, self.metadata_version)
        self.announce(self)

    async def restart(self) -> None:
        """Reboot without a goodbye: subscriptions are lost silently, the scan server's running
        jobs too (no end events, no history), the scanner's JobIds start over at 1, and a new
        InstanceId is announced."""
        forgotten = await self.repository.forget_active() if self.repository is not None else 0
        if self.scanner is not None:
            self.scanner.restart_job_ids()
        self.instance_id = max(int(time.time()), self.instance_id + 1)
        self._message_number = 0
        self.events.drop_all_silently()
        log.info(
            "%s: restarted, InstanceId %d (subscriptions dropped, %d running job(s) lost)",
            self.friendly_name,
            self.instance_id,
            forgotten,
        )
        self.announce(self)

    # --- metadata (WS-Transfer Get, DPWS §5) ------------------------------------------------------

    def metadata(self, relates_to: str | None = None) -> GetMetadataResponse:
        """The GetResponse this device answers a metadata Get with."""
        if self.faults.print_only:
            return self._print_metadata(relates_to)
        this_model = _this_model(*_MODEL[self.role], _CATEGORY[self.role])
        name = (LocalizedText(self.friendly_name, "en"),)
        if self.role is Role.SCAN_SERVER:  # WSDAPI's shape: a Host naming the device
            this_device = ThisDevice(name, "1.0.0", self.serial_number)
            host = HostService(self.endpoint, self.types, self.endpoint)
            hosted = HostedService(
                (self.service_url,), (SERVICE_TYPES[self.role],), f"{self.endpoint}/{self.role}"
            )
            relationship = Relationship(host, (hosted,))
        else:  # the real MFP's shape: no Host, PnP-X ids on the Hosted, vendor elements
            identity = _identity(self.endpoint)
            container = _element(DEVICE_FOUNDATION, "df", "ContainerId", f"{{{identity}}}")
            vendor = _element(VENDOR_NS, "simv", "PanelLanguage", "en")
            this_device = ThisDevice(name, "1.0.0", self.serial_number, (container, vendor))
            service_type = SERVICE_TYPES[self.role]
            hosted = HostedService(
                (self.service_url,),
                (service_type,),
                f"uri:{identity}/WSDScanner",
                (
                    _element(PNPX, "pnpx", "CompatibleId", f"{service_type.namespace}/{service_type.local}"),
                    _element(PNPX, "pnpx", "HardwareId", _HARDWARE_ID),
                ),
            )
            relationship = Relationship(None, (hosted,))
        return GetMetadataResponse(Headers.reply(relates_to), this_model, this_device, relationship)

    def _print_metadata(self, relates_to: str | None) -> GetMetadataResponse:
        """A printer's metadata (print-only fault): one hosted WS-Print service, no scan service."""
        this_model = _this_model(*_PRINT_MODEL, ("Printers",))
        this_device = ThisDevice((LocalizedText(self.friendly_name, "en"),), "1.0.0", self.serial_number)
        identity = _identity(self.endpoint)
        hosted = HostedService((self.service_url,), (PRINT_SERVICE_TYPE,), f"uri:{identity}/WSDPrinter")
        relationship = Relationship(HostService(self.endpoint, self.types, self.endpoint), (hosted,))
        return GetMetadataResponse(Headers.reply(relates_to), this_model, this_device, relationship)

    def _metadata(self, request: TransferGet) -> Message:
        return self.metadata(request.header.message_id)

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve HTTP on the device's port."""
        self._runner = await self._http.serve(self._listener)
        log.info(
            "%s (%s) %s: metadata %s, service %s",
            self.friendly_name,
            self.role,
            self.endpoint,
            self.metadata_url,
            self.service_url,
        )

    async def stop_jobs(self) -> None:
        """Stop the running jobs where they are."""
        if self.repository is not None:
            await self.repository.close()
        if self.scanner is not None:
            await self.scanner.close()

    async def close(self) -> None:
        """SubscriptionEnd(SourceShuttingDown) to every subscriber, then stop serving HTTP."""
        await self.events.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        else:
            self._listener.close()
        await asyncio.sleep(0)
