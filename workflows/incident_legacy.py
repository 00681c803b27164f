"""Paging as incidents recorded before the long-lived patch ran it, kept so they replay.

Those runs await their page as a child (cancelled with the incident) and never continue-as-new.
New runs take the `incident-long-lived` path in workflows.incident instead.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from temporalio import workflow
from temporalio.exceptions import CancelledError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.contracts import SYSTEM_ACTOR, IncidentInput, IncidentState, IncidentStatus
    from workflows.escalation_contracts import (
        EscalationInput,
        FirstLevelPaged,
        PagerDutyAction,
        PageStatus,
    )
    from workflows.page_records import page_timeline
    from workflows.phases import Phase

PAGE_OWNING_TEAM = "page-owning-team"
FIRST_PAGE_LOCAL = "first-page-local"


class _Incident(Protocol):
    _input: IncidentInput
    _s: IncidentState
    _page_tasks: list[asyncio.Task[None]]
    _mirror_tasks: list[asyncio.Task[None]]

    def _record(self, actor: str, kind: str, text: str) -> None: ...
    def _trim_timeline(self) -> None: ...
    def _title(self) -> str: ...
    def _publish(self) -> None: ...
    def _status(self) -> IncidentStatus: ...
    def _stop_legacy_pages(self) -> None: ...
    def _continue_with_late_alerts(self) -> None: ...
    def _mirror_to_pagerduty(self, action: PagerDutyAction) -> None: ...
    async def _page_owning_team(self) -> None: ...
    async def _follow_page(self, page_id: str, page: EscalationInput) -> None: ...
    async def _first_page(self, page_id: str, page: EscalationInput) -> FirstLevelPaged | None: ...


class LegacyPaging:
    """The pre-Step-5 page lifecycle of IncidentWorkflow."""

    def __init__(self) -> None:
        self._page_tasks: list[asyncio.Task[None]] = []
        self._mirror_tasks: list[asyncio.Task[None]] = []

    async def _run_legacy(self: _Incident) -> IncidentStatus:
        if workflow.patched(PAGE_OWNING_TEAM):
            await self._page_owning_team()
        await workflow.wait_condition(lambda: self._s.phase is Phase.CLOSED)
        self._stop_legacy_pages()
        await asyncio.gather(*self._page_tasks)
        await asyncio.gather(*self._mirror_tasks)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._s.late_alerts:
            self._continue_with_late_alerts()
        return self._status()

    def _stop_legacy_pages(self) -> None:
        for task in self._page_tasks:
            if not task.done():
                task.cancel()

    async def _page_owning_team(self: _Incident) -> None:
        inp, decl = self._input, self._input.declaration
        policy = inp.playbook.service_policies.get(decl.service)
        if policy is None:
            self._record(SYSTEM_ACTOR, "page", f"No escalation policy pages {decl.service}.")
            return
        page_id = f"{workflow.info().workflow_id}-page-{len(self._s.pages) + 1}"
        service_name = inp.playbook.service_names.get(decl.service, decl.service)
        page = EscalationInput(
            incident_id=workflow.info().workflow_id,
            target=policy.id,
            policy=policy,
            time_scale=inp.time_scale,
            summary=f"{decl.severity} {service_name}: {self._title()}",
            severity=self._s.severity,
            service=decl.service,
        )
        self._s.pages[page_id] = "notifying"
        self._record(SYSTEM_ACTOR, "page", f"Paging the {decl.service} on-call ({policy.id}).")
        if workflow.patched(FIRST_PAGE_LOCAL):
            page.first_level = await self._first_page(page_id, page)
            if not self._s.phase.is_open:
                # Resolved while the first page was on its way: nobody else needs waking.
                self._s.pages[page_id] = "cancelled"
                return
        self._page_tasks.append(asyncio.create_task(self._follow_page(page_id, page)))
        self._mirror_to_pagerduty("trigger")

    async def _follow_page(self: _Incident, page_id: str, page: EscalationInput) -> None:
        try:
            result = await workflow.execute_child_workflow(
                "EscalationWorkflow",
                page,
                id=page_id,
                task_queue=self._input.page_task_queue,
                parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
                result_type=PageStatus,
                static_summary=f"Page {page.target} for {page.service}",
            )
        except asyncio.CancelledError:
            self._s.pages[page_id] = "cancelled"
            self._record(SYSTEM_ACTOR, "page", f"Page {page_id} stopped.")
            return
        except ChildWorkflowError as err:
            if isinstance(err.cause, CancelledError):
                self._s.pages[page_id] = "cancelled"
                self._record(SYSTEM_ACTOR, "page", f"Page {page_id} stopped.")
            else:
                self._s.pages[page_id] = "failed"
                self._record(
                    SYSTEM_ACTOR,
                    "page-failed",
                    f"Page {page_id} failed ({type(err.cause).__name__}); page by hand.",
                )
            self._publish()
            return
        self._s.pages[page_id] = result.state
        self._s.timeline.extend(page_timeline(result.events))
        self._s.timeline.sort(key=lambda entry: entry.at)
        self._trim_timeline()
        if result.acked_by:
            via = f" via {result.acked_via}" if result.acked_via else ""
            self._record(result.acked_by, "ack", f"Page acknowledged by {result.acked_by}{via}.")
            if result.acked_by not in self._s.responders:
                self._s.responders.append(result.acked_by)
            if result.acked_via != "pagerduty":
                self._mirror_to_pagerduty("acknowledge")
            if (
                "incident_commander" not in self._s.roles
                and result.acked_by in self._input.playbook.people
            ):
                self._s.roles["incident_commander"] = result.acked_by
                workflow.upsert_search_attributes(
                    [sa.INCIDENT_COMMANDER.value_set(result.acked_by)]
                )
        elif result.state == "exhausted":
            self._s.unacknowledged = True
            fallback = page.policy.fallback
            paged = f"; {fallback.kind} {fallback.id} was paged" if fallback else ""
            self._record(SYSTEM_ACTOR, "unacknowledged", f"Nobody acknowledged the page{paged}.")
        self._publish()
