"""The FastAPI application every HTTP route of mayday hangs off."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from mayday import __version__
from mayday.http.hooks import Unsigned, register_hooks
from mayday.http.metrics import HookMetrics, register_metrics
from mayday.http.temporal_link import ClientFactory, TemporalLink
from mayday.http.twilio_hooks import register_twilio_hooks
from mayday.playbook_seam import current_playbook
from mayday.settings import Settings


def create_app(
    settings: Settings, client_factory: ClientFactory, *, unsigned: Unsigned = Unsigned.NOBODY
) -> FastAPI:
    """The mayday HTTP app; `unsigned` says who may post hooks when no secret is set."""
    app = FastAPI(title="mayday", version=__version__)
    link = TemporalLink(client_factory, connect_timeout=settings.temporal_connect_timeout)
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

    metrics = HookMetrics()
    register_hooks(app, settings, link, metrics, unsigned=unsigned)
    register_metrics(app, metrics)
    register_twilio_hooks(
        app, settings, link, current_playbook(settings.playbook), unsigned=unsigned
    )
    return app
