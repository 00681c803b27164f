"""Contracts of the incident workflow: its input, one model per decision, and its status.

Every model here crosses the Temporal boundary, so fields are only ever added with defaults.
People are named by directory id, never by address: these payloads end up in history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflows.alerts import AlertDelivery
from workflows.authority import default_authority
from workflows.business_contracts import BusinessPlan, BusinessReport, Recommendation
from workflows.escalation_contracts import PagePolicy
from workflows.phases import Phase

PageUrgency = Literal["high", "low", "none"]

SYSTEM_ACTOR = "mayday"


class PlaybookSnapshot(BaseModel):
    """The part of the playbook an incident decides with, frozen at declaration."""

    model_config = ConfigDict(frozen=True)

    name: str
    content_hash: str
    severities: list[str] = Field(description="Severity ids, most urgent first.")
    business_threshold: str
    services: list[str]
    people: list[str] = Field(description="Directory ids of everyone who may act on an incident.")
    roles: dict[str, str] = Field(
        default_factory=dict, description="Role id to the role's display name."
    )
    service_policies: dict[str, PagePolicy] = Field(
        default_factory=dict, description="Service id to the escalation policy paging its team."
    )
    service_names: dict[str, str] = Field(default_factory=dict)
    page_urgency: dict[str, PageUrgency] = Field(
        default_factory=dict, description="Severity id to its page urgency (high when absent)."
    )
    postmortem_severities: list[str] = Field(
        default_factory=list, description="Severities whose incidents wait for a postmortem."
    )
    commander_threshold: str | None = Field(
        default=None, description="At or above it the Incident Commander rotation is paged."
    )
    quiet_close_after: timedelta | None = Field(
        default=None, description="A resolved incident without postmortem closes after this."
    )
    role_policies: dict[str, PagePolicy] = Field(
        default_factory=dict, description="Role id to the policy that pages its holder."
    )
    role_both: list[str] = Field(
        default_factory=list, description="Roles paged on primary and backup together."
    )
    policies: dict[str, PagePolicy] = Field(
        default_factory=dict, description="Every escalation policy by id (`mayday page --policy`)."
    )
    authority: dict[str, list[str]] = Field(
        default_factory=default_authority,
        description="Decision to the roles that may take it (workflows.authority).",
    )
    business: BusinessPlan | None = Field(
        default=None, description="Business roles, functions and timers (emergency mode)."
    )
    major_severities: list[str] = Field(
        default_factory=list, description="Severities that get the full process (SEV1, SEV2)."
    )
    command: CommandTimers | None = Field(
        default=None, description="The Deputy's tick and the IC's handover timers."
    )

    def rank(self, severity: str) -> int:
        """Position of a severity, 0 being the most urgent."""
        return self.severities.index(severity)


class CommandTimers(BaseModel):
    """Timers of command (IR: Deputy, IC training), before time scaling."""

    model_config = ConfigDict(frozen=True)

    deputy_tick: timedelta = Field(description="The Deputy is told the elapsed time this often.")
    ic_handover: timedelta = Field(description="The IC is reminded to hand over after this.")
    ic_handover_max: timedelta = Field(description="Past this the Deputy and backup are paged.")


class Declaration(BaseModel):
    """What a person or an alert route says when opening an incident."""

    service: str
    severity: str
    title: str
    actor: str
    source: str = "manual"
    route: str | None = Field(default=None, description="The alert route that opened it.")
    security: bool = Field(
        default=False, description="A security incident: a codename replaces the title."
    )


class IncidentInput(BaseModel):
    """Input of IncidentWorkflow."""

    declaration: Declaration
    playbook: PlaybookSnapshot
    time_scale: float = Field(default=1.0, gt=0)
    auto_resolve: bool = Field(
        default=False, description="Resolve when every alert has resolved (route opt-in)."
    )
    page_task_queue: str | None = Field(
        default=None, description="Task queue of page workflows; the incident's when unset."
    )
    pagerduty_events: bool = Field(
        default=False, description="Mirror the incident into PagerDuty (Events API v2)."
    )
    pending_alerts: list[AlertDelivery] = Field(
        default_factory=list, description="Alerts that arrived as the previous incident closed."
    )
    on_refire: Literal["page", "record"] = Field(
        default="page", description="What an alert firing again after resolve does (route)."
    )
    auto_escalate: bool = Field(
        default=False, description="Escalate to a business incident at the threshold (route)."
    )
    business_task_queue: str | None = Field(
        default=None, description="Task queue of the business incident; the incident's if unset."
    )
    state: IncidentState | None = Field(
        default=None, description="The state carried from the previous run (continue-as-new)."
    )


class ChangeSeverity(BaseModel):
    """Decision: set the incident's severity."""

    severity: str
    actor: str
    reason: str | None = None


class ChangePhase(BaseModel):
    """Decision: move the incident forward to a phase."""

    phase: Phase
    actor: str
    note: str | None = None


class Resolve(BaseModel):
    """Decision: the technical incident is resolved."""

    actor: str
    note: str | None = None


class Reopen(BaseModel):
    """Decision: return the incident to investigating, with the reason on record."""

    actor: str
    reason: str


class PageOnDemand(BaseModel):
    """Decision: page a role's holder, a person or a policy now, through escalation."""

    actor: str
    role: str | None = None
    person: str | None = None
    policy: str | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> PageOnDemand:
        named = [n for n in ("role", "person", "policy") if getattr(self, n)]
        if len(named) != 1:
            raise ValueError("page exactly one of a role, a person or a policy")
        return self


