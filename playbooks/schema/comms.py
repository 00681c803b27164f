"""Stakeholder communications: audiences, their cadence and their approval chain."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from playbooks.schema.directory import ChannelKind
from playbooks.schema.types import STRICT, Duration, Slug, format_duration

MessagePurpose = Literal[
    "initial",
    "scoping",
    "update",
    "long_incident",
    "resolution",
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "holding",
    "summary",
    "follow_up",
    "preliminary_analysis",
    "postmortem",
    "security",
]
ApprovalStepKind = Literal["draft", "review", "tech_check", "approve", "send"]

_LONG_INCIDENT_FLOOR = timedelta(hours=1)


class Cadence(BaseModel):
    """When an audience hears from us: first message, scoping, updates, the long-incident switch."""

    model_config = STRICT

    first_message: Duration
    scoping_after: Duration | None = None
    update_every: Duration
    long_incident_after: Duration | None = None
    long_update_every: Duration | None = None
    reminder_before: Duration

    @model_validator(mode="after")
    def _cadence_is_possible(self) -> Cadence:
        problems = []
        if self.reminder_before >= self.update_every:
            problems.append(
                f"reminder_before ({format_duration(self.reminder_before)}) must be shorter than "
                f"update_every ({format_duration(self.update_every)}), "
                "or the reminder fires before the previous message"
            )
        if self.long_incident_after is not None and self.long_incident_after < _LONG_INCIDENT_FLOOR:
            problems.append(
                "long_incident_after must be at least 1h: the guide never declares "
                "a long incident in the first hour"
            )
        if (self.long_incident_after is None) != (self.long_update_every is None):
            problems.append("give long_incident_after and long_update_every together, or neither")
        if self.long_update_every is not None and self.long_update_every <= self.update_every:
            problems.append(
                f"long_update_every ({format_duration(self.long_update_every)}) must be longer "
                f"than update_every ({format_duration(self.update_every)}): "
                "a long incident updates less often"
            )
        if self.long_incident_after is not None and self.long_incident_after <= self.first_message:
            problems.append("long_incident_after must come after the first message")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ApprovalStep(BaseModel):
    """One step of the message loop: who acts and how long they have."""

    model_config = STRICT

    step: ApprovalStepKind
    roles: list[Slug] = Field(min_length=1)
    eta: Duration
    objection_binding: bool = False


class AudienceMembers(BaseModel):
    """Static recipients: people, whole teams, role holders and distribution lists."""

    model_config = STRICT

    people: list[Slug] = Field(default_factory=list)
    teams: list[Slug] = Field(default_factory=list)
    roles: list[Slug] = Field(default_factory=list)
    lists: list[str] = Field(default_factory=list)


class Audience(BaseModel):
    """A group of stakeholders with its own channels, cadence, approval chain and templates."""

    model_config = STRICT

    id: Slug
    name: str = Field(min_length=1)
    kind: Literal["internal", "external"]
    description: str | None = None
    min_severity: str | None = None
    members: AudienceMembers = Field(default_factory=AudienceMembers)
    opt_in: bool = False
    channels: list[ChannelKind]
    cadence: Cadence
    approval_chain: list[ApprovalStep] = Field(min_length=1)
    templates: dict[MessagePurpose, Slug] = Field(min_length=1)

    @model_validator(mode="after")
    def _chain_is_a_loop(self) -> Audience:
        if self.approval_chain[0].step != "draft":
            raise ValueError("the approval chain starts with a draft step")
        if self.approval_chain[-1].step != "send":
            raise ValueError("the approval chain ends with a send step")
        return self
