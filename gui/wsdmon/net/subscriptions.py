"""Drives protocol/subscription.py for one (device, service): performs its actions over HTTP, feeds
the outcomes back, and sleeps on the loop until the machine's next deadline.

Each subscription gets a fresh sink registration (path + wse:Identifier); the old one is retired,
so late notifications of an ended subscription are rejected by the sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from wsdmon.core.devices import Role, SubscriptionStatus
from wsdmon.protocol import EndpointReference, Headers, RemoteProtocolError
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.eventing import (
    Filter,
    GetStatus,
    GetStatusResponse,
    Renew,
    RenewResponse,
    Subscribe,
    SubscribeResponse,
    Unsubscribe,
    expires_at,
)
from wsdmon.protocol.subscription import Action, SubscriptionMachine, SubscriptionState

from .http import SoapClient, SoapFaultError, TransportError, UntrustedCertificateError
from .sink import NotificationSink, Registration

__all__ = ["ACTIONS_OF_ROLE", "REQUESTED_EXPIRES", "UNSUBSCRIBE_TIMEOUT_S", "SubscriptionDriver"]

log = logging.getLogger(__name__)

# Ask for one hour (WS-Eventing lets the source grant less; DPWS sources must accept durations).
REQUESTED_EXPIRES = timedelta(hours=1)
UNSUBSCRIBE_TIMEOUT_S = 3.0  # on exit, do not hang on a device that went away

# The events a subscription asks for (its Filter), by the role of the service.
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

_STATUS_OF_STATE = {
    SubscriptionState.IDLE: SubscriptionStatus.NONE,
    SubscriptionState.SUBSCRIBING: SubscriptionStatus.SUBSCRIBING,
    SubscriptionState.ACTIVE: SubscriptionStatus.ACTIVE,
    SubscriptionState.RENEWING: SubscriptionStatus.ACTIVE,
    SubscriptionState.CHECKING: SubscriptionStatus.ACTIVE,
    SubscriptionState.BACKOFF: SubscriptionStatus.RETRYING,
    SubscriptionState.UNSUBSCRIBING: SubscriptionStatus.ACTIVE,
    SubscriptionState.CLOSED: SubscriptionStatus.CLOSED,
}


class SubscriptionDriver:
    """Keeps one subscription alive until stop()."""

    def __init__(
        self,
        *,
        client: SoapClient,
        sink: NotificationSink,
        notify_host: str,
        device: str,
        service: str,
        actions: tuple[str, ...],
        on_status: Callable[[SubscriptionStatus, str | None], None],
        on_subscribed: Callable[[], None],
        requested_expires: timedelta = REQUESTED_EXPIRES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        machine: SubscriptionMachine | None = None,
    ) -> None:
        self.device = device
        self.service = service
        self._client = client
        self._sink = sink
        self._notify_host = notify_host
        self._actions = actions
        self._on_status = on_status
        self._on_subscribed = on_subscribed
        self._requested = requested_expires
        self._clock = clock
        self.machine = machine or SubscriptionMachine(random=random.random)
        self.registration: Registration | None = None
        self._manager: EndpointReference | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_status: SubscriptionStatus | None = None
        self._pending = Action.NOTHING

    def start(self) -> None:
        """Begin subscribing (runs as a task on the running loop)."""
        self._do(self.machine.start(self._clock()))

    async def stop(self) -> None:
        """Unsubscribe if subscribed (bounded wait), then end the task."""
        action = self.machine.stop(self._clock())
        if action is Action.UNSUBSCRIBE:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(UNSUBSCRIBE_TIMEOUT_S):
                    await self._perform(Action.UNSUBSCRIBE)
            if self.machine.state is not SubscriptionState.CLOSED:
                self.machine.on_unsubscribed()
        if self.registration is not None:
            self._sink.retire(self.registration)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._report()

    def subscription_ended(self, status: str) -> None:
        """The source sent SubscriptionEnd for our current registration."""
        if self.registration is not None:
            self._sink.retire(self.registration)
            self.registration = None
        self._do(self.machine.on_subscription_end(self._clock(), status))

    def device_restarted(self) -> None:
        """New InstanceId / MetadataVersion / Hello after Bye: the old subscription is gone."""
        self._do(self.machine.on_device_restarted(self._clock()))

    # --- internals --------------------------------------------------------------------------

    def _do(self, action: Action) -> None:
        self._report()
        if action is not Action.NOTHING:
            self._pending = action
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"subscription {self.service}"
            )
        self._wake.set()

    async def _run(self) -> None:
        while self.machine.state is not SubscriptionState.CLOSED:
            action, self._pending = self._pending, Action.NOTHING
            if action is Action.NOTHING:
                action = self.machine.due(self._clock())
            if action is not Action.NOTHING:
                await self._perform(action)  # a failure may queue the next action in _pending
                self._report()
                continue
            self._wake.clear()
            deadline = self.machine.deadline
            timeout = None if deadline is None else max(0.0, (deadline - self._clock()).total_seconds())
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # arrives as the event fires, and stop() would then wait on this task forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _perform(self, action: Action) -> None:
        try:
            if action is Action.SUBSCRIBE:
                await self._subscribe()
            elif action is Action.RENEW:
                await self._renew(Renew(self._manager_headers(), self._requested), RenewResponse)
            elif action is Action.GET_STATUS:
                await self._renew(GetStatus(self._manager_headers()), GetStatusResponse)
            elif action is Action.UNSUBSCRIBE:
                await self._client.call(
                    self._manager_address(), Unsubscribe(self._manager_headers()), device=self.device
                )
                self.machine.on_unsubscribed()
        except SoapFaultError as exc:
            log.info("%s: %s", self.service, exc)
            self._do_inline(self.machine.on_failed(self._clock(), str(exc), fault=True))
        except (TransportError, UntrustedCertificateError, RemoteProtocolError, OSError) as exc:
            log.info("%s: %s failed: %s", self.service, action.value, exc)
            self._do_inline(self.machine.on_failed(self._clock(), str(exc), fault=False))

    def _do_inline(self, action: Action) -> None:
        if action is not Action.NOTHING:
            self._pending = action

    async def _subscribe(self) -> None:
        if self.registration is not None:
            self._sink.retire(self.registration)
        reg = self._sink.register(self.device, self.service)
        self.registration = reg
        epr = EndpointReference(reg.notify_url(self._notify_host, self._sink.port), reg.identifier)
        request = Subscribe(
            Headers.request(self.service),
            notify_to=epr,
            expires=self._requested,
            filter=Filter(self._actions),
            end_to=epr,  # SubscriptionEnd comes to the same sink, with the same Identifier
        )
        answer = await self._client.call(self.service, request, device=self.device)
        if not isinstance(answer, SubscribeResponse):
            raise RemoteProtocolError(f"expected SubscribeResponse, got {answer.action}")
        self._manager = answer.subscription_manager
        now = self._clock()
        self.machine.on_subscribed(expires_at(answer.expires, now), now)
        log.info("subscribed to %s until %s", self.service, self.machine.expires_at)
        try:
            self._on_subscribed()
        except Exception:
            log.exception("on_subscribed callback failed")

    async def _renew(
        self, request: Renew | GetStatus, expected: type[RenewResponse | GetStatusResponse]
    ) -> None:
        answer = await self._client.call(self._manager_address(), request, device=self.device)
        if not isinstance(answer, expected):
            raise RemoteProtocolError(f"expected {expected.__name__}, got {answer.action}")
        now = self._clock()
        self.machine.on_renewed(expires_at(answer.expires, now) if answer.expires is not None else None, now)

    def _manager_address(self) -> str:
        return self._manager.address if self._manager is not None else self.service

    def _manager_headers(self) -> Headers:
        """Requests to the subscription manager echo all of its EPR's reference parameters as
        headers (WS-Addressing 2004/08 §3.3): the Identifier and any a vendor adds."""
        headers = Headers.request(self._manager_address())
        if self._manager is None:
            return headers
        return dataclasses.replace(
            headers,
            identifier=self._manager.identifier,
            reference_parameters=self._manager.extra_parameters,
        )

    def _report(self) -> None:
        status = _STATUS_OF_STATE[self.machine.state]
        if status is not self._last_status:
            self._last_status = status
            try:
                self._on_status(status, self.machine.last_error)
            except Exception:
                log.exception("on_status callback failed")
