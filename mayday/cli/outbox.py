"""`mayday outbox`: what the embedded outbox provider has "sent" (pages, email, SMS, voice)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from activities.providers import read_outbox
from mayday.cli.common import console, settings

app = typer.Typer()

FOLLOW_INTERVAL_SECONDS = 0.5


def _matches(entry: dict[str, Any], incident: str | None, person: str | None) -> bool:
    if incident and entry.get("incident_id") != incident:
        return False
    return not (person and (entry.get("to") or {}).get("person") != person)


def _row(entry: dict[str, Any]) -> tuple[str, ...]:
    to = entry.get("to") or {}
    text = entry.get("subject") or entry.get("body") or ""
    return (
        str(entry.get("at", ""))[11:19],
        str(entry.get("channel", "")),
        str(to.get("person", "")),
        str(entry.get("purpose", "")),
        str(entry.get("incident_id", "")),
        text.splitlines()[0][:70] if text else "",
    )


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
    as_json: bool = typer.Option(False, "--json", help="One JSON object per message."),
) -> None:
    """Show messages the outbox provider delivered (the default in `mayday dev`)."""
    path = settings().outbox_path

    def show(entries: list[dict[str, Any]], header: bool) -> None:
        chosen = [e for e in entries if _matches(e, incident, person)]
        if as_json:
            for entry in chosen:
                typer.echo(json.dumps(entry))
            return
        table = Table("at", "channel", "to", "purpose", "incident", "text", show_header=header)
        for entry in chosen:
            table.add_row(*(escape(cell) for cell in _row(entry)))
        if chosen or header:
            console.print(table)

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
            if entries or first:
                show(entries, header=first)
                first = False
            time.sleep(FOLLOW_INTERVAL_SECONDS)
    except KeyboardInterrupt:
        return
