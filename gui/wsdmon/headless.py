"""The engine without a window, shared by `wsdmon watch` and `wsdmon collect`: the journal (locked,
opened, a damaged one moved aside), the engine, discovery and directed probes, run until told to
stop, then stopped cleanly (every subscription ended with Unsubscribe, the journal flushed and
closed, the lock freed). No Qt is imported on this path.

Problems at start-up are said in one line each through a `say` the caller gives (watch: a plain
"wsdmon: …" line; collect: a log record at a syslog priority), never as a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "EXIT_ALREADY_RUNNING",
    "EXIT_CANNOT_START",
    "EXIT_OK",
    "Running",
    "Say",
    "journal_location",
    "run_headless",
    "say_on_stderr",
    "stop_on_signals",
]

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ALREADY_RUNNING = 1  # another wsdmon (window, watch or collect) already uses this journal
EXIT_CANNOT_START = 2  # also argparse's code for a bad command line


class Say(Protocol):
    """One line for the person or the service log: `error` when wsdmon cannot go on."""

    def __call__(self, text: str, *, error: bool = False) -> None: ...


def say_on_stderr(text: str, *, error: bool = False) -> None:
    """A Say for a command run by a person or a script: one line on stderr."""
    print(f"wsdmon: {text}", file=sys.stderr, flush=True)


class Listener(Protocol):
    """An engine listener (net.engine.EngineListener's methods, checked here without importing the
    engine) that knows when the engine restores from the journal."""

    replaying: bool

    def device_changed(self, device: Any) -> None: ...

    def job_changed(self, change: Any) -> None: ...

    def message_logged(self, entry: Any) -> None: ...

    def message_rejected(self, reason: str, detail: str) -> None: ...

    def health_changed(self, health: Any) -> None: ...


# Directed probes (--probe) are repeated while the monitor runs: every REPROBE_INTERVAL_S (300 s, as
# multicast discovery re-probes, which the health checks expect) once the target answered, and every
# DIRECTED_RETRY_S until it does (a device that was off or rebooting when a collector started).
DIRECTED_REPROBE_S = 300.0  # = net.discovery.REPROBE_INTERVAL_S (a test keeps them equal)
DIRECTED_RETRY_S = 30.0


@dataclass(frozen=True, slots=True)
class Running:
    """What is running, for the caller's start line."""

    engine: Any  # wsdmon.net.engine.Engine
    journal: Path | str  # the journal file, or a shared store's location (without its password)
    discovery: Any  # wsdmon.net.wiring.Discovery, or None without multicast and probes


@dataclass(frozen=True, slots=True)
class DatabaseLocation:
    """`--store postgresql://…` (or a libpq keyword string): a shared store. Shown without its
    password wherever it is printed."""

    text: str

    def __str__(self) -> str:
        from wsdmon.store.locations import redact_dsn

        return redact_dsn(self.text)


def journal_location(args: argparse.Namespace) -> Path:
    """--journal / --store (a file), else the user's default journal; for a shared store, the
    local folder's journal path its logs go beside."""
    from wsdmon.store import default_journal_path

    if args.journal is None or isinstance(args.journal, DatabaseLocation):
        return default_journal_path()
    return Path(args.journal)


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set `stop` (Windows has no add_signal_handler: there Ctrl-C arrives as
    KeyboardInterrupt, which the callers answer with a clean exit)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def run_headless(
    args: argparse.Namespace,
    listener: Listener,
    stop: asyncio.Event,
    say: Say,
    *,
    site: str | None = None,
    duration: float | None = None,
    started: Callable[[Running], None] = lambda _running: None,
) -> int:
    """Lock and open the journal, start the engine and discovery, call `started`, run until `stop`
    is set (or `duration` passes), then stop everything. Returns the exit code."""
    from wsdmon.journal_lock import lock_journal
    from wsdmon.store import JournalProblem, JournalUnusableError
    from wsdmon.store.opening import os_detail

    if isinstance(args.journal, DatabaseLocation):
        return await _run_on_database(args.journal, args, listener, stop, say, site, duration, started)
    path = journal_location(args)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock, holder = lock_journal(path)
    except OSError as exc:
        problem = JournalUnusableError(JournalProblem.UNWRITABLE, path, os_detail(exc))
        say(_journal_problem(problem), error=True)
        return EXIT_CANNOT_START
    if lock is None:
        who = f"process {holder}" if holder else "process unknown"
        say(
            f"another wsdmon ({who}) already uses the journal {path}: stop it, or use --journal PATH",
            error=True,
        )
        return EXIT_ALREADY_RUNNING
    try:
        journal = _open_journal(path, say)
        engine = await _start_engine(args, journal, listener, say, site) if journal is not None else None
        if engine is None:
            return EXIT_CANNOT_START
        return await _run(Running(engine, path, None), args, stop, say, duration, started)
    except JournalUnusableError as exc:
        say(_journal_problem(exc), error=True)
        return EXIT_CANNOT_START
    finally:
        lock.release()


