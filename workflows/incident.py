"""IncidentWorkflow: one durable incident, from declaration to close, over as many runs as it needs.

The incident's whole state lives in one `IncidentState`, which is also what a run hands to the
next when it continues-as-new (on Temporal's suggestion or past this module's budgets). Pages are
child workflows that outlive a run: they report their ack and their end by signalling the
incident's workflow id, which always reaches the newest run.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.alerts import Alert, AlertBatch, AlertDelivery, AlertStatus
    from workflows.contracts import (
        SYSTEM_ACTOR,
        ChangePhase,
        ChangeSeverity,
        Decided,
        IncidentInput,
        IncidentState,
        IncidentStatus,
        PageOnDemand,
        Reopen,
        Resolve,
        TimelineEntry,
    )
    from workflows.escalation_contracts import (
        EscalationInput,
        FirstLevelPaged,
        FirstPageRequest,
        NotifyRequest,
        PageAcked,
        PageEnded,
        PagePolicy,
        PagerDutyAction,
        PagerDutyEvent,
        ResolveLevelRequest,
    )
    from workflows.incident_legacy import FIRST_PAGE_LOCAL, PAGE_OWNING_TEAM, LegacyPaging
    from workflows.page_records import page_timeline, woken_without_ack
    from workflows.phases import REOPENABLE_PHASES, Phase

__all__ = [
    "FIRST_PAGE_LOCAL",
    "PAGE_OWNING_TEAM",
    "IncidentWorkflow",
    "initial_search_attributes",
    "page_timeline",
    "rejected",
]

REJECTED = "DecisionRejected"
LONG_LIVED = "incident-long-lived"
"""Patch id (Step 5): carried state, continue-as-new, pages that report by signal, recurrence,
severity-driven paging, quiet close. Runs recorded before it keep their old behaviour."""
FIRST_PAGE_TIMEOUT = timedelta(seconds=10)
PAGERDUTY_TIMEOUT = timedelta(seconds=15)
PAGERDUTY_BUDGET = timedelta(minutes=10)
STAND_DOWN_TIMEOUT = timedelta(seconds=30)
PAGE_REPORT_GRACE = timedelta(seconds=30)
"""How long a closing incident waits for its cancelled pages to report their steps."""
SEEN_DELIVERIES = 200
"""Delivery ids remembered for dedup; senders resend within minutes, not hundreds of deliveries."""
SIGNAL_BUDGET = 1_000
"""Signals one run takes before continuing-as-new: far below Temporal's 10,000 per run."""
HISTORY_BUDGET = 4_000
"""Events one run grows to before continuing-as-new, whatever Temporal suggests."""
MIN_WAIT = timedelta(seconds=1)
ALERT_LINES_PER_DELIVERY = 5
"""Alert changes of one delivery written line by line; the rest are counted in one line."""


def rejected(reason: str) -> ApplicationError:
    """A decision refused by a validator: the caller sees `reason`, history records nothing."""
    return ApplicationError(reason, type=REJECTED, non_retryable=True)


def initial_search_attributes(inp: IncidentInput) -> TypedSearchAttributes:
    """Search attributes an incident starts with, so it is filterable before its first task."""
    decl, state = inp.declaration, inp.state
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(sa.INCIDENT_SEVERITY, state.severity if state else decl.severity),
        SearchAttributePair(
            sa.INCIDENT_PHASE, state.phase.value if state else Phase.INVESTIGATING.value
        ),
        SearchAttributePair(sa.BUSINESS_SERVICE, decl.service),
        SearchAttributePair(sa.EMERGENCY_MODE, "normal"),
    ]
    commander = state.roles.get("incident_commander") if state else None
    if commander is None and decl.source == "manual":
        commander = decl.actor
    if commander is not None:
        pairs.append(SearchAttributePair(sa.INCIDENT_COMMANDER, commander))
    return TypedSearchAttributes(pairs)


