"""IncidentWorkflow: one durable run per incident, holding severity, phase, roles and timeline."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
)
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.alerts import AlertBatch, AlertDelivery, AlertStatus
    from workflows.contracts import (
        SYSTEM_ACTOR,
        ChangePhase,
        ChangeSeverity,
        IncidentInput,
        IncidentStatus,
        Reopen,
        Resolve,
        TimelineEntry,
    )
    from workflows.escalation_contracts import (
        EscalationInput,
        FirstLevelPaged,
        FirstPageRequest,
        PageEvent,
        PagerDutyAction,
        PagerDutyEvent,
        PageStatus,
        ResolveLevelRequest,
    )
    from workflows.phases import REOPENABLE_PHASES, Phase

REJECTED = "DecisionRejected"
FIRST_PAGE_LOCAL = "first-page-local"
"""Patch id: level 1 is paged by a local activity in the incident's first task."""
FIRST_PAGE_TIMEOUT = timedelta(seconds=10)
PAGERDUTY_TIMEOUT = timedelta(seconds=15)
PAGERDUTY_BUDGET = timedelta(minutes=10)
PAGE_OWNING_TEAM = "page-owning-team"
"""Patch id: incidents started before paging existed replay without a page."""
SEEN_DELIVERIES = 200
"""Delivery ids remembered for dedup; senders resend within minutes, not hundreds of deliveries."""


def rejected(reason: str) -> ApplicationError:
    """A decision refused by a validator: the caller sees `reason`, history records nothing."""
    return ApplicationError(reason, type=REJECTED, non_retryable=True)


def initial_search_attributes(inp: IncidentInput) -> TypedSearchAttributes:
    """Search attributes an incident starts with, so it is filterable before its first task."""
    decl = inp.declaration
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(sa.INCIDENT_SEVERITY, decl.severity),
        SearchAttributePair(sa.INCIDENT_PHASE, Phase.INVESTIGATING.value),
        SearchAttributePair(sa.BUSINESS_SERVICE, decl.service),
        SearchAttributePair(sa.EMERGENCY_MODE, "normal"),
    ]
    if decl.source == "manual":
        pairs.append(SearchAttributePair(sa.INCIDENT_COMMANDER, decl.actor))
    return TypedSearchAttributes(pairs)


