"""Who may take each decision of an incident: the playbook's `authority` rules.

A rule names role ids and two words: `responder` (anyone who holds a role on this incident or
acknowledged one of its pages) and `anyone` (anyone in the directory). A role counts once
somebody holds it on the incident (declared by hand, took the page, or was handed it).

An incident nobody leads must still be decidable: while none of a rule's roles is held, the
incident's responders may take the decision, and while it has no responders either, anyone in
the directory may. The refusal names the rule and who holds its roles now.

Pure data and functions: imported by workflows, the playbook loader and the CLI alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

RESPONDER = "responder"
ANYONE = "anyone"
WORDS = frozenset({RESPONDER, ANYONE})

DECISIONS: dict[str, str] = {
    "declare": "declare an incident",
    "severity": "change the severity",
    "phase": "move the phase",
    "resolve": "resolve the incident",
    "close": "close the incident",
    "reopen": "reopen the incident",
    "page": "page on demand",
    "handover": "hand a role over",
    "escalate": "escalate to the business response",
    "emergency": "switch business functions to emergency mode",
    "comms": "set the pace and order of stakeholder messages",
    "recommend": "recommend escalating to a business incident",
    "brief": "record the business briefing",
    "confirm": "confirm a business action",
    "postmortem": "move the postmortem on",
}
"""Every decision a rule can govern, with the words a refusal uses for it."""

DEFAULT_AUTHORITY: dict[str, list[str]] = {
    "declare": [ANYONE],
    "severity": ["incident_commander", "deputy"],
    "phase": ["incident_commander", "deputy"],
    "resolve": ["incident_commander"],
    "close": ["incident_commander"],
    "reopen": ["incident_commander", "deputy"],
    "page": ["incident_commander", "deputy", RESPONDER],
    "handover": ["incident_commander"],
    "escalate": ["incident_commander"],
    "emergency": ["business_lead", "incident_commander"],
    "comms": ["business_lead", "incident_commander"],
    "recommend": ["technical_slt", "incident_commander"],
    "brief": ["business_lead", "technical_slt", "customer_liaison", "incident_commander"],
    "confirm": ["business_lead", "incident_commander"],
    "postmortem": ["incident_commander"],
}
"""The guide's defaults: the IC and Deputy command the phase, only the IC resolves and closes,
the Business Lead and IC take the business decisions; anyone paged may ack (the page checks)."""


def default_authority() -> dict[str, list[str]]:
    """A fresh copy of DEFAULT_AUTHORITY."""
    return {decision: list(roles) for decision, roles in DEFAULT_AUTHORITY.items()}


def rule_for(authority: Mapping[str, Sequence[str]], decision: str) -> list[str]:
    """The roles a decision needs: the playbook's rule, else the default."""
    rule = authority.get(decision)
    return list(rule) if rule is not None else list(DEFAULT_AUTHORITY.get(decision, [ANYONE]))


def refusal(
    decision: str,
    actor: str,
    *,
    authority: Mapping[str, Sequence[str]],
    holders: Mapping[str, str],
    responders: Sequence[str],
    role_names: Mapping[str, str],
) -> str | None:
    """Why `actor` may not take `decision` on this incident, or None when they may.

    `holders` maps role id to who holds it on the incident; `responders` are the people who
    acknowledged its pages.
    """
    rule = rule_for(authority, decision)
    if ANYONE in rule:
        return None
    roles = [item for item in rule if item not in WORDS]
    if any(holders.get(role) == actor for role in roles):
        return None
    every_responder = {*responders, *holders.values()}
    if RESPONDER in rule and actor in every_responder:
        return None
    held = [role for role in roles if role in holders]
    # Nobody leads yet: the people answering the incident decide, else anyone may.
    if not held and (actor in every_responder or not every_responder):
        return None
    names = [role_names.get(role, role) for role in roles]
    needed = " or ".join(names) if names else "a responder"
    if RESPONDER in rule and names:
        needed += " or a responder"
    holding = "; ".join(
        f"{role_names.get(role, role)} is {holders[role]}"
        if role in holders
        else f"{role_names.get(role, role)} is unassigned"
        for role in roles
    )
    now = f" Now: {holding}." if holding else ""
    return (
        f"Only the {needed} may {DECISIONS.get(decision, decision)} "
        f"(playbook rule authority.{decision}); {actor} holds none of these roles.{now}"
    )
