"""The `mayday` command line."""

from __future__ import annotations

import os
import sys
import traceback

import typer

from mayday.cli import business, decisions, incidents, outbox, playbook, runtime
from workflows.bounds import visible

app = typer.Typer(
    name="mayday",
    help="Business incident response on Temporal: declare, decide, and keep everyone informed.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.registered_commands += runtime.app.registered_commands
app.registered_commands += incidents.app.registered_commands
app.registered_commands += decisions.app.registered_commands
app.registered_commands += business.app.registered_commands
app.registered_commands += outbox.app.registered_commands
app.add_typer(playbook.app, name="playbook")


def main() -> None:
    """Entry point: run the command, then end the process deliberately with its exit code.

    Temporal's Rust bridge can abort the interpreter at exit after all work succeeded
    (reference: sdk-python #300); exit codes are a contract, so we end with os._exit.
    """
    code = 0
    try:
        result = app(standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Abort:
        code = 130
    except typer.TyperException as err:
        # Typer vendors click: its usage errors carry show() and an exit code (2).
        show = getattr(err, "show", None)
        if callable(show):
            show()
        code = int(getattr(err, "exit_code", 1))
    except KeyboardInterrupt:
        code = 130
    except SystemExit as err:
        code = err.code if isinstance(err.code, int) else 1
    except Exception as err:
        code = _unexpected(err)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _unexpected(err: Exception) -> int:
    """One line for a failure no command foresaw; the traceback only with MAYDAY_DEBUG=1."""
    if os.environ.get("MAYDAY_DEBUG") == "1":
        traceback.print_exception(err)
    message = " ".join(visible(str(err)).split())[:300]
    # The last line of defence: a user sees one line, never a traceback.
    sys.stderr.write(
        f"error: {type(err).__name__}: {message} (MAYDAY_DEBUG=1 shows the traceback)\n"
    )
    return 1
