"""The business incident of an incident: found from the incident's id, never by a search.

People name the technical incident (`mayday confirm incident-… ACTION`); its status says which
business incident it escalated to, and that id (checked against its grammar) is addressed
directly. The incident names its business incident in the same workflow task that starts it,
and the server creates the child a moment later: a business incident that is not there yet is
asked again for up to STARTING_WAIT seconds, then BusinessStarting says so.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from mayday.incidents import (
    DecisionRejected,
    IncidentError,
    _translate,
    answer_timeout,
    is_unanswered,
    no_worker,
    status,
)
from workflows.business import BusinessIncidentWorkflow
from workflows.business_contracts import BUSINESS_PREFIX, BusinessDecided
from workflows.business_state import BusinessStatus

BUSINESS_ID = re.compile(re.escape(BUSINESS_PREFIX) + r"[a-z0-9._-]+")
MAX_BUSINESS_ID_LENGTH = 240
STARTING_WAIT = 2.0
"""Seconds a business incident the server has not created yet is asked again."""
STARTING_POLL = 0.2


class NotEscalated(DecisionRejected):
    """The incident has no business incident (yet)."""


class BusinessStarting(IncidentError):
    """The incident escalated a moment ago and its business incident does not exist yet."""


def is_business_id(text: str) -> bool:
    """Whether `text` has the shape of a business incident id (and so may address a workflow)."""
    return len(text) <= MAX_BUSINESS_ID_LENGTH and BUSINESS_ID.fullmatch(text) is not None


async def business_id_of(client: Client, incident_id: str) -> str:
    """The id of the business incident `incident_id` escalated to, or NotEscalated."""
    current = await status(client, incident_id)
    found = current.business_id
    if found is None:
        raise NotEscalated(
            f"{incident_id} has no business incident; the Incident Commander escalates with "
            f"`mayday escalate {incident_id}`."
        )
    if not is_business_id(found):
        raise IncidentError(f"{incident_id} names a malformed business incident id.")
    return found


async def query_business(
    client: Client,
    business_id: str,
    *,
    timeout: timedelta | None = None,
    starting_wait: float = STARTING_WAIT,
) -> BusinessStatus:
    """What the business incident `business_id` reports; BusinessStarting while it is created.

    Not there yet, it is asked again for `starting_wait` seconds.
    """
    if not is_business_id(business_id):
        raise IncidentError(f"{business_id[:60]!r} is not a business incident id.")
    handle = client.get_workflow_handle(business_id)
    wait = timeout or answer_timeout()
    deadline = time.monotonic() + starting_wait
    while True:
        try:
            return await handle.query(BusinessIncidentWorkflow.business_status, rpc_timeout=wait)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND or is_unanswered(err):
                raise _translate(err, business_id, wait) from None
            if time.monotonic() >= deadline:
                raise BusinessStarting(
                    f"Business incident {business_id} is starting; try again in a moment."
                ) from None
        except WorkflowQueryFailedError as err:
            raise IncidentError(f"Business incident {business_id} cannot report: {err}") from None
        await asyncio.sleep(STARTING_POLL)


async def business_status(client: Client, incident_id: str) -> BusinessStatus | None:
    """The business side of an incident, or None when it never escalated."""
    try:
        business_id = await business_id_of(client, incident_id)
    except NotEscalated:
        return None
    return await query_business(client, business_id)


async def decide_business(
    client: Client,
    incident_id: str,
    send: Callable[[WorkflowHandle[Any, Any]], Awaitable[BusinessDecided]],
    *,
    timeout: float | None = None,
) -> BusinessDecided:
    """Send a decision to the incident's business incident, as `incidents.decide` does.

    The decision is sent only after the business incident answered a query (a worker is
    there, and the server has created it), so an unanswered decision records nothing.
    """
    business_id = await business_id_of(client, incident_id)
    wait = answer_timeout(timeout)
    await query_business(client, business_id, timeout=wait)
    handle = client.get_workflow_handle(business_id)
    try:
        async with asyncio.timeout(wait.total_seconds()):
            return await send(handle)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise DecisionRejected(
            cause.message if isinstance(cause, ApplicationError) else str(cause)
        ) from None
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise no_worker(
            wait, after=f"the decision may still take effect; check `mayday status {incident_id}`"
        ) from None
    except RPCError as err:
        if is_unanswered(err):
            raise no_worker(wait) from None
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise DecisionRejected(
                f"Business incident {business_id} has ended; nothing was recorded."
            ) from None
        raise _translate(err, business_id, wait) from None
