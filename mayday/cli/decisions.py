"""Decisions on an incident: severity, phase, resolve, handover, reopen, ack, page.

Each is a Temporal update the incident validates (who may decide, in which phase); a refusal is one
line naming the rule, and nothing is written.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape

from mayday import incidents
from mayday.cli.common import (
    AS_OPTION,
    EXIT_USAGE,
    ID_ARGUMENT,
    JSON_OPTION,
    actor,
    client_for,
    console,
    fail,
    note_value,
    print_json,
    required_note_value,
    run,
    settings,
    text_value,
)
from mayday.pages import ack_for
from mayday.settings import Settings
from workflows.bounds import visible
from workflows.contracts import (
    AssignRole,
    ChangePhase,
    ChangeSeverity,
    Decided,
    PageOnDemand,
    Reopen,
    Resolve,
)
from workflows.phases import Phase

app = typer.Typer()


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
    person: str | None = typer.Argument(
        None, metavar="[PERSON]", help="Directory id of who takes the role.", callback=text_value
    ),
    to: str | None = typer.Option(
        None,
        "--to",
        help="Directory id of who takes the role (instead of PERSON).",
        callback=text_value,
    ),
    role: str = typer.Option(
        "incident_commander", "--role", help="The role handed over.", callback=text_value
    ),
    note: str | None = typer.Option(None, help="Why, for the timeline.", callback=note_value),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Hand a role of the incident (default: Incident Commander) to a person (PERSON or --to)."""
    named = [name for name in (person, to) if name is not None]
    if len(named) != 1:
        fail("Name who takes the role once: PERSON or --to PERSON.", code=EXIT_USAGE)
    [taker] = named
    current = settings()
    decision = AssignRole(role=role, person=taker, actor=actor(who, current), note=note)
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
