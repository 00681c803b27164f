"""What the delivery layer sends (`OutboundMessage`) and what it reports back (`Delivery`).

Both are frozen pydantic models so they cross the Temporal activity boundary unchanged. The
`address` field is PII: it is resolved inside activities, handed to a provider and written to the
outbox, but never put into an exception message, a log line or a workflow-visible field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["sms", "voice", "email", "pagerduty"]
CHANNELS: tuple[Channel, ...] = ("sms", "voice", "email", "pagerduty")


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class OutboundMessage(BaseModel):
    """One notification to one person on one channel, identified by a deterministic id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, description="Deterministic notification id from the workflow.")
    incident_id: str
    purpose: str = Field(description='Why it is sent, e.g. "page", "ack-notice", "update".')
    audience: str | None = None
    channel: Channel
    person: str = Field(description="Directory id of the recipient.")
    address: str = Field(description="E.164 phone number or email address (PII).", repr=False)
    subject: str | None = None
    body: str
    html: str | None = None
    voice_text: str | None = None
    callback_url: str | None = Field(
        default=None,
        description="Base URL of mayday's vendor hooks (e.g. https://host/hooks/twilio).",
    )
    dedup_key: str | None = None
    severity: str | None = None


class Delivery(BaseModel):
    """A provider's acceptance of one message: its id there and the status it reported."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    provider_id: str = Field(
        description="Twilio sid, SendGrid X-Message-Id, PagerDuty dedup key or outbox line id."
    )
    status: str = Field(description='Provider status at acceptance, e.g. "queued", "accepted".')
    segments: int | None = None
    at: datetime = Field(default_factory=utc_now)
