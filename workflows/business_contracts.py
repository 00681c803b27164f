"""Contracts of the business incident: its plan from the playbook, its input, state and decisions.

A business incident (PagerDuty BIR) is a separate workflow linked to its technical parent: it
mobilises the business roles, switches business functions into emergency mode and back, and tracks
the preliminary analysis and the postmortem. Every model crosses the Temporal boundary, so fields
are only ever added with defaults; people are directory ids, never addresses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BUSINESS_PREFIX = "business-"
"""Business incident ids are `business-<incident key>-<n>-<chain>`: never an incident id."""

ActionKind = Literal["halt", "resume"]
FunctionMode = Literal["normal", "halting", "halted", "resuming"]
EmergencyState = Literal["normal", "active", "ended"]
ActionState = Literal["pending", "calling", "waiting", "done"]
PostmortemStatus = Literal["none", "draft", "in-review", "reviewed", "closed"]
POSTMORTEM_ORDER: tuple[PostmortemStatus, ...] = (
    "none",
    "draft",
    "in-review",
    "reviewed",
    "closed",
)

ACTION_POSSIBLY_DONE = "ActionPossiblyDone"
"""ApplicationError type: the request left and no answer came; never repeated, checked by hand."""
ACTION_REFUSED = "ActionRefused"
"""ApplicationError type: the endpoint answered with a status that is not 2xx (not retried)."""
ACTION_UNAVAILABLE = "ActionUnavailable"
"""ApplicationError type: nothing reached the endpoint, or it asked us to come back (retried)."""


class Stage(StrEnum):
    """The business state machine (domain §7.3); it only moves forward."""

    DECLARED = "declared"
    MOBILIZING = "mobilizing"
    BRIEFING = "briefing"
    EMERGENCY_OPS = "emergency_ops"
    COMMUNICATING = "communicating"
    RESOLVING = "resolving"
    RESOLVED = "resolved"
    POST_INCIDENT = "post_incident"
    CLOSED = "closed"

    @property
    def rank(self) -> int:
        return list(Stage).index(self)


class HttpCall(BaseModel):
    """An endpoint a business action calls (the playbook's `http:` block)."""

    model_config = ConfigDict(frozen=True)

    method: Literal["POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, object] | None = None


class ActionPlan(BaseModel):
    """One halt or resume step of a business function."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    owner_role: str
    eta: timedelta
    http: HttpCall | None = None


class FunctionPlan(BaseModel):
    """A business function (marketing, social, ...) and how it halts and resumes."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    owner_role: str
    halt: list[ActionPlan]
    resume: list[ActionPlan]
    resume_after: list[str] = Field(default_factory=list)


class PostmortemDue(BaseModel):
    """When a severity's postmortem meeting is due: calendar days, or business days."""

    model_config = ConfigDict(frozen=True)

    days: int = Field(ge=1)
    business_days: bool = False


class BusinessPlan(BaseModel):
    """The part of the playbook a business incident decides with, frozen at declaration."""

    model_config = ConfigDict(frozen=True)

    roles: list[str] = Field(description="Business roles mobilised, in the playbook's order.")
    functions: list[FunctionPlan] = Field(default_factory=list)
    eta_check_grace: timedelta = timedelta(minutes=2)
    preliminary_analysis_due: timedelta = timedelta(hours=24)
    postmortem_due: dict[str, PostmortemDue] = Field(default_factory=dict)
    security_first: list[str] = Field(
        default_factory=lambda: ["legal_officer"],
        description="Roles a security incident mobilises before the others.",
    )
    secure_channel: str = Field(default="", description="Where a security incident is run.")


class Recommendation(BaseModel):
    """The Technical SLT's advice on escalating (`mayday recommend`)."""

    actor: str
    escalate: bool = True
    reason: str
    at: datetime


class HttpActionRequest(BaseModel):
    """Call a business action's endpoint once; `action_key` is its Idempotency-Key."""

    action_key: str
    business_id: str
    call: HttpCall
    drill: bool = False
    function: str = ""
    kind: str = Field(default="", description='"halt" or "resume".')
    action: str = Field(
        default="", description="Which playbook action: its headers are added by the activity."
    )


class HttpActionResult(BaseModel):
    """What the endpoint answered (2xx): status and a short, visible excerpt."""

    status: int
    detail: str = ""
    elapsed_ms: int = 0


BRIEFING_FIELDS: dict[str, str] = {
    "started": "When it started",
    "trigger": "What triggered it",
    "affected_now": "Customers affected now",
    "affected_worst": "Customers affected at worst",
    "services": "Business services hit",
    "experience": "What customers experience",
    "next_update": "Next technical update",
}
"""The guide's briefing (BIR, Incident briefing): field to the question the Business Lead asks."""


class BusinessReport(BaseModel):
    """Signal to the technical incident: what its business incident did, as a timeline line."""

    business_id: str
    stage: Stage
    emergency: EmergencyState = "normal"
    line: str = ""
    actor: str = "mayday"
    handover: dict[str, str] = Field(
        default_factory=dict, description="Technical role to the person who now holds it."
    )
    closed: bool = False


class ParentReport(BaseModel):
    """Signal to the business incident: its technical parent's phase and role holders."""

    phase: str
    severity: str
    roles: dict[str, str] = Field(default_factory=dict)


class Brief(BaseModel):
    """Decision: record briefing answers (partial answers are allowed)."""

    actor: str
    answers: dict[str, str]


class ConfirmAction(BaseModel):
    """Decision: a halt or resume action is done."""

    actor: str
    action: str
    note: str | None = None


class ResolutionSent(BaseModel):
    """Decision: the resolution message went out (until Step 8 sends it, the manual path)."""

    actor: str
    note: str | None = None


class PostmortemUpdate(BaseModel):
    """Decision: the postmortem (or the preliminary analysis) moved on."""

    actor: str
    status: PostmortemStatus | None = None
    link: str | None = None
    owner: str | None = None
    preliminary: bool = Field(
        default=False, description="This is the preliminary analysis (24 h): delivered, with link."
    )


class BusinessDecided(BaseModel):
    """What a business decision answers: enough to confirm it."""

    id: str
    stage: Stage
    emergency: EmergencyState
    text: str
