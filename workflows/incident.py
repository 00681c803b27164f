"""IncidentWorkflow: one durable incident, from declaration to close, over as many runs as it needs.

The incident's whole state lives in one `IncidentState`, which is also what a run hands to the
next when it continues-as-new (on Temporal's suggestion or past this module's budgets). Pages are
child workflows that outlive a run (workflows.incident_paging); alerts are taken by
workflows.incident_alerts; this module holds the run loop and every message handler.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.alert_book import AlertBook
    from workflows.alerts import AlertBatch, AlertDelivery
    from workflows.bounds import clean_title
    from workflows.business_contracts import BusinessReport
    from workflows.contracts import (
        SYSTEM_ACTOR,
        AssignRole,
        ChangePhase,
        ChangeSeverity,
        Decided,
        Escalate,
        IncidentInput,
        IncidentStatus,
        PageOnDemand,
        Recommend,
        Reopen,
        Resolve,
        TimelinePage,
        TimelineRequest,
    )
    from workflows.escalation_contracts import PageAcked, PageEnded
    from workflows.incident_alerts import IncidentAlerts
    from workflows.incident_command import COMMAND_TIMERS
    from workflows.incident_core import fresh_state, rejected
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

LONG_LIVED = "incident-long-lived"
"""Patch id (Step 5): carried state, continue-as-new, pages that report by signal, recurrence,
severity-driven paging, quiet close. Runs recorded before it keep their old behaviour."""
SIGNAL_BUDGET = 1_000
"""Signals one run takes before continuing-as-new: far below Temporal's 10,000 per run."""
HISTORY_BUDGET = 4_000
"""Events one run grows to before continuing-as-new, whatever Temporal suggests."""
MIN_WAIT = timedelta(seconds=1)
NO_ACK_AFTER_RESOLVE = "pagerduty-no-ack-after-resolve"
"""Patch id: an ack reported after the resolve is not mirrored (it would overtake it)."""
PHASE_DECISIONS = {Phase.RESOLVED: "resolve", Phase.CLOSED: "close"}
"""Phase moves that are decisions of their own in the playbook's authority rules."""


def initial_search_attributes(inp: IncidentInput) -> TypedSearchAttributes:
    """Search attributes an incident starts with, so it is filterable before its first task."""
    decl, state = inp.declaration, inp.state
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(sa.INCIDENT_SEVERITY, state.severity if state else decl.severity),
        SearchAttributePair(
            sa.INCIDENT_PHASE, state.phase.value if state else Phase.INVESTIGATING.value
        ),
        SearchAttributePair(sa.BUSINESS_SERVICE, decl.service),
        SearchAttributePair(
            sa.EMERGENCY_MODE, state.business.emergency if state and state.business else "normal"
        ),
    ]
    commander = state.roles.get("incident_commander") if state else None
    if commander is None and decl.source == "manual":
        commander = decl.actor
    if commander is not None:
        pairs.append(SearchAttributePair(sa.INCIDENT_COMMANDER, commander))
    return TypedSearchAttributes(pairs)


