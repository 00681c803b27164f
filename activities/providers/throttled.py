"""A provider wrapper that asks a send budget before every send.

Two budgets: `LocalBudget` (one process's `DeliveryThrottle`, for tests and single hosts) and
`SharedSendBudget` (the per-number budget in each contact's entity in Temporal, shared by every
worker, with the channel-wide pace kept per host). Ack notices, stand-downs and notices
(reminders, callouts) skip the per-number budget: a message that asks for no page-like action
must never crowd out the next page.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Protocol

from activities.contacts import ContactBook, ContactOptedOut, ContactUnavailable
from activities.providers.base import Provider
from activities.providers.errors import (
    DeliveryThrottled,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from activities.providers.message import Channel, Delivery, OutboundMessage
from activities.providers.throttle import (
    BUDGET_EXEMPT_PURPOSES,
    DeliveryThrottle,
    RateLimit,
    ThrottlePolicy,
)

_ZERO = timedelta(0)
PER_NUMBER_EXEMPT = BUDGET_EXEMPT_PURPOSES | {"notice"}
"""Purposes that never use up a destination's budget: the "no action needed" messages and the
informational notices."""


class SendBudget(Protocol):
    """Admits a send now (zero) or says how long it must wait."""

    async def acquire(self, message: OutboundMessage) -> timedelta:
        """Admit and count `message`, or return the wait; may raise a `DeliveryError`."""
        ...


class LocalBudget:
    """The budget of one process: a `DeliveryThrottle` keyed by address."""

    def __init__(self, throttle: DeliveryThrottle) -> None:
        self.throttle = throttle

    async def acquire(self, message: OutboundMessage) -> timedelta:
        """Per-destination and channel-wide windows; exempt purposes only the channel's pace."""
        exempt = message.purpose in PER_NUMBER_EXEMPT
        return self.throttle.acquire(message.channel, None if exempt else message.address)


class SharedSendBudget:
    """The per-number budget in Temporal (one window per person and channel), shared by hosts.

    A notification already admitted is admitted again for free, so a retried send does not use
    the budget twice. Without an answer from Temporal nothing is sent (a retryable error).
    """

    def __init__(
        self,
        contacts: ContactBook,
        per_destination: Mapping[Channel, RateLimit],
        *,
        pace: DeliveryThrottle | None = None,
    ) -> None:
        self._contacts = contacts
        self._limits = dict(per_destination)
        self._pace = pace or DeliveryThrottle(ThrottlePolicy(per_destination={}))

    async def acquire(self, message: OutboundMessage) -> timedelta:
        """Wait for the channel's pace here, then for the person's budget in Temporal."""
        pace = self._pace.delay(message.channel, None)
        if pace > _ZERO:
            return pace
        limit = self._limits.get(message.channel)
        if limit is not None and message.purpose not in PER_NUMBER_EXEMPT:
            try:
                wait = await self._contacts.admit(
                    message.person,
                    message.channel,
                    message.id,
                    count=limit.count,
                    per=limit.per,
                )
            except ContactOptedOut as err:
                raise PermanentDeliveryError(
                    str(err), provider="mayday", reason="opted_out"
                ) from None
            except ContactUnavailable as err:
                raise RetryableDeliveryError(
                    f"Notification {message.id} not sent: {err}", provider="mayday"
                ) from None
            if wait > _ZERO:
                return wait
        return self._pace.acquire(message.channel, None)


class ThrottledProvider:
    """Sends through `inner` unless the budget says wait, then raises `DeliveryThrottled`."""

    def __init__(self, inner: Provider, budget: SendBudget) -> None:
        self.inner = inner
        self.budget = budget

    @property
    def name(self) -> str:
        """The wrapped provider's name."""
        return self.inner.name

    async def send(self, message: OutboundMessage) -> Delivery:
        """Send now, or raise `DeliveryThrottled` with the wait in `retry_after`."""
        wait = await self.budget.acquire(message)
        if wait > _ZERO:
            raise DeliveryThrottled(
                f"Held back {message.channel} notification {message.id} for "
                f"{wait.total_seconds():.0f} s so its destination is not flooded.",
                provider=self.inner.name,
                retry_after=wait,
            )
        return await self.inner.send(message)
