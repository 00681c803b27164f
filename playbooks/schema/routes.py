"""Alert routes: label matchers that turn an alert into an incident on a service."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from playbooks.schema.types import STRICT, Slug


class AlertRoute(BaseModel):
    """Alerts whose labels match go to `service` at `severity`, deduplicated by `dedup_key`."""

    model_config = STRICT

    id: Slug
    match: dict[str, str] = Field(default_factory=dict)
    match_re: dict[str, str] = Field(default_factory=dict)
    service: Slug
    severity: str
    dedup_key: str = Field(min_length=1)
    auto_escalate: bool = Field(
        default=False,
        description="Escalate to a business incident at the threshold without the IC's "
        "decision (the guide says never; a route may opt in).",
    )
    security: bool = Field(
        default=False,
        description="A security incident: a codename replaces the title in every message.",
    )
    auto_resolve: bool = Field(
        default=False, description="Resolve the incident once every alert has resolved."
    )
    on_refire: Literal["page", "record"] = Field(
        default="page",
        description="A resolved incident whose alert fires again reopens and pages (page), "
        "or only records it (record).",
    )

    @field_validator("match_re")
    @classmethod
    def _patterns_compile(cls, patterns: dict[str, str]) -> dict[str, str]:
        for label, pattern in patterns.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"match_re.{label}: {pattern!r} is not a regular expression ({exc})"
                ) from None
        return patterns

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether an alert with these labels belongs to this route."""
        if any(labels.get(label) != value for label, value in self.match.items()):
            return False
        return all(
            re.fullmatch(pattern, labels.get(label, "")) is not None
            for label, pattern in self.match_re.items()
        )
