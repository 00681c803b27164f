"""Find open pages and acknowledge them: the one ack state behind every door (CLI, SMS, voice).

A page is found from its incident by id (Rules learned: address by id): the incident's status
names its pages, and each page answers its own query. Only the search across incidents (an SMS
reply "1" names none) lists workflows, with a fixed query that carries no text from outside.

An ack naming an incident also finds the pages of the business incident it escalated to (the
Business Lead acks with `mayday ack <incident id>`); acks from PagerDuty, which mirrors only the
technical page, never reach them.

Every query and ack waits at most the decision timeout for a worker (NoWorker after it); an ack
is sent only after its page answered a query, so an unanswered ack records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from mayday.business import BusinessStarting, is_business_id, query_business
from mayday.incidents import (
    DecisionRejected,
    UnknownIncident,
    answer_timeout,
    check_incident_id,
    is_incident_id,
    is_unanswered,
    no_worker,
)
from workflows.escalation import EscalationWorkflow
from workflows.escalation_contracts import AckInput, AckResult, PageStatus
from workflows.incident import IncidentWorkflow

PAGE_MARKER = "-page-"
RUNNING_PAGES = f'WorkflowType="{EscalationWorkflow.__name__}" AND ExecutionStatus="Running"'
RUNNING_INCIDENTS = f'WorkflowType="{IncidentWorkflow.__name__}" AND ExecutionStatus="Running"'
MAX_INCIDENTS_SEARCHED = 50
"""How many running incidents an ack naming none looks through to explain a refusal."""


@dataclass(frozen=True)
class OpenPage:
    """A running page and what it reports."""

    id: str
    status: PageStatus


class NoOpenPage(DecisionRejected):
    """Nothing open paged the person; says which incident paged them last and where it stands."""

    def __init__(
        self,
        actor: str,
        *,
        incident_id: str | None = None,
        acked_by: str | None = None,
        open_for_others: bool = False,
    ) -> None:
        self.actor = actor
        self.incident_id = incident_id
        self.acked_by = acked_by
        self.open_for_others = open_for_others
        super().__init__(self.text())

    def text(self, name: str | None = None) -> str:
        """The answer, naming whoever acknowledged as `name` (default: their directory id)."""
        if self.incident_id is None:
            return "No open page for you."
        if self.open_for_others:
            return f"No open page for you; the open pages of {self.incident_id} paged others."
        if self.acked_by is not None:
            return (
                f"No open page for you; {self.incident_id} has no open page, already "
                f"acknowledged by {name or self.acked_by}."
            )
        return f"No open page for you; {self.incident_id} has no open page."


def page_of_notification(notification_id: str) -> tuple[str, str] | None:
    """(page workflow id, person) from a notification id `<page>:<purpose>:…:<person>:<channel>`."""
    parts = notification_id.split(":")
    if len(parts) < 6 or PAGE_MARKER not in parts[0]:
        return None
    return parts[0], parts[-2]


def page_sequence(page_id: str) -> int:
    """The n of `<incident>-page-<n>[-<chain>]`: an incident's pages in the order they started."""
    number = page_id.rsplit(PAGE_MARKER, 1)[-1].split("-", 1)[0]
    return int(number) if number.isdigit() else 0


