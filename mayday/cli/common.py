"""What every CLI command shares: settings, the actor, output, and how failures end."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from temporalio.client import Client

from mayday.incidents import IncidentError
from mayday.settings import Settings
from worker.client import connect

T = TypeVar("T")

console = Console()
errors = Console(stderr=True)

EXIT_REJECTED = 1
EXIT_USAGE = 2

AS_OPTION = typer.Option(
    None, "--as", help="Directory id of the person acting (default: $MAYDAY_USER)."
)
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object instead of a table.")


def settings() -> Settings:
    """Settings from the environment, or a usage error naming the bad variable."""
    try:
        return Settings()
    except ValidationError as err:
        fail(
            f"Invalid MAYDAY_* setting: {err.errors()[0]['loc']}: {err.errors()[0]['msg']}",
            code=EXIT_USAGE,
        )


def actor(given: str | None, current: Settings) -> str:
    """The acting person: --as, else $MAYDAY_USER, else the last --as given in this data dir.

    Like `git config user.name`, the last explicit --as is remembered so a responder at 3 a.m.
    need not repeat it; the incident validates the id either way.
    """
    remembered = current.data_dir / "user"
    if given:
        with contextlib.suppress(OSError):
            current.data_dir.mkdir(parents=True, exist_ok=True)
            remembered.write_text(given + "\n")
        return given
    if current.user:
        return current.user
    with contextlib.suppress(OSError):
        saved = remembered.read_text().strip()
        if saved:
            errors.print(f"acting as {saved} (last --as in {current.data_dir})", highlight=False)
            return saved
    fail("Say who is acting: --as PERSON or MAYDAY_USER=PERSON.", code=EXIT_USAGE)


def fail(message: str, *, code: int = EXIT_REJECTED) -> NoReturn:
    """Print the reason on stderr and end the command with `code`."""
    errors.print(f"[red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; typed incident errors become exit 1 with their message."""
    try:
        return asyncio.run(coro)
    except IncidentError as err:
        fail(str(err))
    except RuntimeError as err:
        if "connect" in str(err).lower():
            fail(
                f"Cannot reach Temporal: {err}. Is `mayday dev` running, and "
                "MAYDAY_TEMPORAL_ADDRESS right?"
            )
        raise


async def client_for(current: Settings) -> Client:
    """A connected Temporal client for the configured address."""
    return await connect(current)


def print_json(value: BaseModel | dict[str, Any] | list[Any]) -> None:
    """Print exactly one JSON document on stdout."""
    if isinstance(value, BaseModel):
        typer.echo(value.model_dump_json())
    else:
        typer.echo(json.dumps(value, default=str))
