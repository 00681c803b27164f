"""How an incident pages: its team, its commander, on demand; stand-downs; the PagerDuty mirror.

Pages are child workflows that outlive the incident's run (ParentClosePolicy.ABANDON): they
report their ack and their end by signalling the incident's workflow id, which reaches the newest
run after any number of continue-as-new.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, CancelledError, FailureError

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import SYSTEM_ACTOR, PageOnDemand
    from workflows.escalation_contracts import (
        EscalationInput,
        FirstLevelPaged,
        FirstPageRequest,
        NotifyRequest,
        PagePolicy,
        PagerDutyAction,
        PagerDutyEvent,
        PageTarget,
        PolicyLevel,
        ResolveLevelRequest,
    )
    from workflows.incident_core import IncidentCore, cause
    from workflows.incident_legacy import FIRST_PAGE_LOCAL
    from workflows.phases import Phase

FIRST_PAGE_TIMEOUT = timedelta(seconds=10)
PAGERDUTY_TIMEOUT = timedelta(seconds=15)
PAGERDUTY_BUDGET = timedelta(minutes=10)
STAND_DOWN_TIMEOUT = timedelta(seconds=30)
PAGE_REPORT_GRACE = timedelta(seconds=30)
"""How long a closing incident waits for its cancelled pages to report their steps."""
PAGERDUTY_IN_ORDER = "pagerduty-in-order"
"""Patch id (Step 6): PagerDuty events of an incident leave one after another, in order."""
PAGE_TASK_TIMEOUT = timedelta(seconds=2)
"""A page's history is small and replays in milliseconds: a worker killed mid-task costs 2 s,
not Temporal's default 10 s, before another worker takes the page on."""
PERSON_ACK_TIMEOUT = timedelta(minutes=5)
"""Ack window of a page to one person (the guide's 5 minutes), before time scaling."""


