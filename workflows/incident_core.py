"""The state an incident holds and how it shows it: timeline, search attributes, status.

IncidentWorkflow is layered: this core, then paging (workflows.incident_paging), then alerts
(workflows.incident_alerts), then the workflow with its handlers (workflows.incident).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows.contracts import (
        Decided,
        IncidentInput,
        IncidentState,
        IncidentStatus,
        TimelineEntry,
    )
    from workflows.incident_legacy import LegacyPaging
    from workflows.phases import Phase

REJECTED = "DecisionRejected"


def rejected(reason: str) -> ApplicationError:
    """A decision refused by a validator: the caller sees `reason`, history records nothing."""
    return ApplicationError(reason, type=REJECTED, non_retryable=True)


def cause(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type:
        return cause.type
    return type(cause).__name__ if cause is not None else "ActivityError"


def fresh_state(inp: IncidentInput) -> IncidentState:
    """The state of an incident just declared (by hand or by an alert)."""
    decl = inp.declaration
    state = IncidentState(severity=decl.severity, phase=Phase.INVESTIGATING)
    if decl.source == "manual":
        # Whoever declares by hand holds command until it is handed over.
        state.roles["incident_commander"] = decl.actor
    return state


class IncidentCore(LegacyPaging):
    """State, timeline and the incident's face in the UI; no decisions, no paging."""

    _input: IncidentInput
    _s: IncidentState
    _long_lived: bool
    _tasks: list[asyncio.Task[None]]
    _published: dict[str, str]

    def _urgency(self) -> str:
        return self._input.playbook.page_urgency.get(self._s.severity, "high")

    def _take_command(self, person: str) -> None:
        if "incident_commander" in self._s.roles or person not in self._input.playbook.people:
            return
        # Whoever takes the page leads until command is handed over.
        self._s.roles["incident_commander"] = person
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
