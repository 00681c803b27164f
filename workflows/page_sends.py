"""One notification of a page, sent from the page workflow: at most once, or as it used to be.

`send_once` is the delivery contract of the README: an attempt that may have reached the provider
(a hung answer, a killed worker, DeliveryPossiblySent) is never repeated; only failures that prove
nothing left are retried, here rather than by a retry policy, because only the workflow sees why an
attempt ended. `send_with_retry_policy` is the older way, kept for pages started before the
`delivery-semantics` patch so their histories replay.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.exceptions import TimeoutError as SendTimedOut

with workflow.unsafe.imports_passed_through():
    from workflows.escalation_contracts import (
        POSSIBLY_SENT,
        NotifyRequest,
        NotifyResult,
        PageOutcome,
    )

CHANNEL_LABELS = {"sms": "SMS", "voice": "Voice call", "email": "Email"}
SEND_HEARTBEAT = timedelta(seconds=3)
"""A send heartbeats every second: an ack's cancellation reaches it within ~2.4 s (the SDK
sends at most one heartbeat per 0.8 times this), and a dead worker's send ends in 3 s."""
SEND_ATTEMPT_TIMEOUT = timedelta(seconds=30)
ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)
MAX_PAUSE = timedelta(seconds=30)
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=MAX_PAUSE,
    maximum_attempts=5,
)

Sent = tuple[PageOutcome, str | None]
"""What became of a send ("paged", "possibly-sent", "failed", "cancelled") and its detail."""


def notification_id(
    page: str, kind: str, level: int, round_: str, person: str, channel: str
) -> str:
    """`<page>:<kind>:<level>:<round>:<person>:<channel>`; the page id keeps two pages apart."""
    return f"{page}:{kind}:{level}:{round_}:{person}:{channel}"


async def send_once(request: NotifyRequest, window: timedelta, summary: str, attempts: int) -> Sent:
    """Send within `window`, retrying only failures that prove nothing left."""
    deadline = workflow.now() + window
    pause = SEND_RETRY.initial_interval
    detail: str | None = "DeliveryTimedOut"
    for attempt in range(1, attempts + 1):
        left = deadline - workflow.now()
        if left <= timedelta(0):
            break
        try:
            result: NotifyResult = await workflow.execute_activity(
                "notify",
                request,
                result_type=NotifyResult,
                start_to_close_timeout=min(left, SEND_ATTEMPT_TIMEOUT),
                heartbeat_timeout=SEND_HEARTBEAT,
                retry_policy=ONE_ATTEMPT,
                summary=summary if attempt == 1 else f"{summary}, attempt {attempt}",
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, CancelledError):
                return "cancelled", None
            if isinstance(cause, SendTimedOut):
                return "possibly-sent", "timed out while sending"
            detail = error_type(err)
            if detail == POSSIBLY_SENT:
                return "possibly-sent", detail
            if not isinstance(cause, ApplicationError) or cause.non_retryable:
                return "failed", detail
            wait = cause.next_retry_delay or pause
            if attempt == attempts or workflow.now() + wait >= deadline:
                return "failed", detail
            await workflow.sleep(wait, summary=f"retry {request.channel} after {detail}")
            pause = min(pause * 2, MAX_PAUSE)
            continue
        return "paged", result.status
    return "failed", detail


async def send_with_retry_policy(request: NotifyRequest, window: timedelta, summary: str) -> Sent:
    """The pre-patch send: Temporal retries every retryable failure, ambiguous ones too."""
    try:
        result: NotifyResult = await workflow.execute_activity(
            "notify",
            request,
            result_type=NotifyResult,
            schedule_to_close_timeout=window,
            start_to_close_timeout=min(window, SEND_ATTEMPT_TIMEOUT),
            retry_policy=SEND_RETRY,
            summary=summary,
        )
    except ActivityError as err:
        if isinstance(err.cause, CancelledError):
            return "cancelled", None
        return "failed", error_type(err)
    return "paged", result.status


def error_type(err: ActivityError) -> str:
    """The ApplicationError type behind an activity failure, or the failure's class name."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type:
        return cause.type
    return type(cause).__name__ if cause is not None else "ActivityError"
