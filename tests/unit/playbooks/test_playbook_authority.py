"""The playbook's authority rules: merged over the defaults, into every incident's snapshot."""

from __future__ import annotations

from pathlib import Path

from mayday.playbook_seam import snapshot
from playbooks import load_playbook
from workflows.authority import DECISIONS, DEFAULT_AUTHORITY

VALID = Path(__file__).parent / "valid"


def test_acme_states_the_guides_rules_and_the_snapshot_carries_them() -> None:
    acme = load_playbook(None)
    rules = acme.effective_authority()
    assert set(rules) == set(DECISIONS)
    assert rules["resolve"] == rules["close"] == ["incident_commander"]
    assert rules["phase"] == ["incident_commander", "deputy"]
    assert rules["emergency"] == ["business_lead", "incident_commander"]
    assert set(acme.authority) == set(DECISIONS)  # Acme states every rule itself
    assert snapshot(acme).authority == rules


def test_a_playbook_states_only_what_differs_and_defaults_drop_roles_it_lacks() -> None:
    tiny = load_playbook(VALID / "tiny.yaml")
    assert tiny.authority == {}
    rules = tiny.effective_authority()
    assert set(rules) == set(DEFAULT_AUTHORITY)
    # tiny defines only the Incident Commander: the Deputy drops out of the defaults.
    assert rules["phase"] == ["incident_commander"]
    assert rules["page"] == ["incident_commander", "responder"]
    assert rules["emergency"] == ["incident_commander"]
    stated = tiny.model_copy(update={"authority": {"resolve": ["anyone"]}})
    assert stated.effective_authority()["resolve"] == ["anyone"]
