"""Choosing providers per channel, and the typed errors' Temporal form."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from activities.providers import (
    DeliveryThrottle,
    OutboxProvider,
    PagerDutyEventsProvider,
    PermanentDeliveryError,
    ProviderConfigError,
    RetryableDeliveryError,
    SendGridEmailProvider,
    ThrottledProvider,
    TwilioProvider,
    build_providers,
    read_outbox,
)
from activities.providers.errors import scrub
from activities.providers.retry_hints import retry_after
from tests.fakes import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, FakeTwilio

from .conftest import ROUTING_KEY
from .helpers import outbound


async def test_every_channel_defaults_to_one_shared_outbox(tmp_path: Path) -> None:
    providers = build_providers(outbox_path=tmp_path / "outbox.jsonl")

    assert isinstance(providers.sms, OutboxProvider)
    assert providers.sms is providers.voice is providers.email is providers.pagerduty
    await providers.send(outbound("email", address="dana@acme.example"))
    assert [e["channel"] for e in read_outbox(tmp_path / "outbox.jsonl")] == ["email"]


async def test_real_providers_serve_their_channels(tmp_path: Path, fake_twilio: FakeTwilio) -> None:
    providers = build_providers(
        outbox_path=tmp_path / "outbox.jsonl",
        email="sendgrid",
        sms="twilio",
        voice="outbox",
        pagerduty="pagerduty",
        sendgrid_api_key="SG.key",
        sendgrid_from_email="status@acme.example",
        twilio_account_sid=TEST_ACCOUNT_SID,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_from_number="+15005550006",
        twilio_base_url=fake_twilio.url,
        pagerduty_routing_key=ROUTING_KEY,
    )

    assert isinstance(providers.for_channel("email"), SendGridEmailProvider)
    assert isinstance(providers.for_channel("sms"), TwilioProvider)
    assert isinstance(providers.for_channel("voice"), OutboxProvider)
    assert isinstance(providers.for_channel("pagerduty"), PagerDutyEventsProvider)
    delivery = await providers.send(outbound("sms"))
    assert delivery.provider == "twilio" and len(fake_twilio.messages) == 1


def test_phone_channels_can_be_throttled(tmp_path: Path) -> None:
    providers = build_providers(outbox_path=tmp_path / "o.jsonl", throttle=DeliveryThrottle())

    assert isinstance(providers.sms, ThrottledProvider)
    assert isinstance(providers.voice, ThrottledProvider)
    assert isinstance(providers.email, OutboxProvider)


def test_a_real_provider_without_credentials_is_a_clear_config_error(tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match="twilio provider needs twilio_auth_token"):
        build_providers(
            outbox_path=tmp_path / "o.jsonl",
            sms="twilio",
            twilio_account_sid=TEST_ACCOUNT_SID,
            twilio_from_number="+15005550006",
        )


def test_permanent_errors_become_non_retryable_application_errors() -> None:
    error = PermanentDeliveryError(
        "Twilio refused sms notification n-1 with code 21610.",
        provider="twilio",
        reason="opted_out",
        code=21610,
    )

    converted = error.to_application_error()

    assert (converted.type, converted.non_retryable) == ("DeliveryOptedOut", True)
    assert converted.details == ({"provider": "twilio", "code": 21610, "reason": "opted_out"},)
    assert not error.retryable


def test_retryable_errors_carry_the_providers_delay() -> None:
    error = RetryableDeliveryError(
        "SendGrid is rate limiting.",
        provider="sendgrid",
        code=429,
        retry_after=timedelta(seconds=9),
    )

    converted = error.to_application_error()

    assert (converted.type, converted.non_retryable) == ("DeliveryRetryable", False)
    assert converted.next_retry_delay == timedelta(seconds=9)


def test_scrub_removes_phone_numbers_and_emails() -> None:
    text = "The 'To' number +1 (555) 867-5310 is invalid; also bob@customer.example and x@y."

    assert (
        scrub(text, "x@y")
        == "The 'To' number <redacted> is invalid; also <redacted> and <redacted>."
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "12"}, timedelta(seconds=12)),
        ({"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, timedelta(seconds=60)),
        ({"X-RateLimit-Reset": "130"}, timedelta(seconds=90)),
        ({"X-RateLimit-Reset": "10"}, timedelta(0)),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_hints_from_headers(headers: dict[str, str], expected: timedelta | None) -> None:
    assert retry_after(headers, clock=lambda: 40.0) == expected


def test_contracts_load_without_the_vendor_sdks() -> None:
    code = (
        "import sys; from activities.providers import OutboundMessage, DeliveryError; "
        "assert not {'twilio', 'sendgrid'} & set(sys.modules), sorted(sys.modules)"
    )

    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
