"""Incident commands that look and start: declare, list, status, timeline (decisions.py decides).

Whatever an incident holds came from outside (alert titles, notes, names): it is printed through
`visible`, so no escape sequence in it ever reaches the terminal.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text
from temporalio.client import Client

from mayday import incidents
from mayday.business import BusinessStarting, query_business
from mayday.cli.business_view import BusinessView, actions_table, business_rows
from mayday.cli.common import (
    AS_OPTION,
    ID_ARGUMENT,
    JSON_OPTION,
    actor,
    client_for,
    console,
    fail,
    print_json,
    run,
    settings,
    text_value,
    time_scale_value,
    title_value,
)
from mayday.cli.layout import WIDE_OPTION, fitted_table, one_line, print_wide
from mayday.incident_timeline import Timeline
from mayday.incident_timeline import timeline as read_timeline
from mayday.pages import page_sequence
from mayday.playbook_seam import current_playbook, snapshot
from mayday.settings import Settings
from playbooks import PlaybookInvalid
from workflows.bounds import visible
from workflows.contracts import (
    Declaration,
    IncidentStatus,
    TimelineEntry,
)

app = typer.Typer()

WATCH_INTERVAL_SECONDS = 2.0


def _playbook_snapshot(current: Settings) -> Any:
    try:
        return snapshot(current_playbook(current.playbook))
    except PlaybookInvalid as err:
        fail(f"The playbook is invalid:\n{err}")


@app.command()
def declare(
    service: str = typer.Option(
        ..., help="Business service affected (a playbook service id).", callback=text_value
    ),
    severity: str = typer.Option(..., help="Severity id, e.g. SEV2.", callback=text_value),
    title: str = typer.Option(
        ...,
        help="Short description of what is wrong (cut to 300 characters).",
        callback=title_value,
    ),
    security: bool = typer.Option(
        False,
        "--security",
        help="A security incident: messages, Temporal and listings show a codename, not the title.",
    ),
    who: str | None = AS_OPTION,
    time_scale: float = typer.Option(
        1.0,
        "--time-scale",
        help="Multiply every playbook duration (0.01 for demos and drills; 0.0001 to 1000).",
        callback=time_scale_value,
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Declare an incident by hand; prints its id as the last line."""
    current = settings()
    decl = Declaration(
        service=service,
        severity=severity.upper(),
        title=title,
        actor=actor(who, current),
        security=security,
    )
    playbook = _playbook_snapshot(current)

    async def go() -> str:
        client = await client_for(current)
        return await incidents.declare(client, current, decl, playbook, time_scale=time_scale)

    incident_id = run(go())
    if as_json:
        print_json({"id": incident_id})
    else:
        console.print(f"Declared {decl.severity} incident on {service}:", highlight=False)
        typer.echo(incident_id)


NARROW_COLUMNS = ("id", "severity", "phase", "title")
WIDE_COLUMNS = ("id", "severity", "phase", "service", "commander", "title", "started")


