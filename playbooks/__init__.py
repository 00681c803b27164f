"""WHAT to do in an incident: the playbook schema, loader, on-call resolution and rendering.

Rendering pulls in Jinja2, which must never load inside a workflow, so `render_template` and
`RenderedMessage` are imported lazily on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from playbooks.errors import (
    NoOneOnCall,
    PlaybookError,
    PlaybookInvalid,
    PlaybookIssue,
    TemplateError,
    TemplateFailed,
    TemplateRefused,
    UnknownReference,
)
from playbooks.loader import default_playbook_path, load_playbook
from playbooks.oncall import OnCall, rotation_on_call, who_is_on_call
from playbooks.schema import (
    Audience,
    BusinessFunction,
    Channel,
    Directory,
    EscalationPolicy,
    MessageTemplate,
    Person,
    Playbook,
    Role,
    Rotation,
    Service,
    Severity,
    Team,
)

if TYPE_CHECKING:
    from playbooks.rendering import RenderedMessage, render_template

__all__ = [
    "Audience",
    "BusinessFunction",
    "Channel",
    "Directory",
    "EscalationPolicy",
    "MessageTemplate",
    "NoOneOnCall",
    "OnCall",
    "Person",
    "Playbook",
    "PlaybookError",
    "PlaybookInvalid",
    "PlaybookIssue",
    "RenderedMessage",
    "Role",
    "Rotation",
    "Service",
    "Severity",
    "Team",
    "TemplateError",
    "TemplateFailed",
    "TemplateRefused",
    "UnknownReference",
    "default_playbook_path",
    "load_playbook",
    "render_template",
    "rotation_on_call",
    "who_is_on_call",
]

_LAZY = {"RenderedMessage", "render_template"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from playbooks import rendering

        return getattr(rendering, name)
    raise AttributeError(f"module 'playbooks' has no attribute {name!r}")
