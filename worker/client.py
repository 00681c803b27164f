"""The one way mayday processes connect to Temporal."""

from __future__ import annotations

from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from mayday.settings import Settings

DATA_CONVERTER = pydantic_data_converter
"""Client, worker, replayer and tests all use this converter."""


def metrics_runtime(port: int, host: str = "127.0.0.1") -> Runtime:
    """A Temporal runtime exposing the SDK's Prometheus metrics on host:port."""
    return Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"{host}:{port}"))
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS for a real cluster: client certificates if given, plain TLS for an API key."""
    if settings.temporal_tls_cert is None:
        return settings.temporal_api_key is not None
    return TLSConfig(
        client_cert=settings.temporal_tls_cert.read_bytes(),
        client_private_key=(
            settings.temporal_tls_key.read_bytes() if settings.temporal_tls_key else None
        ),
        server_root_ca_cert=(
            settings.temporal_tls_ca.read_bytes() if settings.temporal_tls_ca else None
        ),
    )


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """Connect to the Temporal namespace the settings name, with mayday's data converter."""
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
        tls=tls_config(settings),
        api_key=api_key,
        runtime=runtime,
    )
