"""The one seam between a loaded playbook and what an incident workflow is given."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from playbooks import Playbook, load_playbook
from workflows.business_contracts import (
    ActionPlan,
    BusinessPlan,
    FunctionPlan,
    HttpCall,
    PostmortemDue,
)
from workflows.contracts import CommandTimers, PlaybookSnapshot
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
        business=business_plan(playbook),
        major_severities=[s.id for s in playbook.severities if s.major],
        command=CommandTimers(
            deputy_tick=playbook.timers.deputy_tick,
            ic_handover=playbook.timers.ic_handover,
            ic_handover_max=playbook.timers.ic_handover_max,
        ),
    )


POSTMORTEM_DUE = (PostmortemDue(days=3), PostmortemDue(days=5, business_days=True))
"""The guide's postmortem meeting: within 3 calendar days for the most urgent severity, 5
business days for the next (IR, Postmortem Process)."""


def business_plan(playbook: Playbook) -> BusinessPlan:
    """Business roles, functions and their actions, and the timers of the business response."""
    postmortem = [s.id for s in playbook.severities if s.postmortem]
    due = {
        severity: POSTMORTEM_DUE[min(index, len(POSTMORTEM_DUE) - 1)]
        for index, severity in enumerate(postmortem)
    }
    return BusinessPlan(
        roles=[role_id for role_id, role in playbook.roles.items() if role.kind == "business"],
        functions=[
            FunctionPlan(
                id=function_id,
                name=function.name,
                owner_role=function.owner_role,
                halt=[_action(action) for action in function.halt],
                resume=[_action(action) for action in function.resume],
                resume_after=list(function.resume_after),
            )
            for function_id, function in playbook.business_functions.items()
        ],
        eta_check_grace=playbook.timers.eta_check_grace,
        preliminary_analysis_due=playbook.timers.preliminary_analysis_due,
        postmortem_due=due,
        secure_channel=playbook.company.secure_channel or "",
    )


def _action(action: Any) -> ActionPlan:
    http = action.http
    return ActionPlan(
        id=action.id,
        title=action.title,
        owner_role=action.owner_role,
        eta=action.eta,
        # Headers (tokens) stay out of history: the activity reads them from the playbook.
        http=HttpCall(method=http.method, url=str(http.url), body=http.body)
        if http is not None
        else None,
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
