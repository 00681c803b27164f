"""Process commands: dev, worker, serve."""

from __future__ import annotations

from pathlib import Path

import typer

from mayday.cli.common import EXIT_USAGE, console, fail, port_value, run, settings

app = typer.Typer()


@app.command()
def dev(
    data_dir: Path | None = typer.Option(None, help="State directory (default $MAYDAY_DATA_DIR)."),
    temporal_port: int = typer.Option(7233, help="Temporal gRPC port.", callback=port_value),
    ui_port: int = typer.Option(8233, help="Temporal Web UI port.", callback=port_value),
    http_port: int = typer.Option(8000, help="mayday HTTP app port.", callback=port_value),
) -> None:
    """Run everything locally: Temporal dev server + UI, worker and HTTP app; Ctrl-C stops all."""
    from mayday.devstack import DevStackError
    from mayday.runtime import DevPorts, run_dev

    current = settings()
    if data_dir is not None:
        current = current.model_copy(update={"data_dir": data_dir})
    ports = DevPorts(temporal=temporal_port, ui=ui_port, http=http_port)
    try:
        run(run_dev(current, ports, console))
    except DevStackError as err:
        fail(str(err))


@app.command()
def worker() -> None:
    """Run a worker against $MAYDAY_TEMPORAL_ADDRESS until Ctrl-C or SIGTERM."""
    from mayday.runtime import run_worker_process

    run(run_worker_process(settings()))


@app.command()
def serve(
    insecure: bool = typer.Option(
        False, "--insecure", help="Accept unauthenticated hooks (never in production)."
    ),
    port: int | None = typer.Option(
        None, help="HTTP port (default $MAYDAY_HTTP_PORT).", callback=port_value
    ),
) -> None:
    """Run the HTTP app (hooks, callbacks, status page) until Ctrl-C or SIGTERM."""
    from mayday.runtime import run_http_process

    current = settings()
    if current.hook_secret is None and not insecure:
        fail(
            "Refusing to serve hooks without a secret: set MAYDAY_HOOK_SECRET, or pass "
            "--insecure for a local trial.",
            code=EXIT_USAGE,
        )
    if port is not None:
        current = current.model_copy(update={"http_port": port})
    run(run_http_process(current, insecure=insecure))
