"""Contracts of the escalation workflow and its activities: policy, ack, status, page events.

Every model here crosses the Temporal boundary, so fields are only ever added with defaults.
People are named by directory id and channels by kind; addresses never appear here, they are
resolved inside the notify activity.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from playbooks.schema import EscalationPolicy

ChannelKind = Literal["sms", "voice", "email"]
TargetKind = Literal["rotation", "role", "person", "team"]
Slot = Literal["primary", "backup", "both"]
PageState = Literal["notifying", "acked", "exhausted", "cancelled"]
PageOutcome = Literal[
    "paged",
    "failed",
    "cancelled",
    "no-one-on-call",
    "ack-timeout",
    "acked",
    "exhausted",
    "notified",
    "possibly-sent",
    "renotified",
    "skipped",
]

NOT_MOBILE = "DeliveryNotMobile"
"""ApplicationError type of a number that cannot take SMS; the page moves to voice."""
POSSIBLY_SENT = "DeliveryPossiblySent"
"""ApplicationError type of a send whose request left but whose answer never came.

The provider cannot deduplicate (Twilio, SendGrid), so it is never retried and the person counts
as reached: a second text for one notification id is worse than one that may have arrived."""
THROTTLED = "DeliveryThrottled"
"""ApplicationError type of a send the per-number budget refused for now."""
WRONG_CHANNEL = "DeliveryWrongChannel"
"""ApplicationError type of a notification asked for on a channel it never uses (a notice by
voice); not retried, the caller picks another channel."""


class PageTarget(BaseModel):
    """Who a level pages: a rotation's or role's slot, one person, or a whole team."""

    model_config = ConfigDict(frozen=True)

    kind: TargetKind
    id: str
    slot: Slot = "primary"


class PolicyLevel(BaseModel):
    """Notify these targets, then wait `ack_timeout` (before time scaling) for an ack."""

    model_config = ConfigDict(frozen=True)

    targets: list[PageTarget] = Field(min_length=1)
    ack_timeout: timedelta


class PagePolicy(BaseModel):
    """An escalation policy as plain data: levels, extra rounds, and who to page when exhausted."""

    model_config = ConfigDict(frozen=True)

    id: str
    levels: list[PolicyLevel] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, description="Extra rounds through every level.")
    fallback: PageTarget | None = None
    renotify_every: timedelta | None = Field(
        default=None,
        description="Repeat SMS and voice to a level's unacknowledged people at this interval.",
    )


def page_policy(policy: EscalationPolicy, *, fallback: PageTarget | None = None) -> PagePolicy:
    """The plain-data form of a playbook escalation policy."""
    levels = []
    for level in policy.levels:
        targets = []
        for target in level.targets:
            kind: TargetKind
            for kind in ("rotation", "role", "person", "team"):
                name = getattr(target, kind)
                if name:
                    targets.append(PageTarget(kind=kind, id=name, slot=target.slot))
        levels.append(PolicyLevel(targets=targets, ack_timeout=level.ack_timeout))
    return PagePolicy(
        id=policy.id,
        levels=levels,
        repeat=policy.repeat,
        fallback=fallback,
        renotify_every=policy.renotify_every,
    )


class EscalationInput(BaseModel):
    """Input of EscalationWorkflow: one page of one target through a policy."""

    incident_id: str
    target: str = Field(description="Role, rotation or person id being paged (display only).")
    policy: PagePolicy
    time_scale: float = Field(default=1.0, gt=0)
    purpose: str = Field(default="page", description='Why, e.g. "page", "ic-page".')
    summary: str = Field(description="PII-free reason for the page, quoted in its text.")
    both_primary_and_backup: bool = Field(
        default=False, description="Page primary and backup together (IC, Business Lead)."
    )
    severity: str | None = None
    service: str | None = None
    role_name: str | None = Field(default=None, description='e.g. "Incident Commander".')
    first_level: FirstLevelPaged | None = Field(
        default=None, description="Level 1 already paged by the incident (the fast path)."
    )
    urgency: Literal["high", "low"] = Field(
        default="high", description="low: never a phone call (the severity's page_urgency)."
    )
    report: bool = Field(
        default=False,
        description="Signal the incident (by workflow id) on ack and at the end, so the page "
        "outlives the incident's continue-as-new.",
    )
    report_to: str | None = Field(
        default=None,
        min_length=1,
        description="Workflow id to signal on ack and at the end instead of incident_id (a "
        "business incident's page of technical responders); setting it implies report.",
    )
    restricted: bool = Field(
        default=False,
        description="A security page: its texts carry only the summary (a codename line), "
        "never templates, title, service or incident id.",
    )


class AckInput(BaseModel):
    """Decision: the actor takes the page."""

    actor: str
    channel: str = Field(default="cli", description="Door the ack came through: cli, sms, voice…")


class AckResult(BaseModel):
    """Who holds the page after an accepted ack."""

    acked_by: str
    at: datetime
    level: int


class PageEvent(BaseModel):
    """One step of a page, for the incident's timeline."""

    at: datetime
    level: int = Field(description="1-based level; 0 for the fallback page and ack notices.")
    round: int = 1
    person: str | None = None
    channel: str | None = None
    outcome: PageOutcome
    detail: str | None = Field(default=None, description="Error type or provider status.")
    notification_id: str | None = None


