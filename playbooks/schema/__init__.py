"""The pydantic schema of a playbook (no I/O, no Jinja2: safe to import inside workflows)."""

from playbooks.schema.comms import (
    ApprovalStep,
    Audience,
    AudienceMembers,
    Cadence,
    MessagePurpose,
)
from playbooks.schema.directory import Channel, ChannelKind, Directory, Person, Team
from playbooks.schema.escalation import EscalationLevel, EscalationPolicy, EscalationTarget
from playbooks.schema.playbook import Company, Playbook, SmsPolicy, Timers
from playbooks.schema.response import (
    BusinessFunction,
    FunctionAction,
    HttpAction,
    Role,
    RoleKind,
    Service,
    Severity,
)
from playbooks.schema.rotation import Layer, Override, Rotation
from playbooks.schema.routes import AlertRoute
from playbooks.schema.templates import EmailForm, MessageTemplate
from playbooks.schema.types import format_duration, parse_duration

__all__ = [
    "AlertRoute",
    "ApprovalStep",
    "Audience",
    "AudienceMembers",
    "BusinessFunction",
    "Cadence",
    "Channel",
    "ChannelKind",
    "Company",
    "Directory",
    "EmailForm",
    "EscalationLevel",
    "EscalationPolicy",
    "EscalationTarget",
    "FunctionAction",
    "HttpAction",
    "Layer",
    "MessagePurpose",
    "MessageTemplate",
    "Override",
    "Person",
    "Playbook",
    "Role",
    "RoleKind",
    "Rotation",
    "Service",
    "Severity",
    "SmsPolicy",
    "Team",
    "Timers",
    "format_duration",
    "parse_duration",
]
