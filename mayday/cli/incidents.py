"""Incident commands: declare, list, status, severity, phase, resolve, reopen, timeline, page.

Whatever an incident holds came from outside (alert titles, notes, names): it is printed through
`visible`, so no escape sequence in it ever reaches the terminal.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import typer
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from mayday import incidents
from mayday.cli.common import (
    AS_OPTION,
    EXIT_USAGE,
    JSON_OPTION,
    actor,
    client_for,
    console,
    fail,
    incident_id_value,
    note_value,
    print_json,
    required_note_value,
    run,
    settings,
    text_value,
    time_scale_value,
    title_value,
)
from mayday.cli.layout import WIDE_OPTION, fitted_table, one_line, print_wide
from mayday.incident_timeline import Timeline
from mayday.incident_timeline import timeline as read_timeline
from mayday.pages import ack_for, page_sequence
from mayday.playbook_seam import current_playbook, snapshot
from mayday.settings import Settings
from playbooks import PlaybookInvalid
from workflows.bounds import visible
from workflows.contracts import (
    AssignRole,
    ChangePhase,
    ChangeSeverity,
    Decided,
    Declaration,
    IncidentStatus,
    PageOnDemand,
    Reopen,
    Resolve,
    TimelineEntry,
)
from workflows.phases import Phase

app = typer.Typer()

WATCH_INTERVAL_SECONDS = 2.0
ID_ARGUMENT = typer.Argument(
    ...,
    metavar="ID",
    help="Incident id, e.g. incident-checkout-3f9a1c2e (see `mayday list`).",
    callback=incident_id_value,
)


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
        service=service, severity=severity.upper(), title=title, actor=actor(who, current)
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


def _status_view(status: IncidentStatus, *, wide: bool, width: int) -> Table:
    """Label and value per line; narrow, each value is one line cut with … (the id never)."""
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
    return table


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

    async def once() -> IncidentStatus:
        return await incidents.status(await client_for(current), incident_id)

    async def follow() -> None:
        client = await client_for(current)
        with Live(console=console, auto_refresh=False) as live:
            while True:
                view = _status_view(
                    await incidents.status(client, incident_id), wide=wide, width=console.width
                )
                live.update(view, refresh=True)
                await asyncio.sleep(WATCH_INTERVAL_SECONDS)

    if watch:
        try:
            run(follow())
        except KeyboardInterrupt:
            return
        return
    result = run(once())
    if as_json:
        print_json(result)
    else:
        console.print(_status_view(result, wide=wide, width=console.width))


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


def _decide(incident_id: str, current: Settings, what: str, send: Any, as_json: bool) -> Decided:
    async def go() -> Decided:
        return await incidents.decide(await client_for(current), incident_id, send)

    result = run(go())
    if as_json:
        print_json(result)
    elif what:
        # One line however narrow the terminal: scripts and grep read it whole.
        typer.echo(f"{incident_id}: {what} — now {result.severity}, {result.phase.value}.")
    return result


@app.command()
def severity(
    incident_id: str = ID_ARGUMENT,
    level: str = typer.Argument(..., metavar="SEVERITY", callback=text_value),
    reason: str | None = typer.Option(None, help="Why, for the timeline.", callback=note_value),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change an incident's severity."""
    current = settings()
    decision = ChangeSeverity(severity=level.upper(), actor=actor(who, current), reason=reason)
    _decide(
        incident_id,
        current,
        f"severity {decision.severity}",
        lambda h: h.execute_update("change_severity", decision, result_type=Decided),
        as_json,
    )


