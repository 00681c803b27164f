"""Delivery layer for notification activities: one `Provider` per channel, typed errors.

`build_providers` picks the provider for each channel (the outbox by default); every provider
takes an `OutboundMessage` and returns a `Delivery` or raises a `DeliveryError` subclass.
"""

from activities.providers.base import Provider
from activities.providers.errors import (
    DeliveryError,
    DeliveryThrottled,
    PermanentDeliveryError,
    PermanentReason,
    RetryableDeliveryError,
)
from activities.providers.message import CHANNELS, Channel, Delivery, OutboundMessage
from activities.providers.outbox import OUTBOX_FILENAME, OutboxProvider, read_outbox
from activities.providers.pagerduty_events import PagerDutyEventsProvider
from activities.providers.registry import ProviderConfigError, ProviderSet, build_providers
from activities.providers.sendgrid_email import SendGridEmailProvider
from activities.providers.throttle import DeliveryThrottle, RateLimit, ThrottlePolicy
from activities.providers.throttled import ThrottledProvider
from activities.providers.twilio_phone import TwilioProvider

__all__ = [
    "CHANNELS",
    "OUTBOX_FILENAME",
    "Channel",
    "Delivery",
    "DeliveryError",
    "DeliveryThrottle",
    "DeliveryThrottled",
    "OutboundMessage",
    "OutboxProvider",
    "PagerDutyEventsProvider",
    "PermanentDeliveryError",
    "PermanentReason",
    "Provider",
    "ProviderConfigError",
    "ProviderSet",
    "RateLimit",
    "RetryableDeliveryError",
    "SendGridEmailProvider",
    "ThrottlePolicy",
    "ThrottledProvider",
    "TwilioProvider",
    "build_providers",
    "read_outbox",
]
