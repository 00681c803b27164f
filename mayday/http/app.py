"""The FastAPI application every HTTP route of mayday hangs off."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from temporalio.client import Client

from mayday import __version__
from mayday.settings import Settings

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
            self._client = None
            return False


def create_app(settings: Settings, client_factory: ClientFactory) -> FastAPI:
    """The mayday HTTP app, talking to Temporal through `client_factory`."""
    app = FastAPI(title="mayday", version=__version__)
    link = TemporalLink(client_factory)
    app.state.settings = settings
    app.state.temporal = link

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        if await link.healthy():
            return JSONResponse({"status": "ready", "temporal": "ok"})
        return JSONResponse(
            {"status": "not ready", "temporal": "unreachable"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    return app
