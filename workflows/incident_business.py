"""How a technical incident becomes a business incident, and stays linked to it.

At the business threshold the Technical SLT is paged to advise (`recommend`); only the Incident
Commander escalates, and only while investigating or identified (BIR: never automatic, unless the
alert route opts into `auto_escalate`). The business incident is a child workflow that outlives
this run; it reports by signal (`business_changed`) and is told this incident's phase and role
holders (`parent_changed`).
"""

from __future__ import annotations

import asyncio
import contextlib

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.business_contracts import (
        BUSINESS_PREFIX,
        BusinessReport,
        ParentReport,
        Recommendation,
        Stage,
    )
    from workflows.business_state import BusinessInput
    from workflows.codename import codename
    from workflows.contracts import SYSTEM_ACTOR
    from workflows.incident_core import rejected
    from workflows.incident_paging import IncidentPaging
    from workflows.phases import Phase

BUSINESS_INCIDENT = "business-incident"
"""Patch id (Step 7): the Technical SLT paged at the threshold, auto-escalation, the link."""
ESCALATION_PHASES = (Phase.INVESTIGATING, Phase.IDENTIFIED)
"""BIR: detection is too early, monitoring and later too late."""
SLT = "technical_slt"


class IncidentBusiness(IncidentPaging):
    """The technical side of the link: advice, escalation, reports both ways."""

    _told: tuple[str, str, tuple[tuple[str, str], ...]] | None

    def _codename(self) -> str | None:
        if not self._input.declaration.security:
            return None
        return codename(workflow.info().workflow_id)

    def _at_business_threshold(self) -> bool:
        playbook = self._input.playbook
        return playbook.business is not None and playbook.rank(self._s.severity) <= playbook.rank(
            playbook.business_threshold
        )

    def _business_at_threshold(self, why: str) -> None:
        """At the threshold: escalate when the route says so, else page the SLT to advise."""
        if not self._long_lived or not self._at_business_threshold() or not self._s.phase.is_open:
            return
        if not workflow.patched(BUSINESS_INCIDENT):
            return
        if self._input.auto_escalate and self._s.business_id is None:
            route = self._input.declaration.route or "its alert route"
            self._start_business(SYSTEM_ACTOR, f"auto_escalate on {route}", auto=True)
            return
        if self._s.slt_paged or self._s.business_id is not None:
            return
        if SLT not in self._input.playbook.role_policies:
            return
        self._s.slt_paged = True
        self._page_role(SLT, f"{why}: advise on a business incident")

    # -- decisions ------------------------------------------------------------------------------

    def _check_escalation(self, actor: str) -> None:
        playbook = self._input.playbook
        if playbook.business is None:
            raise rejected("The playbook defines no business response (no business roles).")
        if self._s.business_id is not None:
            raise rejected(f"Already escalated: business incident {self._s.business_id}.")
        if not self._long_lived:
            raise rejected("This incident predates business incidents; declare a new one.")
        if self._s.phase not in ESCALATION_PHASES:
            raise rejected(
                f"Escalation is possible only while investigating or identified; the incident "
                f"is {self._s.phase.value}."
            )
        if not self._at_business_threshold():
            raise rejected(
                f"Only {playbook.business_threshold} (the playbook's business threshold) may "
                f"become a business incident; this one is {self._s.severity}. Raise the "
                "severity first."
            )
        del actor

    def _recommend(self, actor: str, reason: str, escalate: bool) -> None:
        self._s.recommendation = Recommendation(
            actor=actor, escalate=escalate, reason=reason, at=workflow.now()
        )
        advice = "escalating to a business incident" if escalate else "not escalating"
        self._record(actor, "recommended", f"{actor} recommends {advice}: {reason}")
        self._publish()

    def _start_business(self, actor: str, reason: str | None, *, auto: bool) -> str:
        """Start the business incident (a child that outlives this run); its id."""
        s, inp, info = self._s, self._input, workflow.info()
        s.business_sequence += 1
        chain = info.first_execution_run_id.replace("-", "")[-6:]
        key = info.workflow_id.removeprefix("incident-")
        business_id = f"{BUSINESS_PREFIX}{key}-{s.business_sequence}-{chain}"
        s.business_id = business_id
        name = codename(info.workflow_id) if inp.declaration.security else None
        summary = self._message_summary()
        business = BusinessInput(
            parent_id=info.workflow_id,
            declared_by=actor,
            auto=auto,
            reason=reason,
            severity=s.severity,
            service=inp.declaration.service,
            summary=summary,
            security=inp.declaration.security,
            codename=name,
            recommendation=s.recommendation,
            technical_roles=dict(s.roles),
            playbook=inp.playbook,
            time_scale=inp.time_scale,
            page_task_queue=inp.page_task_queue,
        )
        how = "automatically" if auto else "by decision"
        why = f": {reason}" if reason else ""
        self._record(actor, "escalated", f"Escalated {how} to business incident {business_id}{why}")
        self._s.business = BusinessReport(
            business_id=business_id,
            stage=Stage.DECLARED,
            emergency="active"
            if inp.playbook.business and inp.playbook.business.functions
            else "normal",
        )
        self._tasks.append(asyncio.create_task(self._launch_business(business)))
        self._publish()
        return business_id

    async def _launch_business(self, business: BusinessInput) -> None:
        s = self._s
        assert s.business_id is not None
        pairs = [
            SearchAttributePair(sa.INCIDENT_SEVERITY, business.severity),
            SearchAttributePair(sa.BUSINESS_SERVICE, business.service),
            SearchAttributePair(
                sa.EMERGENCY_MODE, s.business.emergency if s.business else "normal"
            ),
        ]
        commander = s.roles.get("incident_commander")
        if commander is not None:
            pairs.append(SearchAttributePair(sa.INCIDENT_COMMANDER, commander))
        title = business.codename or business.summary
        try:
            await workflow.start_child_workflow(
                "BusinessIncidentWorkflow",
                business,
                id=s.business_id,
                task_queue=self._input.business_task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                search_attributes=TypedSearchAttributes(pairs),
                static_summary=f"Business incident of {business.parent_id}: {title}"[:200],
            )
        except FailureError as err:
            self._record(
                SYSTEM_ACTOR,
                "escalation-failed",
                f"Business incident {s.business_id} could not start ({type(err).__name__}).",
            )
            s.business_id = None
            s.business = None
            self._publish()

    def _publish(self) -> None:
        super()._publish()
        self._tell_business()

    # -- the link -------------------------------------------------------------------------------

    def _take_business_report(self, report: BusinessReport) -> None:
        s = self._s
        if report.business_id != s.business_id:
            return
        s.business = report
        if report.line:
            self._record(report.actor, "business", report.line)
        for role, person in report.handover.items():
            if role in self._input.playbook.roles and person in self._input.playbook.people:
                s.roles[role] = person
        if report.closed and s.phase is Phase.RESOLVED:
            self._move(SYSTEM_ACTOR, Phase.CLOSED, "closed", "the business postmortem closed")
        self._publish()

    def _business_open(self) -> bool:
        business = self._s.business
        return business is not None and not business.closed

    def _tell_business(self) -> None:
        """Send the business incident this incident's phase and holders when they change."""
        s = self._s
        if s.business_id is None or not self._business_open():
            return
        told = (s.phase.value, s.severity, tuple(sorted(s.roles.items())))
        if told == self._told:
            return
        self._told = told
        report = ParentReport(phase=s.phase.value, severity=s.severity, roles=dict(s.roles))
        self._tasks.append(asyncio.create_task(self._signal_business(s.business_id, report)))

    async def _signal_business(self, business_id: str, report: ParentReport) -> None:
        with contextlib.suppress(FailureError):
            await workflow.get_external_workflow_handle(business_id).signal(
                "parent_changed", report
            )
