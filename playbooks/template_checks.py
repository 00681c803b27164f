"""Template cross-checks: syntax, sandbox safety, variables and SMS length (stub)."""

from __future__ import annotations

from playbooks.errors import PlaybookIssue
from playbooks.locate import Locator
from playbooks.schema import Playbook


def check_templates(
    playbook: Playbook, known: frozenset[str], locator: Locator
) -> list[PlaybookIssue]:
    """Every template problem, located in its file."""
    del playbook, known, locator
    return []
