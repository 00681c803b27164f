"""BusinessIncidentWorkflow: the business response to a severe technical incident (PagerDuty BIR).

Started by the technical incident when its Incident Commander escalates (or its route says
`auto_escalate`); linked both ways: it reports every step to its parent by signal, and the parent
tells it its phase and role holders. Stages only move forward: declared → mobilizing → briefing →
emergency_ops → communicating → resolving → resolved → post_incident → closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.bounds import bounded, visible
    from workflows.business_contracts import (
        BRIEFING_FIELDS,
        POSTMORTEM_ORDER,
        Brief,
        BusinessDecided,
        ConfirmAction,
        ParentReport,
        PostmortemUpdate,
        ResolutionSent,
        Stage,
    )
    from workflows.business_core import OPEN_PAGE, one_level, rejected
    from workflows.business_state import (
        ActionStatus,
        BusinessInput,
        BusinessState,
        BusinessStatus,
        Deliverable,
    )
    from workflows.contracts import SYSTEM_ACTOR, TimelinePage, TimelineRequest
    from workflows.deliverables import DeliverableReminders, due_after
    from workflows.emergency import EmergencyMode
    from workflows.escalation_contracts import PageAcked, PageEnded, PageTarget

SIGNAL_BUDGET = 1_000
HISTORY_BUDGET = 4_000
MIN_WAIT = timedelta(seconds=1)
CL = "customer_liaison"
ANSWER_MAX = 1_000
LINK_MAX = 500


@workflow.defn
class BusinessIncidentWorkflow(EmergencyMode, DeliverableReminders):
    """One business incident, from the IC's escalation to its postmortem's close."""

    @workflow.init
    def __init__(self, inp: BusinessInput) -> None:
        self._input = inp
        self._continued = inp.state is not None
        self._s = (
            inp.state.model_copy(deep=True)
            if inp.state
            else BusinessState(technical=dict(inp.technical_roles))
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._changed = False
        self._signals = 0
        self._emergency_published = None if not self._continued else self._emergency()
        self._page_actions: dict[str, list[str]] = {}
        for action in self._s.actions:
            for page_id in action.pages:
                self._page_actions.setdefault(page_id, []).append(action.key)
        if not self._continued:
            how = "automatically (the alert route's auto_escalate)" if inp.auto else "by decision"
            reason = f": {inp.reason}" if inp.reason else ""
            self._record(
                inp.declared_by,
                "declared",
                f"Business incident declared {how} from {inp.parent_id}{reason}",
            )
            if inp.recommendation is not None:
                advice = "escalate" if inp.recommendation.escalate else "not escalate"
                self._record(
                    inp.recommendation.actor,
                    "recommended",
                    f"Recommended to {advice}: {inp.recommendation.reason}",
                )

    @workflow.run
    async def run(self, inp: BusinessInput) -> BusinessStatus:
        if not self._s.mobilised:
            self._mobilise()
            self._start_emergency()
        while True:
            self._advance()
            self._publish()
            if self._s.stage is Stage.CLOSED:
                break
            due = self._next_due()
            self._changed = False
            timeout = None if due is None else max(due - workflow.now(), MIN_WAIT)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._changed or self._continue_due(),
                    timeout=timeout,
                    timeout_summary="next business deadline",
                )
            self._escalate_overdue()
            self._remind_due()
            if self._continue_due():
                await self._continue()
        self._report("Business incident closed.", closed=True)
        await self._drain()
        return self._status()

    # -- run budget -----------------------------------------------------------------------------

    def _continue_due(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= HISTORY_BUDGET
            or self._signals >= SIGNAL_BUDGET
        )

    async def _drain(self) -> None:
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            pending = [task for task in self._tasks if not task.done()]
            if not pending:
                break
            await asyncio.gather(*pending)
        self._tasks.clear()

    async def _continue(self) -> None:
        await self._drain()
        workflow.continue_as_new(self._input.model_copy(update={"state": self._s}))

    def _next_due(self) -> datetime | None:
        dues = [d for d in (self._next_action_due(), self._next_reminder()) if d is not None]
        return min(dues) if dues else None

    # -- mobilisation ---------------------------------------------------------------------------

    def _mobilise(self) -> None:
        """Page every business role; the Customer Liaison hands its technical seat over first."""
        s, playbook = self._s, self._input.playbook
        s.mobilised = True
        plan = playbook.business
        roles = list(plan.roles) if plan is not None else []
        if self._input.security and plan is not None:
            # Legal (and whoever the playbook names) first; the rest once one of them is in.
            first = [role for role in plan.security_first if role in roles]
            if first:
                s.deferred = [role for role in roles if role not in first]
                roles = first
        if CL in playbook.roles:
            self._hand_over_liaison()
        self._page_roles(roles)

    def _release_deferred(self) -> None:
        """A security incident's first roles answered (or were missed): page the others."""
        if not self._s.deferred:
            return
        roles, self._s.deferred = self._s.deferred, []
        self._page_roles(roles)

    def _page_roles(self, roles: list[str]) -> None:
        s, playbook = self._s, self._input.playbook
        for role in roles:
            holder = s.technical.get(role)
            if holder is not None:
                # Already on the technical call (the SLT who advised): joins without a page.
                s.roles[role] = holder
                text = f"{self._role_name(role)} joined: {holder}."
                self._record(holder, "joined", text, report=True)
                continue
            if role not in playbook.role_policies:
                continue
            page_id = self._start_page(
                target=f"role:{role}",
                policy=playbook.role_policies[role],
                what=f"join the business response as {self._role_name(role)}",
                role_name=self._role_name(role),
                both=role in playbook.role_both,
                purpose="role-page",
            )
            s.role_pages[role] = page_id
        names = ", ".join(self._role_name(role) for role in roles) or "nobody"
        self._record(SYSTEM_ACTOR, "mobilizing", f"Paging the business roles: {names}.")

    def _hand_over_liaison(self) -> None:
        s = self._s
        holder = s.technical.get(CL)
        if holder is not None:
            s.roles[CL] = holder
            self._record(
                SYSTEM_ACTOR,
                "joined",
                f"Customer Liaison {holder} moves to the business response.",
                report=True,
            )
        page_id = self._start_page(
            target="seat:customer_liaison",
            policy=one_level(
                PageTarget(kind="role", id=CL, slot="backup"),
                self._input.playbook.role_policies[CL].levels[0].ack_timeout
                if CL in self._input.playbook.role_policies
                else timedelta(minutes=5),
                "cl-backup",
            ),
            what="take over the technical Customer Liaison seat",
            role_name="Customer Liaison (technical)",
            purpose="role-page",
        )
        s.role_pages["seat:customer_liaison"] = page_id

    # -- stages ---------------------------------------------------------------------------------

    def _advance(self) -> None:
        s = self._s
        while True:
            following = self._next_stage()
            if following is None:
                return
            s.stage = following
            self._record(
                SYSTEM_ACTOR, "stage", f"Business incident: {following.value}.", report=True
            )
            if following is Stage.RESOLVED:
                s.resolved_at = workflow.now()
            if following is Stage.POST_INCIDENT:
                self._start_deliverables()

    def _next_stage(self) -> Stage | None:
        s = self._s
        parent_resolved = s.parent_phase in ("resolved", "closed")
        stage = s.stage
        if stage.rank < Stage.RESOLVING.rank and parent_resolved:
            return Stage.RESOLVING
        if stage is Stage.DECLARED and s.mobilised:
            return Stage.MOBILIZING
        if stage is Stage.MOBILIZING and "business_lead" in s.roles:
            return Stage.BRIEFING
        if stage is Stage.BRIEFING and s.briefing:
            return Stage.EMERGENCY_OPS
        if stage is Stage.EMERGENCY_OPS and "halting" not in s.modes.values():
            return Stage.COMMUNICATING
        if stage is Stage.RESOLVING and s.resolution_sent_at and self._emergency() != "active":
            return Stage.RESOLVED
        if stage is Stage.RESOLVED:
            return Stage.POST_INCIDENT
        if stage is Stage.POST_INCIDENT and s.postmortem and s.postmortem.status == "closed":
            return Stage.CLOSED
        return None

    def _start_deliverables(self) -> None:
        s, inp = self._s, self._input
        plan = inp.playbook.business
        now = workflow.now()
        window = (plan.preliminary_analysis_due if plan else timedelta(hours=24)) * inp.time_scale
        s.preliminary = Deliverable(
            owner_role="technical_slt",
            owner=s.roles.get("technical_slt"),
            due_at=now + window,
            window=window,
        )
        rule = plan.postmortem_due.get(inp.severity) if plan else None
        span = due_after(now, rule.days, business_days=rule.business_days) if rule else None
        pm_window = (span or timedelta(days=5)) * inp.time_scale
        s.postmortem = Deliverable(
            owner_role="incident_commander",
            owner=s.technical.get("incident_commander"),
            due_at=now + pm_window,
            window=pm_window,
        )
        self._record(
            SYSTEM_ACTOR,
            "post-incident",
            f"Preliminary analysis due {s.preliminary.due_at:%Y-%m-%d %H:%M}Z "
            f"({s.preliminary.owner or 'Technical SLT'}); postmortem due "
            f"{s.postmortem.due_at:%Y-%m-%d %H:%M}Z "
            f"({s.postmortem.owner or 'Incident Commander'}).",
            report=True,
        )

    # -- signals --------------------------------------------------------------------------------

    @workflow.signal(description="A page of this business incident was taken.")
    def page_acked(self, acked: PageAcked) -> None:
        self._signals += 1
        s = self._s
        if s.pages.get(acked.page_id) != OPEN_PAGE:
            return
        s.pages[acked.page_id] = "acked"
        person = acked.acked_by
        if person in self._input.playbook.people and person not in s.responders:
            s.responders.append(person)
        target = s.page_targets.get(acked.page_id, "")
        if target.startswith("role:"):
            role = target.removeprefix("role:")
            if role not in s.roles:
                s.roles[role] = person
            if role in s.missing:
                s.missing.remove(role)
            self._release_deferred()
            self._record(
                person, "joined", f"{self._role_name(role)} joined: {person}.", report=True
            )
        elif target == "seat:customer_liaison":
            self._record(
                person,
                "handover",
                f"Customer Liaison (technical) handed to {person}.",
            )
            self._report(
                f"Customer Liaison handed to {person} (the liaison joins the business response).",
                actor=person,
                handover={CL: person},
            )
        else:
            self._record(person, "ack", f"{person} took the task page {acked.page_id}.")
        self._changed = True

    @workflow.signal(description="A page of this business incident ended, with every step.")
    def page_ended(self, ended: PageEnded) -> None:
        self._signals += 1
        s = self._s
        if ended.page_id not in s.pages:
            return
        state = ended.status.state
        was = s.pages[ended.page_id]
        s.pages[ended.page_id] = state
        target = s.page_targets.get(ended.page_id, "")
        if state == "exhausted" and was == OPEN_PAGE:
            if target.startswith("role:"):
                role = target.removeprefix("role:")
                if role not in s.roles and role not in s.missing:
                    s.missing.append(role)
                    self._release_deferred()
                    self._record(
                        SYSTEM_ACTOR,
                        "missing",
                        f"Nobody took the {self._role_name(role)} role: shown as missing.",
                        report=True,
                    )
            else:
                self._record(SYSTEM_ACTOR, "page", f"Nobody acknowledged {ended.page_id}.")
        self._changed = True

    @workflow.signal(description="The technical incident's phase and role holders.")
    def parent_changed(self, report: ParentReport) -> None:
        self._signals += 1
        s = self._s
        s.technical = dict(report.roles)
        if report.phase != s.parent_phase:
            s.parent_phase = report.phase
            self._record(SYSTEM_ACTOR, "parent", f"Technical incident is {report.phase}.")
            self._settle()
        self._changed = True

    # -- queries --------------------------------------------------------------------------------

    @workflow.query(description="The business incident's state and newest timeline entries.")
    def business_status(self) -> BusinessStatus:
        return self._status()

    @workflow.query(description="A page of the business timeline, oldest first.")
    def timeline_page(self, request: TimelineRequest) -> TimelinePage:
        s = self._s
        return TimelinePage(
            entries=s.timeline[request.offset : request.offset + request.limit],
            offset=request.offset,
            total=len(s.timeline),
            dropped=s.timeline_dropped,
        )

    # -- decisions ------------------------------------------------------------------------------

    def _decided(self, mark: int) -> BusinessDecided:
        self._changed = True
        self._publish()
        return BusinessDecided(
            id=self._id(),
            stage=self._s.stage,
            emergency=self._emergency(),
            text=self._line_since(mark),
        )

    @workflow.update(description="Record briefing answers (partial answers are allowed).")
    def brief(self, decision: Brief) -> BusinessDecided:
        mark = self._mark()
        for field, answer in decision.answers.items():
            self._s.briefing[field] = bounded(visible(answer), ANSWER_MAX)
        missing = [BRIEFING_FIELDS[f] for f in BRIEFING_FIELDS if f not in self._s.briefing]
        given = ", ".join(BRIEFING_FIELDS[f].lower() for f in decision.answers)
        still = f"; still missing: {', '.join(m.lower() for m in missing)}" if missing else ""
        self._record(decision.actor, "briefing", f"Briefing: {given}{still}.", report=True)
        return self._decided(mark)

    @brief.validator
    def _validate_brief(self, decision: Brief) -> None:
        self._check_actor(decision.actor)
        self._check_open()
        self._check_authority("brief", decision.actor)
        unknown = [field for field in decision.answers if field not in BRIEFING_FIELDS]
        if unknown:
            raise rejected(
                f"Unknown briefing field {unknown[0]!r}; fields are {', '.join(BRIEFING_FIELDS)}."
            )
        if not decision.answers or not all(a.strip() for a in decision.answers.values()):
            raise rejected("A briefing needs at least one non-empty answer.")

    @workflow.update(description="A halt or resume action is done.")
    def confirm(self, decision: ConfirmAction) -> BusinessDecided:
        mark = self._mark()
        action = self._confirmable(decision.action)
        note = f": {decision.note}" if decision.note else ""
        assert action is not None
        self._done(action, decision.actor, f"confirmed by {decision.actor}{note}")
        return self._decided(mark)

    @confirm.validator
    def _validate_confirm(self, decision: ConfirmAction) -> None:
        self._check_actor(decision.actor)
        self._check_open()
        action = self._confirmable(decision.action)
        if action is None:
            raise rejected(self._why_not_confirmable(decision.action))
        self._check_authority("confirm", decision.actor, also=[action.owner_role])

    def _confirmable(self, action_id: str) -> ActionStatus | None:
        open_ = [a for a in self._s.actions if a.action == action_id and a.state != "done"]
        return open_[-1] if open_ else None

    def _why_not_confirmable(self, action_id: str) -> str:
        done = [a for a in self._s.actions if a.action == action_id]
        if done:
            last = done[-1]
            return f"{action_id} is already done (by {last.done_by})."
        for function in self._plans().values():
            if any(a.id == action_id for a in function.resume):
                return (
                    f"{action_id} resumes {function.name}: resuming starts only after the "
                    "technical incident is resolved and the resolution message is sent."
                )
        known = sorted({a.action for a in self._s.actions if a.state != "done"})
        hint = f"; open actions: {', '.join(known)}" if known else "; no action is open"
        return f"Unknown action {action_id!r}{hint}."

    @workflow.update(description="The resolution message went out; functions may resume.")
    def resolution_sent(self, decision: ResolutionSent) -> BusinessDecided:
        mark = self._mark()
        self._s.resolution_sent_at = workflow.now()
        note = f": {decision.note}" if decision.note else ""
        self._record(decision.actor, "resolution", f"Resolution message sent{note}.", report=True)
        self._settle()
        return self._decided(mark)

    @resolution_sent.validator
    def _validate_resolution_sent(self, decision: ResolutionSent) -> None:
        self._check_actor(decision.actor)
        self._check_open()
        self._check_authority("comms", decision.actor)
        if self._s.parent_phase not in ("resolved", "closed"):
            raise rejected(
                f"The technical incident is {self._s.parent_phase}: the resolution message goes "
                "out only after it is resolved."
            )
        if self._s.resolution_sent_at is not None:
            raise rejected(
                f"The resolution message was sent at {self._s.resolution_sent_at:%H:%M}Z."
            )

    @workflow.update(description="Move the postmortem (or preliminary analysis) on.")
    def postmortem(self, decision: PostmortemUpdate) -> BusinessDecided:
        mark = self._mark()
        s = self._s
        item = s.preliminary if decision.preliminary else s.postmortem
        assert item is not None
        what = "Preliminary analysis" if decision.preliminary else "Postmortem"
        parts = []
        if decision.owner:
            item.owner = decision.owner
            parts.append(f"owner {decision.owner}")
        if decision.link:
            item.link = decision.link
            parts.append(f"link {decision.link}")
        if decision.status:
            item.status = decision.status
            parts.append(decision.status)
        self._record(decision.actor, "postmortem", f"{what}: {', '.join(parts)}.", report=True)
        return self._decided(mark)

    @postmortem.validator
    def _validate_postmortem(self, decision: PostmortemUpdate) -> None:
        self._check_actor(decision.actor)
        self._check_open()
        s = self._s
        item = s.preliminary if decision.preliminary else s.postmortem
        if item is None:
            raise rejected(
                f"The business incident is {s.stage.value}: the postmortem starts once it is "
                "resolved and every function is back to normal."
            )
        if decision.actor != item.owner:
            # Its owner moves it on; otherwise the playbook's rule (the IC assigns the owner).
            self._check_authority("postmortem", decision.actor)
        if not (decision.status or decision.link or decision.owner):
            raise rejected("Say what changed: --status, --link or --owner.")
        if decision.owner and decision.owner not in self._input.playbook.people:
            raise rejected(f"Unknown person {decision.owner!r}: not in the playbook's directory.")
        if decision.link is not None:
            link = decision.link
            if len(link) > LINK_MAX or not link.startswith(("https://", "http://")):
                raise rejected("The link must be an http(s) URL of at most 500 characters.")
            if visible(link) != link:
                raise rejected("The link holds control characters.")
        if decision.status:
            if decision.preliminary and decision.status not in ("draft", "closed"):
                raise rejected("A preliminary analysis is draft or closed (delivered).")
            current = POSTMORTEM_ORDER.index(item.status)
            wanted = POSTMORTEM_ORDER.index(decision.status)
            if wanted <= current:
                raise rejected(
                    f"The {'preliminary analysis' if decision.preliminary else 'postmortem'} is "
                    f"already {item.status}; it only moves forward "
                    f"({' → '.join(POSTMORTEM_ORDER[1:])})."
                )