def _cause(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type:
        return cause.type
    return type(cause).__name__ if cause is not None else "ActivityError"


def page_timeline(events: list[PageEvent]) -> list[TimelineEntry]:
    """A page's steps as timeline entries (its ack is recorded by the incident itself)."""
    entries = []
    for event in events:
        if event.outcome == "acked":
            continue
        if event.outcome == "notified":
            entries.append(
                TimelineEntry(
                    at=event.at,
                    actor=SYSTEM_ACTOR,
                    kind="page",
                    text=f"{event.person} told by {event.channel} who has the page",
                )
            )
            continue
        level = f"Level {event.level}" if event.level else "Fallback"
        who = f" {event.person}" if event.person else ""
        how = f" by {event.channel}" if event.channel else ""
        detail = f" ({event.detail})" if event.detail else ""
        entries.append(
            TimelineEntry(
                at=event.at,
                actor=SYSTEM_ACTOR,
                kind="page",
                text=f"{level}:{who}{how} {event.outcome}{detail}",
            )
        )
    return entries


@workflow.defn
class IncidentWorkflow:
    """Runs one incident from declaration to close; every decision lands on the timeline."""

    @workflow.init
    def __init__(self, inp: IncidentInput) -> None:
        decl = inp.declaration
        self._input = inp
        self._severity = decl.severity
        self._phase = Phase.INVESTIGATING
        self._roles: dict[str, str] = {}
        if decl.source == "manual":
            # Whoever declares by hand holds command until it is handed over.
            self._roles["incident_commander"] = decl.actor
        self._timeline: list[TimelineEntry] = []
        self._alerts: dict[str, AlertStatus] = {}
        self._deliveries: list[str] = []
        self._pages: dict[str, str] = {}
        self._late_alerts: list[AlertDelivery] = []
        self._page_tasks: list[asyncio.Task[None]] = []
        self._mirror_tasks: list[asyncio.Task[None]] = []
        self._unacknowledged = False
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
        self._check_declaration()
        self._publish()
        if workflow.patched(PAGE_OWNING_TEAM):
            await self._page_owning_team()
        await workflow.wait_condition(lambda: self._phase is Phase.CLOSED)
        self._stop_pages()
        await asyncio.gather(*self._page_tasks)
        await asyncio.gather(*self._mirror_tasks)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._late_alerts:
            self._continue_with_late_alerts()
        return self._status()

    def _continue_with_late_alerts(self) -> None:
        """Alerts that fired while this incident closed open the next one under the same id."""
        inp, first = self._input, self._late_alerts[0].alerts[0]
        decl = inp.declaration.model_copy(
            update={"title": first.title, "severity": inp.declaration.severity}
        )
        following = inp.model_copy(
            update={"declaration": decl, "pending_alerts": list(self._late_alerts)}
        )
        workflow.continue_as_new(following, search_attributes=initial_search_attributes(following))

    async def _page_owning_team(self) -> None:
        inp, decl = self._input, self._input.declaration
        policy = inp.playbook.service_policies.get(decl.service)
        if policy is None:
            self._record(SYSTEM_ACTOR, "page", f"No escalation policy pages {decl.service}.")
            return
        page_id = f"{workflow.info().workflow_id}-page-{len(self._pages) + 1}"
        service_name = inp.playbook.service_names.get(decl.service, decl.service)
        page = EscalationInput(
            incident_id=workflow.info().workflow_id,
            target=policy.id,
            policy=policy,
            time_scale=inp.time_scale,
            summary=f"{decl.severity} {service_name}: {decl.title}",
            severity=self._severity,
            service=decl.service,
        )
        self._pages[page_id] = "notifying"
        self._record(SYSTEM_ACTOR, "page", f"Paging the {decl.service} on-call ({policy.id}).")
        if workflow.patched(FIRST_PAGE_LOCAL):
            page.first_level = await self._first_page(page_id, page)
            if not self._phase.is_open:
                # Resolved while the first page was on its way: nobody else needs waking.
                self._pages[page_id] = "cancelled"
                return
        self._page_tasks.append(asyncio.create_task(self._follow_page(page_id, page)))
        self._mirror_to_pagerduty("trigger")

    def _mirror_to_pagerduty(self, action: PagerDutyAction) -> None:
        """Keep the PagerDuty alert in step (trigger, acknowledge, resolve) when configured."""
        if not self._input.pagerduty_events:
            return
        decl = self._input.declaration
        event = PagerDutyEvent(
            incident_id=workflow.info().workflow_id,
            action=action,
            summary=f"[{self._severity}] {decl.service}: {decl.title}",
            severity=self._severity,
        )
        self._mirror_tasks.append(asyncio.create_task(self._send_pagerduty(event)))

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

    async def _follow_page(self, page_id: str, page: EscalationInput) -> None:
        try:
            result = await workflow.execute_child_workflow(
                "EscalationWorkflow",
                page,
                id=page_id,
                task_queue=self._input.page_task_queue,
                parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
                result_type=PageStatus,
                static_summary=f"Page {page.target} for {page.service}",
            )
        except asyncio.CancelledError:
            self._pages[page_id] = "cancelled"
            self._record(SYSTEM_ACTOR, "page", f"Page {page_id} stopped.")
            return
        except ChildWorkflowError as err:
            if isinstance(err.cause, CancelledError):
                self._pages[page_id] = "cancelled"
                self._record(SYSTEM_ACTOR, "page", f"Page {page_id} stopped.")
            else:
                self._pages[page_id] = "failed"
                self._record(
                    SYSTEM_ACTOR,
                    "page-failed",
                    f"Page {page_id} failed ({type(err.cause).__name__}); page by hand.",
                )
            self._publish()
            return
        self._pages[page_id] = result.state
        self._record_page_events(result.events)
        if result.acked_by:
            via = f" via {result.acked_via}" if result.acked_via else ""
            self._record(result.acked_by, "ack", f"Page acknowledged by {result.acked_by}{via}.")
            if result.acked_via != "pagerduty":
                self._mirror_to_pagerduty("acknowledge")
            if (
                "incident_commander" not in self._roles
                and result.acked_by in self._input.playbook.people
            ):
                # Whoever takes the page leads until command is handed over.
                self._roles["incident_commander"] = result.acked_by
                workflow.upsert_search_attributes(
                    [sa.INCIDENT_COMMANDER.value_set(result.acked_by)]
                )
        elif result.state == "exhausted":
            self._unacknowledged = True
            fallback = page.policy.fallback
            paged = f"; {fallback.kind} {fallback.id} was paged" if fallback else ""
            self._record(SYSTEM_ACTOR, "unacknowledged", f"Nobody acknowledged the page{paged}.")
        self._publish()

    def _record_page_events(self, events: list[PageEvent]) -> None:
        self._timeline.extend(page_timeline(events))
        self._timeline.sort(key=lambda entry: entry.at)

    def _stop_pages(self) -> None:
        for task in self._page_tasks:
            if not task.done():
                task.cancel()

    @workflow.signal(description="Alerts from a monitoring source, deduplicated by fingerprint.")
    def alert(self, delivery: AlertDelivery) -> None:
        if delivery.delivery_id in self._deliveries:
            return
        if self._phase is Phase.CLOSED:
            # The sender got this incident's id; keep the alert for the incident that follows.
            if any(item.status is AlertStatus.FIRING for item in delivery.alerts):
                self._late_alerts.append(delivery)
            return
        if self._take_alerts(delivery):
            if self._all_alerts_resolved():
                self._on_alerts_resolved(delivery.source)
            self._publish()

    @workflow.signal(description="Several alert deliveries at once (group commit, big deliveries).")
    def alert_batch(self, batch: AlertBatch) -> None:
        for delivery in batch.deliveries:
            self.alert(delivery)

    def _take_alerts(self, delivery: AlertDelivery) -> bool:
        """Record what changed in a delivery (new, re-fired or resolved alerts); True if any."""
        self._deliveries = [*self._deliveries[-(SEEN_DELIVERIES - 1) :], delivery.delivery_id]
        changed = False
        for item in delivery.alerts:
            previous = self._alerts.get(item.fingerprint)
            if previous is item.status:
                continue
            self._alerts[item.fingerprint] = item.status
            changed = True
            if item.status is AlertStatus.FIRING:
                again = " again" if previous is AlertStatus.RESOLVED else ""
                self._record(delivery.source, "alert", f"Alert firing{again}: {item.title}")
            elif previous is not None:
                self._record(delivery.source, "alert", f"Alert resolved: {item.title}")
        return changed

    def _all_alerts_resolved(self) -> bool:
        return bool(self._alerts) and all(
            status is AlertStatus.RESOLVED for status in self._alerts.values()
        )

    def _on_alerts_resolved(self, source: str) -> None:
        if not self._phase.is_open:
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

    @workflow.query(description="The incident's current state and timeline.")
    def status(self) -> IncidentStatus:
        return self._status()

    @workflow.update(description="Set the severity (raise while open; set the final one after).")
    def change_severity(self, decision: ChangeSeverity) -> IncidentStatus:
        old, self._severity = self._severity, decision.severity
        reason = f" ({decision.reason})" if decision.reason else ""
        self._record(decision.actor, "severity", f"Severity {old} → {decision.severity}{reason}")
        self._publish()
        return self._status()

    @change_severity.validator
    def _validate_severity(self, decision: ChangeSeverity) -> None:
        self._check_actor(decision.actor)
        playbook = self._input.playbook
        if decision.severity not in playbook.severities:
            known = ", ".join(playbook.severities)
            raise rejected(f"Unknown severity {decision.severity!r}; the playbook has {known}.")
        if decision.severity == self._severity:
            raise rejected(f"The incident is already {self._severity}.")
        lowering = playbook.rank(decision.severity) > playbook.rank(self._severity)
        if lowering and self._phase.is_open:
            raise rejected(
                f"Severity is only raised while the incident is {self._phase.value}; "
                f"set a lower final severity once it is resolved."
            )
        self._check_not_closed()

    @workflow.update(description="Move the technical phase one step forward.")
    def change_phase(self, decision: ChangePhase) -> IncidentStatus:
        self._move(decision.actor, decision.phase, "phase", decision.note)
        return self._status()

    @change_phase.validator
    def _validate_phase(self, decision: ChangePhase) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        allowed = self._phase.next()
        if decision.phase == self._phase:
            raise rejected(f"The incident is already {self._phase.value}.")
        if decision.phase != allowed:
            hint = (
                " Use `mayday reopen` to go back." if decision.phase.rank < self._phase.rank else ""
            )
            raise rejected(
                f"Cannot move from {self._phase.value} to {decision.phase.value}; "
                f"the allowed next phase is {allowed.value if allowed else None}.{hint}"
            )

    @workflow.update(description="Mark the technical incident resolved.")
    def resolve(self, decision: Resolve) -> IncidentStatus:
        self._move(decision.actor, Phase.RESOLVED, "resolved", decision.note)
        return self._status()

    @resolve.validator
    def _validate_resolve(self, decision: Resolve) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        if not self._phase.is_open:
            raise rejected(f"The incident is already {self._phase.value}.")

    @workflow.update(description="Return the incident to investigating; the reason is recorded.")
    def reopen(self, decision: Reopen) -> IncidentStatus:
        self._move(decision.actor, Phase.INVESTIGATING, "reopened", decision.reason)
        return self._status()

    @reopen.validator
    def _validate_reopen(self, decision: Reopen) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        if self._phase not in REOPENABLE_PHASES:
            raise rejected(f"An incident that is {self._phase.value} cannot be reopened.")
        if not decision.reason.strip():
            raise rejected("A reopen needs a reason for the record.")

    def _move(self, actor: str, phase: Phase, kind: str, note: str | None) -> None:
        old, self._phase = self._phase, phase
        suffix = f": {note}" if note else ""
        self._record(actor, kind, f"Phase {old.value} → {phase.value}{suffix}")
        if not phase.is_open:
            # A resolved incident pages nobody.
            self._stop_pages()
            if phase is Phase.RESOLVED:
                self._mirror_to_pagerduty("resolve")
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
        if self._phase is Phase.CLOSED:
            raise rejected("The incident is closed; declare a new one.")

    def _record(self, actor: str, kind: str, text: str) -> None:
        self._timeline.append(TimelineEntry(at=workflow.now(), actor=actor, kind=kind, text=text))

    def _publish(self) -> None:
        """Mirror state into search attributes and the UI's current-details panel."""
        workflow.upsert_search_attributes(
            [
                sa.INCIDENT_SEVERITY.value_set(self._severity),
                sa.INCIDENT_PHASE.value_set(self._phase.value),
            ]
        )
        decl = self._input.declaration
        commander = self._roles.get("incident_commander", "unassigned")
        last = self._timeline[-1]
        workflow.set_current_details(
            f"**{self._severity}** · `{decl.service}` · **{self._phase.value}**\n\n"
            f"Commander: `{commander}`\n\n"
            f"Last: {last.at:%H:%M:%S}Z {last.text}"
        )

    def _status(self) -> IncidentStatus:
        decl, info = self._input.declaration, workflow.info()
        return IncidentStatus(
            id=info.workflow_id,
            service=decl.service,
            title=decl.title,
            severity=self._severity,
            phase=self._phase,
            source=decl.source,
            declared_at=self._timeline[0].at if self._timeline else workflow.now(),
            declared_by=decl.actor,
            time_scale=self._input.time_scale,
            playbook=self._input.playbook.name,
            playbook_hash=self._input.playbook.content_hash,
            roles=dict(self._roles),
            timeline=list(self._timeline),
            alerts={fingerprint: status.value for fingerprint, status in self._alerts.items()},
            pages=dict(self._pages),
            unacknowledged=self._unacknowledged,
        )