class AssignRole(BaseModel):
    """Decision: hand a role of this incident to a person (`mayday handover`)."""

    role: str
    person: str
    actor: str
    note: str | None = None


class Recommend(BaseModel):
    """Decision: the Technical SLT's advice on escalating to a business incident."""

    actor: str
    reason: str
    escalate: bool = True


class Escalate(BaseModel):
    """Decision: the Incident Commander escalates to a business incident."""

    actor: str
    reason: str | None = None


class TimelineRequest(BaseModel):
    """A page of the timeline, oldest first: entries [offset, offset + limit)."""

    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=200, ge=1, le=500)


class Decided(BaseModel):
    """What a decision answers: enough to confirm it, never the whole timeline."""

    id: str
    severity: str
    phase: Phase
    text: str = Field(description="The timeline line the decision recorded.")
    page_id: str | None = Field(default=None, description="The page a decision started.")


class TimelineEntry(BaseModel):
    """One event on the incident's timeline."""

    at: datetime
    actor: str
    kind: str
    text: str


class TimelinePage(BaseModel):
    """What the `timeline_page` query answers."""

    entries: list[TimelineEntry]
    offset: int
    total: int = Field(description="Entries held; page on while offset + len(entries) < total.")
    dropped: int = Field(
        default=0,
        description="Oldest entries (after the declaration's two) dropped to bound the incident.",
    )


class IncidentStatus(BaseModel):
    """What `mayday status` shows: the incident's state as the workflow holds it."""

    id: str
    service: str
    title: str
    severity: str
    phase: Phase
    source: str
    declared_at: datetime
    declared_by: str
    time_scale: float
    playbook: str
    playbook_hash: str
    roles: dict[str, str]
    timeline: list[TimelineEntry]
    alerts: dict[str, str] = Field(
        default_factory=dict, description="Alert fingerprint to its latest status."
    )
    pages: dict[str, str] = Field(
        default_factory=dict, description="Page workflow id to its state."
    )
    unacknowledged: bool = Field(
        default=False, description="A page ran out of levels with nobody acknowledging."
    )
    timeline_total: int = Field(
        default=0,
        description="Entries on record; `timeline` holds only the newest (query timeline_page).",
    )
    alert_counts: dict[str, int] = Field(
        default_factory=dict, description="Alert status to how many alerts have it."
    )
    responders: list[str] = Field(
        default_factory=list, description="People who acknowledged a page of the incident."
    )
    business_id: str | None = Field(
        default=None, description="The business incident this one escalated to."
    )
    business_stage: str | None = None
    emergency: str = Field(default="normal", description='"normal", "active" or "ended".')
    recommendation: Recommendation | None = None
    codename: str | None = None


class IncidentState(BaseModel):
    """Everything an incident knows, carried whole from one run to the next."""

    severity: str
    phase: Phase
    roles: dict[str, str] = Field(default_factory=dict)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    alerts: dict[str, str] = Field(
        default_factory=dict, description="Alert fingerprint to its latest status."
    )
    fired_at: dict[str, datetime] = Field(
        default_factory=dict,
        description="Alert fingerprint to when it last fired (source time where given).",
    )
    ended_at: dict[str, datetime] = Field(
        default_factory=dict,
        description="Alert fingerprint to when it last resolved (source time where given).",
    )
    deliveries: list[str] = Field(default_factory=list, description="Recent delivery ids.")
    pages: dict[str, str] = Field(default_factory=dict, description="Page id to its state.")
    page_targets: dict[str, str] = Field(
        default_factory=dict, description='Page id to what it pages ("role:incident_commander").'
    )
    declaration_paged: bool = Field(
        default=False, description="The pages a declaration calls for have been started."
    )
    page_sequence: int = Field(default=0, description="Pages started over every run.")
    unacknowledged: bool = False
    late_alerts: list[AlertDelivery] = Field(default_factory=list)
    woken: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Page id to person to channel: woken by a page nobody acked.",
    )
    last_fired: datetime | None = None
    resolved_at: datetime | None = None
    responders: list[str] = Field(
        default_factory=list, description="People who acknowledged a page of the incident."
    )
    alert_book: dict[str, str] = Field(
        default_factory=dict,
        description="Every alert, compactly: status, fired, resolved (workflows.alert_book). "
        "Replaces alerts/fired_at/ended_at, which a run before it carried.",
    )
    alerts_untracked: int = Field(
        default=0, description="Alerts that arrived with the book full of firing alerts."
    )
    alert_lines: int = Field(default=0, description="Alert lines written to the timeline.")
    timeline_dropped: int = Field(
        default=0, description="Oldest entries dropped to keep the timeline bounded."
    )
    business_id: str | None = Field(
        default=None, description="The business incident this one escalated to (linked both ways)."
    )
    business_sequence: int = Field(default=0, description="Business incidents started, all runs.")
    business: BusinessReport | None = Field(
        default=None, description="What the business incident last reported."
    )
    recommendation: Recommendation | None = None
    slt_paged: bool = Field(default=False, description="The Technical SLT was paged to advise.")
    command_holder: str | None = Field(
        default=None, description="Who the command timers follow (the current IC)."
    )
    command_since: datetime | None = Field(
        default=None, description="When the current Incident Commander took command."
    )
    deputy_ticks: int = Field(default=0, description="Elapsed-time callouts sent this command.")
    handover_step: int = Field(
        default=0, description="0 none, 1 IC reminded to hand over, 2 Deputy paged at the max."
    )


IncidentInput.model_rebuild()
