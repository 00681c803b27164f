"""The authority rules as pure functions: who may, who may not, and what a refusal says."""

from __future__ import annotations

from workflows.authority import DECISIONS, DEFAULT_AUTHORITY, refusal

NAMES = {"incident_commander": "Incident Commander", "deputy": "Deputy"}


def check(
    decision: str,
    actor: str,
    holders: dict[str, str],
    responders: list[str] | None = None,
    authority: dict[str, list[str]] | None = None,
) -> str | None:
    return refusal(
        decision,
        actor,
        authority=DEFAULT_AUTHORITY if authority is None else authority,
        holders=holders,
        responders=responders or [],
        role_names=NAMES,
    )


def test_every_default_rule_governs_a_known_decision() -> None:
    assert set(DEFAULT_AUTHORITY) == set(DECISIONS)


def test_the_holder_of_a_named_role_may_and_others_are_told_who_holds_it() -> None:
    holders = {"incident_commander": "ic", "deputy": "dep"}
    assert check("resolve", "ic", holders) is None
    assert check("phase", "dep", holders) is None
    said = check("resolve", "dep", holders)
    assert said is not None
    assert said.startswith("Only the Incident Commander may resolve the incident")
    assert "(playbook rule authority.resolve)" in said
    assert "Now: Incident Commander is ic." in said


def test_a_vacant_role_is_named_unassigned() -> None:
    said = check("phase", "someone", {"incident_commander": "ic"}, responders=["r"])
    assert said is not None and "Deputy is unassigned" in said


def test_responders_may_page_but_not_resolve() -> None:
    holders = {"incident_commander": "ic"}
    assert check("page", "r", holders, responders=["r"]) is None
    assert check("page", "outsider", holders, responders=["r"]) is not None
    assert check("resolve", "r", holders, responders=["r"]) is not None


def test_with_nobody_leading_responders_decide_and_with_no_responders_anyone() -> None:
    assert check("resolve", "anyone-at-all", {}) is None
    assert check("resolve", "r", {}, responders=["r"]) is None
    assert check("resolve", "outsider", {}, responders=["r"]) is not None


def test_anyone_and_a_playbook_rule_replace_the_default() -> None:
    assert check("declare", "whoever", {"incident_commander": "ic"}) is None
    strict = {"severity": ["incident_commander"]}
    assert check("severity", "dep", {"incident_commander": "ic", "deputy": "dep"}, authority=strict)
    loose = {"resolve": ["anyone"]}
    assert check("resolve", "dep", {"incident_commander": "ic"}, authority=loose) is None
