"""The Simulator: devices, their HTTP endpoints, the WS-Discovery responder and a scenario, wired
together on the running asyncio loop (the GUI's qasync loop, a test's, or the CLI's).

    sim = Simulator(SimulatorConfig(role=Role.BOTH, scenario=Scenario.STEADY))
    await sim.start()          # HTTP up, then Hello
    sim.devices                # [SimDevice(.endpoint, .role, .metadata_url, .service_url, ...)]
    await sim.stop()           # jobs stop, SubscriptionEnd(SourceShuttingDown), Bye, sockets closed
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid

from .clock import Clock
from .config import Role, SimulatorConfig, new_rng
from .device import SimDevice, endpoint_address
from .faults import FaultRunner
from .scenarios import ScenarioRunner
from .sockets import Binding, choose_binding
from .wsd import DiscoveryResponder

__all__ = ["Simulator"]

log = logging.getLogger(__name__)

_ROLE_NAMES = {Role.SCAN_SERVER: "Scan Server", Role.SCAN_DEVICE: "Scanner"}


# uuid5 namespace of stable_identity endpoints (a fixed random uuid: names map to the same endpoints
# in every wsdmon version).
_IDENTITY_NAMESPACE = uuid.UUID("6f1d7c2e-3b8a-4e55-9a0c-5d2f8e7b1c44")


class Simulator:
    """A running set of simulated devices. Use on a running loop; creates no loop and no thread."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.faults = self.config.fault_plan
        self.clock = Clock(self.config.time_scale, self.faults.clock_offset_s)
        self.devices: list[SimDevice] = []
        self.binding: Binding | None = None
        self._responder: DiscoveryResponder | None = None
        self._scenario: ScenarioRunner | None = None
        self._fault_runner: FaultRunner | None = None
        self._started = False
        self._stopped = False

    @property
    def discovery_port(self) -> int:
        """The UDP port of the WS-Discovery endpoint (interesting when wsd_port was 0)."""
        if self._responder is None:
            raise RuntimeError("the simulator is not started")
        return self._responder.port

    def device(self, role: Role, index: int = 0) -> SimDevice:
        """The index-th device of a role."""
        return [d for d in self.devices if d.role is role][index]

    async def start(self) -> None:
        """Open every socket, serve HTTP, announce the devices (Hello), start the scenario."""
        if self._started:
            raise RuntimeError("the simulator is already started")
        self._started = True
        cfg = self.config
        try:
            self.binding = binding = choose_binding(
                host=cfg.host, interface=cfg.interface, ipv6=cfg.ipv6, multicast=cfg.discovery
            )
            rng = new_rng(cfg.seed)
            self._create_devices(binding, rng)
            self._responder = DiscoveryResponder(
                binding,
                cfg.wsd_port,
                self.devices,
                multicast=cfg.discovery,
                timers=cfg.timers,
                rng=random.Random(rng.getrandbits(64)),  # noqa: S311 - protocol jitter, not secrets
                faults=self.faults,
            )
            for device in self.devices:
                device.announce = self._responder.hello
                await device.start()
            await self._responder.start()
            self._scenario = ScenarioRunner(
                cfg.scenario,
                self.devices,
                rng=random.Random(rng.getrandbits(64)),  # noqa: S311 - repeatable job plans
                clock=self.clock,
                rate=cfg.rate,
                slow_response_s=cfg.timers.slow_response_s,
            )
            self._scenario.start()
            if cfg.faults:
                log.info("faults: %s", ", ".join(str(f) for f in cfg.faults))
            self._fault_runner = FaultRunner(self.faults, self.devices, self._responder)
            self._fault_runner.start()
        except BaseException:
            await self.stop()
            raise

    def _create_devices(self, binding: Binding, rng: random.Random) -> None:
        cfg = self.config
        for n in range(cfg.devices):
            for role in cfg.role.expand():
                index = len(self.devices)
                name = f"{cfg.name} {_ROLE_NAMES[role]} {n + 1}"
                # Drawn in any case, so that seeded runs keep the same tokens and plans as before.
                identity = uuid.UUID(int=rng.getrandbits(128), version=4)
                if cfg.stable_identity:
                    identity = uuid.uuid5(_IDENTITY_NAMESPACE, name)
                endpoint = endpoint_address(role, identity)
                self.devices.append(
                    SimDevice(
                        role,
                        endpoint=endpoint,
                        friendly_name=name,
                        binding=binding,
                        port=cfg.http_port + index if cfg.http_port else 0,
                        clock=self.clock,
                        rng=random.Random(rng.getrandbits(64)),  # noqa: S311 - repeatable tokens
                        timers=cfg.timers,
                        faults=self.faults,
                    )
                )

    async def stop_scenario(self) -> None:
        """Stop submitting jobs and injecting faults; running jobs go on to their end."""
        if self._fault_runner is not None:
            await self._fault_runner.stop()
            self._fault_runner = None
        if self._scenario is not None:
            await self._scenario.stop()
            self._scenario = None

    async def stop(self) -> None:
        """Stop cleanly: scenario and jobs stop, subscribers get SubscriptionEnd(SourceShuttingDown),
        Bye goes out, every socket closes. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        await self.stop_scenario()
        await asyncio.gather(*(d.stop_jobs() for d in self.devices))
        await asyncio.gather(*(d.close() for d in self.devices))
        if self._responder is not None:
            await self._responder.bye_all()
            await self._responder.close()
            self._responder = None
        if self.devices:
            log.info("simulator stopped (%d device(s))", len(self.devices))

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