async def _run_on_database(  # noqa: PLR0917 - run_headless's arguments, passed on
    location: DatabaseLocation,
    args: argparse.Namespace,
    listener: Listener,
    stop: asyncio.Event,
    say: Say,
    site: str | None,
    duration: float | None,
    started: Callable[[Running], None],
) -> int:
    """The engine writing into a shared (PostgreSQL) store as `site`. The store keeps one collector
    per site (its own lock) and a local spool while the server is away, also at start (a warning;
    it migrates the schema and replays the spool once the server answers); a location that can
    never work (bad syntax, authentication refused, no such database) stops here, exit 2."""
    from wsdmon.store import StoreError, open_store

    try:
        # Connecting may wait on the network: off the loop.
        store = await asyncio.to_thread(open_store, location.text, site=site, offline_start=True)
    except StoreError as exc:
        say(f"cannot use the store {location}: {exc}", error=True)
        return EXIT_CANNOT_START
    engine = await _start_engine(args, store, listener, say, site, shared=True)
    if engine is None:
        return EXIT_CANNOT_START
    return await _run(Running(engine, store.location, None), args, stop, say, duration, started)


async def _run(  # noqa: PLR0917 - run_headless's arguments, passed on
    running: Running,
    args: argparse.Namespace,
    stop: asyncio.Event,
    say: Say,
    duration: float | None,
    started: Callable[[Running], None],
) -> int:
    """Discovery and probes on the started engine, until `stop`; then everything stopped."""
    from wsdmon.net.wiring import Discovery

    engine = running.engine
    discovery = None
    probes: list[asyncio.Task[None]] = []
    try:
        if (args.probe or not args.no_discovery) and not stop.is_set():
            discovery = Discovery(engine, interfaces=args.interface, multicast=not args.no_discovery)
            try:
                await discovery.start()
            except (OSError, ValueError) as exc:  # a bad --interface, port 3702 without multicast
                discovery = None
                say(f"cannot start discovery: {exc}", error=True)
                return EXIT_CANNOT_START
            probes = [engine.spawn(_probe(discovery, target, say)) for target in args.probe]
        started(replace(running, discovery=discovery))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
    finally:
        for task in probes:  # before discovery stops under them
            task.cancel()
        await asyncio.gather(*probes, return_exceptions=True)
        if discovery is not None:
            await discovery.stop()
        await engine.stop()
        engine.journal.close()
    return EXIT_OK


def _journal_problem(exc: Any) -> str:
    from wsdmon.store import JournalProblem

    path, detail = exc.path, exc.detail
    if exc.problem is JournalProblem.NEWER_SCHEMA:
        return f"the journal {path} is from a newer wsdmon (left unchanged): use that one, or --journal PATH"
    if exc.problem is JournalProblem.DAMAGED_NOT_MOVED:
        return (
            f"the journal {path} is damaged and could not be moved aside ({detail}): "
            "move it away yourself, or use --journal PATH"
        )
    return f"cannot write the journal {path}: {detail}: use --journal PATH in a folder you can write to"


def _open_journal(path: Path, say: Say) -> Any:
    """The journal, or None after saying why there is none."""
    from wsdmon.store import JournalUnusableError, open_journal

    try:
        opened = open_journal(path, datetime.now(UTC))
    except JournalUnusableError as exc:
        say(_journal_problem(exc), error=True)
        return None
    _say_moved(opened, say)
    return opened.journal


