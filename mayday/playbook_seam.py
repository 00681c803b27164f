"""The one seam between a loaded playbook and what an incident workflow is given."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from playbooks import Playbook, load_playbook
from workflows.contracts import PlaybookSnapshot


@lru_cache(maxsize=4)
def _load(path: Path | None) -> Playbook:
    return load_playbook(path)


def current_playbook(path: Path | None) -> Playbook:
    """The playbook at `path` (the bundled one when None), loaded once per process."""
    return _load(path)


def snapshot(playbook: Playbook) -> PlaybookSnapshot:
    """The PII-free decision data an incident keeps for its whole life."""
    return PlaybookSnapshot(
        name=playbook.name,
        content_hash=playbook.content_hash,
        severities=[severity.id for severity in playbook.severities],
        business_threshold=playbook.business_threshold,
        services=sorted(playbook.services),
        people=sorted(playbook.directory.people),
        roles={role_id: role.name for role_id, role in playbook.roles.items()},
    )
