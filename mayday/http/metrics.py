"""Prometheus metrics of the HTTP door (the worker exports the SDK's on its own port)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)


class HookMetrics:
    """Counters and latencies of alert deliveries, one registry per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.deliveries = Counter(
            "mayday_hook_deliveries",
            "Alert hook deliveries by source and HTTP status answered.",
            ["source", "status"],
            registry=self.registry,
        )
        self.unrouted = Counter(
            "mayday_alerts_unrouted",
            "Alerts no route of the playbook matched, by hook source.",
            ["source"],
            registry=self.registry,
        )
        self.handoff_seconds = Histogram(
            "mayday_hook_handoff_seconds",
            "Time from receiving a delivery to Temporal accepting it.",
            ["source"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )


def register_metrics(app: FastAPI, metrics: HookMetrics) -> None:
    """Expose `GET /metrics` in the Prometheus text format."""

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
