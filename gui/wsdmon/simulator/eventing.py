"""The WS-Eventing 2004/08 event source of one hosted service (push delivery, DPWS Action filter).

A subscription gets a server-assigned wse:Identifier (the SubscriptionManager EPR's reference
parameter, sent back as a header in Renew/GetStatus/Unsubscribe), an expiry (Expires as duration
or dateTime, capped), an optional Action filter, and its own delivery queue and task with one
keep-alive HTTP session: notifications to one subscriber go out in order, one at a time, with a
timeout, and a slow or dead subscriber never holds up another. Each notification carries the
reference parameters of the subscriber's NotifyTo (its wse:Identifier and any other) as headers,
a SubscriptionEnd those of its EndTo. After MAX_FAILED_DELIVERIES failures in a row,
or a full queue, the subscription ends with SubscriptionEnd(DeliveryFailure); on stop every one
ends with SourceShuttingDown (sent to EndTo, when the Subscribe gave one).

The eventing faults (config.Fault) act here: subscriber-limit (the Subscribe beyond N concurrent
subscriptions gets wse:EventSourceUnableToProcess, §4.6), renew-refused (every Renew gets
wse:UnableToRenew, §4.7), short-grant (every grant is S seconds, whatever was asked; §3.1 lets a
source grant less) and subscription-end (S seconds after the grant, SubscriptionEnd(SourceCancelling)
with a Reason, §3.5, and the subscription is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from wsdmon.protocol import EndpointReference, Headers, LocalProtocolError, Message, encode, new_message_id
from wsdmon.protocol import namespaces as ns
from wsdmon.protocol.envelope import check_reference_parameters
from wsdmon.protocol.eventing import (
    Expires,
    GetStatus,
    GetStatusResponse,
    Reason,
    Renew,
    RenewResponse,
    Subscribe,
    SubscribeResponse,
    SubscriptionEnd,
    SubscriptionEndStatus,
    Unsubscribe,
    UnsubscribeResponse,
    expires_at,
    fault_delivery_mode_unavailable,
    fault_event_source_unable_to_process,
    fault_filter_action_not_supported,
    fault_filtering_unavailable,
    fault_invalid_expiration_time,
    fault_invalid_message,
    fault_unable_to_renew,
)

from .config import Faults, Timers
from .delivery import SubscriberConnection, parse_url

__all__ = ["SOAP_CONTENT_TYPE", "SUBSCRIBER_LIMIT_REASON", "EventSource", "Subscription", "action_matches"]

log = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = "application/soap+xml; charset=utf-8"  # SOAP 1.2 HTTP binding (reference §4)
_STOP = object()  # queue sentinel: deliver what is queued before it, then end
_LOW_WATER = 64  # producers waiting in wait_writable() resume below this many queued notifications
SUBSCRIBER_LIMIT_REASON = "Maximum number of subscriptions reached"  # the subscriber-limit fault's Reason


def _headers_to(endpoint: EndpointReference) -> Headers:
    """Headers of a message sent to `endpoint`: every reference parameter of it, wse:Identifier
    and any other, echoed as a header block (WS-Addressing 2004/08 §3.3)."""
    return Headers(
        new_message_id(),
        endpoint.address,
        identifier=endpoint.identifier,
        reference_parameters=endpoint.extra_parameters,
    )


def action_matches(filter_uri: str, action: str) -> bool:
    """DPWS 2006/02 Action filter: the filter URI is the action or a path-segment prefix of it."""
    return action == filter_uri or action.startswith(filter_uri.rstrip("/") + "/")


@dataclasses.dataclass(eq=False)
class Subscription:
    """One subscriber: where to deliver, what it wants, until when, and its delivery queue."""

    identifier: str  # server-assigned (urn:uuid), the SubscriptionManager's reference parameter
    notify_to: EndpointReference
    end_to: EndpointReference | None
    actions: tuple[str, ...] | None  # None: every event of the service
    expires_at: float  # loop time
    as_datetime: bool  # answer Expires as a dateTime, as the Subscribe asked
    queue: asyncio.Queue[Message | bytes | object] = dataclasses.field(default_factory=asyncio.Queue)
    writable: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    failures: int = 0
    delivered: int = 0
    ended: bool = False
    task: asyncio.Task[None] | None = None
    expiry: asyncio.TimerHandle | None = None
    cancel_timer: asyncio.TimerHandle | None = None  # the subscription-end fault
    connections: dict[str, SubscriberConnection] = dataclasses.field(default_factory=dict)  # by URL

    def wants(self, action: str) -> bool:
        return self.actions is None or any(action_matches(f, action) for f in self.actions)


def _taken(sub: Subscription) -> Callable[[], None]:
    """Count a notification the subscriber took (2xx) the moment its answer is read: a batch cut
    short by an Unsubscribe (the delivery task cancelled) still counts what was acknowledged."""

    def taken() -> None:
        sub.failures = 0
        sub.delivered += 1

    return taken


class EventSource:
    """The event source of the service at `manager_address` that sends `event_actions`."""

    def __init__(
        self,
        manager_address: str,
        event_actions: Iterable[str],
        timers: Timers,
        name: str,
        *,
        faults: Faults | None = None,
    ) -> None:
        self.manager_address = manager_address
        self.event_actions = tuple(event_actions)
        self.name = name
        self._timers = timers
        self._faults = faults or Faults()
        self._subs: dict[str, Subscription] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self.closed = False
        # extension children of a SubscribeResponse (WS-Scan's DestinationResponses), by the role
        self.subscribe_extensions: Callable[[Subscribe], tuple[str, ...]] = lambda request: ()

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(self._subs.values())

    # --- the SOAP operations (WS-Eventing §3.1-§3.4) ----------------------------------------

    def subscribe(self, request: Subscribe) -> Message:
        """Subscribe → SubscribeResponse, or the WS-Eventing/DPWS fault saying what is wrong."""
        mid = request.header.message_id
        if self.closed:
            return fault_event_source_unable_to_process(mid, "the device is shutting down")
        limit = self._faults.subscriber_limit
        if limit is not None and len(self._subs) >= limit:
            log.info(
                "%s: Subscribe refused: %d subscription(s), the limit (fault)", self.name, len(self._subs)
            )
            return fault_event_source_unable_to_process(mid, SUBSCRIBER_LIMIT_REASON)
        if not request.is_push or request.notify_to is None:
            return fault_delivery_mode_unavailable(
                mid, f"only push delivery is supported, not {request.delivery_mode}"
            )
        for ref in (request.notify_to, request.end_to):
            if ref is not None:
                try:
                    parse_url(ref.address)
                except ValueError:
                    return fault_event_source_unable_to_process(
                        mid, f"cannot deliver to {ref.address}: not http(s)"
                    )
                try:
                    check_reference_parameters(ref.extra_parameters)  # they are echoed as headers
                except LocalProtocolError as exc:
                    return fault_event_source_unable_to_process(
                        mid, f"cannot deliver to {ref.address}: {exc}"
                    )
        actions: tuple[str, ...] | None = None
        if request.filter is not None:
            if request.filter.dialect != ns.WSDP_ACTION_FILTER:
                return fault_filtering_unavailable(
                    mid, f"filter dialect {request.filter.dialect} is not supported"
                )
            actions = request.filter.actions
            unknown = [a for a in actions if not any(action_matches(a, e) for e in self.event_actions)]
            if unknown or not actions:
                return fault_filter_action_not_supported(
                    mid, f"this service sends none of: {' '.join(unknown)}"
                )
        lifetime = self._lifetime(request.expires)
        if lifetime is None:
            return fault_invalid_expiration_time(mid)
        loop = asyncio.get_running_loop()
        sub = Subscription(
            uuid.uuid4().urn,
            request.notify_to,
            request.end_to,
            actions,
            loop.time() + lifetime,
            isinstance(request.expires, datetime),
        )
        sub.writable.set()
        self._subs[sub.identifier] = sub
        sub.task = loop.create_task(self._deliver(sub), name=f"deliver {sub.identifier}")
        self._arm_expiry(sub)
        if self._faults.subscription_end_s is not None:
            after = self._faults.subscription_end_s
            reason = f"The event source cancelled the subscription {after:g} s after granting it."
            status = SubscriptionEndStatus.SOURCE_CANCELLING
            sub.cancel_timer = loop.call_later(after, self.end, sub, status, reason)
        wanted = "all events" if actions is None else " ".join(a.rsplit("/", 1)[-1] for a in actions)
        log.info(
            "%s: subscription %s for %s → %s, %.0f s",
            self.name,
            sub.identifier,
            wanted,
            request.notify_to.address,
            lifetime,
        )
        manager = EndpointReference(self.manager_address, sub.identifier)
        extra = self.subscribe_extensions(request)
        return SubscribeResponse(Headers.reply(mid), manager, self._expires_value(sub), extra)

    def renew(self, request: Renew) -> Message:
        """Renew → RenewResponse with the new lifetime, or wse:InvalidMessage for an unknown id
        (wse:UnableToRenew for every one with the renew-refused fault)."""
        if self._faults.renew_refused:
            log.info("%s: Renew of %s refused (fault)", self.name, request.header.identifier)
            return fault_unable_to_renew(request.header.message_id)
        sub = self._find(request.header.identifier)
        if sub is None:
            return self._unknown(request)
        lifetime = self._lifetime(request.expires)
        if lifetime is None:
            return fault_invalid_expiration_time(request.header.message_id)
        sub.expires_at = asyncio.get_running_loop().time() + lifetime
        sub.as_datetime = isinstance(request.expires, datetime)
        self._arm_expiry(sub)
        log.info("%s: subscription %s renewed for %.0f s", self.name, sub.identifier, lifetime)
        return RenewResponse(Headers.reply(request.header.message_id), self._expires_value(sub))

    def get_status(self, request: GetStatus) -> Message:
        """GetStatus → GetStatusResponse with the remaining lifetime."""
        sub = self._find(request.header.identifier)
        if sub is None:
            return self._unknown(request)
        return GetStatusResponse(Headers.reply(request.header.message_id), self._expires_value(sub))

    def unsubscribe(self, request: Unsubscribe) -> Message:
        """Unsubscribe → UnsubscribeResponse; nothing more is delivered to that subscriber."""
        sub = self._find(request.header.identifier)
        if sub is None:
            return self._unknown(request)
        log.info("%s: subscription %s unsubscribed", self.name, sub.identifier)
        self._drop(sub, None)
        return UnsubscribeResponse(Headers.reply(request.header.message_id))

    # --- publishing -----------------------------------------------------------------------------

    def publish(self, message: Message) -> int:
        """Queue `message` for every subscriber that wants its action; its headers are set per
        subscriber at delivery. Returns how many subscribers it was queued for."""
        count = 0
        for sub in tuple(self._subs.values()):
            if sub.wants(message.action):
                self._enqueue(sub, message)
                count += 1
        return count

    def publish_raw(self, data: bytes, sub: Subscription) -> None:
        """Queue raw bytes for one subscriber as they are (the faults scenario's broken messages)."""
        self._enqueue(sub, data)

    async def wait_writable(self) -> None:
        """Wait while some subscriber's queue is long (backpressure for the burst scenario); a stuck
        subscriber holds producers for at most the delivery timeout."""
        for sub in tuple(self._subs.values()):
            if not sub.writable.is_set():
                # asyncio.timeout, not wait_for (which can swallow a cancellation on 3.11: clock.py)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._timers.delivery_timeout_s):
                        await sub.writable.wait()

    def end(self, sub: Subscription, status: SubscriptionEndStatus, reason: str) -> None:
        """End one subscription now with SubscriptionEnd(status) (faults scenario, delivery failure)."""
        if sub.identifier in self._subs:
            log.info("%s: ending subscription %s: %s", self.name, sub.identifier, reason)
            self._drop(sub, (status, reason))

    def drop_all_silently(self) -> None:
        """Forget every subscription without a word (a device that lost power)."""
        for sub in tuple(self._subs.values()):
            self._drop(sub, None)

    async def close(self) -> None:
        """Deliver what is queued (bounded), send SubscriptionEnd(SourceShuttingDown), close."""
        self.closed = True
        subs = tuple(self._subs.values())
        self._subs.clear()
        for sub in subs:
            sub.queue.put_nowait(_STOP)
        tasks = [s.task for s in subs if s.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self._timers.stop_timeout_s)
            for task in pending:
                task.cancel()
        status = SubscriptionEndStatus.SOURCE_SHUTTING_DOWN
        for sub in subs:
            self._drop(sub, (status, "the device is shutting down"))
        while self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    # --- internals ------------------------------------------------------------------------------

    def _lifetime(self, expires: Expires | None) -> float | None:
        """Granted lifetime in seconds (capped at max_expires_s; the short-grant fault's whatever was
        asked), None if the request is invalid."""
        t = self._timers
        if expires is None:
            seconds = min(t.default_expires_s, t.max_expires_s)
        elif isinstance(expires, timedelta):
            seconds = expires.total_seconds()
        else:
            now = datetime.now().astimezone()
            seconds = (expires_at(expires, now) - now).total_seconds()
        if seconds <= 0:
            return None  # §4.2 InvalidExpirationTime: zero, or already past
        if self._faults.short_grant_s is not None:
            return self._faults.short_grant_s
        return min(seconds, t.max_expires_s)

    def _expires_value(self, sub: Subscription) -> Expires:
        remaining = max(0.0, sub.expires_at - asyncio.get_running_loop().time())
        if sub.as_datetime:
            now = datetime.now().astimezone().replace(microsecond=0)
            return now + timedelta(seconds=round(remaining))
        # Whole seconds, as devices answer; a grant under a second (short-grant=0.5) to the millisecond.
        return timedelta(seconds=round(remaining) if remaining >= 1 else round(remaining, 3))

    def _arm_expiry(self, sub: Subscription) -> None:
        if sub.expiry is not None:
            sub.expiry.cancel()
        loop = asyncio.get_running_loop()
        sub.expiry = loop.call_at(sub.expires_at, self._expire, sub)

    def _expire(self, sub: Subscription) -> None:
        # An expired subscription just ends (WS-Eventing §3.5 asks SubscriptionEnd only for
        # unexpected ends).
        if sub.identifier in self._subs:
            log.info("%s: subscription %s expired", self.name, sub.identifier)
            self._drop(sub, None)

    def _find(self, identifier: str | None) -> Subscription | None:
        return self._subs.get(identifier or "")

    def _unknown(self, request: Message) -> Message:
        ident = request.header.identifier
        log.info("%s: %s for unknown subscription %s", self.name, request.action.rsplit("/", 1)[-1], ident)
        return fault_invalid_message(
            request.header.message_id, f"no subscription {ident} (unknown or expired)"
        )

    def _enqueue(self, sub: Subscription, item: Message | bytes) -> None:
        if sub.ended:
            return
        if sub.queue.qsize() >= self._timers.max_queued_notifications:
            self.end(
                sub, SubscriptionEndStatus.DELIVERY_FAILURE, "the subscriber cannot keep up (queue full)"
            )
            return
        sub.queue.put_nowait(item)
        if sub.queue.qsize() > 4 * _LOW_WATER:
            sub.writable.clear()

    def _drop(self, sub: Subscription, end: tuple[SubscriptionEndStatus, str] | None) -> None:
        """Forget `sub` now; stop its delivery; send SubscriptionEnd when `end` says so."""
        self._subs.pop(sub.identifier, None)
        if sub.ended:
            return
        sub.ended = True
        sub.writable.set()
        for timer in (sub.expiry, sub.cancel_timer):
            if timer is not None:
                timer.cancel()
        if sub.task is not None and sub.task is not asyncio.current_task():
            sub.task.cancel()
        task = asyncio.get_running_loop().create_task(self._finish(sub, end))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _finish(self, sub: Subscription, end: tuple[SubscriptionEndStatus, str] | None) -> None:
        """After the delivery task stopped: SubscriptionEnd (if asked), then close the session."""
        if sub.task is not None and sub.task is not asyncio.current_task():
            await asyncio.gather(sub.task, return_exceptions=True)
        # What the subscriber acknowledged (2xx), for a test comparing it with what a monitor stored.
        log.info(
            "%s: subscription %s closed: %d notification(s) delivered",
            self.name,
            sub.identifier,
            sub.delivered,
        )
        try:
            if end is not None:
                await self._send_end(sub, *end)
        finally:
            connections, sub.connections = list(sub.connections.values()), {}
            for connection in connections:
                await connection.close()

    async def _post_many(
        self, sub: Subscription, url: str, data: list[bytes], taken: Callable[[], None] | None = None
    ) -> list[str | None]:
        """POST messages in order on the subscriber's connection to `url`; per message None when the
        sink took it (2xx, each also told to `taken` as it comes), else why not."""
        connection = sub.connections.get(url)
        if connection is None:
            # One keep-alive connection per subscriber (and URL): its messages stay in order and a
            # slow subscriber shares nothing with the others.
            connection = sub.connections[url] = SubscriberConnection(url, self._timers.delivery_timeout_s)
        return await connection.post_many(data, taken)

    def _encode_for(self, sub: Subscription, message: Message) -> bytes:
        header = _headers_to(sub.notify_to)
        return encode(dataclasses.replace(message, header=header))  # type: ignore[type-var]

    async def _deliver(self, sub: Subscription) -> None:
        """The subscriber's delivery task: in order, each with a timeout; what has queued up meanwhile
        goes out together (up to pipeline_depth, see delivery.py)."""
        depth = max(1, self._timers.pipeline_depth)
        while True:
            batch = [await sub.queue.get()]
            while len(batch) < depth and not sub.queue.empty():
                batch.append(sub.queue.get_nowait())
            stop = _STOP in batch
            items = batch[: batch.index(_STOP)] if stop else batch
            if sub.queue.qsize() <= _LOW_WATER:
                sub.writable.set()
            data = [i if isinstance(i, bytes) else self._encode_for(sub, i) for i in items]  # type: ignore[arg-type]
            results = await self._post_many(sub, sub.notify_to.address, data, _taken(sub)) if data else []
            for error in results:
                if error is None:
                    continue  # counted by _taken as it came
                sub.failures += 1
                log.warning(
                    "%s: delivery to %s failed (%d in a row): %s",
                    self.name,
                    sub.notify_to.address,
                    sub.failures,
                    error,
                )
                if sub.failures >= self._timers.max_failed_deliveries:
                    self.end(sub, SubscriptionEndStatus.DELIVERY_FAILURE, f"{sub.failures} failed deliveries")
                    return
            if stop:
                return

    async def _send_end(self, sub: Subscription, status: SubscriptionEndStatus, reason: str) -> None:
        if sub.end_to is None:
            return  # §3.5: SubscriptionEnd goes to EndTo, and only if the Subscribe gave one
        message = SubscriptionEnd(
            _headers_to(sub.end_to),
            EndpointReference(self.manager_address, sub.identifier),
            status,
            (Reason(reason, "en-US"),),
        )
        (error,) = await self._post_many(sub, sub.end_to.address, [encode(message)])
        kind = str(status).rsplit("/", 1)[-1]
        if error is None:
            log.info("%s: SubscriptionEnd(%s) sent to %s", self.name, kind, sub.end_to.address)
        else:
            log.warning(
                "%s: SubscriptionEnd(%s) to %s failed: %s", self.name, kind, sub.end_to.address, error
            )
