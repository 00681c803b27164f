"""The business incident of an incident: found from the incident's id, never by a search.

People name the technical incident (`mayday confirm incident-… ACTION`); its status says which
business incident it escalated to, and that id (checked against its grammar) is addressed
directly.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

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


class NotEscalated(DecisionRejected):
    """The incident has no business incident (yet)."""


async def business_id_of(client: Client, incident_id: str) -> str:
    """The id of the business incident `incident_id` escalated to, or NotEscalated."""
    current = await status(client, incident_id)
    found = current.business_id
    if found is None:
        raise NotEscalated(
            f"{incident_id} has no business incident; the Incident Commander escalates with "
            f"`mayday escalate {incident_id}`."
        )
    if len(found) > MAX_BUSINESS_ID_LENGTH or BUSINESS_ID.fullmatch(found) is None:
        raise IncidentError(f"{incident_id} names a malformed business incident id.")
    return found


async def business_status(client: Client, incident_id: str) -> BusinessStatus | None:
    """The business side of an incident, or None when it never escalated."""
    try:
        business_id = await business_id_of(client, incident_id)
    except NotEscalated:
        return None
    wait = answer_timeout()
    try:
        return await client.get_workflow_handle(business_id).query(
            BusinessIncidentWorkflow.business_status, rpc_timeout=wait
        )
    except RPCError as err:
        raise _translate(err, business_id, wait) from None
    except WorkflowQueryFailedError as err:
        raise IncidentError(f"Business incident {business_id} cannot report: {err}") from None


async def decide_business(
    client: Client,
    incident_id: str,
    send: Callable[[WorkflowHandle[Any, Any]], Awaitable[BusinessDecided]],
    *,
    timeout: float | None = None,
) -> BusinessDecided:
    """Send a decision to the incident's business incident, as `incidents.decide` does."""
    business_id = await business_id_of(client, incident_id)
    handle = client.get_workflow_handle(business_id)
    wait = answer_timeout(timeout)
    try:
        await handle.query(BusinessIncidentWorkflow.business_status, rpc_timeout=wait)
    except RPCError as err:
        raise _translate(err, business_id, wait) from None
    except WorkflowQueryFailedError:
        pass
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
        raise _translate(err, business_id, wait) from None