async def incident_pages(
    client: Client,
    incident_id: str,
    *,
    timeout: timedelta | None = None,
    with_business: bool = False,
) -> dict[str, str] | None:
    """The incident's pages (page id → state), newest first; None when there is no such incident.

    `with_business` puts the pages of its business incident first (newest first): they started
    after the escalation, so after most of the incident's own. `incident_id` must have the
    incident id grammar: it addresses a workflow directly.
    """
    check_incident_id(incident_id)
    wait = timeout or answer_timeout()
    try:
        status = await client.get_workflow_handle(incident_id).query(
            IncidentWorkflow.status, rpc_timeout=wait
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        if is_unanswered(err):
            raise no_worker(wait) from None
        raise
    except WorkflowQueryFailedError:
        return None
    pages = dict(newest_first(status.pages))
    if with_business and status.business_id is not None and is_business_id(status.business_id):
        try:
            business = await query_business(
                client, status.business_id, timeout=wait, starting_wait=0
            )
        except (BusinessStarting, UnknownIncident):
            return pages  # not created yet, or gone: it has no page to ack
        pages = {**dict(newest_first(business.pages)), **pages}
    return pages


def newest_first(pages: dict[str, str]) -> list[tuple[str, str]]:
    """Pages of one incident (or one business incident), the newest first."""
    return sorted(pages.items(), key=lambda item: page_sequence(item[0]), reverse=True)


async def page_status(
    client: Client, page_id: str, *, timeout: timedelta | None = None
) -> PageStatus | None:
    """What a page reports (running or ended), None if it cannot, NoWorker if nobody answers."""
    wait = timeout or answer_timeout()
    try:
        return await client.get_workflow_handle(page_id).query(
            EscalationWorkflow.page_status, rpc_timeout=wait
        )
    except RPCError as err:
        if is_unanswered(err):
            raise no_worker(wait) from None
        return None
    except WorkflowQueryFailedError:
        return None


async def open_pages(
    client: Client,
    *,
    incident_id: str | None = None,
    person: str | None = None,
    timeout: timedelta | None = None,
    with_business: bool = False,
) -> list[OpenPage]:
    """Running pages, newest first, of one incident and/or that paged one person.

    `with_business` adds the pages of the incident's business incident. A string that is not an
    incident id names no incident, so it has no pages.
    """
    wait = timeout or answer_timeout()
    if incident_id is not None:
        if not is_incident_id(incident_id):
            return []
        pages = (
            await incident_pages(client, incident_id, timeout=wait, with_business=with_business)
            or {}
        )
        candidates = [page for page, state in pages.items() if state == "notifying"]
    else:
        candidates = await _running_pages(client)
    found: list[OpenPage] = []
    for page_id in candidates:
        status = await page_status(client, page_id, timeout=wait)
        if status is None or status.state != "notifying" or (person and person not in status.paged):
            continue
        found.append(OpenPage(page_id, status))
    return found


async def _running_pages(client: Client) -> list[str]:
    """Every running page, newest first (by start time)."""
    listed = [(e.start_time, e.id) async for e in client.list_workflows(RUNNING_PAGES)]
    return [page_id for _, page_id in sorted(listed, reverse=True)]


async def ack_page(
    client: Client, page_id: str, actor: str, channel: str, *, timeout: timedelta | None = None
) -> AckResult:
    """Acknowledge one page; refusals become DecisionRejected with the page's reason."""
    handle = client.get_workflow_handle(page_id)
    wait = timeout or answer_timeout()
    try:
        return await handle.execute_update(
            EscalationWorkflow.ack, AckInput(actor=actor, channel=channel), rpc_timeout=wait
        )
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        # The page answered a query just before (open_pages): its worker died since.
        after = "the ack may still take effect; check `mayday status`"
        raise no_worker(wait, after=after) from None
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
    timeout: float | None = None,
) -> tuple[str, AckResult]:
    """Ack the newest open page that paged `actor`.

    `incident_id` names the incident exactly (CLI); `incident_contains` is the short id an SMS
    reply may carry ("ACK 3f9a"). With neither, the newest page wins. When nothing open paged
    them, NoOpenPage says which incident paged them last and who acknowledged it. Without a
    worker answering within `timeout` seconds (default MAYDAY_DECISION_TIMEOUT), NoWorker.
    """
    wait = answer_timeout(timeout)
    if incident_id is not None:
        check_incident_id(incident_id)
        if await incident_pages(client, incident_id, timeout=wait) is None:
            raise UnknownIncident(f"No open incident with id {incident_id!r}.")
    pages = await open_pages(client, incident_id=incident_id, timeout=wait, with_business=True)
    mine = [
        page
        for page in pages
        if actor in page.status.paged
        and (not incident_contains or incident_contains in page.status.incident_id)
    ]
    if mine:
        return mine[0].id, await ack_page(client, mine[0].id, actor, channel, timeout=wait)
    if incident_id is not None and pages:
        raise DecisionRejected(f"No open page of {incident_id!r} paged {actor!r}.")
    raise await _why_none(
        client, actor, incident_id=incident_id, contains=incident_contains, timeout=wait
    )


async def _why_none(
    client: Client,
    actor: str,
    *,
    incident_id: str | None,
    contains: str | None,
    timeout: timedelta,
) -> NoOpenPage:
    """The refusal for an ack with nothing open: the newest incident whose page woke `actor`."""
    if incident_id is not None:
        incidents = [incident_id]
    else:
        incidents = await _running_incidents(client, contains)
    for incident in incidents:
        pages = (
            await incident_pages(
                client, incident, timeout=timeout, with_business=incident_id is not None
            )
            or {}
        )
        found = [await page_status(client, page, timeout=timeout) for page in pages]
        statuses = [status for status in found if status is not None]
        if incident_id is None and not any(actor in s.paged for s in statuses):
            continue
        acked_by = next((s.acked_by for s in statuses if s.acked_by is not None), None)
        others = any(s.state == "notifying" for s in statuses)
        return NoOpenPage(actor, incident_id=incident, acked_by=acked_by, open_for_others=others)
    return NoOpenPage(actor)


async def _running_incidents(client: Client, contains: str | None) -> list[str]:
    """Running incidents whose id holds `contains` (filtered here, never in the query), newest
    first, at most MAX_INCIDENTS_SEARCHED of them."""
    listed = [
        (e.start_time, e.id)
        async for e in client.list_workflows(RUNNING_INCIDENTS)
        if not contains or contains in e.id
    ]
    return [incident for _, incident in sorted(listed, reverse=True)][:MAX_INCIDENTS_SEARCHED]
