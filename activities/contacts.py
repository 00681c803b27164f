"""The contact entities seen from a worker or an HTTP app: opt-outs, send budget, replies seen.

Every call addresses one ContactWorkflow by the id `contact_workflow_id` computes from a
directory id and channel (never a visibility query, never a number). Writes that must survive
without a worker (STOP, START) are signals-with-start: durable once the call returns. Reads and
admissions wait at most `timeout` and raise `ContactUnavailable` otherwise, so the caller fails
safe: a worker sends nothing, a door answers 503 and Twilio retries.

    ContactError
    ├── ContactUnavailable   Temporal (or a worker) did not answer in time
    └── ContactOptedOut      the person replied STOP on this channel
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from workflows.contact_contracts import (
    Admission,
    ClaimedReply,
    ContactState,
    OptOutChange,
    ReplyAnswer,
    ReplyClaim,
    SendAdmission,
    contact_workflow_id,
)
from workflows.contacts import OPTED_OUT, THROTTLED, ContactWorkflow

ClientSource = Callable[[], Awaitable[Client]]
DEFAULT_TIMEOUT = timedelta(seconds=5)


class ContactError(RuntimeError):
    """Something about a contact prevents the call; the message names no person or address."""


class ContactUnavailable(ContactError):
    """Temporal or its workers did not answer about a contact in time; nothing was decided."""


class ContactOptedOut(ContactError):
    """The person opted out of the channel: do not send."""


async def activity_client() -> Client:
    """The client of the worker running the current activity."""
    return activity.client()


class ContactBook:
    """Reads and writes contact entities on `task_queue` through a Temporal client."""

    def __init__(
        self, client: ClientSource, task_queue: str, *, timeout: timedelta = DEFAULT_TIMEOUT
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._timeout = timeout

    def _start(self, workflow_id: str, channel: str) -> WithStartWorkflowOperation[Any, None]:
        return WithStartWorkflowOperation(
            ContactWorkflow.run,
            ContactState(),
            id=workflow_id,
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Contact ({channel})",
        )

    async def opted_out(self, person: str, channel: str) -> bool:
        """Whether the person opted out of the channel; a contact never written to has not."""
        workflow_id = contact_workflow_id(person, channel)
        try:
            client = await self._client()
            view = await client.get_workflow_handle(workflow_id).query(
                ContactWorkflow.view, rpc_timeout=self._timeout
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise self._unavailable("read an opt-out", err) from None
        except (WorkflowQueryFailedError, RuntimeError) as err:
            raise self._unavailable("read an opt-out", err) from None
        return view.opted_out

    async def change_opt_out(
        self, person: str, channel: str, *, opted_out: bool, reply_id: str | None = None
    ) -> None:
        """Record STOP (`opted_out`) or START; durable when this returns, worker or not."""
        workflow_id = contact_workflow_id(person, channel)
        change = OptOutChange(opted_out=opted_out, reply_id=reply_id, at=datetime.now(UTC))
        try:
            client = await self._client()
            await client.start_workflow(
                ContactWorkflow.run,
                ContactState(),
                id=workflow_id,
                task_queue=self._task_queue,
                start_signal="change_opt_out",
                start_signal_args=[change],
                static_summary=f"Contact ({channel})",
                rpc_timeout=self._timeout,
            )
        except (RPCError, RuntimeError) as err:
            raise self._unavailable("record an opt-out", err) from None

    async def admit(
        self, person: str, channel: str, notification_id: str, *, count: int, per: timedelta
    ) -> timedelta:
        """Count a send against the per-number budget: zero if admitted, else the wait.

        Raises ContactOptedOut when the person opted out, ContactUnavailable without an answer.
        """
        workflow_id = contact_workflow_id(person, channel)
        request = SendAdmission(notification_id=notification_id, count=count, per=per)
        try:
            client = await self._client()
            admission: Admission = await client.execute_update_with_start_workflow(
                ContactWorkflow.admit,
                request,
                start_workflow_operation=self._start(workflow_id, channel),
                rpc_timeout=self._timeout,
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == OPTED_OUT:
                raise ContactOptedOut(cause.message) from None
            if isinstance(cause, ApplicationError) and cause.type == THROTTLED:
                details = cause.details[0] if cause.details else {}
                seconds = details.get("wait_seconds", 1.0) if isinstance(details, dict) else 1.0
                return timedelta(seconds=float(seconds))
            raise self._unavailable("admit a send", err) from None
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError, RuntimeError) as err:
            raise self._unavailable("admit a send", err) from None
        return admission.wait

    async def claim_reply(self, person: str, channel: str, reply_id: str) -> ClaimedReply:
        """Claim a Twilio request id before acting on it; a replay learns the first answer."""
        workflow_id = contact_workflow_id(person, channel)
        try:
            client = await self._client()
            claimed: ClaimedReply = await client.execute_update_with_start_workflow(
                ContactWorkflow.claim_reply,
                ReplyClaim(reply_id=reply_id),
                start_workflow_operation=self._start(workflow_id, channel),
                rpc_timeout=self._timeout,
            )
        except (
            RPCError,
            WorkflowUpdateFailedError,
            WorkflowUpdateRPCTimeoutOrCancelledError,
            RuntimeError,
        ) as err:
            raise self._unavailable("claim a reply", err) from None
        return claimed

    async def answer_reply(self, person: str, channel: str, reply_id: str, answer: str) -> None:
        """Keep the answer a claimed request got, for its replays."""
        await self._signal(
            person,
            channel,
            ContactWorkflow.answer_reply,
            ReplyAnswer(reply_id=reply_id, answer=answer),
        )

    async def release_reply(self, person: str, channel: str, reply_id: str) -> None:
        """Give a claimed request back (the door could not act): Twilio's retry acts on it."""
        await self._signal(
            person, channel, ContactWorkflow.release_reply, ReplyClaim(reply_id=reply_id)
        )

    async def _signal(self, person: str, channel: str, signal: Any, arg: object) -> None:
        workflow_id = contact_workflow_id(person, channel)
        try:
            client = await self._client()
            await client.get_workflow_handle(workflow_id).signal(
                signal, arg, rpc_timeout=self._timeout
            )
        except (RPCError, RuntimeError) as err:
            raise self._unavailable("answer a reply", err) from None

    def _unavailable(self, what: str, err: BaseException) -> ContactUnavailable:
        return ContactUnavailable(
            f"Could not {what}: Temporal did not answer within "
            f"{self._timeout.total_seconds():g} s ({type(err).__name__})."
        )
