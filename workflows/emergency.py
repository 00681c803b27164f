"""Emergency mode: each business function halts, and later resumes, action by action.

An action with an `http:` block calls its endpoint once (retried only when nothing reached it);
a 2xx is done. Any other action, or one whose call failed, pages its owner with the task. Past
its ETA plus the grace the owner is paged again, then the role's backup, then the Business
Lead: business actions escalate exactly like pages. Every step is data on the action (its step
and due time), so a continue-as-new or a killed worker loses and repeats nothing.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.exceptions import TimeoutError as CallTimedOut

with workflow.unsafe.imports_passed_through():
    from workflows.business_contracts import (
        ACTION_POSSIBLY_DONE,
        ACTION_UNAVAILABLE,
        ActionKind,
        ActionPlan,
        FunctionPlan,
        HttpActionRequest,
        HttpActionResult,
    )
    from workflows.business_core import TASK_ACK_TIMEOUT, BusinessCore, one_level
    from workflows.business_state import ESCALATION_STEPS, ActionStatus
    from workflows.contracts import SYSTEM_ACTOR
    from workflows.escalation_contracts import PageTarget, Slot

CALL_TIMEOUT = timedelta(seconds=30)
CALL_HEARTBEAT = timedelta(seconds=3)
CALL_ATTEMPTS = 4
CALL_PAUSE = timedelta(seconds=2)
MIN_GRACE = timedelta(seconds=1)


class EmergencyMode(BusinessCore):
    """Functions: normal → halting → halted → resuming → normal."""

    def _plans(self) -> dict[str, FunctionPlan]:
        plan = self._input.playbook.business
        return {f.id: f for f in plan.functions} if plan is not None else {}

    def _grace(self) -> timedelta:
        plan = self._input.playbook.business
        grace = plan.eta_check_grace if plan is not None else timedelta(minutes=2)
        return max(grace * self._input.time_scale, MIN_GRACE)

    # -- starting a halt or a resume ------------------------------------------------------------

    def _start_emergency(self) -> None:
        for function in self._plans().values():
            self._s.modes[function.id] = "halting"
            self._record(SYSTEM_ACTOR, "emergency", f"{function.name}: halting.", report=True)
            self._begin(function, "halt", function.halt)
        self._publish()

    def _begin(self, function: FunctionPlan, kind: ActionKind, plans: list[ActionPlan]) -> None:
        now, scale = workflow.now(), self._input.time_scale
        by_hand: list[ActionStatus] = []
        for plan in plans:
            eta_at = now + plan.eta * scale
            action = ActionStatus(
                function=function.id,
                kind=kind,
                action=plan.id,
                title=plan.title,
                owner_role=plan.owner_role,
                eta_at=eta_at,
                due_at=eta_at + self._grace(),
            )
            self._s.actions.append(action)
            if plan.http is not None:
                action.state = "calling"
                self._tasks.append(asyncio.create_task(self._call(action, plan)))
            else:
                action.state = "waiting"
                by_hand.append(action)
        if by_hand:
            self._page_task(function, kind, by_hand, "do now")

    def _page_task(
        self, function: FunctionPlan, kind: ActionKind, actions: list[ActionStatus], why: str
    ) -> None:
        """One page to the owner of these actions, listing each with its ETA and id."""
        owner = actions[0].owner_role
        target, who = self._holder_target(owner)
        self._page_about(actions, target, who, f"{function.name} {kind} ({why})")

    def _page_about(
        self, actions: list[ActionStatus], target: PageTarget, who: str, what: str
    ) -> None:
        # A security incident's id may name what happened: it stays in the secure channel.
        incident = "ID" if self._input.security else self._input.parent_id
        confirm = f"confirm: mayday confirm {incident} ACTION"
        items = "; ".join(f"{a.action}: {a.title}, ETA {a.eta_at:%H:%M}Z" for a in actions)
        policy = one_level(target, TASK_ACK_TIMEOUT, f"task-{actions[0].owner_role}")
        page_id = self._start_page(
            target=f"task:{target.kind}:{target.id}",
            policy=policy,
            what=f"{what}: {items}; {confirm}",
            role_name=self._role_name(actions[0].owner_role),
        )
        for action in actions:
            action.pages.append(page_id)
        self._page_actions[page_id] = [a.key for a in actions]
        names = ", ".join(a.action for a in actions)
        self._record(SYSTEM_ACTOR, "task", f"Paged {who}: {what}: {names}.")

    async def _call(self, action: ActionStatus, plan: ActionPlan) -> None:
        """Call the action's endpoint once; retry only what proves nothing reached it."""
        assert plan.http is not None
        request = HttpActionRequest(
            action_key=f"{self._id()}:{action.key}",
            business_id=self._id(),
            call=plan.http,
            drill=self._input.drill,
            function=action.function,
            kind=action.kind,
            action=action.action,
        )
        outcome = "no answer"
        for attempt in range(1, CALL_ATTEMPTS + 1):
            try:
                result: HttpActionResult = await workflow.execute_activity(
                    "business_http_action",
                    request,
                    result_type=HttpActionResult,
                    start_to_close_timeout=CALL_TIMEOUT,
                    heartbeat_timeout=CALL_HEARTBEAT,
                    retry_policy=RetryPolicy(maximum_attempts=1),
                    summary=f"{plan.id} (HTTP), attempt {attempt}",
                )
            except ActivityError as err:
                cause = err.cause
                if isinstance(cause, CancelledError):
                    raise
                if isinstance(cause, CallTimedOut):
                    outcome = "no answer in time (it may have been done)"
                    break
                kind = cause.type if isinstance(cause, ApplicationError) else None
                outcome = _said(cause)
                if kind != ACTION_UNAVAILABLE or attempt == CALL_ATTEMPTS:
                    if kind == ACTION_POSSIBLY_DONE:
                        outcome = f"{outcome} (it may have been done)"
                    break
                await workflow.sleep(_pause(cause, attempt), summary=f"{plan.id}: retry")
                continue
            action.http = result.detail
            if action.state == "done":
                return  # confirmed by hand while the call was out
            self._done(action, SYSTEM_ACTOR, f"{plan.http.method} answered {result.detail}")
            return
        action.http = outcome
        if action.state == "done":
            return
        action.state = "waiting"
        function = self._plans()[action.function]
        self._record(
            SYSTEM_ACTOR, "emergency", f"{plan.id}: the call failed ({outcome}); done by hand now."
        )
        self._page_task(function, action.kind, [action], "the automatic call failed")

    # -- confirmations and overdue steps --------------------------------------------------------

    def _done(self, action: ActionStatus, actor: str, how: str) -> None:
        action.state = "done"
        action.done_by = actor
        action.done_at = workflow.now()
        action.due_at = None
        late = ""
        if action.eta_at is not None and action.done_at > action.eta_at:
            late = f", {_minutes(action.done_at - action.eta_at)} past its ETA"
        self._record(actor, "confirmed", f"{action.title} ({action.action}): done, {how}{late}.")
        for page_id in action.pages:
            keys = self._page_actions.get(page_id, [])
            if all(self._action(key) is None or self._action(key).state == "done" for key in keys):  # type: ignore[union-attr]
                self._cancel_page(page_id)
        self._settle()

    def _action(self, key: str) -> ActionStatus | None:
        return next((a for a in self._s.actions if a.key == key), None)

    def _next_action_due(self) -> datetime | None:
        dues = [a.due_at for a in self._s.actions if a.state == "waiting" and a.due_at]
        return min(dues) if dues else None

    def _escalate_overdue(self) -> None:
        """Every waiting action past its due time takes its next step; one page per target."""
        now = workflow.now()
        batches: dict[tuple[int, str, Slot], list[ActionStatus]] = defaultdict(list)
        for action in self._s.actions:
            if action.state != "waiting" or action.due_at is None or action.due_at > now:
                continue
            action.step += 1
            last = action.step >= len(ESCALATION_STEPS) - 1
            action.due_at = None if last else now + self._grace()
            role = "business_lead" if last else action.owner_role
            slot: Slot = "backup" if action.step == 2 else "primary"
            batches[(action.step, role, slot)].append(action)
        for (step, role, slot), actions in batches.items():
            target, who = self._holder_target(role, slot)
            what = f"OVERDUE, {ESCALATION_STEPS[step]}"
            self._record(
                SYSTEM_ACTOR,
                "overdue",
                f"Not confirmed past ETA: {', '.join(a.action for a in actions)}; paging {who}.",
                report=True,
            )
            self._page_about(actions, target, who, what)

    # -- function modes -------------------------------------------------------------------------

    def _settle(self) -> None:
        """Move functions on: halted when every halt is done, normal when every resume is."""
        for fid, mode in list(self._s.modes.items()):
            kind = "halt" if mode == "halting" else "resume" if mode == "resuming" else None
            if kind is None:
                continue
            mine = [a for a in self._s.actions if a.function == fid and a.kind == kind]
            if mine and all(a.state == "done" for a in mine):
                name = self._plans()[fid].name
                self._s.modes[fid] = "halted" if kind == "halt" else "normal"
                word = "halted" if kind == "halt" else "back to normal"
                self._record(SYSTEM_ACTOR, "emergency", f"{name}: {word}.", report=True)
        self._resume_due()
        self._publish()

    def _resume_due(self) -> None:
        """After the resolution message, resume each halted function once those before it are."""
        s = self._s
        if s.resolution_sent_at is None or s.parent_phase not in ("resolved", "closed"):
            return
        started = True
        while started:
            started = False
            for fid, function in self._plans().items():
                waiting_for = [
                    f for f in function.resume_after if s.modes.get(f, "normal") != "normal"
                ]
                if s.modes.get(fid) != "halted" or waiting_for:
                    continue
                s.modes[fid] = "resuming"
                self._record(SYSTEM_ACTOR, "emergency", f"{function.name}: resuming.", report=True)
                self._begin(function, "resume", function.resume)
                started = True


def _said(cause: BaseException | None) -> str:
    if isinstance(cause, ApplicationError):
        details = cause.details[0] if cause.details else None
        status = details.get("status") if isinstance(details, dict) else None
        return f"HTTP {status}" if status else (cause.type or "failed")
    return type(cause).__name__ if cause is not None else "failed"


def _pause(cause: BaseException | None, attempt: int) -> timedelta:
    if isinstance(cause, ApplicationError) and cause.details:
        details = cause.details[0]
        after = details.get("retry_after") if isinstance(details, dict) else None
        if isinstance(after, int | float) and 0 < after <= 60:
            return timedelta(seconds=float(after))
    return CALL_PAUSE * float(2 ** (attempt - 1))


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes else f"{int(delta.total_seconds())} s"
