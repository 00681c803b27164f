"""Find open pages and acknowledge them: the one ack state behind every door (CLI, SMS, voice)."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from mayday.incidents import DecisionRejected, UnknownIncident
from workflows.escalation import EscalationWorkflow
from workflows.escalation_contracts import AckInput, AckResult, PageStatus

PAGE_MARKER = "-page-"


@dataclass(frozen=True)
class OpenPage:
    """A running page and what it reports."""

    id: str
    status: PageStatus


def page_of_notification(notification_id: str) -> tuple[str, str] | None:
    """(page workflow id, person) from a notification id `<page>:<purpose>:…:<person>:<channel>`."""
    parts = notification_id.split(":")
    if len(parts) < 6 or PAGE_MARKER not in parts[0]:
        return None
    return parts[0], parts[-2]


async def open_pages(
    client: Client, *, incident_id: str | None = None, person: str | None = None
) -> list[OpenPage]:
    """Running pages, newest first, of one incident and/or that paged one person."""
    query = f'WorkflowType="{EscalationWorkflow.__name__}" AND ExecutionStatus="Running"'
    if incident_id:
        query += f' AND WorkflowId STARTS_WITH "{incident_id}{PAGE_MARKER}"'
    found: list[tuple[str, OpenPage]] = []
    async for execution in client.list_workflows(query):
        try:
            status = await client.get_workflow_handle(execution.id).query(
                EscalationWorkflow.page_status
            )
        except RPCError:
            continue
        if status.state != "notifying" or (person and person not in status.paged):
            continue
        found.append((execution.start_time.isoformat(), OpenPage(execution.id, status)))
    return [page for _, page in sorted(found, key=lambda item: item[0], reverse=True)]


async def ack_page(client: Client, page_id: str, actor: str, channel: str) -> AckResult:
    """Acknowledge one page; refusals become DecisionRejected with the page's reason."""
    handle = client.get_workflow_handle(page_id)
    try:
        return await handle.execute_update(
            EscalationWorkflow.ack, AckInput(actor=actor, channel=channel)
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise DecisionRejected(
            cause.message if isinstance(cause, ApplicationError) else str(cause)
        ) from None
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise DecisionRejected("That page is no longer open.") from None
        raise


async def ack_for(
    client: Client,
    actor: str,
    channel: str,
    *,
    incident_id: str | None = None,
    incident_contains: str | None = None,
) -> tuple[str, AckResult]:
    """Ack the newest open page that paged `actor`.

    `incident_id` names the incident exactly (CLI); `incident_contains` is the short id an SMS
    reply may carry ("ACK 3f9a"). With neither, the newest page wins.
    """
    pages = await open_pages(client, incident_id=incident_id)
    if incident_id and not pages:
        await _require_incident(client, incident_id)
        raise DecisionRejected(f"Incident {incident_id!r} has no open page to acknowledge.")
    mine = [
        page
        for page in pages
        if actor in page.status.paged
        and (not incident_contains or incident_contains in page.status.incident_id)
    ]
    if not mine:
        where = (
            f" of {incident_id or incident_contains!r}"
            if (incident_id or incident_contains)
            else ""
        )
        raise DecisionRejected(f"No open page{where} paged {actor!r}.")
    return mine[0].id, await ack_page(client, mine[0].id, actor, channel)


async def _require_incident(client: Client, incident_id: str) -> None:
    try:
        await client.get_workflow_handle(incident_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise UnknownIncident(f"No open incident with id {incident_id!r}.") from None
        raise
