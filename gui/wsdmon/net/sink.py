"""The NotifyTo HTTP server: one listening port, an unguessable path and Identifier per subscription.

A notification is accepted only if its path names a live subscription, its Content-Type is SOAP 1.2,
its body is within the cap, it parses, and its wse:Identifier header (echoed from our NotifyTo
reference parameters, WS-Eventing 2004/08 §3.1 / WS-Addressing §3.3) is the one we gave that
subscription. Everything else is rejected with a counted, logged reason and never shown. The HTTP
reply is sent only after the accepted message is recorded (the journal is durable before 202).
"""

from __future__ import annotations

import enum
import errno
import logging
import secrets
import socket
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from aiohttp import web

from wsdmon.protocol import Message, RemoteProtocolError, UnknownMessage, decode

__all__ = [
    "MAX_NOTIFICATION_BYTES",
    "Accepted",
    "NotificationSink",
    "Registration",
    "RejectReason",
    "local_address_for",
]

log = logging.getLogger(__name__)

MAX_NOTIFICATION_BYTES = 256 * 1024  # a JobStatus event is ~2 KiB; vendor bloat gets 100×
RETIRED_REMEMBERED = 4096  # ended subscriptions remembered to name the rejection reason
# A flood of bad requests (a misconfigured device, a scan of the port) is counted in full but logged
# at most this many times per reason and window; the rest is summed up in one line.
REJECT_LOG_BURST = 10
REJECT_LOG_WINDOW_S = 60.0
PATH_PREFIX = "/wsdmon/"
# A fixed notify port that is taken (EADDRINUSE) or refused to us (EACCES: below 1024, or a range
# Windows reserves for Hyper-V) gives way to a free port.
_BUSY_ERRNOS = frozenset({errno.EADDRINUSE, errno.EACCES})
_SOAP_TYPES = frozenset({"application/soap+xml"})
_SERVER_MAX_BODY = 1024 * 1024  # aiohttp's client_max_size for the low-level server's requests


class RejectReason(enum.StrEnum):
    WRONG_PATH = "wrong-path"
    WRONG_METHOD = "wrong-method"
    CONTENT_TYPE = "wrong-content-type"
    TOO_LARGE = "too-large"
    MALFORMED = "malformed"
    NO_IDENTIFIER = "no-identifier"
    UNKNOWN_IDENTIFIER = "unknown-identifier"
    ENDED_SUBSCRIPTION = "ended-subscription"
    JOURNAL_FAILED = "journal-failed"


@dataclass(frozen=True, slots=True)
class Registration:
    """One subscription's delivery address: our random path and wse:Identifier."""

    device: str
    service: str
    identifier: str
    path: str

    def notify_url(self, host: str, port: int) -> str:
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}{self.path}"


@dataclass(frozen=True, slots=True)
class Accepted:
    """A genuine notification, parsed, with when it arrived and (after recording) its journal row."""

    registration: Registration
    message: Message | UnknownMessage
    raw: bytes
    arrival: datetime
    journal_id: int | None = None
    peer: str = ""


