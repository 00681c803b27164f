"""What every CLI command shares: settings, the actor, checked input, output, and how failures end.

Everything a user types is checked before anything reaches Temporal: numbers must be finite and
in range, ids must have the id grammar, titles and notes are made visible and bounded
(workflows/bounds.py). A bad value is a one-line usage error (exit 2) naming the option.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from temporalio.client import Client
from temporalio.service import RPCError

from mayday.incidents import IncidentError, is_incident_id
from mayday.settings import Settings
from worker.client import connect
from workflows.bounds import NOTE_MAX, TITLE_MAX, clean_text, clean_title, visible

T = TypeVar("T")

console = Console()
errors = Console(stderr=True, soft_wrap=True)

EXIT_REJECTED = 1
EXIT_USAGE = 2

TIME_SCALE_MIN = 0.0001
TIME_SCALE_MAX = 1_000.0
ACTOR_MAX = 100

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
    if given is not None and (not given or len(given) > ACTOR_MAX or visible(given) != given):
        fail(
            f"--as: {shown(given)} is not a directory id; ids look like aisha-bello "
            "(see `mayday playbook oncall`).",
            code=EXIT_USAGE,
        )
    if given:
        with contextlib.suppress(OSError):
            current.data_dir.mkdir(parents=True, exist_ok=True)
            remembered.write_text(given + "\n")
        return given
    if current.user:
        return current.user
    with contextlib.suppress(OSError):
        saved = remembered.read_text().strip()
        if saved and visible(saved) == saved:
            errors.print(
                f"acting as {escape(saved)} (last --as in {escape(str(current.data_dir))})",
                highlight=False,
            )
            return saved
    fail("Say who is acting: --as PERSON or MAYDAY_USER=PERSON.", code=EXIT_USAGE)


def fail(message: str, *, code: int = EXIT_REJECTED) -> NoReturn:
    """Print the reason on stderr and end the command with `code`."""
    lines = "\n".join(visible(line) for line in message.splitlines())
    errors.print(f"[red]error:[/] {escape(lines)}", highlight=False)
    raise typer.Exit(code)


def shown(text: str, limit: int = 60) -> str:
    """A value the user typed, quoted for an error message: visible and short."""
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


def incident_id_value(value: str) -> str:
    """Typer callback: `value` if it is an incident id, else a usage error saying what one is."""
    if not is_incident_id(value):
        raise typer.BadParameter(
            f"{shown(value)} is not an incident id; ids look like incident-checkout-3f9a1c2e "
            "(see `mayday list`)."
        )
    return value


def time_scale_value(value: float) -> float:
    """Typer callback: a finite time scale within the range a playbook's timers survive."""
    if not math.isfinite(value) or not TIME_SCALE_MIN <= value <= TIME_SCALE_MAX:
        raise typer.BadParameter(
            f"must be a number from {TIME_SCALE_MIN:g} to {TIME_SCALE_MAX:g} "
            f"(1 is live time, 0.01 a drill), not {value:g}."
        )
    return value


def port_value(value: int | None) -> int | None:
    """Typer callback: a TCP port number, 1 to 65535."""
    if value is not None and not 1 <= value <= 65_535:
        raise typer.BadParameter(f"must be a port from 1 to 65535, not {value}.")
    return value


def title_value(value: str) -> str:
    """Typer callback: the title visible, on one line and cut to TITLE_MAX; never empty."""
    title = clean_title(value, TITLE_MAX)
    if not title:
        raise typer.BadParameter("has no visible characters; say what is wrong.")
    return title


def note_value(value: str | None) -> str | None:
    """Typer callback: a reason or note visible, on one line and cut to NOTE_MAX."""
    if value is None:
        return None
    return clean_text(value, NOTE_MAX) or None


def required_note_value(value: str) -> str:
    """Typer callback: like `note_value`, for a reason that must say something."""
    note = clean_text(value, NOTE_MAX)
    if not note:
        raise typer.BadParameter("has no visible characters; say why.")
    return note


def text_value(value: str | None) -> str | None:
    """Typer callback: a name or id typed by the user (a service, a role) must be visible."""
    if value is not None and (len(value) > TITLE_MAX or visible(value) != value):
        raise typer.BadParameter(f"{shown(value)} has characters no id has.")
    return value


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; typed incident errors become exit 1 with their message."""
    try:
        return asyncio.run(coro)
    except IncidentError as err:
        fail(str(err))
    except RPCError as err:
        fail(f"Temporal refused the request: {err.message}")
    except RuntimeError as err:
        if "connect" in str(err).lower():
            fail(
                f"Cannot reach Temporal: {' '.join(str(err).split())}. Is `mayday dev` "
                "running, and MAYDAY_TEMPORAL_ADDRESS right?"
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


ID_ARGUMENT = typer.Argument(
    ...,
    metavar="ID",
    help="Incident id, e.g. incident-checkout-3f9a1c2e (see `mayday list`).",
    callback=incident_id_value,
)
