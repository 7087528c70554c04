"""The subscription state machine: time is passed in, so every path is a few method calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wsdmon.protocol.subscription import Action, Backoff, SubscriptionMachine, SubscriptionState

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def active(lifetime_s: float = 100.0) -> SubscriptionMachine:
    m = SubscriptionMachine()
    assert m.start(T0) is Action.SUBSCRIBE
    assert m.on_subscribed(at(lifetime_s), T0) is Action.NOTHING
    assert m.state is SubscriptionState.ACTIVE
    return m


def test_renews_at_seventy_percent_of_lifetime() -> None:
    m = active(100)
    assert m.deadline == at(70)
    assert m.due(at(69)) is Action.NOTHING
    assert m.due(at(70)) is Action.RENEW
    assert m.state is SubscriptionState.RENEWING
    assert m.on_renewed(at(170), at(70.5)) is Action.NOTHING
    assert m.state is SubscriptionState.ACTIVE
    assert m.expires_at == at(170)


def test_short_lifetimes_keep_a_margin_before_expiry() -> None:
    m = active(20)
    assert m.renew_at == at(10)  # 70 % would be 14 s; the 10 s margin wins


def test_very_short_grants_renew_at_half_life_not_at_once() -> None:
    m = active(2)
    assert m.renew_at == at(1)  # the margin would say "now": no renew storm


def test_renew_fault_resubscribes_after_backoff() -> None:
    m = active()
    m.due(at(70))
    assert m.on_failed(at(71), "wse:InvalidMessage", fault=True) is Action.NOTHING
    assert m.state is SubscriptionState.BACKOFF
    assert m.deadline is not None
    assert m.due(m.deadline) is Action.SUBSCRIBE


def test_renew_transport_error_asks_get_status_first() -> None:
    m = active()
    m.due(at(70))
    assert m.on_failed(at(71), "timeout", fault=False) is Action.GET_STATUS
    assert m.state is SubscriptionState.CHECKING
    # The source confirms the subscription: keep it.
    assert m.on_renewed(at(100), at(72)) is Action.NOTHING
    assert m.state is SubscriptionState.ACTIVE


def test_get_status_transport_error_retries_renew_while_still_valid() -> None:
    m = active()
    m.due(at(70))
    m.on_failed(at(71), "timeout", fault=False)
    assert m.on_failed(at(72), "timeout", fault=False) is Action.NOTHING
    assert m.state is SubscriptionState.ACTIVE
    assert m.renew_at is not None
    assert at(72) < m.renew_at <= at(100)


def test_no_answer_until_expiry_backs_off() -> None:
    m = active()
    m.due(at(70))
    assert m.due(at(100)) is Action.NOTHING
    assert m.state is SubscriptionState.BACKOFF


def test_subscribe_failures_back_off_exponentially_and_bounded() -> None:
    m = SubscriptionMachine(backoff=Backoff(base_s=1, factor=2, max_s=8, jitter=0))
    now = T0
    m.start(now)
    delays = []
    for _ in range(6):
        m.on_failed(now, "refused", fault=False)
        assert m.deadline is not None
        delays.append((m.deadline - now).total_seconds())
        now = m.deadline
        assert m.due(now) is Action.SUBSCRIBE
    assert delays == [1, 2, 4, 8, 8, 8]


def test_a_lost_subscription_is_retried_at_least_as_often_as_it_was_renewed() -> None:
    """A link down for a while (issue 14): the renew, GetStatus and every Subscribe fail. Once the
    network is back the subscription must return within one renew period of the last grant; the
    backoff growing to its 60 s cap would leave a 12 s grant's device unheard for a minute."""
    m = SubscriptionMachine(random=lambda: 1.0)  # the largest jitter
    m.start(T0)
    m.on_subscribed(at(12), T0)
    renew_period = (m.renew_at - T0).total_seconds()  # type: ignore[operator]
    assert renew_period == 6
    assert m.due(at(6)) is Action.RENEW
    assert m.on_failed(at(16), "timed out", fault=False) is Action.GET_STATUS
    now = at(19)
    assert m.on_failed(now, "no route to host", fault=False) is Action.NOTHING  # expired: back off
    delays = []
    for _ in range(8):
        assert m.state is SubscriptionState.BACKOFF
        assert m.deadline is not None
        delays.append((m.deadline - now).total_seconds())
        now = m.deadline
        assert m.due(now) is Action.SUBSCRIBE
        now += timedelta(seconds=3)  # the connect fails after ARP gives up
        m.on_failed(now, "no route to host", fault=False)
    assert max(delays) <= renew_period, delays
    assert delays[:3] == [1.2, 2.4, 4.8]  # still exponential below the cap


def test_a_long_grant_keeps_the_bounded_backoff() -> None:
    m = SubscriptionMachine(random=lambda: 0.5)
    m.start(T0)
    m.on_subscribed(at(3600), T0)
    m.due(m.renew_at)  # type: ignore[arg-type]
    m.on_failed(m.renew_at, "fault", fault=True)  # type: ignore[arg-type]
    for _ in range(9):
        assert m.deadline is not None
        now = m.deadline
        m.due(now)
        m.on_failed(now, "refused", fault=False)
    assert (m.deadline - now).total_seconds() == 60  # type: ignore[operator]  # BACKOFF_MAX_S


@pytest.mark.parametrize("r", [0.0, 0.5, 1.0])
def test_jitter_stays_within_bounds(r: float) -> None:
    delay = Backoff(base_s=10, factor=2, max_s=60, jitter=0.2).delay(0, lambda: r)
    assert 8.0 <= delay <= 12.0


def test_subscription_end_resubscribes() -> None:
    m = active()
    assert m.on_subscription_end(at(5), "SourceShuttingDown") is Action.NOTHING
    assert m.state is SubscriptionState.BACKOFF
    assert m.deadline is not None
    assert m.due(m.deadline) is Action.SUBSCRIBE


def test_device_restart_resubscribes_at_once() -> None:
    m = active()
    assert m.on_device_restarted(at(5)) is Action.SUBSCRIBE


def test_stop_unsubscribes_only_when_holding_a_subscription() -> None:
    m = active()
    assert m.stop(at(5)) is Action.UNSUBSCRIBE
    assert m.on_unsubscribed() is Action.NOTHING
    assert m.state is SubscriptionState.CLOSED
    m2 = SubscriptionMachine()
    m2.start(T0)
    m2.on_failed(T0, "refused", fault=False)
    assert m2.stop(at(1)) is Action.NOTHING
    assert m2.state is SubscriptionState.CLOSED


def test_expired_subscription_is_resubscribed_when_timer_is_late() -> None:
    m = active(100)
    assert m.due(at(150)) is Action.SUBSCRIBE


def test_late_outcomes_are_ignored() -> None:
    m = active()
    assert m.on_subscribed(at(500), at(1)) is Action.NOTHING  # not subscribing any more
    assert m.expires_at == at(100)
    m.stop(at(2))
    m.on_unsubscribed()
    assert m.on_subscription_end(at(3), "x") is Action.NOTHING
    assert m.state is SubscriptionState.CLOSED
