"""Business incident decisions: recommend, escalate, brief, confirm, resolution-sent, postmortem.

`recommend` and `escalate` are decisions on the technical incident; the others go to the business
incident it escalated to, found from the incident's id. Each is a Temporal update the workflow
validates (who may decide, at which stage): a refusal is one line naming the rule, and nothing
is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast, get_args

import typer
from temporalio.client import Client, WorkflowHandle

from mayday import incidents
from mayday.business import business_id_of, decide_business
from mayday.cli.common import (
    AS_OPTION,
    EXIT_USAGE,
    ID_ARGUMENT,
    JSON_OPTION,
    actor,
    client_for,
    fail,
    note_value,
    print_json,
    required_note_value,
    run,
    settings,
    text_value,
)
from mayday.settings import Settings
from workflows.bounds import visible
from workflows.business_contracts import (
    BRIEFING_FIELDS,
    Brief,
    BusinessDecided,
    ConfirmAction,
    PostmortemStatus,
    PostmortemUpdate,
    ResolutionSent,
)
from workflows.contracts import Decided, Escalate, Recommend

app = typer.Typer()

POSTMORTEM_STATUSES = [s for s in get_args(PostmortemStatus) if s != "none"]

BusinessSend = Callable[[WorkflowHandle[Any, Any]], Any]


def _line(incident_id: str, text: str) -> str:
    """One line for the terminal: the incident, then what the workflow wrote on its timeline."""
    said = visible(text).rstrip(".")
    return f"{incident_id}: {said}."


def _decide_business(
    incident_id: str, current: Settings, send: BusinessSend, as_json: bool
) -> BusinessDecided:
    async def go() -> BusinessDecided:
        return await decide_business(await client_for(current), incident_id, send)

    result = run(go())
    if as_json:
        print_json(result)
    else:
        typer.echo(
            f"{_line(incident_id, result.text)} Business {result.stage.value}, "
            f"emergency {result.emergency}."
        )
    return result


@app.command()
def recommend(
    incident_id: str = ID_ARGUMENT,
    reason: str = typer.Option(
        ..., help="Why, for the record and the Incident Commander.", callback=required_note_value
    ),
    escalate: bool = typer.Option(
        True, "--escalate/--no-escalate", help="Advise escalating (default) or not."
    ),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Advise the Incident Commander on escalating to a business incident (Technical SLT)."""
    current = settings()
    decision = Recommend(actor=actor(who, current), reason=reason, escalate=escalate)

    async def go() -> Decided:
        return await incidents.decide(
            await client_for(current),
            incident_id,
            lambda h: h.execute_update("recommend", decision, result_type=Decided),
        )

    result = run(go())
    if as_json:
        print_json(result)
    else:
        typer.echo(_line(incident_id, result.text))


