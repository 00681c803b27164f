"""ContactWorkflow: the one place every host asks before texting or calling a person.

One entity per person and phone channel (id from `contact_workflow_id`, a hash: no PII). It
holds the opt-out (STOP/START, or the carrier's 21610), the sends counted against the per-number
budget, and the Twilio requests already handled, so two workers and two HTTP apps behave as
one. The budget is a sliding window over workflow time; a send is admitted by an update whose
validator refuses opted-out contacts and full windows, so a refusal writes nothing to history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.contact_contracts import (
        MAX_REPLIES,
        MAX_SENDS,
        Admission,
        BudgetedSend,
        ClaimedReply,
        ContactState,
        ContactView,
        OptOutChange,
        ReplyAnswer,
        ReplyClaim,
        SeenReply,
        SendAdmission,
    )

OPTED_OUT = "DeliveryOptedOut"
THROTTLED = "DeliveryThrottled"


def budget_wait(sends: list[BudgetedSend], request: SendAdmission, now: datetime) -> timedelta:
    """How long until one more send fits `request`'s window (zero if it fits, or was counted)."""
    if any(send.notification_id == request.notification_id for send in sends):
        return timedelta(0)
    inside = [send.at for send in sends if send.at > now - request.per]
    if len(inside) < request.count:
        return timedelta(0)
    return inside[len(inside) - request.count] + request.per - now


@workflow.defn
class ContactWorkflow:
    """Opt-out, send budget and handled replies of one person on one phone channel."""

    @workflow.init
    def __init__(self, state: ContactState) -> None:
        self._state = state
        self._messages = 0

    @workflow.run
    async def run(self, state: ContactState) -> None:
        """Wait for messages; continue-as-new with the whole state well before any limit."""
        await workflow.wait_condition(self._run_is_full)
        await workflow.wait_condition(workflow.all_handlers_finished)
        following = self._state.model_copy(update={"runs": self._state.runs + 1})
        workflow.continue_as_new(following)

    def _run_is_full(self) -> bool:
        return (
            self._messages >= self._state.messages_per_run
            or workflow.info().is_continue_as_new_suggested()
        )

    @workflow.signal
    def change_opt_out(self, change: OptOutChange) -> None:
        """STOP or START; a replayed reply (same MessageSid) changes nothing."""
        self._messages += 1
        now = workflow.now()
        if change.reply_id is not None:
            if self._seen(change.reply_id) is not None:
                return
            self._remember(SeenReply(reply_id=change.reply_id, answer="", at=change.at or now))
        self._state.opted_out = change.opted_out
        self._state.changed_at = change.at or now

    @workflow.update
    def admit(self, request: SendAdmission) -> Admission:
        """Count a send against the budget; a notification already counted is free."""
        self._messages += 1
        now = workflow.now()
        # Another admit may have filled the window after this one's validator ran.
        wait = budget_wait(self._state.sends, request, now)
        if self._state.opted_out or wait > timedelta(0):
            return Admission(wait=max(wait, timedelta(seconds=1)))
        self._state.horizon = max(self._state.horizon, request.per)
        kept = [s for s in self._state.sends if s.at > now - self._state.horizon]
        if not any(s.notification_id == request.notification_id for s in kept):
            kept.append(BudgetedSend(notification_id=request.notification_id, at=now))
        self._state.sends = kept[-MAX_SENDS:]
        return Admission()

    @admit.validator
    def validate_admit(self, request: SendAdmission) -> None:
        """Refuse, writing nothing, when the person opted out or the window is full."""
        if self._state.opted_out:
            raise ApplicationError(
                f"Notification {request.notification_id}: the person opted out of this "
                "channel (replied STOP); not sent.",
                type=OPTED_OUT,
                non_retryable=True,
            )
        wait = budget_wait(self._state.sends, request, workflow.now())
        if wait > timedelta(0):
            raise ApplicationError(
                f"Notification {request.notification_id}: the per-number budget of "
                f"{request.count} per {request.per} is used up.",
                {"wait_seconds": wait.total_seconds()},
                type=THROTTLED,
            )

    @workflow.update
    def claim_reply(self, claim: ReplyClaim) -> ClaimedReply:
        """Fresh the first time a request id is seen; afterwards, the answer it got."""
        self._messages += 1
        seen = self._seen(claim.reply_id)
        if seen is not None:
            return ClaimedReply(fresh=False, answer=seen.answer)
        self._remember(SeenReply(reply_id=claim.reply_id, at=workflow.now()))
        return ClaimedReply(fresh=True)

    @workflow.signal
    def answer_reply(self, answer: ReplyAnswer) -> None:
        """Keep what a claimed request was answered."""
        self._messages += 1
        seen = self._seen(answer.reply_id)
        if seen is not None and seen.answer is None:
            seen.answer = answer.answer

    @workflow.signal
    def release_reply(self, claim: ReplyClaim) -> None:
        """The door could not act on a claimed request: let Twilio's retry act on it."""
        self._messages += 1
        self._state.replies = [
            r for r in self._state.replies if r.reply_id != claim.reply_id or r.answer is not None
        ]

    @workflow.query
    def view(self) -> ContactView:
        """Whether the person opted out, and how much the contact remembers."""
        return ContactView(
            opted_out=self._state.opted_out,
            changed_at=self._state.changed_at,
            sends_in_horizon=len(self._state.sends),
            replies_remembered=len(self._state.replies),
            runs=self._state.runs,
        )

    def _seen(self, reply_id: str) -> SeenReply | None:
        return next((r for r in self._state.replies if r.reply_id == reply_id), None)

    def _remember(self, reply: SeenReply) -> None:
        self._state.replies = [*self._state.replies, reply][-MAX_REPLIES:]
