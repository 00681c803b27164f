"""`mayday outbox`: what the embedded outbox provider has "sent" (pages, email, SMS, voice).

Message text quotes alert titles, so every cell is printed through `visible`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

from activities.providers import read_outbox
from mayday.cli.common import console, settings
from mayday.cli.layout import WIDE_OPTION, fitted_table, print_wide
from workflows.bounds import visible

app = typer.Typer()

FOLLOW_INTERVAL_SECONDS = 0.5


def _matches(entry: dict[str, Any], incident: str | None, person: str | None) -> bool:
    if incident and entry.get("incident_id") != incident:
        return False
    return not (person and (entry.get("to") or {}).get("person") != person)


WIDE_COLUMNS = ("at", "channel", "to", "purpose", "incident", "id", "text")
NARROW_COLUMNS = ("at", "to", "incident", "text")


def _row(entry: dict[str, Any], *, wide: bool) -> list[str]:
    to = entry.get("to") or {}
    text = entry.get("subject") or entry.get("body") or ""
    first_line = text.splitlines()[0] if text else ""
    at = str(entry.get("at", ""))[11:19]
    person, channel = str(to.get("person", "")), str(entry.get("channel", ""))
    incident = str(entry.get("incident_id", ""))
    if not wide:
        # The text already says what it is (PAGE, ACKED, Stand down), so purpose can go.
        return [visible(cell) for cell in (at, f"{person}/{channel}", incident, first_line)]
    purpose, notification = str(entry.get("purpose", "")), str(entry.get("id", ""))
    cells = (at, channel, person, purpose, incident, notification, first_line)
    return [visible(cell) for cell in cells]


def _read_from(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete lines appended since `offset`, and the offset after them."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
    except FileNotFoundError:
        return [], offset
    complete = chunk[: chunk.rfind(b"\n") + 1]
    entries = []
    for line in complete.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries, offset + len(complete)


@app.command()
def outbox(
    incident: str | None = typer.Option(None, "--incident", help="Only this incident's messages."),
    person: str | None = typer.Option(None, "--person", help="Only messages to this person."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new messages."),
    wide: bool = WIDE_OPTION,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per message."),
) -> None:
    """Show messages the outbox provider delivered (the default in `mayday dev`)."""
    path = settings().outbox_path

    def show(entries: list[dict[str, Any]], header: bool) -> bool:
        """Print the chosen entries; whether any were printed."""
        chosen = [e for e in entries if _matches(e, incident, person)]
        if as_json:
            for entry in chosen:
                typer.echo(json.dumps(entry))
            return bool(chosen)
        if not chosen:
            return False
        columns = WIDE_COLUMNS if wide else NARROW_COLUMNS
        rows = [_row(entry, wide=wide) for entry in chosen]
        if wide:
            print_wide(console, columns, rows, header=header)
        else:
            free, key = columns.index("text"), columns.index("incident")
            table = fitted_table(
                columns, rows, width=console.width, free=free, key=key, header=header
            )
            console.print(table)
        return True

    if not follow:
        entries = read_outbox(path)
        if not entries and not as_json:
            console.print(f"The outbox at {path} is empty.")
            return
        show(entries, header=True)
        return
    offset = 0
    first = True
    try:
        while True:
            entries, offset = _read_from(path, offset)
            if entries and show(entries, header=first):
                first = False
            time.sleep(FOLLOW_INTERVAL_SECONDS)
    except KeyboardInterrupt:
        return
