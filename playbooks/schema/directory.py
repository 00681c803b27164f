"""The directory: people, the channels that reach them, and teams."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from playbooks.schema.types import STRICT, Slug, TimeZoneName

ChannelKind = Literal["sms", "voice", "email"]

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Channel(BaseModel):
    """One way to reach a person; a person's channels are listed in preference order."""

    model_config = STRICT

    kind: ChannelKind
    address: str

    @model_validator(mode="after")
    def _address_fits_kind(self) -> Channel:
        if self.kind == "email" and not _EMAIL.match(self.address):
            raise ValueError(
                f"email channel needs an address like 'name@example.com', not {self.address!r}"
            )
        if self.kind in ("sms", "voice") and not _E164.match(self.address):
            raise ValueError(
                f"{self.kind} channel needs an E.164 number like '+15550100', not {self.address!r}"
            )
        return self


class Person(BaseModel):
    """Someone mayday can page or inform, referred to everywhere by `id` (never by address)."""

    model_config = STRICT

    id: Slug
    name: str = Field(min_length=1)
    timezone: TimeZoneName
    title: str | None = None
    channels: list[Channel] = Field(min_length=1)

    def channel(self, kind: ChannelKind) -> Channel | None:
        """The person's preferred channel of this kind, if they have one."""
        return next((channel for channel in self.channels if channel.kind == kind), None)


class Team(BaseModel):
    """A group of people that owns services and may be paged as a whole."""

    model_config = STRICT

    id: Slug
    name: str = Field(min_length=1)
    members: list[Slug] = Field(min_length=1)
    rotation: Slug | None = None


class Directory(BaseModel):
    """Everyone the playbook can reach, and the teams they form."""

    model_config = STRICT

    people: dict[str, Person]
    teams: dict[str, Team] = Field(default_factory=dict)
