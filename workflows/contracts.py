"""Contracts of the incident workflow: its input, one model per decision, and its status.

Every model here crosses the Temporal boundary, so fields are only ever added with defaults.
People are named by directory id, never by address: these payloads end up in history.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from workflows.alerts import AlertDelivery
from workflows.escalation_contracts import PagePolicy
from workflows.phases import Phase

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

    def rank(self, severity: str) -> int:
        """Position of a severity, 0 being the most urgent."""
        return self.severities.index(severity)


class Declaration(BaseModel):
    """What a person or an alert route says when opening an incident."""

    service: str
    severity: str
    title: str
    actor: str
    source: str = "manual"
    route: str | None = Field(default=None, description="The alert route that opened it.")


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


class TimelineEntry(BaseModel):
    """One event on the incident's timeline."""

    at: datetime
    actor: str
    kind: str
    text: str


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
