"""The playbook root: everything mayday needs to run a business incident response."""

from __future__ import annotations

from pydantic import BaseModel, Field

from playbooks.errors import UnknownReference
from playbooks.schema.comms import Audience
from playbooks.schema.directory import Directory, Person
from playbooks.schema.escalation import EscalationPolicy
from playbooks.schema.response import BusinessFunction, Role, Service, Severity
from playbooks.schema.rotation import Rotation
from playbooks.schema.routes import AlertRoute
from playbooks.schema.templates import MessageTemplate
from playbooks.schema.types import STRICT, Duration, WebUrl
from workflows.authority import DEFAULT_AUTHORITY, WORDS


class Company(BaseModel):
    """The static details every message may quote: who we are and where to find more."""

    model_config = STRICT

    name: str = Field(min_length=1)
    status_page_url: WebUrl
    internal_status_url: WebUrl
    bridge_url: WebUrl
    chat_channel: str = Field(min_length=1)
    support_email: str = Field(min_length=3)
    secure_channel: str | None = Field(
        default=None,
        min_length=1,
        description="Where security responders meet; restricted pages name only this.",
    )


class SmsPolicy(BaseModel):
    """Limits on SMS bodies; longer messages must link to the full text instead."""

    model_config = STRICT

    segment_limit: int = Field(default=3, ge=1, le=10)


class Timers(BaseModel):
    """The guide's response timers that are not tied to one audience."""

    model_config = STRICT

    deputy_tick: Duration
    ic_handover: Duration
    ic_handover_max: Duration
    preliminary_analysis_due: Duration
    eta_check_grace: Duration
    quiet_close_after: Duration | None = Field(
        default=None,
        description="A resolved incident needing no postmortem closes after this long "
        "with no alert firing again.",
    )


class Playbook(BaseModel):
    """A validated playbook; `content_hash` identifies the exact files it was loaded from."""

    model_config = STRICT

    name: str = Field(min_length=1)
    content_hash: str = ""
    company: Company
    sms: SmsPolicy = Field(default_factory=SmsPolicy)
    timers: Timers
    severities: list[Severity] = Field(min_length=1)
    business_threshold: str
    commander_threshold: str | None = Field(
        default=None,
        description="At or above this severity the Incident Commander rotation is paged at "
        "once, besides the owning team.",
    )
    services: dict[str, Service] = Field(min_length=1)
    directory: Directory
    rotations: dict[str, Rotation] = Field(default_factory=dict)
    escalation_policies: dict[str, EscalationPolicy] = Field(min_length=1)
    roles: dict[str, Role] = Field(min_length=1)
    business_functions: dict[str, BusinessFunction] = Field(default_factory=dict)
    audiences: dict[str, Audience] = Field(default_factory=dict)
    alert_routes: list[AlertRoute] = Field(default_factory=list)
    templates: dict[str, MessageTemplate] = Field(default_factory=dict)
    authority: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Decision to the role ids (or the words responder, anyone) that may take "
        "it; merged over the guide's defaults, so a playbook states only what differs.",
    )

    def effective_authority(self) -> dict[str, list[str]]:
        """Every decision's rule: the playbook's where it states one, else the default.

        A default naming a role this playbook does not define drops that role.
        """
        rules: dict[str, list[str]] = {}
        for decision, default in DEFAULT_AUTHORITY.items():
            stated = self.authority.get(decision)
            if stated is not None:
                rules[decision] = list(stated)
                continue
            kept = [item for item in default if item in WORDS or item in self.roles]
            rules[decision] = kept or ["incident_commander"]
        return rules

    def severity_rank(self, sev_id: str) -> int:
        """1 for the most urgent severity, counting down the playbook's list."""
        for rank, severity in enumerate(self.severities, start=1):
            if severity.id == sev_id:
                return rank
        raise UnknownReference(f"severity {sev_id!r} is not in playbook {self.name!r}")

    def is_business_severity(self, sev_id: str) -> bool:
        """Whether this severity is at or above the business threshold."""
        return self.severity_rank(sev_id) <= self.severity_rank(self.business_threshold)

    def person(self, person_id: str) -> Person:
        """The directory entry for a person id."""
        try:
            return self.directory.people[person_id]
        except KeyError:
            raise UnknownReference(f"person {person_id!r} is not in the directory") from None

    def rotation(self, rotation_id: str) -> Rotation:
        """A rotation by id, or by the id of a role that uses it."""
        if rotation_id in self.rotations:
            return self.rotations[rotation_id]
        if rotation_id in self.roles:
            return self.rotations[self.roles[rotation_id].rotation]
        raise UnknownReference(f"rotation or role {rotation_id!r} is not in playbook {self.name!r}")
