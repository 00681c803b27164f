"""A provider wrapper that consults a `DeliveryThrottle` before every send."""

from __future__ import annotations

from datetime import timedelta

from activities.providers.base import Provider
from activities.providers.errors import DeliveryThrottled
from activities.providers.message import Delivery, OutboundMessage
from activities.providers.throttle import DeliveryThrottle


class ThrottledProvider:
    """Sends through `inner` unless the throttle says wait, then raises `DeliveryThrottled`."""

    def __init__(self, inner: Provider, throttle: DeliveryThrottle) -> None:
        self.inner = inner
        self.throttle = throttle

    @property
    def name(self) -> str:
        """The wrapped provider's name."""
        return self.inner.name

    async def send(self, message: OutboundMessage) -> Delivery:
        """Send now, or raise `DeliveryThrottled` with the wait in `retry_after`."""
        wait = self.throttle.acquire(message.channel, message.address)
        if wait > timedelta(0):
            raise DeliveryThrottled(
                f"Held back {message.channel} notification {message.id} for "
                f"{wait.total_seconds():.0f} s so its destination is not flooded.",
                provider=self.inner.name,
                retry_after=wait,
            )
        return await self.inner.send(message)
