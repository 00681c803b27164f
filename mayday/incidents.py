"""Incident operations as the CLI and HTTP app perform them against Temporal."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from mayday.settings import Settings
from workflows import search_attributes as sa
from workflows.codename import codename
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

INCIDENT_TASK_TIMEOUT = timedelta(seconds=5)
"""Workflow task timeout of incidents: after a worker dies mid-task another retries it within
5 s (Temporal's default is 10 s). Not shorter: an incident's task may replay a run of
thousands of events on a cold worker, and a task that always times out never completes."""


PAGERDUTY_MIRROR_MEMO = "pagerduty_mirror"
"""Memo key set on incidents whose PagerDuty mirror is on (their `mayday:` dedup key is real)."""


class IncidentError(Exception):
    """A request about an incident that cannot be carried out; the message says why."""


class UnknownIncident(IncidentError):
    """No incident has the given id."""


class DecisionRejected(IncidentError):
    """The incident refused the decision (wrong phase, unknown actor, …); nothing was recorded."""


class NoWorker(IncidentError):
    """No mayday worker answered within the decision timeout."""


NO_WORKER_HINT = "Is `mayday worker` (or `mayday dev`) running against this Temporal?"


def answer_timeout(seconds: float | None = None) -> timedelta:
    """How long a request waits for a worker: `seconds`, else MAYDAY_DECISION_TIMEOUT (12 s)."""
    return timedelta(seconds=seconds if seconds is not None else Settings().decision_timeout)


def is_unanswered(err: RPCError) -> bool:
    """Whether Temporal gave up because no worker took the task (rather than refusing it)."""
    if err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
        return True
    message = err.message.lower()
    return "worker may be down" in message or "before a worker could process" in message


def no_worker(timeout: timedelta, *, after: str = "nothing was recorded") -> NoWorker:
    """The one-line refusal when nobody answered within `timeout`."""
    return NoWorker(
        f"No mayday worker answered within {timeout.total_seconds():g} s; {after}. "
        + NO_WORKER_HINT
    )


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
    """Start an IncidentWorkflow for a manual declaration and return its id.

    The declaration stands only once a worker has run the incident's first task; when none
    answers within the decision timeout it is withdrawn (terminated) and NoWorker says so.
    """
    check_declaration(decl, playbook)
    if time_scale <= 0:
        raise DecisionRejected("--time-scale must be greater than 0.")
    timeout = answer_timeout(settings.decision_timeout)
    incident_id = manual_incident_id(decl.service)
    inp = IncidentInput(
        declaration=decl,
        playbook=playbook,
        time_scale=time_scale,
        page_task_queue=settings.page_task_queue,
        pagerduty_events=settings.pagerduty_provider == "pagerduty",
    )
    try:
        handle = await client.start_workflow(
            IncidentWorkflow.run,
            inp,
            id=incident_id,
            task_queue=settings.task_queue,
            search_attributes=initial_search_attributes(inp),
            static_summary=incident_summary(decl, incident_id),
            memo=incident_memo(
                listed_title(decl, incident_id), playbook, mirrored=inp.pagerduty_events
            ),
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            task_timeout=INCIDENT_TASK_TIMEOUT,
            rpc_timeout=timeout,
        )
    except RPCError as err:
        if is_unanswered(err):
            raise NoWorker(
                f"Temporal did not accept the declaration within {timeout.total_seconds():g} s; "
                "nothing was recorded."
            ) from None
        raise _translate(err, incident_id) from None
    try:
        await handle.query(IncidentWorkflow.status, rpc_timeout=timeout)
    except RPCError as err:
        if not is_unanswered(err):
            raise _translate(err, incident_id) from None
        # Unanswered, the incident would start paging whenever a worker turns up, hours later.
        with contextlib.suppress(RPCError):
            await handle.terminate("no worker answered the declaration", rpc_timeout=timeout)
        raise no_worker(timeout, after="the declaration was withdrawn and nothing pages") from None
    except WorkflowQueryFailedError:
        pass  # a worker ran the task and answered: the incident stands
    return incident_id


def listed_title(decl: Declaration, incident_id: str) -> str:
    """The title Temporal shows and `mayday list` lists: a security incident's is its codename.

    The memo and the static summary are readable by anyone with access to the namespace (the
    Web UI, `temporal workflow describe`), so a security incident's title never goes there.
    """
    if decl.security:
        return f"security incident {codename(incident_id)}"
    return decl.title


def incident_summary(decl: Declaration, incident_id: str) -> str:
    """The static summary an incident starts with: "SEV1 · accounts · <title or codename>"."""
    return f"{decl.severity} · {decl.service} · {listed_title(decl, incident_id)}"


def incident_memo(title: str, playbook: PlaybookSnapshot, *, mirrored: bool) -> dict[str, Any]:
    """What an incident's memo holds: the title for listings, and whether PagerDuty mirrors it.

    Continue-as-new carries the memo to every later run.
    """
    memo: dict[str, Any] = {"title": title, "playbook_hash": playbook.content_hash}
    if mirrored:
        memo[PAGERDUTY_MIRROR_MEMO] = True
    return memo


def handle_for(client: Client, incident_id: str) -> WorkflowHandle[Any, Any]:
    """A handle on the latest run of the incident; the id must have the incident id grammar."""
    return client.get_workflow_handle(check_incident_id(incident_id))


async def status(client: Client, incident_id: str) -> IncidentStatus:
    """The incident's current state with its running pages' steps so far, or UnknownIncident.

    An incident records a page's steps when the page ends; until then they are read live from
    the page itself, so the timeline shows every page as it happens.
    """
    handle = handle_for(client, incident_id)
    timeout = answer_timeout()
    try:
        current = await handle.query(IncidentWorkflow.status, rpc_timeout=timeout)
    except RPCError as err:
        raise _translate(err, incident_id, timeout) from None
    except WorkflowQueryFailedError as err:
        raise IncidentError(f"Incident {incident_id!r} cannot report its status: {err}") from None
    live = [page for page, state in current.pages.items() if state == "notifying"]
    for page_id in live:
        try:
            page = await client.get_workflow_handle(page_id).query(
                EscalationWorkflow.page_status, rpc_timeout=timeout
            )
        except (RPCError, WorkflowQueryFailedError):
            continue
        current.timeline.extend(page_timeline(page.events))
    current.timeline.sort(key=lambda entry: entry.at)
    return current


async def decide(
    client: Client,
    incident_id: str,
    send: Callable[[WorkflowHandle[Any, Any]], Awaitable[Decided]],
    *,
    timeout: float | None = None,
) -> Decided:
    """Send a decision as an update; refusals and unknown ids become typed errors.

    Updates answer the slim `Decided` (Rules learned: updates return slim results). Temporal
    keeps an update that no worker took and applies it whenever one returns, so the decision
    is sent only after a query (which records nothing) shows a worker answering: without one,
    NoWorker after `timeout` seconds (default MAYDAY_DECISION_TIMEOUT) and nothing recorded.
    """
    handle = handle_for(client, incident_id)
    wait = answer_timeout(timeout)
    await probe(handle, wait)
    try:
        async with asyncio.timeout(wait.total_seconds()):
            return await send(handle)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise DecisionRejected(message) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # The worker answered the probe and died since: the update may still be applied.
        raise no_worker(
            wait, after=f"the decision may still take effect; check `mayday status {incident_id}`"
        ) from None
    except RPCError as err:
        raise _translate(err, incident_id, wait) from None


async def probe(handle: WorkflowHandle[Any, Any], timeout: timedelta) -> None:
    """Return once a worker answers for the incident, else UnknownIncident or NoWorker."""
    try:
        await handle.query(IncidentWorkflow.status, rpc_timeout=timeout)
    except RPCError as err:
        raise _translate(err, handle.id, timeout) from None
    except WorkflowQueryFailedError:
        pass  # a worker answered, if only to say the query failed


def _translate(err: RPCError, incident_id: str, timeout: timedelta | None = None) -> IncidentError:
    if timeout is not None and is_unanswered(err):
        return no_worker(timeout)
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