@app.command()
def phase(
    incident_id: str = ID_ARGUMENT,
    target_name: str = typer.Argument(
        ...,
        metavar="PHASE",
        help="The next phase: identified, monitoring, resolved or closed (one step at a time).",
    ),
    note: str | None = typer.Option(None, help="A note for the timeline.", callback=note_value),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Move an incident to the next phase (investigating → identified → monitoring → …)."""
    current = settings()
    try:
        target = Phase(target_name.lower())
    except ValueError:
        fail(
            f"Unknown phase {target_name!r}; phases are {', '.join(p.value for p in Phase)}.",
            code=EXIT_USAGE,
        )
    decision = ChangePhase(phase=target, actor=actor(who, current), note=note)
    _decide(
        incident_id,
        current,
        f"phase {target.value}",
        lambda h: h.execute_update("change_phase", decision, result_type=Decided),
        as_json,
    )


@app.command()
def resolve(
    incident_id: str = ID_ARGUMENT,
    note: str | None = typer.Option(
        None, help="What fixed it, for the timeline.", callback=note_value
    ),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Mark the technical incident resolved."""
    current = settings()
    decision = Resolve(actor=actor(who, current), note=note)
    _decide(
        incident_id,
        current,
        "resolved",
        lambda h: h.execute_update("resolve", decision, result_type=Decided),
        as_json,
    )


@app.command()
def handover(
    incident_id: str = ID_ARGUMENT,
    person: str = typer.Argument(
        ..., metavar="PERSON", help="Directory id of who takes the role.", callback=text_value
    ),
    role: str = typer.Option(
        "incident_commander", "--role", help="The role handed over.", callback=text_value
    ),
    note: str | None = typer.Option(None, help="Why, for the timeline.", callback=note_value),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Hand a role of the incident (default: Incident Commander) to a person."""
    current = settings()
    decision = AssignRole(role=role, person=person, actor=actor(who, current), note=note)
    result = _decide(
        incident_id,
        current,
        "",
        lambda h: h.execute_update("assign_role", decision, result_type=Decided),
        as_json,
    )
    if not as_json:
        typer.echo(f"{incident_id}: {visible(result.text)}.")


@app.command()
def reopen(
    incident_id: str = ID_ARGUMENT,
    reason: str = typer.Option(
        ..., help="Why the incident is back, for the record.", callback=required_note_value
    ),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Return an incident to investigating (from identified, monitoring or resolved)."""
    current = settings()
    decision = Reopen(actor=actor(who, current), reason=reason)
    _decide(
        incident_id,
        current,
        "reopened",
        lambda h: h.execute_update("reopen", decision, result_type=Decided),
        as_json,
    )


@app.command()
def ack(
    incident_id: str = ID_ARGUMENT,
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Acknowledge the incident's page that reached you; paging stops everywhere."""
    current = settings()
    person = actor(who, current)

    async def go() -> tuple[str, Any]:
        return await ack_for(await client_for(current), person, "cli", incident_id=incident_id)

    page_id, result = run(go())
    if as_json:
        print_json(
            {
                "incident": incident_id,
                "page": page_id,
                "acked_by": result.acked_by,
                "at": result.at.isoformat(),
                "level": result.level,
            }
        )
    else:
        console.print(
            f"{incident_id}: acknowledged by {escape(visible(result.acked_by))} at level "
            f"{result.level}; everyone paged is told.",
            highlight=False,
        )


@app.command()
def page(
    incident_id: str = ID_ARGUMENT,
    role: str | None = typer.Option(
        None, "--role", help="Page whoever holds this role.", callback=text_value
    ),
    person: str | None = typer.Option(
        None, "--person", help="Page this person (directory id).", callback=text_value
    ),
    policy: str | None = typer.Option(
        None, "--policy", help="Page through this escalation policy.", callback=text_value
    ),
    reason: str | None = typer.Option(
        None, help="Why, quoted in the page and the timeline.", callback=note_value
    ),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Page a role, a person or a policy now; it escalates like any page until acknowledged."""
    targets = {"--role": role, "--person": person, "--policy": policy}
    named = [(option, value) for option, value in targets.items() if value]
    if len(named) != 1:
        fail("Name exactly one of --role, --person or --policy to page.", code=EXIT_USAGE)
    [(_, target)] = named
    current = settings()
    decision = PageOnDemand(
        actor=actor(who, current), role=role, person=person, policy=policy, reason=reason
    )
    result = _decide(
        incident_id,
        current,
        "",
        lambda h: h.execute_update("page", decision, result_type=Decided),
        as_json,
    )
    if not as_json:
        typer.echo(f"{incident_id}: paging {target} ({result.page_id or 'no page started'})")
