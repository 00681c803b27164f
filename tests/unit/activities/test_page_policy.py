"""A playbook escalation policy as the plain data an escalation workflow is given."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.activities.paging_playbook import paging_playbook
from workflows.escalation_contracts import PagePolicy, PageTarget, page_policy


def test_playbook_policy_becomes_plain_levels_with_slots_and_a_fallback() -> None:
    acme = paging_playbook().escalation_policies["checkout-escalation"]
    fallback = PageTarget(kind="role", id="incident_commander")
    policy = page_policy(acme, fallback=fallback)
    assert policy.id == "checkout-escalation" and policy.repeat == 2
    assert [level.targets for level in policy.levels] == [
        [PageTarget(kind="rotation", id="checkout-oncall")],
        [PageTarget(kind="rotation", id="checkout-oncall", slot="backup")],
        [PageTarget(kind="team", id="checkout-team")],
    ]
    assert {level.ack_timeout for level in policy.levels} == {timedelta(minutes=5)}
    assert PagePolicy.model_validate_json(policy.model_dump_json()) == policy
