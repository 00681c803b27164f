"""Severities, services, response roles and the business functions that halt in emergency mode."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from playbooks.schema.types import STRICT, Duration, Slug, WebUrl

RoleKind = Literal["technical", "business"]


class Severity(BaseModel):
    """One severity level; the playbook lists them most urgent first."""

    model_config = STRICT

    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]{0,15}$")
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    major: bool = False
    public_notice: bool = False
    page_urgency: Literal["high", "low", "none"] = Field(
        default="high", description="low: no phone calls; none: no page at all (a ticket)."
    )
    postmortem: bool = Field(
        default=False,
        description="Needs a postmortem, so a resolved incident waits to be closed by hand.",
    )


class Service(BaseModel):
    """A business service, the team that owns it and the policy that pages them."""

    model_config = STRICT

    id: Slug
    name: str = Field(min_length=1)
    team: Slug
    escalation_policy: Slug
    description: str | None = None
    customer_facing: bool = True


class Role(BaseModel):
    """A response role from the guides, filled from its on-call rotation."""

    model_config = STRICT

    id: Slug
    name: str = Field(min_length=1)
    kind: RoleKind
    rotation: Slug
    description: str | None = None
    page_primary_and_backup: bool = False
    escalation_policy: Slug | None = None


class HttpAction(BaseModel):
    """An optional webhook mayday calls to carry out a halt or resume step automatically."""

    model_config = STRICT

    method: Literal["POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: WebUrl
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, object] | None = None


class FunctionAction(BaseModel):
    """One step of halting or resuming a business function, owned by a role, due within `eta`."""

    model_config = STRICT

    id: Slug
    title: str = Field(min_length=1)
    owner_role: Slug
    eta: Duration
    http: HttpAction | None = None


class BusinessFunction(BaseModel):
    """A part of the business (marketing, social, ...) that switches to emergency mode."""

    model_config = STRICT

    id: Slug
    name: str = Field(min_length=1)
    owner_role: Slug
    halt: list[FunctionAction] = Field(min_length=1)
    resume: list[FunctionAction] = Field(min_length=1)
    resume_after: list[Slug] = Field(default_factory=list)
