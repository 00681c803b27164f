"""Incident operations as the CLI and HTTP app perform them against Temporal."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from mayday.settings import Settings
from workflows import search_attributes as sa
from workflows.contracts import (
    Decided,
    Declaration,
    IncidentInput,
    IncidentStatus,
    PlaybookSnapshot,
)
from workflows.escalation import EscalationWorkflow
from workflows.incident import IncidentWorkflow, initial_search_attributes, page_timeline

INCIDENT_PREFIX = "incident-"
INCIDENT_ID = re.compile(r"incident-[a-z0-9._-]+")
"""Every incident id: declared (`incident-<service>-<hex>`) or from an alert's dedup key."""
MAX_INCIDENT_ID_LENGTH = 200


class IncidentError(Exception):
    """A request about an incident that cannot be carried out; the message says why."""


class UnknownIncident(IncidentError):
    """No incident has the given id."""


class DecisionRejected(IncidentError):
    """The incident refused the decision (wrong phase, unknown actor, …); nothing was recorded."""


def is_incident_id(text: str) -> bool:
    """Whether `text` has the shape of an incident id (and so may address a workflow)."""
    return len(text) <= MAX_INCIDENT_ID_LENGTH and INCIDENT_ID.fullmatch(text) is not None


def check_incident_id(text: str) -> str:
    """`text` if it is an incident id, else UnknownIncident saying what one looks like."""
    if not is_incident_id(text):
        raise UnknownIncident(
            f"{text[:60]!r} is not an incident id; ids look like incident-checkout-3f9a1c2e "
            "(see `mayday list`)."
        )
    return text


def manual_incident_id(service: str) -> str:
    """A fresh, PII-free id for a declared incident."""
    return f"{INCIDENT_PREFIX}{service}-{secrets.token_hex(4)}"


def check_declaration(decl: Declaration, playbook: PlaybookSnapshot) -> None:
    """Refuse a declaration naming things the playbook doesn't know, before anything starts."""
    if decl.service not in playbook.services:
        raise DecisionRejected(
            f"Unknown service {decl.service!r}; the playbook has {', '.join(playbook.services)}."
        )
    if decl.severity not in playbook.severities:
        raise DecisionRejected(
            f"Unknown severity {decl.severity!r}; the playbook has "
            f"{', '.join(playbook.severities)}."
        )
    if decl.actor not in playbook.people:
        raise DecisionRejected(f"Unknown actor {decl.actor!r}: not in the playbook's directory.")
    if not decl.title.strip():
        raise DecisionRejected("An incident needs a title.")


async def declare(
    client: Client,
    settings: Settings,
    decl: Declaration,
    playbook: PlaybookSnapshot,
    *,
    time_scale: float = 1.0,
) -> str:
    """Start an IncidentWorkflow for a manual declaration and return its id."""
    check_declaration(decl, playbook)
    if time_scale <= 0:
        raise DecisionRejected("--time-scale must be greater than 0.")
    incident_id = manual_incident_id(decl.service)
    inp = IncidentInput(
        declaration=decl,
        playbook=playbook,
        time_scale=time_scale,
        page_task_queue=settings.page_task_queue,
        pagerduty_events=settings.pagerduty_provider == "pagerduty",
    )
    await client.start_workflow(
        IncidentWorkflow.run,
        inp,
        id=incident_id,
        task_queue=settings.task_queue,
        search_attributes=initial_search_attributes(inp),
        static_summary=f"{decl.severity} · {decl.service} · {decl.title}",
        memo={"title": decl.title, "playbook_hash": playbook.content_hash},
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    return incident_id


def handle_for(client: Client, incident_id: str) -> WorkflowHandle[Any, Any]:
    """A handle on the latest run of the incident; the id must have the incident id grammar."""
    return client.get_workflow_handle(check_incident_id(incident_id))


async def status(client: Client, incident_id: str) -> IncidentStatus:
    """The incident's current state with its running pages' steps so far, or UnknownIncident.

    An incident records a page's steps when the page ends; until then they are read live from
    the page itself, so the timeline shows every page as it happens.
    """
    handle = handle_for(client, incident_id)
    try:
        current = await handle.query(IncidentWorkflow.status)
    except RPCError as err:
        raise _translate(err, incident_id) from None
    except WorkflowQueryFailedError as err:
        raise IncidentError(f"Incident {incident_id!r} cannot report its status: {err}") from None
    live = [page for page, state in current.pages.items() if state == "notifying"]
    for page_id in live:
        try:
            page = await client.get_workflow_handle(page_id).query(EscalationWorkflow.page_status)
        except (RPCError, WorkflowQueryFailedError):
            continue
        current.timeline.extend(page_timeline(page.events))
    current.timeline.sort(key=lambda entry: entry.at)
    return current


async def decide(
    client: Client,
    incident_id: str,
    send: Callable[[WorkflowHandle[Any, Any]], Awaitable[Decided]],
) -> Decided:
    """Send a decision as an update; refusals and unknown ids become typed errors.

    Updates answer the slim `Decided` (Rules learned: updates return slim results).
    """
    handle = handle_for(client, incident_id)
    try:
        return await send(handle)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise DecisionRejected(message) from None
    except RPCError as err:
        raise _translate(err, incident_id) from None


def _translate(err: RPCError, incident_id: str) -> IncidentError:
    if err.status == RPCStatusCode.NOT_FOUND:
        return UnknownIncident(f"No open incident with id {incident_id!r}.")
    if err.status == RPCStatusCode.FAILED_PRECONDITION:
        return UnknownIncident(f"Incident {incident_id!r} is no longer running.")
    return IncidentError(f"Temporal refused the request: {err.message}")


async def list_incidents(client: Client, *, include_closed: bool = False) -> list[dict[str, Any]]:
    """Incidents as rows of PII-free columns plus the title from the memo, newest first."""
    query = f'WorkflowType="{IncidentWorkflow.__name__}"'
    if not include_closed:
        query += ' AND ExecutionStatus="Running"'
    rows: list[dict[str, Any]] = []
    async for execution in client.list_workflows(query):
        attrs = execution.typed_search_attributes
        memo = await execution.memo()
        rows.append(
            {
                "id": execution.id,
                "severity": attrs.get(sa.INCIDENT_SEVERITY),
                "phase": attrs.get(sa.INCIDENT_PHASE),
                "service": attrs.get(sa.BUSINESS_SERVICE),
                "commander": attrs.get(sa.INCIDENT_COMMANDER),
                "title": memo.get("title", ""),
                "started": execution.start_time.isoformat(),
                "running": execution.status == WorkflowExecutionStatus.RUNNING,
            }
        )
    return rows
