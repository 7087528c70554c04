"""The WS-Eventing subscription state machine of one (device, service) pair, sans-IO.

What may live here: the states, the rules for when to subscribe, renew, ask GetStatus, back off and
resubscribe, and the bookkeeping of the granted expiry. No I/O, no clock, no randomness of its own:
the driver (net/subscriptions.py) passes `now` and a jitter source in, performs the returned
actions, and feeds their outcomes back. Nothing here raises on a peer's behaviour: every outcome
is a transition.

    IDLE ──start──▶ SUBSCRIBING ──ok──▶ ACTIVE ──renew due──▶ RENEWING ──ok──▶ ACTIVE
                        │ fail               │ SubscriptionEnd / device restart     │ fault
                        ▼                    ▼                                      ▼
                     BACKOFF ◀────────────────────────────────────────────── (resubscribe)
                                             RENEWING ──transport error──▶ CHECKING (GetStatus)
    any ──stop──▶ UNSUBSCRIBING (only if a subscription is held) ──▶ CLOSED
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "Action",
    "Backoff",
    "SubscriptionMachine",
    "SubscriptionState",
]

# Renew when this fraction of the granted lifetime has passed (protocol README §9: renew at
# ~50–80 %), and no later than RENEW_MARGIN_S before expiry — but never before RENEW_EARLIEST of the
# lifetime, so a short grant (a few seconds) does not turn into a renew storm.
RENEW_FRACTION = 0.7
RENEW_EARLIEST = 0.5
RENEW_MARGIN_S = 10.0
# Bounded, jittered exponential backoff between failed subscribe attempts.
BACKOFF_BASE_S = 1.0
BACKOFF_FACTOR = 2.0
BACKOFF_MAX_S = 60.0
BACKOFF_JITTER = 0.2  # ± fraction of the delay
# Once a subscription was granted, a lost one is retried at least as often as it was renewed (the
# last grant's renew period, never under BACKOFF_BASE_S): after a link outage it returns within one
# renew period instead of waiting out a backoff grown to BACKOFF_MAX_S (issue 14).


class SubscriptionState(enum.Enum):
    IDLE = "idle"
    SUBSCRIBING = "subscribing"
    ACTIVE = "active"
    RENEWING = "renewing"
    CHECKING = "checking"  # GetStatus after a renew whose outcome is unknown
    BACKOFF = "backoff"
    UNSUBSCRIBING = "unsubscribing"
    CLOSED = "closed"


class Action(enum.Enum):
    """What the driver must do now."""

    SUBSCRIBE = "subscribe"
    RENEW = "renew"
    GET_STATUS = "get-status"
    UNSUBSCRIBE = "unsubscribe"
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay schedule: base·factor^n capped at max, with ± jitter (never zero, never above max)."""

    base_s: float = BACKOFF_BASE_S
    factor: float = BACKOFF_FACTOR
    max_s: float = BACKOFF_MAX_S
    jitter: float = BACKOFF_JITTER

    def delay(self, attempt: int, random: Callable[[], float]) -> float:
        raw = min(self.max_s, self.base_s * self.factor ** max(0, attempt))
        spread = raw * self.jitter * (2.0 * random() - 1.0)
        return max(0.05, min(self.max_s, raw + spread))


