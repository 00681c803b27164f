"""Carrier-aware throttling: per-destination and per-channel sliding windows on a fake clock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import pytest

from activities.providers import (
    Channel,
    DeliveryThrottle,
    DeliveryThrottled,
    OutboxProvider,
    RateLimit,
    ThrottledProvider,
    ThrottlePolicy,
    read_outbox,
)
from activities.providers.throttled import LocalBudget

from .helpers import assert_no_address, outbound

PHONE = "+15558675310"
MINUTE = 60.0


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def per_destination_only(limits: Mapping[Channel, RateLimit]) -> ThrottlePolicy:
    return ThrottlePolicy(per_destination=limits, per_channel={})


def test_sixth_sms_in_fifteen_minutes_waits_for_the_oldest_to_expire(clock: FakeClock) -> None:
    throttle = DeliveryThrottle(clock=clock)
    for _ in range(5):
        assert throttle.acquire("sms", PHONE) == timedelta(0)
        clock.now += MINUTE

    assert throttle.acquire("sms", PHONE) == timedelta(minutes=10)
    clock.now += 10 * MINUTE
    assert throttle.acquire("sms", PHONE) == timedelta(0)
    assert throttle.acquire("sms", PHONE) == timedelta(minutes=1)


def test_voice_allows_three_calls_per_fifteen_minutes(clock: FakeClock) -> None:
    throttle = DeliveryThrottle(clock=clock)
    for _ in range(3):
        assert throttle.acquire("voice", PHONE) == timedelta(0)

    assert throttle.delay("voice", PHONE) == timedelta(minutes=15)
    assert throttle.delay("sms", PHONE) == timedelta(0)


def test_destinations_are_throttled_independently(clock: FakeClock) -> None:
    throttle = DeliveryThrottle(
        per_destination_only({"sms": RateLimit(1, timedelta(minutes=15))}), clock=clock
    )

    assert throttle.acquire("sms", PHONE) == timedelta(0)
    assert throttle.acquire("sms", "+15558675311") == timedelta(0)
    assert throttle.acquire("sms", PHONE) == timedelta(minutes=15)


def test_a_refused_send_does_not_use_up_the_window(clock: FakeClock) -> None:
    throttle = DeliveryThrottle(
        per_destination_only({"sms": RateLimit(2, timedelta(seconds=10))}), clock=clock
    )
    throttle.acquire("sms", PHONE)
    clock.now += 5
    throttle.acquire("sms", PHONE)

    for _ in range(5):
        assert throttle.acquire("sms", PHONE) == timedelta(seconds=5)
    clock.now += 5
    assert throttle.acquire("sms", PHONE) == timedelta(0)


def test_the_channel_wide_pace_applies_across_destinations(clock: FakeClock) -> None:
    policy = ThrottlePolicy(
        per_destination={}, per_channel={"sms": RateLimit(2, timedelta(seconds=1))}
    )
    throttle = DeliveryThrottle(policy, clock=clock)

    assert throttle.acquire("sms", "+15550000001") == timedelta(0)
    assert throttle.acquire("sms", "+15550000002") == timedelta(0)
    assert throttle.acquire("sms", "+15550000003") == timedelta(seconds=1)
    clock.now += 1
    assert throttle.acquire("sms", "+15550000003") == timedelta(0)


def test_the_longer_of_both_waits_wins(clock: FakeClock) -> None:
    policy = ThrottlePolicy(
        per_destination={"sms": RateLimit(1, timedelta(seconds=30))},
        per_channel={"sms": RateLimit(1, timedelta(seconds=1))},
    )
    throttle = DeliveryThrottle(policy, clock=clock)
    throttle.acquire("sms", PHONE)

    assert throttle.delay("sms", PHONE) == timedelta(seconds=30)
    assert throttle.delay("sms", "+15550000002") == timedelta(seconds=1)


def test_unlimited_policy_never_waits(clock: FakeClock) -> None:
    throttle = DeliveryThrottle(ThrottlePolicy.unlimited(), clock=clock)

    assert all(throttle.acquire("sms", PHONE) == timedelta(0) for _ in range(100))


def test_many_destinations_are_forgotten_once_their_windows_pass(clock: FakeClock) -> None:
    throttle = DeliveryThrottle(
        per_destination_only({"sms": RateLimit(1, timedelta(seconds=1))}), clock=clock
    )
    for n in range(3000):
        throttle.acquire("sms", f"+1555{n:07d}")
        clock.now += 0.01

    assert len(throttle._windows) < 1200


def test_a_rate_limit_needs_a_positive_count_and_window() -> None:
    with pytest.raises(ValueError):
        RateLimit(0, timedelta(minutes=1))
    with pytest.raises(ValueError):
        RateLimit(1, timedelta(0))


async def test_throttled_provider_raises_with_the_wait(tmp_path: object, clock: FakeClock) -> None:
    outbox = OutboxProvider.in_data_dir(str(tmp_path))
    throttle = DeliveryThrottle(
        per_destination_only({"voice": RateLimit(1, timedelta(minutes=15))}), clock=clock
    )
    provider = ThrottledProvider(outbox, LocalBudget(throttle))

    await provider.send(outbound("voice", id="n-1"))
    with pytest.raises(DeliveryThrottled) as caught:
        await provider.send(outbound("voice", id="n-2"))

    assert caught.value.retry_after == timedelta(minutes=15)
    assert caught.value.to_application_error().type == "DeliveryThrottled"
    assert not caught.value.to_application_error().non_retryable
    assert provider.name == "outbox"
    assert [e["id"] for e in read_outbox(outbox.path)] == ["n-1"]
    assert_no_address(caught.value, PHONE)


async def test_ack_notices_and_stand_downs_do_not_use_up_the_page_budget(
    tmp_path: object, clock: FakeClock
) -> None:
    outbox = OutboxProvider.in_data_dir(str(tmp_path))
    throttle = DeliveryThrottle(
        per_destination_only({"sms": RateLimit(1, timedelta(minutes=15))}), clock=clock
    )
    provider = ThrottledProvider(outbox, LocalBudget(throttle))

    await provider.send(outbound("sms", id="n-notice", purpose="ack-notice"))
    await provider.send(outbound("sms", id="n-down", purpose="stand-down"))
    await provider.send(outbound("sms", id="n-page"))
    with pytest.raises(DeliveryThrottled):
        await provider.send(outbound("sms", id="n-page-2"))
    await provider.send(outbound("sms", id="n-notice-2", purpose="ack-notice"))

    sent = [e["id"] for e in read_outbox(outbox.path)]
    assert sent == ["n-notice", "n-down", "n-page", "n-notice-2"]


def test_the_channel_pace_alone_ignores_destinations(clock: FakeClock) -> None:
    policy = ThrottlePolicy(
        per_destination={"sms": RateLimit(1, timedelta(minutes=15))},
        per_channel={"sms": RateLimit(2, timedelta(seconds=1))},
    )
    throttle = DeliveryThrottle(policy, clock=clock)

    assert throttle.acquire("sms", None) == timedelta(0)
    assert throttle.acquire("sms", None) == timedelta(0)
    assert throttle.acquire("sms", None) == timedelta(seconds=1)
    assert throttle.delay("sms", PHONE) == timedelta(seconds=1)
