"""A lazily connected Temporal client the HTTP app shares across requests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from temporalio.client import Client

ClientFactory = Callable[[], Awaitable[Client]]

READY_TIMEOUT_SECONDS = 2.0


class TemporalLink:
    """Connects to Temporal on first use and reconnects after a failure."""

    def __init__(self, factory: ClientFactory) -> None:
        self._factory = factory
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        """The connected client, connecting if needed."""
        async with self._lock:
            if self._client is None:
                self._client = await self._factory()
            return self._client

    async def healthy(self) -> bool:
        """Whether Temporal answers a health check right now."""
        try:
            client = await asyncio.wait_for(self.client(), READY_TIMEOUT_SECONDS)
            return await asyncio.wait_for(
                client.service_client.check_health(), READY_TIMEOUT_SECONDS
            )
        except Exception:
            self.forget()
            return False

    def forget(self) -> None:
        """Drop the client so the next request reconnects."""
        self._client = None
