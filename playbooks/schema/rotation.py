"""On-call rotations: layers of members handing off on a schedule, plus dated overrides."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from playbooks.schema.types import STRICT, Duration, Slug, TimeZoneName


class Layer(BaseModel):
    """Members take turns as primary; the next member in line is the backup.

    Shifts start at `start` (wall-clock time in the rotation's time zone) and hand off every
    `every` of wall-clock time, so a weekly 09:00 handoff stays at 09:00 across DST changes.
    A later layer, once started, takes precedence over earlier ones.
    """

    model_config = STRICT

    name: str = Field(min_length=1)
    members: list[Slug] = Field(min_length=1)
    start: datetime
    end: datetime | None = None
    handoff: Literal["daily", "weekly", "custom"] = "weekly"
    every: Duration | None = None

    @model_validator(mode="after")
    def _handoff_is_complete(self) -> Layer:
        if self.start.tzinfo is not None:
            raise ValueError(
                "layer start is a wall-clock time in the rotation's time zone; drop the UTC offset"
            )
        if self.end is not None and self.end.tzinfo is not None:
            raise ValueError(
                "layer end is a wall-clock time in the rotation's time zone; drop the UTC offset"
            )
        if self.handoff == "custom" and self.every is None:
            raise ValueError("a custom handoff needs 'every', e.g. every: 12h")
        if self.handoff != "custom" and self.every is not None:
            raise ValueError(
                f"'every' only applies to handoff: custom, not handoff: {self.handoff}"
            )
        if self.end is not None and self.end <= self.start:
            raise ValueError("layer end must come after its start")
        return self

    @property
    def shift_length(self) -> timedelta:
        """The wall-clock length of one shift."""
        if self.every is not None:
            return self.every
        return timedelta(days=1) if self.handoff == "daily" else timedelta(days=7)


class Override(BaseModel):
    """For a dated window, `person` takes the primary (or backup) slot of the rotation."""

    model_config = STRICT

    person: Slug
    start: datetime
    end: datetime
    slot: Literal["primary", "backup"] = "primary"
    reason: str | None = None

    @model_validator(mode="after")
    def _window_is_positive(self) -> Override:
        if self.end <= self.start:
            raise ValueError("override end must come after its start")
        if (self.start.tzinfo is None) != (self.end.tzinfo is None):
            raise ValueError("give both override start and end a UTC offset, or neither")
        return self


class Rotation(BaseModel):
    """Who holds a role (or a team's pager) at any moment, with a backup."""

    model_config = STRICT

    id: Slug
    name: str = Field(min_length=1)
    time_zone: TimeZoneName
    layers: list[Layer] = Field(min_length=1)
    overrides: list[Override] = Field(default_factory=list)
