"""Escalation policies: levels of targets, each with an acknowledgement timeout."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from playbooks.schema.types import STRICT, Duration, Slug

MIN_RENOTIFY = timedelta(seconds=30)


class EscalationTarget(BaseModel):
    """Exactly one of: a rotation's slot, a role's rotation, a person or a whole team."""

    model_config = STRICT

    rotation: Slug | None = None
    role: Slug | None = None
    person: Slug | None = None
    team: Slug | None = None
    slot: Literal["primary", "backup", "both"] = "primary"

    @model_validator(mode="after")
    def _exactly_one_target(self) -> EscalationTarget:
        named = [name for name in ("rotation", "role", "person", "team") if getattr(self, name)]
        if len(named) != 1:
            raise ValueError(
                "an escalation target names exactly one of rotation, role, person or team"
                + (f", not {' and '.join(named)}" if named else "")
            )
        return self


class EscalationLevel(BaseModel):
    """Notify these targets, then wait `ack_timeout` for an acknowledgement before moving on."""

    model_config = STRICT

    targets: list[EscalationTarget] = Field(min_length=1)
    ack_timeout: Duration


class EscalationPolicy(BaseModel):
    """How a page climbs when nobody acknowledges it."""

    model_config = STRICT

    id: Slug
    name: str = Field(min_length=1)
    levels: list[EscalationLevel] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=9)
    renotify_every: Duration | None = Field(
        default=None,
        description="Repeat SMS and voice to a level's unacknowledged people at this interval "
        "until the ack or the level's timeout; email goes once.",
    )

    @field_validator("renotify_every")
    @classmethod
    def _not_a_flood(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < MIN_RENOTIFY:
            raise ValueError(
                f"renotify_every must be at least {MIN_RENOTIFY.seconds}s; more often than that "
                "floods a phone and trips the carrier's limits"
            )
        return value
