"""A lazily connected Temporal client the HTTP app shares across requests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from temporalio.client import Client

ClientFactory = Callable[[], Awaitable[Client]]

READY_TIMEOUT_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 3.0


class TemporalUnavailable(RuntimeError):
    """Temporal could not be reached (connect failed or timed out)."""


class TemporalLink:
    """Connects to Temporal on first use and reconnects after a failure.

    Concurrent callers share one connection attempt, bounded by `connect_timeout`: a server
    that accepts TCP and never answers fails them all at once instead of queueing each
    behind the previous caller's connect.
    """

    def __init__(
        self, factory: ClientFactory, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS
    ) -> None:
        self._factory = factory
        self._connect_timeout = connect_timeout
        self._client: Client | None = None
        self._connecting: asyncio.Task[Client] | None = None

    async def client(self) -> Client:
        """The connected client, connecting if needed."""
        if self._client is not None:
            return self._client
        if self._connecting is None:
            attempt = asyncio.create_task(self._connect())
            attempt.add_done_callback(self._connected)
            self._connecting = attempt
        # Shielded: one caller giving up must not cancel the attempt the others wait on.
        return await asyncio.shield(self._connecting)

    async def _connect(self) -> Client:
        try:
            return await asyncio.wait_for(self._factory(), self._connect_timeout)
        except TimeoutError:
            raise TemporalUnavailable(
                f"Temporal did not answer within {self._connect_timeout:g} s of connecting"
            ) from None

    def _connected(self, attempt: asyncio.Task[Client]) -> None:
        if self._connecting is attempt:
            self._connecting = None
        if attempt.cancelled():
            return
        with contextlib.suppress(Exception):
            self._client = attempt.result()

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