DELIVERY_PROGRESS = {
    state: rank
    for rank, states in enumerate(
        [
            ("accepted", "queued", "scheduled"),
            ("sending", "initiated"),
            ("sent", "ringing"),
            ("in-progress",),
            ("delivered", "completed", "busy", "no-answer", "canceled", "undelivered", "failed"),
            ("read",),
        ]
    )
    for state in states
}
"""Provider states in the order a message or call moves through them; callbacks race."""


class DeliveryStatus(BaseModel):
    """A provider's delivery callback for one notification (Twilio status, SendGrid event)."""

    notification_id: str
    status: str
    error_code: str | None = None
    provider_id: str | None = None

    def beyond(self, other: DeliveryStatus | None) -> bool:
        """Whether this status is further along than `other` (out-of-order callbacks lose)."""
        if other is None:
            return True
        return DELIVERY_PROGRESS.get(self.status, -1) > DELIVERY_PROGRESS.get(other.status, -1)


class PageStatus(BaseModel):
    """What the page_status query and the workflow result report."""

    incident_id: str
    target: str
    state: PageState
    level: int
    round: int
    acked_by: str | None = None
    acked_at: datetime | None = None
    acked_via: str | None = None
    paged: list[str] = Field(default_factory=list, description="Everyone paged so far.")
    events: list[PageEvent] = Field(default_factory=list)
    deliveries: dict[str, DeliveryStatus] = Field(
        default_factory=dict, description="Notification id to its furthest delivery state."
    )
    possibly_sent: int = Field(
        default=0, description="Sends whose request left but whose answer never came."
    )


class LevelMember(BaseModel):
    """A person a level resolved to, the slot they hold, and their channels in preference order."""

    person: str
    slot: str = Field(description='"on-call", "backup", "team" or "person": summary wording.')
    channels: list[ChannelKind]


class ResolveLevelRequest(BaseModel):
    """Who does this level page at `at`?"""

    incident_id: str
    targets: list[PageTarget]
    both_primary_and_backup: bool = False
    at: datetime


class ResolvedLevel(BaseModel):
    """The people of a level, deduplicated in target order; empty when nobody is on call."""

    members: list[LevelMember] = Field(default_factory=list)
    unresolved: list[str] = Field(
        default_factory=list, description="Target ids that had nobody (or are unknown)."
    )


class NotifyRequest(BaseModel):
    """Send one notification to one person on one channel."""

    notification_id: str
    incident_id: str
    purpose: Literal["page", "ack-notice", "stand-down", "notice"] = Field(
        description='"notice": informational (a reminder, a callout, a task notice), never voice.'
    )
    person: str
    channel: ChannelKind
    level: int
    summary: str
    severity: str | None = None
    service: str | None = None
    role_name: str | None = None
    acked_by: str | None = Field(default=None, description="Directory id, for ack notices.")
    restricted: bool = Field(
        default=False, description="Security wording: the summary only, no incident details."
    )


class FirstPageRequest(BaseModel):
    """Page level 1 from inside the incident's first task, before the page workflow exists.

    Notification ids are built by the workflow (`notification_ids` holds the per-person prefix)
    so that callbacks and acks route to the page workflow that follows.
    """

    level: ResolveLevelRequest
    page_id: str
    purpose: str = "page"
    summary: str
    severity: str | None = None
    service: str | None = None
    role_name: str | None = None
    restricted: bool = False


class FirstLevelPaged(BaseModel):
    """What the first-page activity did: who level 1 is, and who it reached on which channel."""

    at: datetime
    members: list[LevelMember] = Field(default_factory=list)
    unresolved: list[str] = Field(default_factory=list)
    reached: dict[str, str] = Field(
        default_factory=dict, description="Person to the channel that accepted the page."
    )
    failed: dict[str, str] = Field(
        default_factory=dict, description="Person to the error type of their first channel."
    )
    possibly_sent: dict[str, str] = Field(
        default_factory=dict,
        description="Person to the channel whose send left but was never answered: not retried.",
    )


class PageAcked(BaseModel):
    """Signal to the incident: its page was taken (sent at once, before the notices)."""

    page_id: str
    acked_by: str
    at: datetime
    via: str | None = None
    level: int = 0


class PageEnded(BaseModel):
    """Signal to the incident: its page ended (acked, exhausted or cancelled), with every step."""

    page_id: str
    status: PageStatus


class StandDownRequest(BaseModel):
    """Tell the people a page woke, who never acked, that the incident is resolved."""

    incident_id: str
    page_id: str
    people: dict[str, ChannelKind] = Field(description="Person to the channel that reached them.")
    summary: str
    severity: str | None = None
    service: str | None = None


PagerDutyAction = Literal["trigger", "acknowledge", "resolve"]


class PagerDutyEvent(BaseModel):
    """Mirror an incident into PagerDuty (Events API v2) under the dedup key `mayday:<id>`."""

    incident_id: str
    action: PagerDutyAction
    summary: str
    severity: str | None = None


class NotifyResult(BaseModel):
    """A provider's acceptance of a notification."""

    notification_id: str
    provider: str
    provider_id: str
    status: str


EscalationInput.model_rebuild()
