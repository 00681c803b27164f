"""The one seam between a loaded playbook and what an incident workflow is given."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from playbooks import Playbook, load_playbook
from workflows.contracts import PlaybookSnapshot
from workflows.escalation_contracts import PagePolicy, PageTarget, PolicyLevel, page_policy

FALLBACK = PageTarget(kind="role", id="incident_commander", slot="both")
"""Paged, primary and backup together, when a service's policy runs out of levels."""
ROLE_ACK_TIMEOUT = timedelta(minutes=5)
"""Ack window of a role that names no escalation policy of its own (the guide's 5 minutes)."""


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
        page_urgency={severity.id: severity.page_urgency for severity in playbook.severities},
        postmortem_severities=[s.id for s in playbook.severities if s.postmortem],
        commander_threshold=playbook.commander_threshold,
        quiet_close_after=playbook.timers.quiet_close_after,
        role_policies={role_id: _role_policy(playbook, role_id) for role_id in playbook.roles},
        role_both=[
            role_id for role_id, role in playbook.roles.items() if role.page_primary_and_backup
        ],
        policies={
            policy_id: page_policy(policy)
            for policy_id, policy in playbook.escalation_policies.items()
        },
        authority=playbook.effective_authority(),
    )


def _role_policy(playbook: Playbook, role_id: str) -> PagePolicy:
    """The policy that pages a role's holder.

    The role's own policy when its first level pages just this role (the IC's, the Business
    Lead's); otherwise the role's rotation, primary then backup, so paging the Deputy does not
    wake every technical responder that shares the Deputy's policy.
    """
    role = playbook.roles[role_id]
    policy = playbook.escalation_policies.get(role.escalation_policy or "")
    if policy is not None:
        plain = page_policy(policy)
        if {target.id for target in plain.levels[0].targets} == {role_id}:
            return plain
    timeout = policy.levels[0].ack_timeout if policy is not None else ROLE_ACK_TIMEOUT
    first = "both" if role.page_primary_and_backup else "primary"
    levels = [
        PolicyLevel(targets=[PageTarget(kind="role", id=role_id, slot=first)], ack_timeout=timeout)
    ]
    if first == "primary":
        backup = PageTarget(kind="role", id=role_id, slot="backup")
        levels.append(PolicyLevel(targets=[backup], ack_timeout=timeout))
    return PagePolicy(id=f"role-{role_id}", levels=levels, repeat=policy.repeat if policy else 0)
