"""`mayday playbook`: validate a playbook, preview its messages, and see who is on call."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import typer
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from playbooks import (
    NoOneOnCall,
    Playbook,
    PlaybookInvalid,
    TemplateError,
    UnknownReference,
    default_playbook_path,
    load_playbook,
    who_is_on_call,
)
from playbooks.context import sample_context
from playbooks.rendering import RenderedMessage, render_template

app = typer.Typer(
    help="Check a playbook, preview its messages and see who is on call.",
    no_args_is_help=True,
)

EXIT_REJECTED = 1
EXIT_USAGE = 2

_console = Console(highlight=False, soft_wrap=True)
_errors = Console(stderr=True, highlight=False, soft_wrap=True)

PLAYBOOK_OPTION = typer.Option(
    None,
    "--playbook",
    envvar="MAYDAY_PLAYBOOK",
    help="Playbook folder or playbook.yaml (default: $MAYDAY_PLAYBOOK, else the bundled Acme).",
)
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object instead of text.")


def _emit_json(payload: Mapping[str, Any]) -> None:
    typer.echo(json.dumps(payload, default=str))


def _fail(message: str, code: int, as_json: bool) -> NoReturn:
    if as_json:
        _emit_json({"error": message})
    else:
        _errors.print(Text("error: ", style="red") + Text(message))
    raise typer.Exit(code)


def _load(path: Path | None, as_json: bool) -> Playbook:
    try:
        return load_playbook(path)
    except PlaybookInvalid as exc:
        lines = "\n".join(str(issue) for issue in exc.issues)
        _fail(
            f"the playbook is invalid; run `mayday playbook validate`:\n{lines}",
            EXIT_REJECTED,
            as_json,
        )


@app.command()
def validate(
    path: Path | None = typer.Argument(
        None,
        help="Playbook folder or playbook.yaml (default: $MAYDAY_PLAYBOOK, else Acme).",
        envvar="MAYDAY_PLAYBOOK",
        show_default=False,
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check a playbook and list every mistake as `file:line: path: reason`."""
    where = path if path is not None else default_playbook_path()
    try:
        playbook = load_playbook(where)
    except PlaybookInvalid as exc:
        if as_json:
            _emit_json(
                {
                    "valid": False,
                    "path": str(where),
                    "issues": [
                        {"file": i.file, "line": i.line, "path": i.path, "reason": i.reason}
                        for i in exc.issues
                    ],
                }
            )
        else:
            count = len(exc.issues)
            _console.print(
                Text(f"✗ {where}: {count} problem{'s' if count != 1 else ''}", style="bold red")
            )
            for issue in exc.issues:
                typer.echo(str(issue))
        raise typer.Exit(EXIT_REJECTED) from None
    summary = {
        "valid": True,
        "path": str(where),
        "name": playbook.name,
        "content_hash": playbook.content_hash,
        "people": len(playbook.directory.people),
        "roles": len(playbook.roles),
        "rotations": len(playbook.rotations),
        "services": len(playbook.services),
        "audiences": len(playbook.audiences),
        "templates": len(playbook.templates),
        "authority": playbook.effective_authority(),
    }
    if as_json:
        _emit_json(summary)
        return
    _console.print(Text(f"✓ playbook {playbook.name!r} is valid", style="bold green"))
    _console.print(
        Text(
            f"  {summary['people']} people, {summary['roles']} roles, {summary['rotations']} "
            f"rotations, {summary['services']} services, {summary['audiences']} audiences, "
            f"{summary['templates']} templates\n  content hash {playbook.content_hash}"
        )
    )
    typer.echo("  who may decide:")
    for decision, rule in playbook.effective_authority().items():
        stated = "" if decision in playbook.authority else "  (default)"
        typer.echo(f"    {decision:<10} {', '.join(rule)}{stated}")


