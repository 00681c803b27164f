"""The business incident's state and face: timeline, pages, reports to the parent, authority.

BusinessIncidentWorkflow is layered: this core, then emergency mode (workflows.emergency), then
the workflow with its run loop and handlers (workflows.business).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.authority import refusal
    from workflows.bounds import bounded, visible
    from workflows.business_contracts import (
        BRIEFING_FIELDS,
        BusinessReport,
        EmergencyState,
        Stage,
    )
    from workflows.business_state import BusinessInput, BusinessState, BusinessStatus
    from workflows.contracts import SYSTEM_ACTOR, TimelineEntry
    from workflows.escalation_contracts import (
        EscalationInput,
        PagePolicy,
        PageTarget,
        PolicyLevel,
        Slot,
    )

REJECTED = "DecisionRejected"
TIMELINE_MAX = 2_000
STATUS_TIMELINE = 100
ENTRY_TEXT_MAX = 500
SUMMARY_MAX = 300
PAGE_TASK_TIMEOUT = timedelta(seconds=2)
"""As for the incident's pages: a page's history is small, a killed worker costs 2 s."""
TASK_ACK_TIMEOUT = timedelta(minutes=5)
"""Ack window of a page about a business action (the guide's 5 minutes), before scaling."""
OPEN_PAGE = "notifying"


def rejected(reason: str) -> ApplicationError:
    """A decision refused by a validator: the caller sees `reason`, history records nothing."""
    return ApplicationError(reason, type=REJECTED, non_retryable=True)


def one_level(target: PageTarget, ack_timeout: timedelta, policy_id: str) -> PagePolicy:
    return PagePolicy(id=policy_id, levels=[PolicyLevel(targets=[target], ack_timeout=ack_timeout)])


class BusinessCore:
    """State, timeline, pages and reports; no emergency mode, no decisions."""

    _input: BusinessInput
    _s: BusinessState
    _tasks: list[asyncio.Task[None]]
    _changed: bool
    _emergency_published: EmergencyState | None
    _page_actions: dict[str, list[str]]

    # -- identity and words ---------------------------------------------------------------------

    def _id(self) -> str:
        return workflow.info().workflow_id

    def _role_name(self, role: str) -> str:
        return self._input.playbook.roles.get(role, role)

    def _lead(self) -> str:
        """What every page of this business incident starts with."""
        inp = self._input
        if inp.security:
            return f"{inp.severity} security incident {inp.codename or ''}".strip()
        return inp.summary

    def _summary(self, what: str) -> str:
        return bounded(visible(f"{self._lead()} — {what}"), SUMMARY_MAX)

    def _emergency(self) -> EmergencyState:
        modes = self._s.modes.values()
        if any(mode != "normal" for mode in modes):
            return "active"
        return "ended" if self._s.modes else "normal"

    # -- timeline -------------------------------------------------------------------------------

    def _record(self, actor: str, kind: str, text: str, *, report: bool = False) -> None:
        self._s.timeline.append(
            TimelineEntry(
                at=workflow.now(),
                actor=bounded(visible(actor), 200),
                kind=kind,
                text=bounded(visible(text), ENTRY_TEXT_MAX),
            )
        )
        excess = len(self._s.timeline) - TIMELINE_MAX
        if excess > 0:
            del self._s.timeline[1 : 1 + excess]
            self._s.timeline_dropped += excess
        self._changed = True
        if report:
            self._report(text, actor=actor)

    def _mark(self) -> int:
        return self._s.timeline_dropped + len(self._s.timeline)

    def _line_since(self, mark: int) -> str:
        lines = self._s.timeline[max(mark - self._s.timeline_dropped, 0) :]
        return lines[0].text if lines else ""

    # -- the parent -----------------------------------------------------------------------------

    def _report(
        self,
        line: str,
        *,
        actor: str = SYSTEM_ACTOR,
        handover: dict[str, str] | None = None,
        closed: bool = False,
    ) -> None:
        """Tell the technical incident, for its timeline and its EmergencyMode column."""
        report = BusinessReport(
            business_id=self._id(),
            stage=self._s.stage,
            emergency=self._emergency(),
            line=bounded(visible(line), ENTRY_TEXT_MAX),
            actor=actor,
            handover=handover or {},
            closed=closed,
        )
        self._tasks.append(asyncio.create_task(self._signal_parent(report)))

    async def _signal_parent(self, report: BusinessReport) -> None:
        # A parent that already ended has nothing left to record.
        with contextlib.suppress(FailureError):
            await workflow.get_external_workflow_handle(self._input.parent_id).signal(
                "business_changed", report
            )

    # -- pages ----------------------------------------------------------------------------------

    def _holder_target(self, role: str, slot: Slot = "primary") -> tuple[PageTarget, str]:
        """Who to page for a role: its holder on this incident, else the role's rotation."""
        holder = self._s.roles.get(role) or self._s.technical.get(role)
        if holder is not None and slot == "primary":
            return PageTarget(kind="person", id=holder), holder
        return PageTarget(kind="role", id=role, slot=slot), f"{self._role_name(role)} ({slot})"

    def _start_page(
        self,
        *,
        target: str,
        policy: PagePolicy,
        what: str,
        role_name: str | None = None,
        both: bool = False,
        purpose: str = "page",
    ) -> str:
        """Start a page (a child that outlives this run, reporting here) and return its id."""
        inp, s = self._input, self._s
        s.page_sequence += 1
        chain = workflow.info().first_execution_run_id.replace("-", "")[-6:]
        page_id = f"{self._id()}-page-{s.page_sequence}-{chain}"
        page = EscalationInput(
            incident_id=inp.parent_id,
            report_to=self._id(),
            target=target,
            policy=policy,
            time_scale=inp.time_scale,
            purpose=purpose,
            summary=self._summary(what),
            both_primary_and_backup=both,
            severity=inp.severity,
            service=inp.service,
            role_name=role_name,
            report=True,
            restricted=inp.security,
        )
        s.pages[page_id] = OPEN_PAGE
        s.page_targets[page_id] = target
        self._tasks.append(asyncio.create_task(self._launch(page_id, page)))
        return page_id

    async def _launch(self, page_id: str, page: EscalationInput) -> None:
        try:
            handle = await workflow.start_child_workflow(
                "EscalationWorkflow",
                page,
                id=page_id,
                task_queue=self._input.page_task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                task_timeout=PAGE_TASK_TIMEOUT,
                static_summary=f"Page {page.target} for a business incident",
            )
        except FailureError as err:
            self._s.pages[page_id] = "failed"
            self._record(
                SYSTEM_ACTOR,
                "page-failed",
                f"Page {page_id} could not start ({type(err).__name__}).",
                report=True,
            )
            return
        handle.add_done_callback(lambda done: done.cancelled() or done.exception())

    def _cancel_page(self, page_id: str) -> None:
        if self._s.pages.get(page_id) != OPEN_PAGE:
            return
        self._tasks.append(asyncio.create_task(self._cancel(page_id)))

    async def _cancel(self, page_id: str) -> None:
        with contextlib.suppress(FailureError):
            await workflow.get_external_workflow_handle(page_id).cancel()

    # -- authority ------------------------------------------------------------------------------

    def _holders(self) -> dict[str, str]:
        return {**self._s.technical, **self._s.roles}

    def _check_actor(self, actor: str) -> None:
        if actor not in self._input.playbook.people:
            raise rejected(f"Unknown actor {actor!r}: not in the playbook's directory.")

    def _check_authority(self, decision: str, actor: str, *, also: list[str] | None = None) -> None:
        playbook = self._input.playbook
        authority = dict(playbook.authority)
        if also:
            authority[decision] = [*also, *authority.get(decision, [])]
        reason = refusal(
            decision,
            actor,
            authority=authority,
            holders=self._holders(),
            responders=self._s.responders,
            role_names=playbook.roles,
        )
        if reason is not None:
            raise rejected(reason)

    def _check_open(self) -> None:
        if self._s.stage is Stage.CLOSED:
            raise rejected("The business incident is closed.")

    # -- face -----------------------------------------------------------------------------------

    def _publish(self) -> None:
        emergency = self._emergency()
        if emergency != self._emergency_published:
            if self._emergency_published is not None:
                workflow.upsert_search_attributes([sa.EMERGENCY_MODE.value_set(emergency)])
            self._emergency_published = emergency
        modes = ", ".join(f"{name} {mode}" for name, mode in self._s.modes.items()) or "none"
        last = self._s.timeline[-1] if self._s.timeline else None
        workflow.set_current_details(
            f"**Business incident** · **{self._s.stage.value}** · emergency **{emergency}**\n\n"
            f"Parent: `{self._input.parent_id}`\n\nFunctions: {modes}\n\n"
            + (f"Last: {last.at:%H:%M:%S}Z {self._shown(last.text, last.kind)}" if last else "")
        )

    def _shown(self, text: str, kind: str) -> str:
        """What the UI may show of a line: a security incident's only say what kind it is."""
        return f"({kind})" if self._input.security else text

    def _status(self) -> BusinessStatus:
        s = self._s
        return BusinessStatus(
            id=self._id(),
            parent_id=self._input.parent_id,
            stage=s.stage,
            emergency=self._emergency(),
            security=self._input.security,
            codename=self._input.codename,
            roles=dict(s.roles),
            missing=list(s.missing),
            briefing=dict(s.briefing),
            briefing_missing=[f for f in BRIEFING_FIELDS if f not in s.briefing],
            modes=dict(s.modes),
            actions=[a.model_copy() for a in s.actions],
            pages=dict(s.pages),
            resolution_sent_at=s.resolution_sent_at,
            preliminary=s.preliminary,
            postmortem=s.postmortem,
            timeline=s.timeline[-STATUS_TIMELINE:],
            timeline_total=self._mark(),
        )