@app.command("escalate")
def escalate_(
    incident_id: str = ID_ARGUMENT,
    reason: str | None = typer.Option(None, help="Why, for the timeline.", callback=note_value),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Escalate to a business incident (Incident Commander); prints the business incident's id."""
    current = settings()
    decision = Escalate(actor=actor(who, current), reason=reason)

    async def go() -> tuple[Decided, str]:
        client: Client = await client_for(current)
        decided = await incidents.decide(
            client,
            incident_id,
            lambda h: h.execute_update("escalate", decision, result_type=Decided),
        )
        # The update answered after the incident recorded the id: its status names it now.
        return decided, await business_id_of(client, incident_id)

    result, business_id = run(go())
    if as_json:
        print_json({**result.model_dump(mode="json"), "business_id": business_id})
        return
    line = _line(incident_id, result.text)
    if business_id not in line:
        line = f"{line} Business incident: {business_id}."
    typer.echo(line)


@app.command()
def brief(
    incident_id: str = ID_ARGUMENT,
    started: str | None = typer.Option(
        None, help=BRIEFING_FIELDS["started"] + ".", callback=note_value
    ),
    trigger: str | None = typer.Option(
        None, help=BRIEFING_FIELDS["trigger"] + ".", callback=note_value
    ),
    affected_now: str | None = typer.Option(
        None, "--affected-now", help=BRIEFING_FIELDS["affected_now"] + ".", callback=note_value
    ),
    affected_worst: str | None = typer.Option(
        None, "--affected-worst", help=BRIEFING_FIELDS["affected_worst"] + ".", callback=note_value
    ),
    services: str | None = typer.Option(
        None, help=BRIEFING_FIELDS["services"] + ".", callback=note_value
    ),
    experience: str | None = typer.Option(
        None, help=BRIEFING_FIELDS["experience"] + ".", callback=note_value
    ),
    next_update: str | None = typer.Option(
        None, "--next-update", help=BRIEFING_FIELDS["next_update"] + ".", callback=note_value
    ),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Record the business briefing's answers (any of them; unknowns are chased later)."""
    given = {
        "started": started,
        "trigger": trigger,
        "affected_now": affected_now,
        "affected_worst": affected_worst,
        "services": services,
        "experience": experience,
        "next_update": next_update,
    }
    answers = {field: text for field, text in given.items() if text}
    if not answers:
        options = ", ".join("--" + field.replace("_", "-") for field in BRIEFING_FIELDS)
        fail(f"Give at least one briefing answer: {options}.", code=EXIT_USAGE)
    current = settings()
    decision = Brief(actor=actor(who, current), answers=answers)
    _decide_business(
        incident_id,
        current,
        lambda h: h.execute_update("brief", decision, result_type=BusinessDecided),
        as_json,
    )


@app.command()
def confirm(
    incident_id: str = ID_ARGUMENT,
    action: str = typer.Argument(
        ...,
        metavar="ACTION",
        help="The halt or resume action done, e.g. pause-paid-ads (see `mayday status ID`).",
        callback=text_value,
    ),
    note: str | None = typer.Option(None, help="A note for the timeline.", callback=note_value),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Confirm a business action (halt or resume) is done; its pages stop."""
    current = settings()
    decision = ConfirmAction(actor=actor(who, current), action=action, note=note)
    _decide_business(
        incident_id,
        current,
        lambda h: h.execute_update("confirm", decision, result_type=BusinessDecided),
        as_json,
    )


@app.command("resolution-sent")
def resolution_sent(
    incident_id: str = ID_ARGUMENT,
    note: str | None = typer.Option(
        None, help="Where it went, for the timeline.", callback=note_value
    ),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Record that the resolution message went out; halted functions then resume in order."""
    current = settings()
    decision = ResolutionSent(actor=actor(who, current), note=note)
    _decide_business(
        incident_id,
        current,
        lambda h: h.execute_update("resolution_sent", decision, result_type=BusinessDecided),
        as_json,
    )


def _postmortem_status(value: str | None) -> str | None:
    if value is not None and value not in POSTMORTEM_STATUSES:
        raise typer.BadParameter(
            f"{value[:40]!r} is not a status; statuses are {', '.join(POSTMORTEM_STATUSES)}."
        )
    return value


@app.command()
def postmortem(
    incident_id: str = ID_ARGUMENT,
    status: str | None = typer.Option(
        None,
        "--status",
        help=f"Move it on: {' → '.join(POSTMORTEM_STATUSES)}.",
        callback=_postmortem_status,
    ),
    link: str | None = typer.Option(
        None, "--link", help="Where the document is (http or https URL).", callback=text_value
    ),
    owner: str | None = typer.Option(
        None, "--owner", help="Who owns it (directory id).", callback=text_value
    ),
    preliminary: bool = typer.Option(
        False,
        "--preliminary",
        help="The preliminary analysis (due in 24 h): --status draft or closed (delivered).",
    ),
    who: str | None = AS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Move the postmortem (or, with --preliminary, the preliminary analysis) on."""
    if not (status or link or owner):
        fail("Say what changed: --status, --link or --owner.", code=EXIT_USAGE)
    current = settings()
    decision = PostmortemUpdate(
        actor=actor(who, current),
        status=cast("PostmortemStatus | None", status),  # checked by _postmortem_status
        link=link,
        owner=owner,
        preliminary=preliminary,
    )
    _decide_business(
        incident_id,
        current,
        lambda h: h.execute_update("postmortem", decision, result_type=BusinessDecided),
        as_json,
    )
