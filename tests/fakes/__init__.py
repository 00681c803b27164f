"""Fake vendor HTTP servers on 127.0.0.1 for exercising the real SDKs offline.

Each fake is a context manager with `.url`, `.requests` (every request received) and failure
knobs (`latency`, `fail_next`, `drop_next`); see `FakeServer`.
"""

from tests.fakes.fake_pagerduty import AcceptedEvent, FakePagerDuty
from tests.fakes.fake_sendgrid import TEST_API_KEY, AcceptedMail, FakeSendGrid
from tests.fakes.fake_twilio import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeTwilio,
    PlacedCall,
    SentSms,
    sms_segments,
)
from tests.fakes.server import EventLog, FakeServer, RecordedRequest, WebhookReceiver
from tests.fakes.webhooks import (
    EventWebhookSigner,
    SentWebhook,
    post_twilio_form,
    twilio_signature,
)

__all__ = [
    "TEST_ACCOUNT_SID",
    "TEST_API_KEY",
    "TEST_AUTH_TOKEN",
    "AcceptedEvent",
    "AcceptedMail",
    "EventLog",
    "EventWebhookSigner",
    "FakePagerDuty",
    "FakeSendGrid",
    "FakeServer",
    "FakeTwilio",
    "PlacedCall",
    "RecordedRequest",
    "SentSms",
    "SentWebhook",
    "WebhookReceiver",
    "post_twilio_form",
    "sms_segments",
    "twilio_signature",
]
