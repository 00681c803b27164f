"""PagerDuty Events v2 trigger/acknowledge/resolve against the fake PagerDuty server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from activities.providers import (
    PagerDutyEventsProvider,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from tests.fakes import FakePagerDuty

from .conftest import ROUTING_KEY
from .helpers import assert_no_address, outbound

SERVICE = "checkout-service"


async def test_trigger_ack_resolve_share_our_dedup_key(
    pagerduty_provider: PagerDutyEventsProvider, fake_pagerduty: FakePagerDuty
) -> None:
    trigger = outbound("pagerduty", address=SERVICE, dedup_key="acme:INC-42")
    delivery = await pagerduty_provider.send(trigger)
    assert fake_pagerduty.alerts == {"acme:INC-42": "triggered"}

    await pagerduty_provider.send(trigger.model_copy(update={"purpose": "ack-notice"}))
    assert fake_pagerduty.alerts == {"acme:INC-42": "acknowledged"}
    await pagerduty_provider.send(trigger.model_copy(update={"purpose": "resolution"}))

    assert (delivery.provider, delivery.provider_id, delivery.status) == (
        "pagerduty",
        "acme:INC-42",
        "success",
    )
    assert fake_pagerduty.alerts == {"acme:INC-42": "resolved"}
    first = fake_pagerduty.events[0]
    assert first.routing_key == ROUTING_KEY
    assert first.payload["severity"] == "critical"
    assert first.payload["summary"] == "[SEV1] Checkout down"
    assert first.payload["custom_details"]["notification_id"] == "INC-42:page:1:dana"


async def test_without_a_dedup_key_the_incident_id_is_used(
    pagerduty_provider: PagerDutyEventsProvider,
) -> None:
    delivery = await pagerduty_provider.send(
        outbound("pagerduty", address=SERVICE, severity="SEV3")
    )

    assert delivery.provider_id == "mayday:INC-42"


async def test_invalid_event_is_permanent(fake_pagerduty: FakePagerDuty) -> None:
    provider = PagerDutyEventsProvider("too-short", fake_pagerduty.url, 2)

    with pytest.raises(PermanentDeliveryError) as caught:
        await provider.send(outbound("pagerduty", address=SERVICE))

    assert (caught.value.reason, caught.value.code) == ("rejected", 400)
    assert "routing_key" in str(caught.value)


async def test_rate_limit_waits_thirty_seconds_unless_told_otherwise(
    pagerduty_provider: PagerDutyEventsProvider, fake_pagerduty: FakePagerDuty
) -> None:
    fake_pagerduty.fail_next(status=429)
    fake_pagerduty.fail_next(status=429, retry_after=5)

    with pytest.raises(RetryableDeliveryError) as default:
        await pagerduty_provider.send(outbound("pagerduty", address=SERVICE))
    with pytest.raises(RetryableDeliveryError) as told:
        await pagerduty_provider.send(outbound("pagerduty", address=SERVICE))

    assert default.value.retry_after == timedelta(seconds=30)
    assert told.value.retry_after == timedelta(seconds=5)


async def test_server_error_then_success(
    pagerduty_provider: PagerDutyEventsProvider, fake_pagerduty: FakePagerDuty
) -> None:
    fake_pagerduty.fail_next(2, status=502)

    for _ in range(2):
        with pytest.raises(RetryableDeliveryError):
            await pagerduty_provider.send(outbound("pagerduty", address=SERVICE))
    await pagerduty_provider.send(outbound("pagerduty", address=SERVICE))

    assert [r.status for r in fake_pagerduty.requests] == [502, 502, 202]


async def test_refused_connection_and_dropped_answer_are_retryable(
    closed_port_url: str, pagerduty_provider: PagerDutyEventsProvider, fake_pagerduty: FakePagerDuty
) -> None:
    unreachable = PagerDutyEventsProvider(ROUTING_KEY, closed_port_url, 2)
    fake_pagerduty.drop_next()

    with pytest.raises(RetryableDeliveryError) as refused:
        await unreachable.send(outbound("pagerduty", address=SERVICE))
    with pytest.raises(RetryableDeliveryError) as dropped:
        await pagerduty_provider.send(outbound("pagerduty", address=SERVICE))

    assert not refused.value.possibly_sent
    assert dropped.value.possibly_sent
    assert_no_address(refused.value, SERVICE)
