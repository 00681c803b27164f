"""Who a page level reaches, resolved against the directory at a moment."""

from __future__ import annotations

from datetime import UTC, datetime

from activities.directory import resolve_targets
from playbooks import who_is_on_call
from tests.unit.activities.paging_playbook import paging_playbook
from workflows.escalation_contracts import PageTarget

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def test_person_and_team_targets_reach_each_person_once_in_order() -> None:
    targets = [
        PageTarget(kind="person", id="cy-third"),
        PageTarget(kind="team", id="pair"),
    ]
    resolved = resolve_targets(paging_playbook(), targets, NOW)
    assert [(m.person, m.slot) for m in resolved.members] == [
        ("cy-third", "person"),
        ("ben-second", "team"),
    ]
    assert resolved.members[0].channels == ["sms"]
    assert resolved.unresolved == []


def test_role_pages_primary_and_backup_together_when_asked() -> None:
    playbook = paging_playbook()
    on_call = who_is_on_call(playbook, "incident_commander", NOW)
    target = [PageTarget(kind="role", id="incident_commander")]
    alone = resolve_targets(playbook, target, NOW)
    both = resolve_targets(playbook, target, NOW, both=True)
    assert [m.person for m in alone.members] == [on_call.primary]
    assert [(m.person, m.slot) for m in both.members] == [
        (on_call.primary, "on-call"),
        (on_call.backup, "backup"),
    ]


def test_backup_slot_reaches_only_the_backup() -> None:
    playbook = paging_playbook()
    on_call = who_is_on_call(playbook, "checkout-oncall", NOW)
    target = [PageTarget(kind="rotation", id="checkout-oncall", slot="backup")]
    assert [m.person for m in resolve_targets(playbook, target, NOW).members] == [on_call.backup]


def test_rotation_with_nobody_on_call_and_unknown_targets_are_unresolved() -> None:
    targets = [
        PageTarget(kind="rotation", id="nobody-yet"),
        PageTarget(kind="team", id="no-such-team"),
        PageTarget(kind="person", id="no-such-person"),
    ]
    resolved = resolve_targets(paging_playbook(), targets, NOW)
    assert resolved.members == []
    assert resolved.unresolved == ["nobody-yet", "no-such-team", "no-such-person"]
