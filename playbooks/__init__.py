"""WHAT to do in an incident: the playbook schema, loader, on-call resolution and rendering.

The loader and rendering pull in YAML and Jinja2, which must never load inside a workflow, so
`load_playbook`, `default_playbook_path`, `render_template` and `RenderedMessage` are imported
on first use; importing `playbooks` or `playbooks.schema` stays sandbox-friendly.
"""

from __future__ import annotations

import importlib
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
    from playbooks.loader import default_playbook_path, load_playbook
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

_LAZY = {
    "default_playbook_path": "playbooks.loader",
    "load_playbook": "playbooks.loader",
    "RenderedMessage": "playbooks.rendering",
    "render_template": "playbooks.rendering",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'playbooks' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