def _say_moved(opened: Any, say: Say) -> None:
    if opened.moved_aside is not None:
        say(
            f"the journal {opened.journal.path} was damaged ({opened.damage}): kept unchanged as "
            f"{opened.moved_aside}; started a new journal"
        )


def engine_config(args: argparse.Namespace, site: str | None, *, shared: bool = False) -> Any:
    """The EngineConfig of a window's or a collector's engine from its options. `shared`: the store
    is read by other sites' viewers, so the folded jobs are written soon after they change (and less
    often while the collector is short of CPU: net.job_ledger.Cadence)."""
    from wsdmon.net.engine import DEFAULT_NOTIFY_PORT, EngineConfig
    from wsdmon.net.job_ledger import (
        JOB_FLUSH_INTERVAL_S,
        SHARED_JOB_FLUSH_BUSY_S,
        SHARED_JOB_FLUSH_INTERVAL_S,
    )

    return EngineConfig(
        notify_port=DEFAULT_NOTIFY_PORT if args.notify_port is None else args.notify_port,
        notify_port_fallback=args.notify_port is None,
        notify_host=args.notify_host,
        device_urls=tuple(args.device),
        trusted_fingerprints=tuple(args.trust_fingerprint),
        site=site,
        job_flush_interval_s=SHARED_JOB_FLUSH_INTERVAL_S if shared else JOB_FLUSH_INTERVAL_S,
        job_flush_busy_s=SHARED_JOB_FLUSH_BUSY_S if shared else None,
    )


async def _start_engine(
    args: argparse.Namespace,
    journal: Any,
    listener: Listener,
    say: Say,
    site: str | None,
    *,
    shared: bool = False,
) -> Any:
    """Engine started on the journal (a journal found damaged while loading is moved aside and a
    fresh one used), or None after saying why not. `shared`: the store is read by other sites'
    viewers, so the folded jobs are written soon after they change."""
    from wsdmon.net.engine import Engine
    from wsdmon.store import is_damage, restart_damaged

    config = engine_config(args, site, shared=shared)
    engine = Engine(config, journal, listener)  # type: ignore[arg-type]
    listener.replaying = True
    try:
        await engine.start()
    except OSError as exc:
        await engine.stop()
        journal.close()
        say(exc.strerror or str(exc), error=True)
        return None
    except Exception as exc:
        if not is_damage(exc):
            raise
        # The restore read damage the check at open skipped (a large journal): nothing was started
        # and nothing written; move it aside and start on a fresh one.
        path = journal.path
        journal.close()
        opened = restart_damaged(path, datetime.now(UTC), str(exc))
        _say_moved(opened, say)
        return await _start_engine(args, opened.journal, listener, say, site)
    finally:
        listener.replaying = False
    # The jobs restored from the journal live as long as the engine: out of the cyclic garbage
    # collector's full passes, as the window does (Application.start): with 100,000 jobs in memory
    # one pass took 288 ms (1.1 M objects), every 202 waiting meanwhile.
    gc.collect()
    gc.freeze()
    wanted = engine.sink.wanted_port
    if wanted is not None:
        say(f"notify port {wanted} is in use (another wsdmon?): listening on port {engine.sink.port} instead")
    return engine


async def _probe(
    discovery: Any,
    target: str,
    say: Say,
    *,
    every_s: float = DIRECTED_REPROBE_S,
    retry_s: float = DIRECTED_RETRY_S,
) -> None:
    """Probe `target` now and again for as long as the monitor runs (a collector runs for months: a
    device that was off or rebooting when it started is found within `retry_s`; one that answered
    is probed every `every_s`, as multicast discovery re-probes). Said once each time it stops or
    starts answering; a target that can never be probed (bad syntax) is said once and left."""
    answering: bool | None = None
    while True:
        try:
            found = await discovery.probe_host(target) > 0
        except ValueError as exc:
            say(f"directed probe of {target} failed: {exc}")
            return
        except OSError as exc:
            if answering is not False:
                say(f"directed probe of {target} failed: {exc}; trying again every {retry_s:.0f} s")
            found = False
        else:
            if not found and answering is not False:
                say(f"no device answered the directed probe of {target}; trying again every {retry_s:.0f} s")
            elif found and answering is False:
                say(f"{target} answers the directed probe again")
        answering = found
        await asyncio.sleep(every_s if found else retry_s)