class SubscriptionMachine:
    """One subscription's lifecycle. Call the `on_*` methods with outcomes, `due(now)` on the
    driver's timer; each returns the Action to perform. `deadline` is when to call `due` next."""

    def __init__(self, *, backoff: Backoff | None = None, random: Callable[[], float] | None = None) -> None:
        self.state = SubscriptionState.IDLE
        self.expires_at: datetime | None = None
        self.renew_at: datetime | None = None
        self.deadline: datetime | None = None
        self.attempt = 0
        self.last_error: str | None = None
        self.renew_period_s: float | None = None  # of the last grant: caps the backoff after it
        self._backoff = backoff or Backoff()
        self._random = random or (lambda: 0.5)

    @property
    def holds_subscription(self) -> bool:
        return self.state in (
            SubscriptionState.ACTIVE,
            SubscriptionState.RENEWING,
            SubscriptionState.CHECKING,
        )

    # --- inputs -----------------------------------------------------------------------------

    def start(self, now: datetime) -> Action:
        """Begin (or begin again after CLOSED)."""
        self.attempt = 0
        return self._subscribe(now)

    def on_subscribed(self, expires_at: datetime, now: datetime) -> Action:
        """SubscribeResponse arrived with its granted expiry (already resolved to an instant)."""
        if self.state is not SubscriptionState.SUBSCRIBING:
            return Action.NOTHING
        self.attempt = 0
        self.last_error = None
        return self._granted(expires_at, now)

    def on_renewed(self, expires_at: datetime | None, now: datetime) -> Action:
        """RenewResponse (or a GetStatusResponse confirming the subscription) arrived."""
        if self.state not in (SubscriptionState.RENEWING, SubscriptionState.CHECKING):
            return Action.NOTHING
        if expires_at is None:  # RenewResponse without Expires: the old expiry stands
            expires_at = self.expires_at or now
        return self._granted(expires_at, now)

    def on_failed(self, now: datetime, reason: str, *, fault: bool) -> Action:
        """The last request failed: `fault` when the source answered with a SOAP fault (it does not
        know us: resubscribe), otherwise a transport error (outcome unknown)."""
        self.last_error = reason
        if self.state is SubscriptionState.SUBSCRIBING:
            return self._back_off(now)
        if self.state is SubscriptionState.RENEWING and not fault:
            # The renew may or may not have happened: ask before throwing the subscription away.
            self.state = SubscriptionState.CHECKING
            self.deadline = None
            return Action.GET_STATUS
        if self.state in (SubscriptionState.RENEWING, SubscriptionState.CHECKING):
            if not fault and self.expires_at is not None and now < self.expires_at:
                # Still valid for a while: try the renew again later instead of resubscribing.
                self.state = SubscriptionState.ACTIVE
                retry = now + timedelta(seconds=self._backoff.delay(self.attempt, self._random))
                self.attempt += 1
                self.renew_at = min(retry, self.expires_at)
                self.deadline = self.renew_at
                return Action.NOTHING
            return self._back_off(now)
        if self.state is SubscriptionState.UNSUBSCRIBING:
            return self._close()
        return Action.NOTHING

    def on_subscription_end(self, now: datetime, status: str) -> Action:
        """SubscriptionEnd arrived (or the device restarted / said Bye): resubscribe after backoff."""
        if self.state in (SubscriptionState.CLOSED, SubscriptionState.UNSUBSCRIBING, SubscriptionState.IDLE):
            return Action.NOTHING
        self.last_error = f"subscription ended: {status}"
        self.expires_at = self.renew_at = None
        self.attempt = 0
        return self._back_off(now)

    def on_device_restarted(self, now: datetime) -> Action:
        """New AppSequence InstanceId or MetadataVersion: subscriptions are gone, subscribe now."""
        if self.state in (SubscriptionState.CLOSED, SubscriptionState.UNSUBSCRIBING):
            return Action.NOTHING
        self.attempt = 0
        return self._subscribe(now)

    def stop(self, now: datetime) -> Action:
        """Leave: Unsubscribe if a subscription is held, otherwise close at once."""
        if self.holds_subscription and self.expires_at is not None and now < self.expires_at:
            self.state = SubscriptionState.UNSUBSCRIBING
            self.deadline = None
            return Action.UNSUBSCRIBE
        return self._close()

    def on_unsubscribed(self) -> Action:
        return self._close()

    def due(self, now: datetime) -> Action:
        """The timer fired: renew, resubscribe after backoff, or notice an expiry."""
        if self.deadline is None or now < self.deadline:
            return Action.NOTHING
        if self.state is SubscriptionState.BACKOFF:
            return self._subscribe(now)
        if self.state is SubscriptionState.ACTIVE:
            if self.expires_at is not None and now >= self.expires_at:
                self.last_error = "subscription expired before it could be renewed"
                return self._subscribe(now)
            self.state = SubscriptionState.RENEWING
            self.deadline = self.expires_at
            return Action.RENEW
        if self.state in (SubscriptionState.RENEWING, SubscriptionState.CHECKING):
            # No answer until expiry: the subscription is gone.
            return self._back_off(now)
        return Action.NOTHING

    # --- transitions ------------------------------------------------------------------------

    def _subscribe(self, now: datetime) -> Action:
        self.state = SubscriptionState.SUBSCRIBING
        self.expires_at = self.renew_at = self.deadline = None
        return Action.SUBSCRIBE

    def _granted(self, expires_at: datetime, now: datetime) -> Action:
        self.state = SubscriptionState.ACTIVE
        self.expires_at = expires_at
        lifetime = max(0.0, (expires_at - now).total_seconds())
        by_fraction = now + timedelta(seconds=lifetime * RENEW_FRACTION)
        by_margin = expires_at - timedelta(seconds=RENEW_MARGIN_S)
        earliest = now + timedelta(seconds=lifetime * RENEW_EARLIEST)
        self.renew_at = max(earliest, min(by_fraction, by_margin))
        self.deadline = self.renew_at
        self.renew_period_s = (self.renew_at - now).total_seconds()
        return Action.NOTHING

    def _back_off(self, now: datetime) -> Action:
        self.state = SubscriptionState.BACKOFF
        self.expires_at = self.renew_at = None
        delay = self._backoff.delay(self.attempt, self._random)
        if self.renew_period_s is not None:
            delay = min(delay, max(self._backoff.base_s, self.renew_period_s))
        self.deadline = now + timedelta(seconds=delay)
        self.attempt += 1
        return Action.NOTHING

    def _close(self) -> Action:
        self.state = SubscriptionState.CLOSED
        self.expires_at = self.renew_at = self.deadline = None
        return Action.NOTHING