class IncidentPaging(IncidentCore):
    """Starting, stopping and following pages; the phase moves that start or stop them."""

    _cancelling: set[str]
    _quiet_changed: bool
    _mirror_last: asyncio.Task[None] | None

    async def _drain(self) -> None:
        """Let every handler and side task finish, so nothing is lost across the boundary."""
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            pending = [task for task in self._tasks if not task.done()]
            if not pending:
                break
            await asyncio.gather(*pending)
        self._tasks.clear()

    async def _page_at_declaration(self) -> None:
        """The owning team (fast path for level 1) and, at the threshold, the commander."""
        self._s.declaration_paged = True
        self._page_team("declared", fast=True)
        self._page_commander_if_due()
        # The fast path's local activity runs in this task; waiting here keeps `run` simple.
        for task in list(self._tasks):
            if not task.done():
                await task

    def _page_team(self, why: str, *, fast: bool = False) -> str | None:
        inp, decl = self._input, self._input.declaration
        if self._urgency() == "none":
            self._record(
                SYSTEM_ACTOR,
                "page",
                f"{self._s.severity} pages nobody (page urgency none); handle it as a ticket.",
            )
            return None
        policy = inp.playbook.service_policies.get(decl.service)
        if policy is None:
            self._record(SYSTEM_ACTOR, "page", f"No escalation policy pages {decl.service}.")
            return None
        service_name = inp.playbook.service_names.get(decl.service, decl.service)
        page_id = self._start_page(
            target=policy.id,
            policy=policy,
            purpose="page",
            summary=self._message_summary(service_name),
            text=f"Paging the {decl.service} on-call ({policy.id}, {why}).",
            fast=fast,
        )
        self._mirror_to_pagerduty("trigger")
        return page_id

    def _page_commander_if_due(self) -> None:
        playbook = self._input.playbook
        threshold = playbook.commander_threshold
        if threshold is None or playbook.rank(self._s.severity) > playbook.rank(threshold):
            return
        if any(target == "role:incident_commander" for target in self._page_targets()):
            return
        self._page_role("incident_commander", f"{self._s.severity} pages the commander")

    def _page_targets(self) -> list[str]:
        return [self._s.page_targets.get(page_id, "") for page_id in self._s.pages]

    def _page_role(self, role: str, why: str) -> str:
        playbook = self._input.playbook
        policy = playbook.role_policies[role]
        name = playbook.roles.get(role, role)
        return self._start_page(
            target=f"role:{role}",
            policy=policy,
            purpose="role-page",
            summary=self._message_summary(),
            text=f"Paging the {name} ({policy.id}, {why}).",
            role_name=name,
            both=role in playbook.role_both,
        )

    def _start_page(
        self,
        *,
        target: str,
        policy: PagePolicy,
        purpose: str,
        summary: str,
        text: str,
        role_name: str | None = None,
        both: bool = False,
        fast: bool = False,
    ) -> str:
        """Start a page workflow (a child that outlives this run) and return its id."""
        self._s.page_sequence += 1
        info = workflow.info()
        # Run ids are UUIDv7: their head is a timestamp, their tail is random.
        chain = info.first_execution_run_id.replace("-", "")[-6:]
        page_id = f"{info.workflow_id}-page-{self._s.page_sequence}-{chain}"
        urgency = "low" if self._urgency() == "low" else "high"
        page = EscalationInput(
            incident_id=info.workflow_id,
            target=target,
            policy=policy,
            time_scale=self._input.time_scale,
            purpose=purpose,
            summary=summary,
            both_primary_and_backup=both,
            severity=self._s.severity,
            service=self._input.declaration.service,
            role_name=role_name,
            urgency=urgency,
            report=True,
            restricted=self._input.declaration.security,
        )
        self._s.pages[page_id] = "notifying"
        self._s.page_targets[page_id] = target
        self._record(SYSTEM_ACTOR, "page", text)
        fast = fast and urgency == "high" and workflow.patched(FIRST_PAGE_LOCAL)
        self._tasks.append(asyncio.create_task(self._launch_page(page_id, page, fast=fast)))
        self._publish()
        return page_id

    async def _launch_page(self, page_id: str, page: EscalationInput, *, fast: bool) -> None:
        if fast:
            page.first_level = await self._first_page(page_id, page)
            if not self._s.phase.is_open:
                # Resolved while the first page was on its way: nobody else needs waking.
                self._s.pages[page_id] = "cancelled"
                return
        try:
            handle = await workflow.start_child_workflow(
                "EscalationWorkflow",
                page,
                id=page_id,
                task_queue=self._input.page_task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                task_timeout=PAGE_TASK_TIMEOUT,
                static_summary=f"Page {page.target} for {page.service}",
            )
        except FailureError as err:
            self._s.pages[page_id] = "failed"
            self._record(
                SYSTEM_ACTOR,
                "page-failed",
                f"Page {page_id} could not start ({type(err).__name__}); page again with "
                "`mayday page`.",
            )
            self._publish()
            return
        # The page reports by signal; its result, or its cancellation, is not awaited here.
        handle.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _first_page(self, page_id: str, page: EscalationInput) -> FirstLevelPaged | None:
        """Send level 1 from this very task: the page leaves before a page workflow exists."""
        request = FirstPageRequest(
            level=ResolveLevelRequest(
                incident_id=page.incident_id,
                targets=page.policy.levels[0].targets,
                both_primary_and_backup=page.both_primary_and_backup,
                at=workflow.now(),
            ),
            page_id=page_id,
            purpose=page.purpose,
            summary=page.summary,
            severity=page.severity,
            service=page.service,
            role_name=page.role_name,
            restricted=page.restricted,
        )
        try:
            first: FirstLevelPaged = await workflow.execute_local_activity(
                "first_page",
                request,
                result_type=FirstLevelPaged,
                start_to_close_timeout=FIRST_PAGE_TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=1),
                summary="first page, level 1",
            )
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):
                raise asyncio.CancelledError from None
            # The page workflow pages level 1 itself, with retries and channel fallback.
            return None
        return first

    def _stop_pages(self) -> None:
        if not self._long_lived:
            self._stop_legacy_pages()
            return
        for page_id, state in self._s.pages.items():
            if state == "notifying" and page_id not in self._cancelling:
                self._cancelling.add(page_id)
                self._tasks.append(asyncio.create_task(self._cancel_page(page_id)))

    async def _cancel_page(self, page_id: str) -> None:
        # A page that already ended has sent, or is sending, its report.
        with contextlib.suppress(FailureError):
            await workflow.get_external_workflow_handle(page_id).cancel()

    async def _close_pages(self) -> None:
        """A closing incident stops its pages and waits briefly for their last steps."""
        self._stop_pages()
        await self._drain()
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: "notifying" not in self._s.pages.values(),
                timeout=PAGE_REPORT_GRACE,
                timeout_summary="pages report their last steps",
            )

    def _stand_down(self) -> None:
        """Tell whoever a page woke, and who never acked, that they can go back to sleep."""
        for page_id, people in self._s.woken.items():
            for person, channel in people.items():
                self._tasks.append(
                    asyncio.create_task(self._send_stand_down(page_id, person, channel))
                )
        self._s.woken = {}

    async def _send_stand_down(self, page_id: str, person: str, channel: str) -> None:
        decl = self._input.declaration
        request = NotifyRequest(
            notification_id=f"{page_id}:stand-down:0:1:{person}:{channel}",
            incident_id=workflow.info().workflow_id,
            purpose="stand-down",
            person=person,
            channel="email" if channel == "email" else "sms",
            level=0,
            summary=self._message_summary(),
            severity=self._s.severity,
            service=decl.service,
            restricted=decl.security,
        )
        try:
            await workflow.execute_activity(
                "notify",
                request,
                task_queue=self._input.page_task_queue,
                start_to_close_timeout=STAND_DOWN_TIMEOUT,
                retry_policy=RetryPolicy(maximum_attempts=3),
                summary=f"stand-down, {request.channel}",
            )
        except ActivityError as err:
            self._record(SYSTEM_ACTOR, "page", f"Stand-down to {person} failed ({cause(err)}).")
            return
        self._record(SYSTEM_ACTOR, "page", f"{person} told by {request.channel} to stand down")

    def _mirror_to_pagerduty(self, action: PagerDutyAction) -> None:
        """Keep the PagerDuty alert in step (trigger, acknowledge, resolve) when configured."""
        if not self._input.pagerduty_events:
            return
        decl = self._input.declaration
        event = PagerDutyEvent(
            incident_id=workflow.info().workflow_id,
            action=action,
            summary=(
                self._message_summary()
                if decl.security
                else f"[{self._s.severity}] {decl.service}: {self._title()}"
            ),
            severity=self._s.severity,
        )
        if self._long_lived and workflow.patched(PAGERDUTY_IN_ORDER):
            # Trigger, acknowledge, resolve: a retried trigger must never land after the resolve.
            task = asyncio.create_task(self._send_pagerduty_after(self._mirror_last, event))
            self._mirror_last = task
            self._tasks.append(task)
            return
        task = asyncio.create_task(self._send_pagerduty(event))
        (self._tasks if self._long_lived else self._mirror_tasks).append(task)

    async def _send_pagerduty_after(
        self, previous: asyncio.Task[None] | None, event: PagerDutyEvent
    ) -> None:
        if previous is not None and not previous.done():
            await previous
        await self._send_pagerduty(event)

    async def _send_pagerduty(self, event: PagerDutyEvent) -> None:
        try:
            await workflow.execute_activity(
                "pagerduty_event",
                event,
                task_queue=self._input.page_task_queue,
                start_to_close_timeout=PAGERDUTY_TIMEOUT,
                schedule_to_close_timeout=PAGERDUTY_BUDGET,
                summary=f"PagerDuty {event.action}",
            )
        except ActivityError as err:
            self._record(
                SYSTEM_ACTOR, "pagerduty", f"PagerDuty {event.action} failed ({cause(err)})."
            )

    def _move(self, actor: str, phase: Phase, kind: str, note: str | None) -> None:
        old, self._s.phase = self._s.phase, phase
        suffix = f": {note}" if note else ""
        self._record(actor, kind, f"Phase {old.value} → {phase.value}{suffix}")
        if phase is Phase.RESOLVED:
            self._s.resolved_at = workflow.now()
            self._quiet_changed = True
        if not phase.is_open and old.is_open:
            # A resolved incident pages nobody.
            self._stop_pages()
            if phase is Phase.RESOLVED:
                self._mirror_to_pagerduty("resolve")
            if self._long_lived:
                self._stand_down()
        self._publish()

    def _page_on_demand(self, decision: PageOnDemand) -> str:
        """Start the page a person asked for; its id."""
        playbook = self._input.playbook
        reason = f": {decision.reason}" if decision.reason else ""
        why = f"paged by {decision.actor}{reason}"
        if decision.role:
            return self._page_role(decision.role, why)
        if decision.person:
            person = PageTarget(kind="person", id=decision.person)
            policy = PagePolicy(
                id=f"person-{decision.person}",
                levels=[PolicyLevel(targets=[person], ack_timeout=PERSON_ACK_TIMEOUT)],
            )
            target = f"person:{decision.person}"
        else:
            policy = playbook.policies[decision.policy or ""]
            target = f"policy:{policy.id}"
        return self._start_page(
            target=target,
            policy=policy,
            purpose="page",
            summary=self._message_summary(),
            text=f"Paging {target} ({why}).",
        )
