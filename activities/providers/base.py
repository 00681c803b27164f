"""The seam between notification activities and the outside world."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from activities.providers.message import Delivery, OutboundMessage


@runtime_checkable
class Provider(Protocol):
    """Something that delivers an `OutboundMessage` or raises a `DeliveryError`."""

    @property
    def name(self) -> str:
        """Short provider name used in `Delivery.provider` and error messages."""
        ...

    async def send(self, message: OutboundMessage) -> Delivery:
        """Deliver one message; raise `PermanentDeliveryError` or `RetryableDeliveryError`."""
        ...