@app.command("list")
def list_(
    include_closed: bool = typer.Option(False, "--all", help="Include closed incidents."),
    wide: bool = WIDE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List open incidents."""
    current = settings()

    async def go() -> list[dict[str, Any]]:
        return await incidents.list_incidents(
            await client_for(current), include_closed=include_closed
        )

    rows = run(go())
    if as_json:
        print_json({"incidents": rows})
        return
    if not rows:
        console.print("No open incidents.")
        return
    columns = WIDE_COLUMNS if wide else NARROW_COLUMNS
    cells = [[visible(str(row[c] or "")) for c in columns] for row in rows]
    if wide:
        print_wide(console, columns, cells)
    else:
        free = columns.index("title")
        console.print(fitted_table(columns, cells, width=console.width, free=free))


def _status_view(
    status: IncidentStatus, business: BusinessView | None, *, wide: bool, width: int
) -> RenderableType:
    """Label and value per line; narrow, each value is one line cut with … (the id never).

    An incident that escalated gets a Business section: the same rows, then its open actions.
    """
    table = Table.grid(padding=(0, 2))
    label_width = 16

    def row(label: str, value: str, *, markup: bool = False) -> None:
        text = Text.from_markup(label) if markup else Text(label)
        if wide:
            table.add_row(text, Text(visible(value)))
        else:
            table.add_row(text, one_line(visible(value), width - label_width - 2))

    table.add_column(min_width=label_width if not wide else None, no_wrap=True)
    table.add_column()
    table.add_row("id", Text(status.id, no_wrap=True, overflow="fold"))
    row("title", status.title)
    row("severity", status.severity)
    row("phase", status.phase.value)
    row("service", status.service)
    row("roles", ", ".join(f"{r}: {p}" for r, p in status.roles.items()) or "-")
    row("declared", f"{status.declared_at:%Y-%m-%d %H:%M:%S}Z by {status.declared_by}")
    row("playbook", f"{status.playbook} {status.playbook_hash[:12]}")
    if status.pages:
        row(
            "pages",
            ", ".join(f"page {page_sequence(p)}: {state}" for p, state in status.pages.items()),
        )
    if status.unacknowledged:
        row(
            "[red]unacknowledged[/]",
            "nobody took the page; the fallback was paged",
            markup=True,
        )
    alerts = _alert_summary(status)
    if alerts:
        row("alerts", alerts)
    if status.time_scale != 1.0:
        row("time scale", f"{status.time_scale:g}")
    shown = len([e for e in status.timeline if e.kind != "page"])
    if status.timeline_total > shown:
        row(
            "timeline",
            f"showing the newest {shown} of {status.timeline_total} entries "
            f"(mayday timeline {status.id} for all)",
        )
    last = status.timeline[-1] if status.timeline else None
    if last:
        row("last", f"{last.at:%H:%M:%S}Z {last.actor}: {last.text}")
    if business is None:
        return table
    table.add_row("", "")
    table.add_row(Text("business", style="bold"), Text(business.id, no_wrap=True, overflow="fold"))
    for label, value in business_rows(business, status.id):
        row(label, value)
    actions = actions_table(business, width=width, wide=wide)
    return table if actions is None else Group(table, actions)


async def _status_and_business(
    client: Client, incident_id: str
) -> tuple[IncidentStatus, BusinessView | None]:
    """The incident's status and, once it escalated, what its business incident reports."""
    found = await incidents.status(client, incident_id)
    if found.business_id is None:
        return found, None
    try:
        return found, BusinessView(
            found.business_id, await query_business(client, found.business_id)
        )
    except BusinessStarting:
        return found, BusinessView(found.business_id, note="starting (created in a moment)")


def _alert_summary(status: IncidentStatus) -> str:
    """'20000 firing, 3 resolved' from the counts of every alert (`alerts` holds the newest)."""
    counts = dict(status.alert_counts)
    if not counts:
        for state in status.alerts.values():
            counts[state] = counts.get(state, 0) + 1
    if not counts:
        return ""
    firing, resolved = counts.pop("firing", 0), counts.pop("resolved", 0)
    parts = [f"{firing} firing", f"{resolved} resolved"]
    parts += [f"{count} {state}" for state, count in sorted(counts.items())]
    return ", ".join(parts)


@app.command()
def status(
    incident_id: str = ID_ARGUMENT,
    watch: bool = typer.Option(False, "--watch", help="Refresh until Ctrl-C."),
    wide: bool = WIDE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show an incident's severity, phase, roles and latest event."""
    current = settings()

    async def once() -> tuple[IncidentStatus, BusinessView | None]:
        return await _status_and_business(await client_for(current), incident_id)

    async def follow() -> None:
        client = await client_for(current)
        with Live(console=console, auto_refresh=False) as live:
            while True:
                found, business = await _status_and_business(client, incident_id)
                view = _status_view(found, business, wide=wide, width=console.width)
                live.update(view, refresh=True)
                await asyncio.sleep(WATCH_INTERVAL_SECONDS)

    if watch:
        try:
            run(follow())
        except KeyboardInterrupt:
            return
        return
    result, business = run(once())
    if as_json:
        shown = business.status if business is not None else None
        print_json(
            {
                **result.model_dump(mode="json"),
                "business": shown.model_dump(mode="json") if shown is not None else None,
            }
        )
    else:
        console.print(_status_view(result, business, wide=wide, width=console.width))


@app.command()
def timeline(incident_id: str = ID_ARGUMENT, as_json: bool = JSON_OPTION) -> None:
    """Show every event of an incident in order, read a page at a time however long it is."""
    current = settings()

    async def go() -> Timeline:
        return await read_timeline(await client_for(current), incident_id)

    result = run(go())
    if as_json:
        print_json(
            {
                "id": result.status.id,
                "timeline": [e.model_dump(mode="json") for e in result.entries],
                "total": len(result.entries),
                "dropped": result.dropped,
            }
        )
        return
    if result.dropped:
        console.print(
            f"({result.dropped} older entries were dropped to keep the incident bounded)",
            highlight=False,
        )
    _print_entries(result.entries)


def _print_entries(entries: list[TimelineEntry]) -> None:
    """One line per entry, columns aligned; plain writes, so 20,000 entries print in a blink."""
    width = min(max((len(visible(e.actor)) for e in entries), default=5), 24)
    lines = [f"{'at (UTC)':<19}  {'actor':<{width}}  what"]
    lines += [
        f"{entry.at:%Y-%m-%d %H:%M:%S}  {visible(entry.actor):<{width}}  {visible(entry.text)}"
        for entry in entries
    ]
    sys.stdout.write("\n".join(lines) + "\n")