def _cause(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type:
        return cause.type
    return type(cause).__name__ if cause is not None else "ActivityError"


def _fresh_state(inp: IncidentInput) -> IncidentState:
    decl = inp.declaration
    state = IncidentState(severity=decl.severity, phase=Phase.INVESTIGATING)
    if decl.source == "manual":
        # Whoever declares by hand holds command until it is handed over.
        state.roles["incident_commander"] = decl.actor
    return state


@workflow.defn
class IncidentWorkflow(LegacyPaging):
    """Runs one incident from declaration to close; every decision lands on the timeline."""

    @workflow.init
    def __init__(self, inp: IncidentInput) -> None:
        self._input = inp
        self._continued = inp.state is not None
        self._long_lived = self._continued or workflow.patched(LONG_LIVED)
        self._s = inp.state.model_copy(deep=True) if inp.state else _fresh_state(inp)
        self._tasks: list[asyncio.Task[None]] = []
        self._signals = 0
        self._published: dict[str, str] = {}
        self._quiet_changed = False
        self._cancelling: set[str] = set()
        LegacyPaging.__init__(self)
        if self._continued:
            self._s.runs += 1
        else:
            decl = inp.declaration
            # Recorded here, not in run, so that the start signal of an alert lands after them.
            self._record(decl.actor, "declared", f"{decl.severity} on {decl.service}: {decl.title}")
            self._record(
                SYSTEM_ACTOR,
                "playbook",
                f"Playbook {inp.playbook.name} version {inp.playbook.content_hash[:12]}",
            )
        for delivery in inp.pending_alerts:
            self._take_alerts(delivery)

    @workflow.run
    async def run(self, inp: IncidentInput) -> IncidentStatus:
        if not self._continued:
            self._check_declaration()
        self._publish()
        if not self._long_lived:
            return await self._run_legacy()
        if not self._s.declaration_paged:
            await self._page_at_declaration()
        while True:
            deadline = self._quiet_close_at()
            self._quiet_changed = False
            timeout = None if deadline is None else max(deadline - workflow.now(), MIN_WAIT)
            try:
                await workflow.wait_condition(
                    lambda: (
                        self._s.phase is Phase.CLOSED or self._quiet_changed or self._continue_due()
                    ),
                    timeout=timeout,
                    timeout_summary="quiet close",
                )
            except TimeoutError:
                self._quiet_close()
                continue
            if self._s.phase is Phase.CLOSED:
                break
            if self._continue_due():
                await self._continue()
        await self._close_pages()
        await self._drain()
        if self._s.late_alerts:
            self._continue_with_late_alerts()
        return self._status()

    # -- continue-as-new ------------------------------------------------------------------

    def _continue_due(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= HISTORY_BUDGET
            or self._signals >= SIGNAL_BUDGET
        )

    async def _drain(self) -> None:
        """Let every handler and side task finish, so nothing is lost across the boundary."""
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            pending = [task for task in self._tasks if not task.done()]
            if not pending:
                break
            await asyncio.gather(*pending)
        self._tasks.clear()

    async def _continue(self) -> None:
        await self._drain()
        following = self._input.model_copy(
            update={"state": self._s, "pending_alerts": [], "first_level": None}
        )
        workflow.continue_as_new(following, search_attributes=initial_search_attributes(following))

    def _continue_with_late_alerts(self) -> None:
        """Alerts that fired while this incident closed open the next one under the same id."""
        inp, first = self._input, self._s.late_alerts[0].alerts[0]
        decl = inp.declaration.model_copy(
            update={"title": first.title, "severity": inp.declaration.severity}
        )
        following = inp.model_copy(
            update={"declaration": decl, "pending_alerts": list(self._s.late_alerts)}
        )
        if self._long_lived:
            # A new incident under the same id: fresh state, but page ids keep counting.
            state = _fresh_state(following)
            state.page_sequence = self._s.page_sequence
            state.timeline = [
                self._entry(
                    first.source, "declared", f"{decl.severity} on {decl.service}: {decl.title}"
                ),
                self._entry(
                    SYSTEM_ACTOR,
                    "playbook",
                    f"Playbook {inp.playbook.name} version {inp.playbook.content_hash[:12]}",
                ),
            ]
            following = following.model_copy(update={"state": state})
        workflow.continue_as_new(following, search_attributes=initial_search_attributes(following))

    # -- paging ---------------------------------------------------------------------------

    async def _page_at_declaration(self) -> None:
        """The owning team (fast path for level 1) and, at the threshold, the commander."""
        self._s.declaration_paged = True
        self._page_team("declared", fast=True)
        self._page_commander_if_due()
        # The fast path's local activity runs in this task; waiting here keeps `run` simple.
        for task in list(self._tasks):
            if not task.done():
                await task

    def _urgency(self) -> str:
        return self._input.playbook.page_urgency.get(self._s.severity, "high")

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
            summary=f"{self._s.severity} {service_name}: {decl.title}",
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
        playbook, decl = self._input.playbook, self._input.declaration
        policy = playbook.role_policies[role]
        name = playbook.roles.get(role, role)
        return self._start_page(
            target=f"role:{role}",
            policy=policy,
            purpose="role-page",
            summary=f"{self._s.severity} {decl.service}: {decl.title}",
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
                timeout=PAGE_REPORT_GRACE * self._input.time_scale,
                timeout_summary="pages report their last steps",
            )

    @workflow.signal(description="A page of this incident was taken (sent by the page itself).")
    def page_acked(self, acked: PageAcked) -> None:
        self._signals += 1
        if self._s.pages.get(acked.page_id) != "notifying":
            return
        self._s.pages[acked.page_id] = "acked"
        via = f" via {acked.via}" if acked.via else ""
        self._record(acked.acked_by, "ack", f"Page acknowledged by {acked.acked_by}{via}.")
        if acked.via != "pagerduty":
            self._mirror_to_pagerduty("acknowledge")
        self._take_command(acked.acked_by)
        self._publish()

    @workflow.signal(description="A page of this incident ended, with every step it took.")
    def page_ended(self, ended: PageEnded) -> None:
        self._signals += 1
        if ended.page_id not in self._s.pages:
            return
        status = ended.status
        self._s.pages[ended.page_id] = status.state
        self._s.timeline.extend(page_timeline(status.events))
        self._s.timeline.sort(key=lambda entry: entry.at)
        if status.state == "exhausted":
            self._s.unacknowledged = True
            self._record(SYSTEM_ACTOR, "unacknowledged", "Nobody acknowledged the page.")
        elif status.state == "cancelled":
            self._record(SYSTEM_ACTOR, "page", f"Page {ended.page_id} stopped.")
        if status.state != "acked":
            woken = woken_without_ack(status)
            if woken:
                self._s.woken[ended.page_id] = dict(woken)
                if not self._s.phase.is_open:
                    self._stand_down()
        self._publish()

    def _take_command(self, person: str) -> None:
        if "incident_commander" in self._s.roles or person not in self._input.playbook.people:
            return
        # Whoever takes the page leads until command is handed over.
        self._s.roles["incident_commander"] = person
        self._publish()

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
            summary=f"{self._s.severity} {decl.service}: {decl.title}",
            severity=self._s.severity,
            service=decl.service,
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
            self._record(SYSTEM_ACTOR, "page", f"Stand-down to {person} failed ({_cause(err)}).")
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
            summary=f"[{self._s.severity}] {decl.service}: {decl.title}",
            severity=self._s.severity,
        )
        task = asyncio.create_task(self._send_pagerduty(event))
        (self._tasks if self._long_lived else self._mirror_tasks).append(task)

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
                SYSTEM_ACTOR, "pagerduty", f"PagerDuty {event.action} failed ({_cause(err)})."
            )

    @workflow.update(description="Page a role's holder, a person or a policy now.")
    def page(self, decision: PageOnDemand) -> Decided:
        mark = len(self._s.timeline)
        playbook = self._input.playbook
        reason = f": {decision.reason}" if decision.reason else ""
        why = f"paged by {decision.actor}{reason}"
        if decision.role:
            page_id = self._page_role(decision.role, why)
        else:
            if decision.person:
                policy = PagePolicy.model_validate(
                    {
                        "id": f"person-{decision.person}",
                        "levels": [
                            {
                                "targets": [{"kind": "person", "id": decision.person}],
                                "ack_timeout": playbook.role_policies["incident_commander"]
                                .levels[0]
                                .ack_timeout
                                if "incident_commander" in playbook.role_policies
                                else timedelta(minutes=5),
                            }
                        ],
                    }
                )
                target = f"person:{decision.person}"
            else:
                policy = playbook.policies[decision.policy or ""]
                target = f"policy:{policy.id}"
            decl = self._input.declaration
            page_id = self._start_page(
                target=target,
                policy=policy,
                purpose="page",
                summary=f"{self._s.severity} {decl.service}: {decl.title}",
                text=f"Paging {target} ({why}).",
            )
        return self._decided(mark, page_id=page_id)

    @page.validator
    def _validate_page(self, decision: PageOnDemand) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        playbook = self._input.playbook
        if not self._long_lived:
            raise rejected("This incident predates on-demand pages; declare a new one.")
        if decision.role and decision.role not in playbook.role_policies:
            known = ", ".join(sorted(playbook.role_policies))
            raise rejected(f"Unknown role {decision.role!r}; the playbook has {known}.")
        if decision.person and decision.person not in playbook.people:
            raise rejected(f"Unknown person {decision.person!r}: not in the playbook's directory.")
        if decision.policy and decision.policy not in playbook.policies:
            known = ", ".join(sorted(playbook.policies))
            raise rejected(
                f"Unknown escalation policy {decision.policy!r}; the playbook has {known}."
            )

    # -- alerts ---------------------------------------------------------------------------

    @workflow.signal(description="Alerts from a monitoring source, deduplicated by fingerprint.")
    def alert(self, delivery: AlertDelivery) -> None:
        self._signals += 1
        self._take_delivery(delivery)

    @workflow.signal(description="Several alert deliveries at once (group commit, big deliveries).")
    def alert_batch(self, batch: AlertBatch) -> None:
        self._signals += 1
        for delivery in batch.deliveries:
            self._take_delivery(delivery)

    def _take_delivery(self, delivery: AlertDelivery) -> None:
        if delivery.delivery_id in self._s.deliveries:
            return
        if self._s.phase is Phase.CLOSED:
            # The sender got this incident's id; keep the alert for the incident that follows.
            if any(item.status is AlertStatus.FIRING for item in delivery.alerts):
                self._s.late_alerts.append(delivery)
            return
        if self._take_alerts(delivery):
            if self._all_alerts_resolved():
                self._on_alerts_resolved(delivery.source)
            self._publish()

    def _take_alerts(self, delivery: AlertDelivery) -> bool:
        """Record what changed in a delivery (new, re-fired or resolved alerts); True if any."""
        s = self._s
        s.deliveries = [*s.deliveries[-(SEEN_DELIVERIES - 1) :], delivery.delivery_id]
        lines: list[str] = []
        refired, changed = False, False
        for item in delivery.alerts:
            previous = s.alerts.get(item.fingerprint)
            if self._long_lived and self._stale(item, delivery.received_at):
                continue
            if item.status is AlertStatus.FIRING:
                episode = self._new_episode(item, previous)
                self._note_firing(item, delivery.received_at)
                if not episode:
                    continue
                again = " again" if previous is not None else ""
                lines.append(f"Alert firing{again}: {item.title}")
                refired = refired or s.phase is Phase.RESOLVED
                if self._long_lived:
                    self._raise_for_alert(item, delivery.source)
            elif previous == AlertStatus.FIRING.value:
                s.ended_at[item.fingerprint] = item.ends_at or delivery.received_at
                lines.append(f"Alert resolved: {item.title}")
            elif previous is not None or self._long_lived:
                # Already resolved, or (since Step 5) a resolve of an alert never seen firing.
                continue
            s.alerts[item.fingerprint] = item.status.value
            changed = True
        for text in lines[:ALERT_LINES_PER_DELIVERY]:
            self._record(delivery.source, "alert", text)
        if len(lines) > ALERT_LINES_PER_DELIVERY:
            self._record(
                delivery.source,
                "alert",
                f"…and {len(lines) - ALERT_LINES_PER_DELIVERY} more alert changes in this "
                f"delivery ({len(s.alerts)} alerts in all).",
            )
        if refired and s.phase is Phase.RESOLVED and self._long_lived:
            self._recur(delivery)
        if changed:
            self._quiet_changed = True
        return changed

    def _new_episode(self, item: Alert, previous: str | None) -> bool:
        """Whether a firing alert is news: first seen, firing after a resolve, or re-fired.

        An alert still on record as firing counts again once its source gives a later start
        (a new episode), or, for sources without timestamps, once the incident was resolved.
        """
        if previous != AlertStatus.FIRING.value:
            return True
        if not self._long_lived:
            return False
        known = self._s.fired_at.get(item.fingerprint)
        if item.starts_at is not None:
            return known is not None and item.starts_at > known
        return self._s.phase is Phase.RESOLVED

    def _note_firing(self, item: Alert, received_at: datetime) -> None:
        s = self._s
        s.last_fired = workflow.now()
        known = s.fired_at.get(item.fingerprint)
        fired = item.starts_at or received_at
        if known is None or fired > known:
            s.fired_at[item.fingerprint] = fired

    def _stale(self, item: Alert, received_at: datetime) -> bool:
        """A delivery older than what the incident already knows of this alert changes nothing."""
        if item.status is AlertStatus.RESOLVED:
            fired = self._s.fired_at.get(item.fingerprint)
            ended = item.ends_at or received_at
            return fired is not None and ended < fired
        ended_at = self._s.ended_at.get(item.fingerprint)
        return item.starts_at is not None and ended_at is not None and item.starts_at < ended_at

    def _raise_for_alert(self, item: Alert, source: str) -> None:
        playbook = self._input.playbook
        if item.severity is None or item.severity not in playbook.severities:
            return
        if playbook.rank(item.severity) >= playbook.rank(self._s.severity):
            return
        old, self._s.severity = self._s.severity, item.severity
        self._record(source, "severity", f"Severity {old} → {item.severity}: alert {item.title}")
        self._after_raise(old)

    def _after_raise(self, old: str) -> None:
        """A raised severity pages what it now calls for: the team if nobody was, the IC."""
        if not self._s.phase.is_open or not self._s.declaration_paged:
            # Paging at declaration reads the severity the first alerts left.
            return
        was_unpaged = self._input.playbook.page_urgency.get(old, "high") == "none"
        if was_unpaged:
            self._page_team(f"raised to {self._s.severity}")
        self._page_commander_if_due()

    def _recur(self, delivery: AlertDelivery) -> None:
        s = self._s
        s.resolved_at = None
        if self._input.on_refire == "record":
            self._record(
                SYSTEM_ACTOR,
                "recurred",
                "The alert fired again after resolve; its route only records it.",
            )
            return
        self._move(delivery.source, Phase.INVESTIGATING, "recurred", "the alert fired again")
        self._page_team("recurred")
        self._page_commander_if_due()

    def _all_alerts_resolved(self) -> bool:
        return bool(self._s.alerts) and all(
            status == AlertStatus.RESOLVED.value for status in self._s.alerts.values()
        )

    def _on_alerts_resolved(self, source: str) -> None:
        if not self._s.phase.is_open:
            return
        if self._input.auto_resolve:
            self._move(source, Phase.RESOLVED, "resolved", "every alert resolved (route opt-in)")
        else:
            # The guide leaves resolution to a person: tell the commander, change nothing.
            self._record(
                SYSTEM_ACTOR,
                "alerts-resolved",
                "Every alert has resolved; the incident commander decides whether to resolve.",
            )

    # -- quiet close ----------------------------------------------------------------------

    def _quiet_close_at(self) -> datetime | None:
        playbook, s = self._input.playbook, self._s
        if s.phase is not Phase.RESOLVED or s.resolved_at is None:
            return None
        if playbook.quiet_close_after is None or s.severity in playbook.postmortem_severities:
            return None
        if any(status == AlertStatus.FIRING.value for status in s.alerts.values()):
            return None
        quiet_since = max(s.resolved_at, s.last_fired or s.resolved_at)
        return quiet_since + playbook.quiet_close_after * self._input.time_scale

    def _quiet_close(self) -> None:
        deadline = self._quiet_close_at()
        if deadline is None or deadline > workflow.now():
            return
        quiet = self._input.playbook.quiet_close_after
        self._move(SYSTEM_ACTOR, Phase.CLOSED, "closed", f"quiet for {quiet} after resolve")

    # -- decisions ------------------------------------------------------------------------

    @workflow.query(description="The incident's current state and timeline.")
    def status(self) -> IncidentStatus:
        return self._status()

    @workflow.update(description="Set the severity (raise while open; set the final one after).")
    def change_severity(self, decision: ChangeSeverity) -> Decided:
        mark = len(self._s.timeline)
        old, self._s.severity = self._s.severity, decision.severity
        reason = f" ({decision.reason})" if decision.reason else ""
        self._record(decision.actor, "severity", f"Severity {old} → {decision.severity}{reason}")
        if self._long_lived and self._input.playbook.rank(decision.severity) < (
            self._input.playbook.rank(old)
        ):
            self._after_raise(old)
        self._publish()
        return self._decided(mark)

    @change_severity.validator
    def _validate_severity(self, decision: ChangeSeverity) -> None:
        self._check_actor(decision.actor)
        playbook = self._input.playbook
        if decision.severity not in playbook.severities:
            known = ", ".join(playbook.severities)
            raise rejected(f"Unknown severity {decision.severity!r}; the playbook has {known}.")
        if decision.severity == self._s.severity:
            raise rejected(f"The incident is already {self._s.severity}.")
        lowering = playbook.rank(decision.severity) > playbook.rank(self._s.severity)
        if lowering and self._s.phase.is_open:
            raise rejected(
                f"Severity is only raised while the incident is {self._s.phase.value}; "
                f"set a lower final severity once it is resolved."
            )
        self._check_not_closed()

    @workflow.update(description="Move the technical phase one step forward.")
    def change_phase(self, decision: ChangePhase) -> Decided:
        mark = len(self._s.timeline)
        self._move(decision.actor, decision.phase, "phase", decision.note)
        return self._decided(mark)

    @change_phase.validator
    def _validate_phase(self, decision: ChangePhase) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        allowed = self._s.phase.next()
        if decision.phase == self._s.phase:
            raise rejected(f"The incident is already {self._s.phase.value}.")
        if decision.phase != allowed:
            hint = (
                " Use `mayday reopen` to go back."
                if decision.phase.rank < self._s.phase.rank
                else ""
            )
            raise rejected(
                f"Cannot move from {self._s.phase.value} to {decision.phase.value}; "
                f"the allowed next phase is {allowed.value if allowed else None}.{hint}"
            )

    @workflow.update(description="Mark the technical incident resolved.")
    def resolve(self, decision: Resolve) -> Decided:
        mark = len(self._s.timeline)
        self._move(decision.actor, Phase.RESOLVED, "resolved", decision.note)
        return self._decided(mark)

    @resolve.validator
    def _validate_resolve(self, decision: Resolve) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        if not self._s.phase.is_open:
            raise rejected(f"The incident is already {self._s.phase.value}.")

    @workflow.update(description="Return the incident to investigating; the reason is recorded.")
    def reopen(self, decision: Reopen) -> Decided:
        mark = len(self._s.timeline)
        was_open = self._s.phase.is_open
        self._move(decision.actor, Phase.INVESTIGATING, "reopened", decision.reason)
        if self._long_lived and not was_open:
            self._page_team("reopened")
            self._page_commander_if_due()
        return self._decided(mark)

    @reopen.validator
    def _validate_reopen(self, decision: Reopen) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        if self._s.phase not in REOPENABLE_PHASES:
            raise rejected(f"An incident that is {self._s.phase.value} cannot be reopened.")
        if not decision.reason.strip():
            raise rejected("A reopen needs a reason for the record.")

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

    def _check_declaration(self) -> None:
        decl, playbook = self._input.declaration, self._input.playbook
        problems = []
        if decl.severity not in playbook.severities:
            problems.append(f"unknown severity {decl.severity!r}")
        if decl.service not in playbook.services:
            problems.append(f"unknown service {decl.service!r}")
        if decl.source == "manual" and decl.actor not in playbook.people:
            problems.append(f"unknown actor {decl.actor!r}")
        if problems:
            raise ApplicationError(
                "Invalid declaration: " + "; ".join(problems),
                type="InvalidDeclaration",
                non_retryable=True,
            )

    def _check_actor(self, actor: str) -> None:
        if actor not in self._input.playbook.people:
            raise rejected(f"Unknown actor {actor!r}: not in the playbook's directory.")

    def _check_not_closed(self) -> None:
        if self._s.phase is Phase.CLOSED:
            raise rejected("The incident is closed; declare a new one.")

    def _record(self, actor: str, kind: str, text: str) -> None:
        self._s.timeline.append(self._entry(actor, kind, text))

    @staticmethod
    def _entry(actor: str, kind: str, text: str) -> TimelineEntry:
        return TimelineEntry(at=workflow.now(), actor=actor, kind=kind, text=text)

    def _publish(self) -> None:
        """Mirror state into search attributes (on change) and the UI's current-details panel."""
        wanted = {
            sa.INCIDENT_SEVERITY.name: self._s.severity,
            sa.INCIDENT_PHASE.name: self._s.phase.value,
        }
        commander = self._s.roles.get("incident_commander")
        if commander is not None:
            wanted[sa.INCIDENT_COMMANDER.name] = commander
        if not self._long_lived:
            workflow.upsert_search_attributes(
                [
                    sa.INCIDENT_SEVERITY.value_set(self._s.severity),
                    sa.INCIDENT_PHASE.value_set(self._s.phase.value),
                ]
            )
        elif not self._published:
            # First publish of a run: the start (or continue-as-new) already set these.
            self._published = dict(wanted)
        elif wanted != self._published:
            keys = {key.name: key for key in sa.ALL}
            workflow.upsert_search_attributes(
                [
                    keys[name].value_set(value)
                    for name, value in wanted.items()
                    if self._published.get(name) != value
                ]
            )
            self._published = dict(wanted)
        decl = self._input.declaration
        last = self._s.timeline[-1]
        workflow.set_current_details(
            f"**{self._s.severity}** · `{decl.service}` · **{self._s.phase.value}**\n\n"
            f"Commander: `{commander or 'unassigned'}`\n\n"
            f"Last: {last.at:%H:%M:%S}Z {last.text}"
        )

    def _decided(self, mark: int, *, page_id: str | None = None) -> Decided:
        """The answer to a decision whose first timeline line is at index `mark`."""
        lines = self._s.timeline[mark:]
        return Decided(
            id=workflow.info().workflow_id,
            severity=self._s.severity,
            phase=self._s.phase,
            text=lines[0].text if lines else "",
            page_id=page_id,
        )

    def _status(self) -> IncidentStatus:
        decl, info, s = self._input.declaration, workflow.info(), self._s
        return IncidentStatus(
            id=info.workflow_id,
            service=decl.service,
            title=decl.title,
            severity=s.severity,
            phase=s.phase,
            source=decl.source,
            declared_at=s.timeline[0].at if s.timeline else workflow.now(),
            declared_by=decl.actor,
            time_scale=self._input.time_scale,
            playbook=self._input.playbook.name,
            playbook_hash=self._input.playbook.content_hash,
            roles=dict(s.roles),
            timeline=list(s.timeline),
            alerts=dict(s.alerts),
            pages=dict(s.pages),
            unacknowledged=s.unacknowledged,
        )
