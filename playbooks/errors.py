"""Typed errors raised by the playbooks package.

PlaybookError
├── PlaybookInvalid      the files break the schema or a cross-check (all issues at once)
├── UnknownReference     a caller asked for a rotation, template or channel the playbook lacks
├── NoOneOnCall          a rotation has nobody on shift at the requested time
└── TemplateError
    ├── TemplateRefused  a template tried to reach Python internals (sandbox violation)
    └── TemplateFailed   a template could not render (syntax error, missing variable)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlaybookIssue:
    """One mistake in a playbook: where it is and what is wrong."""

    file: str
    line: int | None
    path: str
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path or '(top level)'}: {self.reason}"


class PlaybookError(Exception):
    """Base class for every error the playbooks package raises."""


class PlaybookInvalid(PlaybookError):
    """The playbook failed validation; `issues` lists every mistake found."""

    def __init__(self, issues: list[PlaybookIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


class UnknownReference(PlaybookError):
    """A caller named something (rotation, template, channel) the playbook does not define."""


class NoOneOnCall(PlaybookError):
    """A rotation has no shift covering the requested time."""


class TemplateError(PlaybookError):
    """A template could not be turned into a message; `where` names the template and form."""

    def __init__(self, detail: str, where: str = "") -> None:
        self.detail = detail
        self.where = where
        super().__init__(f"{where}: {detail}" if where else detail)


class TemplateRefused(TemplateError):
    """A template tried to reach Python internals; the sandbox refused to render it."""


class TemplateFailed(TemplateError):
    """A template has a syntax error or uses a variable the context lacks."""
