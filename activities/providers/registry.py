"""Choose which provider serves each channel; the outbox serves every channel by default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from activities.providers.base import Provider
from activities.providers.message import Channel, Delivery, OutboundMessage
from activities.providers.outbox import OutboxProvider
from activities.providers.pagerduty_events import DEFAULT_BASE_URL, PagerDutyEventsProvider
from activities.providers.sendgrid_email import SendGridEmailProvider
from activities.providers.throttle import DeliveryThrottle
from activities.providers.throttled import LocalBudget, SendBudget, ThrottledProvider
from activities.providers.twilio_phone import TwilioProvider

EmailChoice = Literal["outbox", "sendgrid"]
PhoneChoice = Literal["outbox", "twilio"]
PagingChoice = Literal["outbox", "pagerduty"]


class ProviderConfigError(ValueError):
    """A real provider was chosen without the settings it needs."""


@dataclass(frozen=True)
class ProviderSet:
    """The provider serving each channel."""

    sms: Provider
    voice: Provider
    email: Provider
    pagerduty: Provider

    def for_channel(self, channel: Channel) -> Provider:
        """The provider that delivers `channel`."""
        provider: Provider = getattr(self, channel)
        return provider

    async def send(self, message: OutboundMessage) -> Delivery:
        """Deliver a message through its channel's provider."""
        return await self.for_channel(message.channel).send(message)


def _required(provider: str, setting: str, value: str | None) -> str:
    if not value:
        raise ProviderConfigError(
            f"The {provider} provider needs {setting}; set it or choose the outbox."
        )
    return value


def build_providers(
    *,
    outbox_path: Path | str,
    email: EmailChoice = "outbox",
    sms: PhoneChoice = "outbox",
    voice: PhoneChoice = "outbox",
    pagerduty: PagingChoice = "outbox",
    sendgrid_api_key: str | None = None,
    sendgrid_from_email: str | None = None,
    sendgrid_from_name: str | None = None,
    sendgrid_host: str | None = None,
    twilio_account_sid: str | None = None,
    twilio_auth_token: str | None = None,
    twilio_from_number: str | None = None,
    twilio_base_url: str | None = None,
    pagerduty_routing_key: str | None = None,
    pagerduty_base_url: str = DEFAULT_BASE_URL,
    timeout: float = 10,
    throttle: DeliveryThrottle | None = None,
    budget: SendBudget | None = None,
) -> ProviderSet:
    """Build the providers for each channel; one instance is shared by channels that use it.

    With `budget` (shared by hosts) or `throttle` (this process only), SMS and voice sends
    (whatever serves them) ask it first.
    """
    outbox = OutboxProvider(outbox_path)
    email_provider: Provider = outbox
    phone_provider: Provider = outbox
    paging_provider: Provider = outbox
    if email == "sendgrid":
        email_provider = SendGridEmailProvider(
            _required("sendgrid", "sendgrid_api_key", sendgrid_api_key),
            _required("sendgrid", "sendgrid_from_email", sendgrid_from_email),
            sendgrid_from_name,
            sendgrid_host,
            timeout,
        )
    if "twilio" in (sms, voice):
        phone_provider = TwilioProvider(
            _required("twilio", "twilio_account_sid", twilio_account_sid),
            _required("twilio", "twilio_auth_token", twilio_auth_token),
            _required("twilio", "twilio_from_number", twilio_from_number),
            twilio_base_url,
            timeout,
        )
    if pagerduty == "pagerduty":
        paging_provider = PagerDutyEventsProvider(
            _required("pagerduty", "pagerduty_routing_key", pagerduty_routing_key),
            pagerduty_base_url,
            timeout,
        )
    sms_provider: Provider = phone_provider if sms == "twilio" else outbox
    voice_provider: Provider = phone_provider if voice == "twilio" else outbox
    if budget is None and throttle is not None:
        budget = LocalBudget(throttle)
    if budget is not None:
        sms_provider = ThrottledProvider(sms_provider, budget)
        voice_provider = ThrottledProvider(voice_provider, budget)
    return ProviderSet(
        sms=sms_provider, voice=voice_provider, email=email_provider, pagerduty=paging_provider
    )
