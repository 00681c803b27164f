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
    from workflows.alert_book import AlertBook
    from workflows.authority import refusal
    from workflows.bounds import bounded, clean_title, visible
    from workflows.codename import codename
    from workflows.contracts import (
        Decided,
        IncidentInput,
        IncidentState,
        IncidentStatus,
        TimelineEntry,
        TimelinePage,
        TimelineRequest,
    )
    from workflows.incident_legacy import LegacyPaging
    from workflows.phases import Phase

REJECTED = "DecisionRejected"
TIMELINE_MAX = 2_000
"""Entries an incident holds; past it the oldest (after the declaration) are dropped, counted."""
TIMELINE_HEAD = 2
"""The declaration and playbook lines, never dropped."""
STATUS_TIMELINE = 100
"""Newest entries a status carries; `timeline_page` pages through the rest."""
STATUS_ALERTS = 50
"""Newest alerts a status names; `alert_counts` counts them all."""
ENTRY_TEXT_MAX = 500
STATE_BUDGET = 1_500_000
"""Bytes of carried state a continue-as-new may hand on; Temporal refuses payloads over 2 MB."""


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

    def _title(self) -> str:
        """The declaration's title, bounded and visible whatever reached the workflow."""
        return clean_title(self._input.declaration.title) or "(no title)"

    def _message_summary(self, service: str | None = None) -> str:
        """What pages and mirrors say: severity, service and title, or only a codename."""
        decl = self._input.declaration
        if decl.security:
            # A security incident's messages carry nothing but its codename (IR: Security).
            return f"{self._s.severity} security incident {codename(workflow.info().workflow_id)}"
        return f"{self._s.severity} {service or decl.service}: {self._title()}"

    def _urgency(self) -> str:
        return self._input.playbook.page_urgency.get(self._s.severity, "high")

    def _note_responder(self, page_id: str, person: str) -> None:
        """Who took a page answers the incident; a role's page makes them its holder if vacant."""
        if person not in self._input.playbook.people:
            return
        if person not in self._s.responders:
            self._s.responders.append(person)
        target = self._s.page_targets.get(page_id, "")
        role = target.removeprefix("role:") if target.startswith("role:") else None
        if role is not None and role != "incident_commander":
            self._s.roles.setdefault(role, person)

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

    def _check_authority(self, decision: str, actor: str, *, also: str | None = None) -> None:
        """Refuse unless the playbook lets `actor` take `decision` (or `actor` holds `also`)."""
        if also is not None and self._s.roles.get(also) == actor:
            return
        playbook = self._input.playbook
        reason = refusal(
            decision,
            actor,
            authority=playbook.authority,
            holders=self._s.roles,
            responders=self._s.responders,
            role_names=playbook.roles,
        )
        if reason is not None:
            raise rejected(reason)

    def _check_not_closed(self) -> None:
        if self._s.phase is Phase.CLOSED:
            raise rejected("The incident is closed; declare a new one.")

    def _record(self, actor: str, kind: str, text: str) -> None:
        self._s.timeline.append(self._entry(actor, kind, text))
        self._trim_timeline()

    def _trim_timeline(self) -> None:
        s = self._s
        excess = len(s.timeline) - TIMELINE_MAX
        if excess > 0:
            del s.timeline[TIMELINE_HEAD : TIMELINE_HEAD + excess]
            s.timeline_dropped += excess

    def _fit_state(self) -> None:
        """Shed the oldest timeline entries, then resolved alerts, until the state fits."""
        s = self._s
        while len(s.model_dump_json()) > STATE_BUDGET:
            middle = len(s.timeline) - TIMELINE_HEAD - STATUS_TIMELINE
            if middle > 0:
                shed = max(middle // 4, 1)
                del s.timeline[TIMELINE_HEAD : TIMELINE_HEAD + shed]
                s.timeline_dropped += shed
            elif not AlertBook(s.alert_book).shed_resolved(max(len(s.alert_book) // 4, 1)):
                return

    def _timeline_mark(self) -> int:
        """Where the next entry goes, counting every entry ever dropped."""
        return self._s.timeline_dropped + len(self._s.timeline)

    @staticmethod
    def _entry(actor: str, kind: str, text: str) -> TimelineEntry:
        # Bounded here too: a page or decision quoting outside text cannot grow history.
        return TimelineEntry(
            at=workflow.now(),
            actor=bounded(visible(actor), 200),
            kind=kind,
            text=bounded(visible(text), ENTRY_TEXT_MAX),
        )

    def _publish(self) -> None:
        """Mirror state into search attributes (on change) and the UI's current-details panel."""
        wanted = {
            sa.INCIDENT_SEVERITY.name: self._s.severity,
            sa.INCIDENT_PHASE.name: self._s.phase.value,
        }
        commander = self._s.roles.get("incident_commander")
        if commander is not None:
            wanted[sa.INCIDENT_COMMANDER.name] = commander
        if self._s.business is not None:
            wanted[sa.EMERGENCY_MODE.name] = self._s.business.emergency
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
        # A security incident shows the UI only its codename, never what its timeline says.
        said = f"({last.kind})" if decl.security else last.text
        workflow.set_current_details(
            f"**{self._s.severity}** · `{decl.service}` · **{self._s.phase.value}**\n\n"
            f"Commander: `{commander or 'unassigned'}`\n\n"
            f"Last: {last.at:%H:%M:%S}Z {said}"
        )

    def _decided(self, mark: int, *, page_id: str | None = None) -> Decided:
        """The answer to a decision whose first timeline line is at `mark` (_timeline_mark)."""
        lines = self._s.timeline[max(mark - self._s.timeline_dropped, 0) :]
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
            title=self._title(),
            severity=s.severity,
            phase=s.phase,
            source=decl.source,
            declared_at=s.timeline[0].at if s.timeline else workflow.now(),
            declared_by=decl.actor,
            time_scale=self._input.time_scale,
            playbook=self._input.playbook.name,
            playbook_hash=self._input.playbook.content_hash,
            roles=dict(s.roles),
            timeline=s.timeline[-STATUS_TIMELINE:],
            alerts=AlertBook(s.alert_book).newest(STATUS_ALERTS),
            pages=dict(s.pages),
            unacknowledged=s.unacknowledged,
            timeline_total=self._timeline_mark(),
            alert_counts=self._alert_counts(),
            responders=list(s.responders),
            business_id=s.business_id,
            business_stage=s.business.stage.value if s.business else None,
            emergency=s.business.emergency if s.business else "normal",
            recommendation=s.recommendation,
            codename=codename(info.workflow_id) if decl.security else None,
        )

    def _alert_counts(self) -> dict[str, int]:
        counts = AlertBook(self._s.alert_book).counts()
        if self._s.alerts_untracked:
            counts["untracked"] = self._s.alerts_untracked
        return counts

    def _timeline_page(self, request: TimelineRequest) -> TimelinePage:
        """Held entries [offset, offset + limit), oldest first."""
        s = self._s
        return TimelinePage(
            entries=s.timeline[request.offset : request.offset + request.limit],
            offset=request.offset,
            total=len(s.timeline),
            dropped=s.timeline_dropped,
        )
