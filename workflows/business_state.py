"""What a business incident holds and shows: its input, carried state and status.

The whole state is data (deadlines, steps, page ids), never a coroutine mid-wait, so a run can
continue-as-new at any quiet moment and the next run picks every timer up where it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from workflows.business_contracts import (
    ActionKind,
    ActionState,
    FunctionMode,
    PostmortemStatus,
    Recommendation,
    Stage,
)
from workflows.contracts import PlaybookSnapshot, TimelineEntry

ESCALATION_STEPS = ("assigned", "owner re-paged", "backup paged", "Business Lead paged")
"""What an unconfirmed action has done so far, by step; past the last it is shown overdue."""


class BusinessInput(BaseModel):
    """Input of BusinessIncidentWorkflow."""

    parent_id: str
    declared_by: str
    auto: bool = Field(default=False, description="Started by the route's auto_escalate.")
    reason: str | None = None
    severity: str
    service: str
    summary: str = Field(description="What pages say: the title, or the codename line.")
    security: bool = False
    codename: str | None = None
    recommendation: Recommendation | None = None
    technical_roles: dict[str, str] = Field(
        default_factory=dict, description="Role holders on the parent when it escalated."
    )
    playbook: PlaybookSnapshot
    time_scale: float = Field(default=1.0, gt=0)
    page_task_queue: str | None = None
    drill: bool = False
    state: BusinessState | None = None


class ActionStatus(BaseModel):
    """One halt or resume action of one function, and how far its escalation went."""

    function: str
    kind: ActionKind
    action: str
    title: str
    owner_role: str
    state: ActionState = "pending"
    step: int = Field(default=0, description="Index into ESCALATION_STEPS.")
    due_at: datetime | None = Field(default=None, description="When the next step is due.")
    eta_at: datetime | None = None
    http: str | None = Field(default=None, description="What the endpoint answered.")
    done_by: str | None = None
    done_at: datetime | None = None
    pages: list[str] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.function}:{self.action}"


class Deliverable(BaseModel):
    """The preliminary analysis or the postmortem: owner, due date, reminders, status."""

    owner_role: str
    owner: str | None = None
    due_at: datetime | None = None
    window: timedelta = Field(default=timedelta(0), description="From start to due (scaled).")
    reminders: int = 0
    status: PostmortemStatus = "none"
    link: str | None = None


class BusinessState(BaseModel):
    """Everything a business incident knows, carried whole from one run to the next."""

    stage: Stage = Stage.DECLARED
    timeline: list[TimelineEntry] = Field(default_factory=list)
    timeline_dropped: int = 0
    roles: dict[str, str] = Field(default_factory=dict, description="Business role holders.")
    technical: dict[str, str] = Field(default_factory=dict, description="Parent's holders.")
    parent_phase: str = "investigating"
    role_pages: dict[str, str] = Field(default_factory=dict, description="Role to its page.")
    missing: list[str] = Field(default_factory=list, description="Roles nobody took.")
    responders: list[str] = Field(default_factory=list)
    pages: dict[str, str] = Field(default_factory=dict, description="Page id to its state.")
    page_targets: dict[str, str] = Field(default_factory=dict)
    page_sequence: int = 0
    mobilised: bool = False
    deferred: list[str] = Field(
        default_factory=list, description="Roles a security incident pages once Legal is in."
    )
    briefing: dict[str, str] = Field(default_factory=dict)
    modes: dict[str, FunctionMode] = Field(default_factory=dict)
    actions: list[ActionStatus] = Field(default_factory=list)
    resolution_sent_at: datetime | None = None
    resolved_at: datetime | None = None
    preliminary: Deliverable | None = None
    postmortem: Deliverable | None = None


class BusinessStatus(BaseModel):
    """What `mayday status` shows of a business incident."""

    id: str
    parent_id: str
    stage: Stage
    emergency: str
    security: bool
    codename: str | None
    roles: dict[str, str]
    missing: list[str]
    briefing: dict[str, str]
    briefing_missing: list[str]
    modes: dict[str, FunctionMode]
    actions: list[ActionStatus]
    pages: dict[str, str]
    resolution_sent_at: datetime | None
    preliminary: Deliverable | None
    postmortem: Deliverable | None
    timeline: list[TimelineEntry]
    timeline_total: int


BusinessInput.model_rebuild()