@workflow.defn
class IncidentWorkflow(IncidentAlerts):
    """Runs one incident from declaration to close; every decision lands on the timeline."""

    @workflow.init
    def __init__(self, inp: IncidentInput) -> None:
        self._input = inp
        self._continued = inp.state is not None
        self._long_lived = self._continued or workflow.patched(LONG_LIVED)
        self._s = inp.state.model_copy(deep=True) if inp.state else fresh_state(inp)
        if self._s.alerts:
            # State carried from a run before the alert book: same facts, compact form.
            AlertBook(self._s.alert_book).migrate(
                self._s.alerts, self._s.fired_at, self._s.ended_at
            )
        self._tasks: list[asyncio.Task[None]] = []
        self._signals = 0
        self._published: dict[str, str] = {}
        self._quiet_changed = False
        self._cancelling: set[str] = set()
        self._mirror_last: asyncio.Task[None] | None = None
        self._told = None
        self._command_timers = False
        self._waiting_for: datetime | None = None
        LegacyPaging.__init__(self)
        if not self._continued:
            decl = inp.declaration
            # Recorded here, not in run, so that the start signal of an alert lands after them.
            self._record(
                decl.actor, "declared", f"{decl.severity} on {decl.service}: {self._title()}"
            )
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
            self._business_at_threshold("declared")
        self._command_timers = workflow.patched(COMMAND_TIMERS)
        self._follow_command()
        while True:
            deadline = self._loop_deadline() if self._command_timers else self._quiet_close_at()
            self._waiting_for = deadline
            self._quiet_changed = False
            timeout = None if deadline is None else max(deadline - workflow.now(), MIN_WAIT)
            try:
                await workflow.wait_condition(
                    lambda: (
                        self._s.phase is Phase.CLOSED or self._quiet_changed or self._continue_due()
                    ),
                    timeout=timeout,
                    timeout_summary="quiet close"
                    if self._waiting_for == self._quiet_close_at()
                    else "command timer",
                )
            except TimeoutError:
                self._quiet_close()
                if self._command_timers:
                    self._command_due()
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

    async def _continue(self) -> None:
        await self._drain()
        self._fit_state()
        following = self._input.model_copy(update={"state": self._s, "pending_alerts": []})
        workflow.continue_as_new(following, search_attributes=initial_search_attributes(following))

    def _continue_with_late_alerts(self) -> None:
        """Alerts that fired while this incident closed open the next one under the same id."""
        inp, first = self._input, self._s.late_alerts[0].alerts[0]
        decl = inp.declaration.model_copy(
            update={"title": clean_title(first.title), "severity": inp.declaration.severity}
        )
        following = inp.model_copy(
            update={"declaration": decl, "pending_alerts": list(self._s.late_alerts)}
        )
        if self._long_lived:
            # A new incident under the same id: fresh state, but page ids keep counting.
            state = fresh_state(following)
            state.page_sequence = self._s.page_sequence
            state.timeline = [
                self._entry(
                    first.source, "declared", f"{decl.severity} on {decl.service}: {self._title()}"
                ),
                self._entry(
                    SYSTEM_ACTOR,
                    "playbook",
                    f"Playbook {inp.playbook.name} version {inp.playbook.content_hash[:12]}",
                ),
            ]
            following = following.model_copy(update={"state": state})
        workflow.continue_as_new(following, search_attributes=initial_search_attributes(following))

    # -- quiet close ----------------------------------------------------------------------

    def _quiet_close_at(self) -> datetime | None:
        playbook, s = self._input.playbook, self._s
        if s.phase is not Phase.RESOLVED or s.resolved_at is None:
            return None
        if playbook.quiet_close_after is None or s.severity in playbook.postmortem_severities:
            return None
        if self._business_open():
            return None
        # Quiet means no alert fired again since: sources that never send a resolve still close.
        quiet_since = max(s.resolved_at, s.last_fired or s.resolved_at)
        return quiet_since + playbook.quiet_close_after * self._input.time_scale

    def _quiet_close(self) -> None:
        deadline = self._quiet_close_at()
        if deadline is None or deadline > workflow.now():
            return
        quiet = self._input.playbook.quiet_close_after
        self._move(SYSTEM_ACTOR, Phase.CLOSED, "closed", f"quiet for {quiet} after resolve")

    # -- pages ------------------------------------------------------------------------------

    @workflow.signal(description="A page of this incident was taken (sent by the page itself).")
    def page_acked(self, acked: PageAcked) -> None:
        self._signals += 1
        if self._s.pages.get(acked.page_id) != "notifying":
            return
        self._s.pages[acked.page_id] = "acked"
        via = f" via {acked.via}" if acked.via else ""
        self._record(acked.acked_by, "ack", f"Page acknowledged by {acked.acked_by}{via}.")
        self._note_responder(acked.page_id, acked.acked_by)
        if acked.via != "pagerduty" and (
            self._s.phase.is_open or not workflow.patched(NO_ACK_AFTER_RESOLVE)
        ):
            # An ack that arrives after the resolve must not overtake it in PagerDuty.
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
        self._trim_timeline()
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

    @workflow.update(description="Page a role's holder, a person or a policy now.")
    def page(self, decision: PageOnDemand) -> Decided:
        mark = self._timeline_mark()
        page_id = self._page_on_demand(decision)
        return self._decided(mark, page_id=page_id)

    @page.validator
    def _validate_page(self, decision: PageOnDemand) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        self._check_authority("page", decision.actor)
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

    # -- decisions ------------------------------------------------------------------------

    @workflow.query(description="The incident's state and its newest timeline entries.")
    def status(self) -> IncidentStatus:
        return self._status()

    @workflow.query(description="A page of the timeline, oldest first (at most 500 entries).")
    def timeline_page(self, request: TimelineRequest) -> TimelinePage:
        return self._timeline_page(request)

    @workflow.update(description="Set the severity (raise while open; set the final one after).")
    def change_severity(self, decision: ChangeSeverity) -> Decided:
        mark = self._timeline_mark()
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
        self._check_not_closed()
        self._check_authority("severity", decision.actor)
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
        mark = self._timeline_mark()
        self._move(decision.actor, decision.phase, "phase", decision.note)
        return self._decided(mark)

    @change_phase.validator
    def _validate_phase(self, decision: ChangePhase) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        self._check_authority(PHASE_DECISIONS.get(decision.phase, "phase"), decision.actor)
        allowed = self._s.phase.next()
        if decision.phase is Phase.CLOSED and self._business_open():
            raise rejected(
                f"Business incident {self._s.business_id} is still open; the incident closes "
                f"when its postmortem does (mayday postmortem {workflow.info().workflow_id} "
                "--status closed)."
            )
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
        mark = self._timeline_mark()
        self._move(decision.actor, Phase.RESOLVED, "resolved", decision.note)
        return self._decided(mark)

    @resolve.validator
    def _validate_resolve(self, decision: Resolve) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        self._check_authority("resolve", decision.actor)
        if not self._s.phase.is_open:
            raise rejected(f"The incident is already {self._s.phase.value}.")

    @workflow.update(description="Return the incident to investigating; the reason is recorded.")
    def reopen(self, decision: Reopen) -> Decided:
        mark = self._timeline_mark()
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
        self._check_authority("reopen", decision.actor)
        if self._s.phase not in REOPENABLE_PHASES:
            raise rejected(f"An incident that is {self._s.phase.value} cannot be reopened.")
        if not decision.reason.strip():
            raise rejected("A reopen needs a reason for the record.")

    @workflow.update(description="Hand a role of this incident to a person.")
    def assign_role(self, decision: AssignRole) -> Decided:
        mark = self._timeline_mark()
        name = self._input.playbook.roles.get(decision.role, decision.role)
        before = self._s.roles.get(decision.role)
        self._s.roles[decision.role] = decision.person
        was = f" from {before}" if before else ""
        note = f": {decision.note}" if decision.note else ""
        self._record(decision.actor, "handover", f"{name} handed{was} to {decision.person}{note}")
        self._publish()
        return self._decided(mark)

    @assign_role.validator
    def _validate_assign_role(self, decision: AssignRole) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        playbook = self._input.playbook
        if decision.role not in playbook.roles:
            known = ", ".join(sorted(playbook.roles))
            raise rejected(f"Unknown role {decision.role!r}; the playbook has {known}.")
        if decision.person not in playbook.people:
            raise rejected(f"Unknown person {decision.person!r}: not in the playbook's directory.")
        if self._s.roles.get(decision.role) == decision.person:
            name = playbook.roles[decision.role]
            raise rejected(f"{decision.person} already holds {name}.")
        # Whoever holds a role may hand it on; otherwise the playbook's handover rule decides.
        self._check_authority("handover", decision.actor, also=decision.role)

    # -- the business incident --------------------------------------------------------------

    @workflow.update(description="The Technical SLT's advice on escalating to a business incident.")
    def recommend(self, decision: Recommend) -> Decided:
        mark = self._timeline_mark()
        self._recommend(decision.actor, decision.reason, decision.escalate)
        return self._decided(mark)

    @recommend.validator
    def _validate_recommend(self, decision: Recommend) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        self._check_authority("recommend", decision.actor)
        if not decision.reason.strip():
            raise rejected("A recommendation needs a reason for the record.")
        self._check_escalation(decision.actor)

    @workflow.update(description="Escalate to a business incident (the Incident Commander).")
    def escalate(self, decision: Escalate) -> Decided:
        mark = self._timeline_mark()
        self._start_business(decision.actor, decision.reason, auto=False)
        return self._decided(mark)

    @escalate.validator
    def _validate_escalate(self, decision: Escalate) -> None:
        self._check_actor(decision.actor)
        self._check_not_closed()
        self._check_authority("escalate", decision.actor)
        self._check_escalation(decision.actor)

    @workflow.signal(description="What the business incident did (sent by it).")
    def business_changed(self, report: BusinessReport) -> None:
        self._signals += 1
        self._take_business_report(report)