def local_address_for(remote_host: str) -> str:
    """The local address the OS would use to reach `remote_host` (UDP connect sends nothing): the
    host part of a NotifyTo the device can reach."""
    family = socket.AF_INET6 if ":" in remote_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((remote_host, 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "::1" if family == socket.AF_INET6 else "127.0.0.1"


class _RejectLog:
    """Logs rejections, at most REJECT_LOG_BURST per reason per REJECT_LOG_WINDOW_S; says how many
    more there were when the window has passed (or at flush())."""

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self._now = monotonic
        self._windows: dict[RejectReason, tuple[float, int, int]] = {}  # start, logged, not logged

    def log(self, reason: RejectReason, detail: str) -> None:
        now = self._now()
        start, logged, quiet = self._windows.get(reason, (now, 0, 0))
        if now - start >= REJECT_LOG_WINDOW_S:
            self._summary(reason, quiet, now - start)
            start, logged, quiet = now, 0, 0
        # A late message of a subscription we ended ourselves is routine (shutdown, resubscribe).
        level = logging.INFO if reason is RejectReason.ENDED_SUBSCRIPTION else logging.WARNING
        if logged < REJECT_LOG_BURST:
            logged += 1
            log.log(level, "rejected notification (%s): %s", reason, detail)
            if logged == REJECT_LOG_BURST:
                log.log(level, "further rejections (%s) are counted but not logged for a while", reason)
        else:
            quiet += 1
        self._windows[reason] = (start, logged, quiet)

    def flush(self) -> None:
        now = self._now()
        for reason, (start, _, quiet) in self._windows.items():
            self._summary(reason, quiet, now - start)
        self._windows.clear()

    @staticmethod
    def _summary(reason: RejectReason, quiet: int, seconds: float) -> None:
        if quiet:
            what = "%d more notifications rejected (%s) in %.0f s were not logged"
            log.warning(what, quiet, reason, seconds)


class NotificationSink:
    """aiohttp server for notifications. `record` makes an Accepted durable and returns its journal
    row id; `on_accepted` then gets it (with journal_id set); `on_rejected` gets every rejection."""

    def __init__(
        self,
        *,
        record: Callable[[Accepted], Awaitable[int]],
        on_accepted: Callable[[Accepted], None],
        on_rejected: Callable[[RejectReason, str], None] | None = None,
        host: str = "0.0.0.0",  # noqa: S104 - devices on the LAN must reach us
        port: int = 0,
        max_body_bytes: int = MAX_NOTIFICATION_BYTES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._record = record
        self._on_accepted = on_accepted
        self._on_rejected = on_rejected
        self._host = host
        self._port = port
        self.wanted_port: int | None = None  # the busy port given up for a free one, if any
        if not 0 < max_body_bytes <= _SERVER_MAX_BODY:
            raise ValueError(f"max_body_bytes must be in 1..{_SERVER_MAX_BODY}")
        self._max = max_body_bytes
        self._clock = clock
        self._by_path: dict[str, Registration] = {}
        self._retired: OrderedDict[str, Registration] = OrderedDict()  # by path and by identifier
        self._runner: web.ServerRunner | None = None
        self.counters: Counter[str] = Counter()
        self._reject_log = _RejectLog(monotonic)

    @property
    def port(self) -> int:
        return self._port

    async def start(self, *, any_port_if_busy: bool = False) -> int:
        """Listen; returns the bound port (useful when 0 asked for an ephemeral one). With
        any_port_if_busy, a fixed port that is taken (another wsdmon, a `watch`) or refused gives
        way to a free one: devices learn the address when we subscribe, so any port works (unless
        a firewall only lets the default one through; the caller says so)."""
        # aiohttp's low-level server: the sink has one handler for every path, so the Application's
        # router and middleware chain would only add work to each notification (≈10 % of a bare
        # request here; bench/bench_notify_e2e.py).
        server = web.Server(self._handle, access_log=None)
        self._runner = web.ServerRunner(server, handle_signals=False)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self._host, self._port, reuse_address=True).start()
        except OSError as exc:
            if not (any_port_if_busy and self._port and exc.errno in _BUSY_ERRNOS):
                await self._fail(exc)
            # INFO: the caller tells the user, in its own words (window or `watch` stderr).
            log.info("notify port %d is in use (%s): listening on a free port instead", self._port, exc)
            self.wanted_port, self._port = self._port, 0
            try:
                await web.TCPSite(self._runner, self._host, 0, reuse_address=True).start()
            except OSError as again:
                await self._fail(again)
        addresses = self._runner.addresses  # learn the port when 0 asked for an ephemeral one
        if addresses:
            self._port = int(addresses[0][1])
        log.info("notification sink listening on %s:%d", self._host, self._port)
        return self._port

    async def _fail(self, exc: OSError) -> NoReturn:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        raise OSError(
            exc.errno,
            f"cannot listen for notifications on {self._host}:{self._port}: {exc.strerror}; "
            "choose another notify port",
        ) from None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._reject_log.flush()

    def register(self, device: str, service: str) -> Registration:
        """A fresh, unguessable path and Identifier for a new subscription."""
        reg = Registration(device, service, uuid.uuid4().urn, PATH_PREFIX + secrets.token_urlsafe(18))
        self._by_path[reg.path] = reg
        return reg

    def retire(self, registration: Registration) -> None:
        """The subscription ended: its messages are rejected from now on (reason: ended)."""
        if self._by_path.pop(registration.path, None) is None:
            return
        for key in (registration.path, registration.identifier):
            self._retired[key] = registration
            self._retired.move_to_end(key)
        while len(self._retired) > RETIRED_REMEMBERED:
            self._retired.popitem(last=False)

    def _reject(self, reason: RejectReason, detail: str, status: int) -> web.Response:
        self.counters[reason] += 1
        self._reject_log.log(reason, detail)
        if self._on_rejected is not None:
            try:
                self._on_rejected(reason, detail)
            except Exception:
                log.exception("on_rejected callback failed")
        return web.Response(status=status, text=f"{reason}: {detail}\n")

    async def _handle(self, request: web.BaseRequest) -> web.Response:
        peer = request.remote or "?"
        if request.method != "POST":
            return self._reject(RejectReason.WRONG_METHOD, f"{request.method} from {peer}", 405)
        reg = self._by_path.get(request.path)
        if reg is None:
            reason = (
                RejectReason.ENDED_SUBSCRIPTION if request.path in self._retired else RejectReason.WRONG_PATH
            )
            return self._reject(reason, f"path {request.path[:64]!r} from {peer}", 404)
        if request.content_type not in _SOAP_TYPES:
            return self._reject(RejectReason.CONTENT_TYPE, f"{request.content_type!r} from {peer}", 415)
        if request.content_length is not None and request.content_length > self._max:
            return self._reject(RejectReason.TOO_LARGE, f"{request.content_length} bytes from {peer}", 413)
        try:
            # The low-level server's requests stop reading at aiohttp's 1 MiB client_max_size; a
            # chunked body (no Content-Length) is measured once read.
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._reject(RejectReason.TOO_LARGE, f"over {self._max} bytes from {peer}", 413)
        if len(raw) > self._max:
            return self._reject(RejectReason.TOO_LARGE, f"{len(raw)} bytes from {peer}", 413)
        arrival = self._clock()
        try:
            message = decode(raw, max_bytes=self._max)
        except RemoteProtocolError as exc:
            return self._reject(RejectReason.MALFORMED, f"{exc} (from {peer})", 400)
        ident = message.header.identifier
        if not ident:
            return self._reject(RejectReason.NO_IDENTIFIER, f"{_action(message)} from {peer}", 403)
        if ident != reg.identifier:
            reason = (
                RejectReason.ENDED_SUBSCRIPTION if ident in self._retired else RejectReason.UNKNOWN_IDENTIFIER
            )
            return self._reject(reason, f"Identifier {ident[:64]!r} on {reg.path[:16]}… from {peer}", 403)
        accepted = Accepted(reg, message, raw, arrival, peer=peer)
        try:
            row = await self._record(accepted)
        except Exception as exc:  # the device will retry or end the subscription; we keep running
            log.exception("could not record a notification")
            return self._reject(RejectReason.JOURNAL_FAILED, str(exc), 503)
        self.counters["accepted"] += 1
        try:
            self._on_accepted(Accepted(reg, message, raw, arrival, row, peer))
        except Exception:
            log.exception("on_accepted callback failed")
        return web.Response(status=202)


def _action(message: Message | UnknownMessage) -> str:
    return message.action.rpartition("/")[2] or message.action
