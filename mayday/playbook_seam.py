"""The one seam between a loaded playbook and what an incident workflow is given."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from playbooks import Playbook, load_playbook
from workflows.contracts import PlaybookSnapshot
from workflows.escalation_contracts import PageTarget, page_policy

FALLBACK = PageTarget(kind="role", id="incident_commander", slot="both")
"""Paged, primary and backup together, when a service's policy runs out of levels."""


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
        service_policies={
            service_id: page_policy(
                playbook.escalation_policies[service.escalation_policy], fallback=FALLBACK
            )
            for service_id, service in playbook.services.items()
            if service.escalation_policy in playbook.escalation_policies
        },
        service_names={
            service_id: service.name for service_id, service in playbook.services.items()
        },
    )
