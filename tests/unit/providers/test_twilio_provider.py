"""SMS and voice pages through the real Twilio SDK against the fake Twilio server."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from twilio.request_validator import RequestValidator

from activities.providers import (
    PermanentDeliveryError,
    RetryableDeliveryError,
    TwilioProvider,
)
from tests.fakes import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, FakeTwilio, WebhookReceiver

from .conftest import FROM_NUMBER
from .helpers import assert_no_address, outbound


async def test_sms_page_is_queued_with_sid_and_segments(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio
) -> None:
    delivery = await twilio_provider.send(outbound("sms"))

    assert delivery.provider == "twilio"
    assert delivery.provider_id.startswith("SM") and len(delivery.provider_id) == 34
    assert (delivery.status, delivery.segments) == ("queued", 1)
    (request,) = fake_twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{TEST_ACCOUNT_SID}/Messages.json"
    assert request.field("To") == "+15558675310"
    assert request.field("From") == FROM_NUMBER
    assert request.field("Body") == "[SEV1] INC-42 checkout down. Reply 1 to ACK"
    assert request.field("StatusCallback") is None


async def test_long_unicode_sms_reports_its_segments(twilio_provider: TwilioProvider) -> None:
    delivery = await twilio_provider.send(outbound("sms", body="Checkout down ✋ " * 10))

    assert delivery.segments == 3


async def test_sms_status_callbacks_are_signed_and_carry_the_notification_id(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio, receiver: WebhookReceiver
) -> None:
    message = outbound("sms", callback_url=f"{receiver.url}/hooks/twilio")
    delivery = await twilio_provider.send(message)

    posts = receiver.requests.wait_for(2)
    validator = RequestValidator(TEST_AUTH_TOKEN)
    statuses = []
    for post in posts:
        params = {k: v[0] for k, v in post.form.items()}
        signature = post.header("X-Twilio-Signature") or ""
        assert validator.validate(receiver.url + post.target, params, signature)
        assert post.path == "/hooks/twilio/status"
        assert post.query == {"notification": [message.id], "incident": ["INC-42"]}
        assert params["MessageSid"] == delivery.provider_id
        statuses.append(params["MessageStatus"])
    assert statuses == ["sent", "delivered"]


async def test_undelivered_sms_callback_carries_the_carrier_error(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio, receiver: WebhookReceiver
) -> None:
    fake_twilio.sms_statuses = ("sent", "undelivered")
    fake_twilio.sms_error_code = 30003
    await twilio_provider.send(outbound("sms", callback_url=f"{receiver.url}/hooks/twilio"))

    last = receiver.requests.wait_for(2)[-1]
    assert (last.field("MessageStatus"), last.field("ErrorCode")) == ("undelivered", "30003")


async def test_voice_page_says_the_text_twice_inside_a_one_digit_gather(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio, receiver: WebhookReceiver
) -> None:
    message = outbound(
        "voice",
        voice_text="Incident I N C 42, severity one, checkout is down.",
        callback_url=f"{receiver.url}/hooks/twilio",
    )
    delivery = await twilio_provider.send(message)

    assert delivery.provider_id.startswith("CA") and delivery.status == "queued"
    (call,) = fake_twilio.calls
    assert '<Gather action="' in call.twiml and 'numDigits="1"' in call.twiml
    assert '<Say loop="2">Incident I N C 42, severity one, checkout is down. Press 1' in call.twiml
    assert call.gather_action is not None
    gather = urlsplit(call.gather_action)
    assert gather.path == "/hooks/twilio/voice"
    assert parse_qs(gather.query) == {"notification": [message.id], "incident": ["INC-42"]}
    assert call.callback_events == ("initiated", "ringing", "answered", "completed")


async def test_voice_keypress_and_call_progress_reach_the_hooks_signed(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio, receiver: WebhookReceiver
) -> None:
    delivery = await twilio_provider.send(
        outbound("voice", callback_url=f"{receiver.url}/hooks/twilio")
    )
    progress = receiver.requests.wait_for(4)

    keypress = fake_twilio.press_digits(delivery.provider_id, "1")

    assert [p.field("CallStatus") for p in progress] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert keypress.status == 200
    validator = RequestValidator(TEST_AUTH_TOKEN)
    assert validator.validate(keypress.url, keypress.params, keypress.headers["X-Twilio-Signature"])
    assert keypress.params["Digits"] == "1" and keypress.params["CallSid"] == delivery.provider_id
    assert receiver.requests[-1].path == "/hooks/twilio/voice"


async def test_unanswered_call_ends_with_no_answer(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio, receiver: WebhookReceiver
) -> None:
    fake_twilio.call_final_status = "no-answer"
    await twilio_provider.send(outbound("voice", callback_url=f"{receiver.url}/hooks/twilio"))

    assert [p.field("CallStatus") for p in receiver.requests.wait_for(3)] == [
        "initiated",
        "ringing",
        "no-answer",
    ]


def test_inbound_sms_reply_is_signed_like_twilio(
    fake_twilio: FakeTwilio, receiver: WebhookReceiver
) -> None:
    sent = fake_twilio.send_inbound_sms(
        f"{receiver.url}/hooks/twilio/sms", from_="+15558675310", body="ACK 42"
    )

    assert sent.status == 200
    assert RequestValidator(TEST_AUTH_TOKEN).validate(
        sent.url, sent.params, sent.headers["X-Twilio-Signature"]
    )
    assert receiver.requests[0].field("Body") == "ACK 42"


@pytest.mark.parametrize(
    ("to", "from_", "reason", "code"),
    [
        ("+15005550001", FROM_NUMBER, "invalid_address", 21211),
        ("+15005550004", FROM_NUMBER, "opted_out", 21610),
        ("+15005550009", FROM_NUMBER, "not_mobile", 21614),
        ("+15005550002", FROM_NUMBER, "rejected", 21612),
        ("+15005550003", FROM_NUMBER, "rejected", 21408),
        ("+15558675310", "+15005550001", "rejected", 21212),
        ("+15558675310", "+15005550007", "rejected", 21606),
    ],
)
async def test_magic_numbers_are_permanent_with_the_right_reason(
    fake_twilio: FakeTwilio, to: str, from_: str, reason: str, code: int
) -> None:
    provider = TwilioProvider(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, from_, fake_twilio.url, 2)

    with pytest.raises(PermanentDeliveryError) as caught:
        await provider.send(outbound("sms", address=to))

    assert (caught.value.reason, caught.value.code, caught.value.provider) == (
        reason,
        code,
        "twilio",
    )
    assert f"code {code}" in str(caught.value)
    assert_no_address(caught.value, to, from_)


async def test_too_long_and_empty_bodies_are_refused(twilio_provider: TwilioProvider) -> None:
    with pytest.raises(PermanentDeliveryError) as too_long:
        await twilio_provider.send(outbound("sms", body="x" * 1601))
    with pytest.raises(PermanentDeliveryError) as empty:
        await twilio_provider.send(outbound("sms", body=" "))

    assert (too_long.value.reason, too_long.value.code) == ("too_large", 21617)
    assert (empty.value.reason, empty.value.code) == ("rejected", 21602)


async def test_wrong_credentials_are_an_auth_error(fake_twilio: FakeTwilio) -> None:
    provider = TwilioProvider(TEST_ACCOUNT_SID, "wrong-token", FROM_NUMBER, fake_twilio.url, 2)

    with pytest.raises(PermanentDeliveryError) as caught:
        await provider.send(outbound("sms"))

    assert (caught.value.reason, caught.value.code) == ("auth", 20003)


async def test_rate_limit_is_retryable_after_the_retry_after_header(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_next(status=429, code=20429, retry_after=7)

    with pytest.raises(RetryableDeliveryError) as caught:
        await twilio_provider.send(outbound("sms"))

    assert caught.value.retry_after == timedelta(seconds=7)
    assert caught.value.code == 20429
    assert caught.value.to_application_error().next_retry_delay == timedelta(seconds=7)
    assert_no_address(caught.value, "+15558675310")


async def test_server_error_is_retryable_and_the_next_attempt_succeeds(
    twilio_provider: TwilioProvider, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_next(status=503, code=20503)

    with pytest.raises(RetryableDeliveryError) as caught:
        await twilio_provider.send(outbound("voice"))
    delivery = await twilio_provider.send(outbound("voice"))

    assert caught.value.retry_after is None and caught.value.code == 20503
    assert delivery.provider_id.startswith("CA")
    assert [r.status for r in fake_twilio.requests] == [503, 201]


async def test_refused_connection_is_retryable_and_not_sent(closed_port_url: str) -> None:
    provider = TwilioProvider(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, FROM_NUMBER, closed_port_url, 2)

    with pytest.raises(RetryableDeliveryError) as caught:
        await provider.send(outbound("sms"))

    assert not caught.value.possibly_sent
    assert "could not be reached" in str(caught.value)
    assert_no_address(caught.value, "+15558675310")


async def test_read_timeout_is_retryable_but_possibly_sent(fake_twilio: FakeTwilio) -> None:
    fake_twilio.latency = 1.0
    provider = TwilioProvider(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, FROM_NUMBER, fake_twilio.url, 0.2)

    with pytest.raises(RetryableDeliveryError) as caught:
        await provider.send(outbound("sms"))

    assert caught.value.possibly_sent
    assert len(fake_twilio.requests) == 1
    assert_no_address(caught.value, "+15558675310")


async def test_email_is_not_a_twilio_channel(twilio_provider: TwilioProvider) -> None:
    with pytest.raises(ValueError, match="email"):
        await twilio_provider.send(outbound("email", address="dana@acme.example"))
