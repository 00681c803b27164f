"""Email through the real SendGrid SDK against the fake SendGrid server."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from python_http_client.exceptions import BadRequestsError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader

from activities.providers import (
    PermanentDeliveryError,
    RetryableDeliveryError,
    SendGridEmailProvider,
)
from tests.fakes import TEST_API_KEY, FakeSendGrid, WebhookReceiver

from .helpers import assert_no_address, outbound

ADDRESS = "alice@customer.example"


async def test_email_is_accepted_with_the_message_id(
    sendgrid_provider: SendGridEmailProvider, fake_sendgrid: FakeSendGrid
) -> None:
    delivery = await sendgrid_provider.send(
        outbound("email", address=ADDRESS, html="<p>Checkout down</p>")
    )

    (mail,) = fake_sendgrid.mails
    assert (delivery.provider, delivery.status) == ("sendgrid", "accepted")
    assert delivery.provider_id == mail.message_id
    assert mail.recipients == (ADDRESS,)
    payload = mail.payload
    assert [c["type"] for c in payload["content"]] == ["text/plain", "text/html"]
    assert payload["from"] == {"email": "status@acme.example", "name": "Acme Status"}
    assert payload["subject"] == "[SEV1] Checkout down"
    assert payload["custom_args"] == {
        "incident_id": "INC-42",
        "notification_id": "INC-42:page:1:dana",
        "purpose": "page",
    }
    assert sorted(payload["categories"]) == ["mayday", "page", "sev1"]
    assert ADDRESS not in str(payload["custom_args"]) + str(payload["categories"])
    assert fake_sendgrid.requests[0].header("Authorization") == f"Bearer {TEST_API_KEY}"


async def test_plain_text_only_email_has_one_content_block(
    sendgrid_provider: SendGridEmailProvider, fake_sendgrid: FakeSendGrid
) -> None:
    await sendgrid_provider.send(outbound("email", address=ADDRESS, subject=None))

    payload = fake_sendgrid.mails[0].payload
    assert [c["type"] for c in payload["content"]] == ["text/plain"]
    assert payload["subject"] == "Incident INC-42"


async def test_signed_event_webhook_verifies_with_sendgrids_helper(
    sendgrid_provider: SendGridEmailProvider,
    fake_sendgrid: FakeSendGrid,
    receiver: WebhookReceiver,
) -> None:
    fake_sendgrid.event_webhook_url = f"{receiver.url}/hooks/sendgrid/events"
    delivery = await sendgrid_provider.send(outbound("email", address=ADDRESS))

    (post,) = receiver.requests.wait_for(1)
    events = post.json
    verifier = EventWebhook(fake_sendgrid.public_key_b64)
    assert verifier.verify_signature(
        post.body.decode(),
        post.header(EventWebhookHeader.SIGNATURE),
        post.header(EventWebhookHeader.TIMESTAMP),
    )
    assert not verifier.verify_signature(
        post.body.decode() + " ",
        post.header(EventWebhookHeader.SIGNATURE),
        post.header(EventWebhookHeader.TIMESTAMP),
    )
    assert [e["event"] for e in events] == ["processed", "delivered"]
    assert {e["sg_message_id"].split(".")[0] for e in events} == {delivery.provider_id}
    assert {e["notification_id"] for e in events} == {"INC-42:page:1:dana"}


@pytest.mark.parametrize(
    ("address", "reason", "code"),
    [
        ("fail-400@fake.test", "rejected", 400),
        ("fail-403@fake.test", "auth", 403),
        ("fail-413@fake.test", "too_large", 413),
    ],
)
async def test_client_errors_are_permanent(
    sendgrid_provider: SendGridEmailProvider, address: str, reason: str, code: int
) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        await sendgrid_provider.send(outbound("email", address=address))

    assert (caught.value.reason, caught.value.code, caught.value.provider) == (
        reason,
        code,
        "sendgrid",
    )
    assert f"HTTP {code}" in str(caught.value)
    assert_no_address(caught.value, address)


async def test_invalid_recipient_is_an_invalid_address(
    sendgrid_provider: SendGridEmailProvider,
) -> None:
    with pytest.raises(PermanentDeliveryError) as caught:
        await sendgrid_provider.send(outbound("email", address="dana@localhost"))

    assert caught.value.reason == "invalid_address"
    assert "personalizations.0.to.0.email" in str(caught.value)
    assert_no_address(caught.value, "dana@localhost")


async def test_revoked_key_is_an_auth_error(fake_sendgrid: FakeSendGrid) -> None:
    provider = SendGridEmailProvider("SG.revoked", "status@acme.example", host=fake_sendgrid.url)

    with pytest.raises(PermanentDeliveryError) as caught:
        await provider.send(outbound("email", address=ADDRESS))

    assert (caught.value.reason, caught.value.code) == ("auth", 401)
    assert caught.value.to_application_error().type == "DeliveryAuth"


async def test_rate_limit_retries_at_the_reset_time(
    sendgrid_provider: SendGridEmailProvider, fake_sendgrid: FakeSendGrid
) -> None:
    fake_sendgrid.rate_limit_reset = 20
    address = "fail-429@fake.test"

    with pytest.raises(RetryableDeliveryError) as caught:
        await sendgrid_provider.send(outbound("email", address=address))

    assert caught.value.code == 429
    assert caught.value.retry_after is not None
    assert timedelta(seconds=18) <= caught.value.retry_after <= timedelta(seconds=20)
    assert_no_address(caught.value, address)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retryable(
    sendgrid_provider: SendGridEmailProvider, fake_sendgrid: FakeSendGrid, status: int
) -> None:
    fake_sendgrid.fail_next(status=status)

    with pytest.raises(RetryableDeliveryError) as caught:
        await sendgrid_provider.send(outbound("email", address=ADDRESS))
    await sendgrid_provider.send(outbound("email", address=ADDRESS))

    assert caught.value.code == status and caught.value.retry_after is None
    assert len(fake_sendgrid.mails) == 1


async def test_refused_connection_is_retryable(closed_port_url: str) -> None:
    provider = SendGridEmailProvider(TEST_API_KEY, "status@acme.example", host=closed_port_url)

    with pytest.raises(RetryableDeliveryError) as caught:
        await provider.send(outbound("email", address=ADDRESS))

    assert not caught.value.possibly_sent
    assert_no_address(caught.value, ADDRESS)


async def test_timeout_is_retryable_but_possibly_sent(fake_sendgrid: FakeSendGrid) -> None:
    fake_sendgrid.latency = 1.0
    provider = SendGridEmailProvider(
        TEST_API_KEY, "status@acme.example", host=fake_sendgrid.url, timeout=0.2
    )

    started = time.monotonic()
    with pytest.raises(RetryableDeliveryError) as caught:
        await provider.send(outbound("email", address=ADDRESS))

    assert time.monotonic() - started < 0.9
    assert caught.value.possibly_sent
    assert_no_address(caught.value, ADDRESS)


PLAIN = {"type": "text/plain", "value": "x"}
HTML = {"type": "text/html", "value": "<p>x</p>"}


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"content": [HTML, PLAIN]}, "text/plain content must be first"),
        ({"custom_args": {"attempt": 1}}, "Invalid type. Expected: string"),
        ({"personalizations": []}, "personalizations field is required"),
        ({"subject": None}, "The subject is required"),
        ({"content": []}, "the content parameter is required"),
    ],
)
def test_fake_validates_mail_like_sendgrid(
    fake_sendgrid: FakeSendGrid, changes: dict[str, object], complaint: str
) -> None:
    client = SendGridAPIClient(api_key=TEST_API_KEY, host=fake_sendgrid.url)
    mail = {
        "personalizations": [{"to": [{"email": ADDRESS}]}],
        "from": {"email": "status@acme.example"},
        "subject": "s",
        "content": [PLAIN, HTML],
        **changes,
    }

    with pytest.raises(BadRequestsError) as caught:
        client.send(mail)

    assert complaint in caught.value.body.decode()
    assert fake_sendgrid.mails.snapshot() == []
