"""`python -m wsdmon.simulator` / `wsdmon-sim`: run simulated WSD scan devices and DSM scan servers
until SIGINT or SIGTERM, then stop cleanly (SubscriptionEnd to subscribers, Bye) and exit 0."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from .config import FaultSetting, Role, Scenario, SimulatorConfig, fault_usage

__all__ = ["build_parser", "config_from_args", "main"]

log = logging.getLogger("wsdmon.simulator")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wsdmon-sim",
        description="Simulated WSD scan devices and DSM scan servers on the network "
        "(WS-Discovery, DPWS metadata, WS-Eventing, MS-BDSRR). Runs until Ctrl-C.",
    )
    p.add_argument(
        "--role",
        choices=[r.value for r in Role],
        default=Role.BOTH.value,
        help="device role(s) to simulate (both: one of each per --devices) [%(default)s]",
    )
    p.add_argument("--devices", type=int, default=1, metavar="N", help="devices per role [%(default)s]")
    p.add_argument(
        "--scenario",
        choices=[s.value for s in Scenario],
        default=Scenario.STEADY.value,
        help="what the devices do [%(default)s]",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=0.2,
        metavar="JOBS_PER_S",
        help="jobs per second per device (steady, faults, vendor) [%(default)s]",
    )
    p.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="run the job clock X times faster than real time (600: the 10-minute rule "
        "fires after 1 s) [%(default)s]",
    )
    p.add_argument("--seed", type=int, default=None, metavar="N", help="seed for repeatable runs")
    p.add_argument(
        "--host",
        default=None,
        metavar="ADDR",
        help="address to bind and advertise (default: the interface's address; "
        "127.0.0.1 with --no-discovery)",
    )
    p.add_argument("--interface", default=None, metavar="IFACE", help="network interface for WS-Discovery")
    p.add_argument("--ipv6", action="store_true", help="use IPv6 (the interface's link-local address)")
    p.add_argument(
        "--http-port",
        type=int,
        default=0,
        metavar="BASE",
        help="HTTP port of the first device, the next ones follow (0: ephemeral) [%(default)s]",
    )
    p.add_argument(
        "--wsd-port", type=int, default=3702, metavar="PORT", help="WS-Discovery UDP port [%(default)s]"
    )
    p.add_argument(
        "--no-discovery",
        action="store_true",
        help="no multicast (no Hello/Bye, no group); directed Probes are still answered",
    )
    p.add_argument(
        "--fault",
        action="append",
        type=_fault,
        default=[],
        metavar="NAME[=VALUE]",
        help="misbehave as real devices and networks do, on every device (repeatable; "
        "S: seconds): " + fault_usage().replace("%", "%%"),
    )
    p.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="[%(default)s]"
    )
    return p


def _fault(text: str) -> FaultSetting:
    """argparse type of --fault: a FaultSetting, or a one-line usage error."""
    try:
        return FaultSetting.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """The SimulatorConfig the parsed arguments ask for (ValueError when they do not fit)."""
    return SimulatorConfig(
        role=Role(args.role),
        devices=args.devices,
        scenario=Scenario(args.scenario),
        rate=args.rate,
        time_scale=args.time_scale,
        seed=args.seed,
        host=args.host,
        interface=args.interface,
        ipv6=args.ipv6,
        http_port=args.http_port,
        wsd_port=args.wsd_port,
        discovery=not args.no_discovery,
        faults=tuple(args.fault),
    )


async def _run(config: SimulatorConfig) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no add_signal_handler: there Ctrl-C arrives as KeyboardInterrupt (main()).
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    # Imported here, not at the top: the devices bring aiohttp and every protocol module (most of a
    # second to import), which --help and a usage error do not need.
    from .sim import Simulator

    sim = Simulator(config)
    try:
        await sim.start()
    except (OSError, ValueError) as exc:
        log.error("cannot start: %s", exc)
        return 2
    try:
        log.info(
            "ready: %d device(s) on %s; stop with Ctrl-C",
            len(sim.devices),
            sim.binding.address if sim.binding else "?",
        )
        await stop.wait()
        log.info("stopping")
    finally:
        await sim.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run until SIGINT/SIGTERM, return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        return asyncio.run(_run(config))
    except KeyboardInterrupt:
        return 0