@app.command()
def render(
    template: str = typer.Argument(
        ...,
        help="Template id (e.g. external_initial) or a message purpose of the audience "
        "(e.g. initial).",
    ),
    audience: str = typer.Option(..., "--audience", help="Audience id, e.g. all-customers."),
    incident: Path | None = typer.Option(
        None,
        "--incident",
        help="JSON or YAML file of incident facts laid over the sample "
        "incident (either the facts, or a mapping with an 'incident' key).",
    ),
    channel: list[str] | None = typer.Option(
        None,
        "--channel",
        help="email, sms or voice; repeat for several (default: the "
        "audience's channels the template has).",
    ),
    playbook_path: Path | None = PLAYBOOK_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Preview a message for an audience with a sample incident."""
    playbook = _load(playbook_path, as_json)
    chosen = playbook.audiences.get(audience)
    if chosen is None:
        _fail(
            f"unknown audience {audience!r}; choose one of {', '.join(playbook.audiences)}",
            EXIT_USAGE,
            as_json,
        )
    template_id = chosen.templates.get(template, template)  # type: ignore[call-overload]
    found = playbook.templates.get(template_id)
    if found is None:
        _fail(
            f"unknown template {template!r}: not a template id nor a message purpose of "
            f"audience {audience!r} ({', '.join(chosen.templates)})",
            EXIT_USAGE,
            as_json,
        )
    channels = channel or [c for c in chosen.channels if c in found.channels()]
    if not channels:
        channels = found.channels()
    context = _context(incident, chosen.name, as_json)
    try:
        messages = [render_template(playbook, template_id, name, context) for name in channels]
    except UnknownReference as exc:
        _fail(str(exc), EXIT_USAGE, as_json)
    except TemplateError as exc:
        _fail(str(exc), EXIT_REJECTED, as_json)
    if as_json:
        _emit_json(
            {
                "template": template_id,
                "audience": audience,
                "messages": [message.model_dump(mode="json") for message in messages],
            }
        )
        return
    for message in messages:
        _print_message(message, chosen.name)


def _context(incident: Path | None, audience_name: str, as_json: bool) -> dict[str, Any]:
    context = sample_context()
    context["message"] = {**context["message"], "audience": audience_name}
    if incident is None:
        return context
    try:
        facts = yaml.safe_load(incident.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        _fail(f"cannot read incident file {str(incident)!r}: {exc}", EXIT_USAGE, as_json)
    if not isinstance(facts, dict):
        _fail(f"incident file {str(incident)!r} must hold a mapping of facts", EXIT_USAGE, as_json)
    if isinstance(facts.get("incident"), dict):
        for key, value in facts.items():
            base = context.get(key)
            context[key] = (
                {**base, **value} if isinstance(base, dict) and isinstance(value, dict) else value
            )
    else:
        context["incident"] = {**context["incident"], **facts}
    return context


def _print_message(message: RenderedMessage, audience_name: str) -> None:
    _console.rule(Text(f"{message.template} · {message.channel} · {audience_name}"))
    if message.subject is not None:
        _console.print(Text("Subject: ", style="bold") + Text(message.subject))
        _console.print()
    _console.print(Text(message.body))
    if message.html is not None:
        _console.print()
        _console.print(Text("HTML body:", style="bold"))
        _console.print(Text(message.html.strip()))
    if message.segments is not None:
        plural = "s" if message.segments != 1 else ""
        _console.print()
        _console.print(
            Text(
                f"SMS: {message.segments} segment{plural} ({message.encoding}, "
                f"{len(message.body)} characters)",
                style="bold",
            )
        )
    if message.channel == "voice":
        _console.print(Text("(text for speech)", style="dim"))


@app.command()
def oncall(
    target: str | None = typer.Argument(
        None, metavar="[ROTATION_OR_ROLE]", help="A rotation or role id (default: every role)."
    ),
    at: str | None = typer.Option(
        None,
        "--at",
        help="ISO time, e.g. 2026-03-09T09:30-04:00 (no offset means UTC; default: now).",
    ),
    playbook_path: Path | None = PLAYBOOK_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show who holds each role (primary and backup) now or at --at."""
    moment = _parse_at(at, as_json)
    playbook = _load(playbook_path, as_json)
    if target is not None and target not in playbook.rotations and target not in playbook.roles:
        known = ", ".join([*playbook.roles, *playbook.rotations])
        _fail(f"unknown rotation or role {target!r}; choose one of {known}", EXIT_USAGE, as_json)
    targets = [target] if target is not None else list(playbook.roles)
    rows = []
    try:
        for name in targets:
            holder = who_is_on_call(playbook, name, moment)
            role = playbook.roles.get(name)
            rows.append(
                {
                    "role": name if role is not None else None,
                    "name": role.name if role is not None else playbook.rotations[name].name,
                    "rotation": holder.rotation,
                    "primary": holder.primary,
                    "primary_name": playbook.directory.people[holder.primary].name,
                    "backup": holder.backup,
                    "backup_name": (
                        playbook.directory.people[holder.backup].name if holder.backup else None
                    ),
                    "until": holder.until.isoformat(),
                }
            )
    except NoOneOnCall as exc:
        _fail(str(exc), EXIT_REJECTED, as_json)
    if as_json:
        payload: dict[str, Any] = {"at": moment.isoformat()}
        payload.update(rows[0] if target is not None else {"roles": rows})
        _emit_json(payload)
        return
    table = Table(title=f"On call at {moment.isoformat(timespec='minutes')}")
    table.add_column("Role or rotation", no_wrap=True)
    table.add_column("Primary")
    table.add_column("Backup")
    table.add_column("Until (UTC)", no_wrap=True)
    for row in rows:
        table.add_row(
            Text(str(row["name"])),
            Text(f"{row['primary_name']} ({row['primary']})"),
            Text(f"{row['backup_name']} ({row['backup']})" if row["backup"] else "-"),
            Text(datetime.fromisoformat(str(row["until"])).strftime("%Y-%m-%d %H:%M")),
        )
    _console.print(table)


def _parse_at(at: str | None, as_json: bool) -> datetime:
    if at is None or at == "now":
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        _fail(
            f"--at {at!r} is not an ISO time; write e.g. 2026-03-09T09:30-04:00",
            EXIT_USAGE,
            as_json,
        )
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
