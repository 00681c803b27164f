"""Delivery layer for notification activities: one `Provider` per channel, typed errors.

`build_providers` picks the provider for each channel (the outbox by default); every provider
takes an `OutboundMessage` and returns a `Delivery` or raises a `DeliveryError` subclass.

Only the contracts (messages, errors, the protocol, the throttle) load eagerly. The providers
load on first use, so a workflow importing `OutboundMessage` never pulls twilio or sendgrid
into the Temporal sandbox.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from activities.providers.base import Provider
from activities.providers.errors import (
    DeliveryError,
    DeliveryThrottled,
    PermanentDeliveryError,
    PermanentReason,
    RetryableDeliveryError,
)
from activities.providers.message import CHANNELS, Channel, Delivery, OutboundMessage
from activities.providers.throttle import DeliveryThrottle, RateLimit, ThrottlePolicy

if TYPE_CHECKING:
    from activities.providers.outbox import OUTBOX_FILENAME, OutboxProvider, read_outbox
    from activities.providers.pagerduty_events import PagerDutyEventsProvider
    from activities.providers.registry import ProviderConfigError, ProviderSet, build_providers
    from activities.providers.sendgrid_email import SendGridEmailProvider
    from activities.providers.throttled import ThrottledProvider
    from activities.providers.twilio_phone import TwilioProvider

_LAZY = {
    "OUTBOX_FILENAME": "outbox",
    "OutboxProvider": "outbox",
    "read_outbox": "outbox",
    "PagerDutyEventsProvider": "pagerduty_events",
    "ProviderConfigError": "registry",
    "ProviderSet": "registry",
    "build_providers": "registry",
    "SendGridEmailProvider": "sendgrid_email",
    "ThrottledProvider": "throttled",
    "TwilioProvider": "twilio_phone",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


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
