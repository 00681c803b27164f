"""Long-running mayday processes: the dev stack, a worker, the HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import uvicorn
from rich.console import Console
from temporalio.client import Client
from temporalio.runtime import Runtime

from mayday.devstack import (
    DevServer,
    DevServerConfig,
    check_ports_free,
    ensure_data_dir,
    install_stop_signals,
)
from mayday.http.app import create_app
from mayday.http.hooks import Unsigned
from mayday.incidents import IncidentError
from mayday.settings import Settings
from worker.client import connect, metrics_runtime
from worker.run import build_workers, run_until

log = logging.getLogger(__name__)

KEEP_ALIVE_SECONDS = 75


class StartRefused(IncidentError):
    """A process refuses to start with these settings; the message names the one to fix."""


def check_can_start(settings: Settings) -> None:
    """Refuse settings a process would run with but never work under (StartRefused)."""
    if settings.uses_twilio:
        url = urlsplit(settings.public_url or "")
        if url.scheme not in ("http", "https") or not url.hostname:
            # Twilio signs, and calls back, the public URL: without it no SMS or call ack works.
            raise StartRefused(
                "Twilio is configured but MAYDAY_PUBLIC_URL is "
                f"{'unset' if not settings.public_url else 'not an http(s) URL'}; set it to "
                "the https:// address Twilio reaches this app on."
            )


def sdk_metrics(settings: Settings) -> Runtime | None:
    """A runtime exporting the SDK's Prometheus metrics, when a metrics port is set."""
    if not settings.metrics_port:
        return None
    return metrics_runtime(settings.metrics_port, settings.metrics_host)


class EmbeddedHttpServer(uvicorn.Server):
    """uvicorn without its own signal handling: the process's stop event governs shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def http_server(settings: Settings, *, unsigned: Unsigned = Unsigned.NOBODY) -> EmbeddedHttpServer:
    """The HTTP app on the settings' host and port, connecting to Temporal lazily."""

    async def factory() -> Client:
        return await connect(settings)

    app = create_app(settings, factory, unsigned=unsigned)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        lifespan="on",
        # Longer than senders' idle pools: a connection closed mid-reuse reads as an error.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return EmbeddedHttpServer(config)


async def serve_http(server: EmbeddedHttpServer, stop: asyncio.Event) -> None:
    """Serve until `stop` is set."""
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task


async def run_worker_process(settings: Settings) -> None:
    """`mayday worker`: poll the task queue until Ctrl-C or SIGTERM."""
    check_can_start(settings)
    stop = asyncio.Event()
    install_stop_signals(stop)
    runtime = sdk_metrics(settings)
    client = await connect(settings, runtime=runtime)
    workers = build_workers(client, settings)
    # Operators (and the recovery test) read when polling begins: start-up imports take seconds.
    sys.stderr.write(
        f"mayday worker polling {settings.task_queue}, {settings.page_task_queue} and "
        f"{settings.contact_task_queue} on "
        f"{settings.temporal_address} (namespace {settings.temporal_namespace})\n"
    )
    sys.stderr.flush()
    await run_until(workers, stop)


async def run_http_process(settings: Settings, *, insecure: bool = False) -> None:
    """`mayday serve`: the HTTP app until Ctrl-C or SIGTERM."""
    check_can_start(settings)
    if settings.hook_secret is None and not insecure:
        raise StartRefused(
            "Refusing to serve hooks without a secret: set MAYDAY_HOOK_SECRET, or pass "
            "--insecure for a local trial."
        )
    stop = asyncio.Event()
    install_stop_signals(stop)
    unsigned = Unsigned.ANYONE if insecure else Unsigned.NOBODY
    await serve_http(http_server(settings, unsigned=unsigned), stop)


@dataclass(frozen=True)
class DevPorts:
    """Ports of the embedded stack."""

    temporal: int
    ui: int
    http: int


async def run_dev(settings: Settings, ports: DevPorts, console: Console) -> None:
    """`mayday dev`: Temporal dev server, worker and HTTP app, all stopped together."""
    check_can_start(settings)
    data_dir = ensure_data_dir(settings.data_dir)
    config = DevServerConfig(data_dir=data_dir, temporal_port=ports.temporal, ui_port=ports.ui)
    settings = settings.model_copy(
        update={
            "data_dir": data_dir,
            "temporal_address": config.address,
            "http_port": ports.http,
        }
    )
    check_ports_free(config.ip, {"temporal": ports.temporal, "ui": ports.ui, "http": ports.http})
    stop = asyncio.Event()
    install_stop_signals(stop)
    server = DevServer(config)
    server.start()
    try:
        await server.wait_ready()
        runtime = sdk_metrics(settings)
        client = await connect(settings, runtime=runtime)
        workers = build_workers(client, settings)
        http = http_server(settings, unsigned=Unsigned.LOOPBACK)
        console.print(f"[bold]mayday dev[/] — data in {data_dir}")
        console.print(f"  Temporal   {config.address} (namespace {settings.temporal_namespace})")
        console.print(f"  Web UI     {config.ui_url}")
        console.print(f"  HTTP app   http://{settings.http_host}:{ports.http}  (/readyz)")
        console.print(f"  Outbox     {settings.outbox_path}")
        if settings.metrics_port:
            console.print(
                f"  Metrics    http://{settings.metrics_host}:{settings.metrics_port}/metrics"
            )
        console.print(
            f"  Try: MAYDAY_TEMPORAL_ADDRESS={config.address} uv run mayday declare "
            "--service checkout --severity SEV2 --title 'Checkout errors' --as <person>"
        )
        console.print("Press Ctrl-C to stop.")
        # A dead server is not outlived: workers and hooks would only log retries forever.
        # Exiting (rather than restarting it) leaves the cause to whoever reads the log; the
        # incidents wait in the SQLite file for the next `mayday dev`.
        server_exit = asyncio.create_task(server.exited())
        server_exit.add_done_callback(lambda _: stop.set())
        try:
            await asyncio.gather(run_until(workers, stop), serve_http(http, stop))
        except Exception:
            if not server_exit.done():
                raise
        finally:
            if not server_exit.done():
                server_exit.cancel()
        if server_exit.done() and not server_exit.cancelled():
            raise server.died(server_exit.result()) from None
    finally:
        server.stop()
        console.print("mayday dev stopped.")
