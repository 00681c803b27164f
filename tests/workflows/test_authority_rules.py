"""Who may decide: the playbook's authority rules, enforced by the incident's validators."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import Client

from mayday import incidents
from mayday.incidents import DecisionRejected
from mayday.settings import Settings
from workflows.contracts import (
    AssignRole,
    ChangePhase,
    ChangeSeverity,
    Declaration,
    PageOnDemand,
    PlaybookSnapshot,
    Reopen,
    Resolve,
)
from workflows.incident import IncidentWorkflow
from workflows.phases import Phase

pytestmark = pytest.mark.usefixtures("worker")

MARKETING_OFFICER = "chloe-dubois"


async def _declare(
    client: Client, settings: Settings, playbook: PlaybookSnapshot, actor: str, source: str
) -> str:
    decl = Declaration(
        service="checkout", severity="SEV2", title="Checkout errors", actor=actor, source=source
    )
    return await incidents.declare(client, settings, decl, playbook)


async def _decide(client: Client, incident_id: str, update: Any, decision: Any) -> str:
    decided = await incidents.decide(
        client, incident_id, lambda handle: handle.execute_update(update, decision)
    )
    return decided.text


async def _timeline(client: Client, incident_id: str) -> list[str]:
    status = await client.get_workflow_handle(incident_id).query(IncidentWorkflow.status)
    return [f"{entry.kind}:{entry.text}" for entry in status.timeline if entry.kind != "page"]


async def test_only_the_commander_resolves_and_a_refusal_names_the_rule_and_the_holder(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    commander = playbook.people[0]
    incident_id = await _declare(client, settings, playbook, commander, "manual")
    before = await _timeline(client, incident_id)
    for update, decision in (
        (IncidentWorkflow.resolve, Resolve(actor=MARKETING_OFFICER)),
        (
            IncidentWorkflow.change_phase,
            ChangePhase(phase=Phase.IDENTIFIED, actor=MARKETING_OFFICER),
        ),
        (
            IncidentWorkflow.change_severity,
            ChangeSeverity(severity="SEV1", actor=MARKETING_OFFICER),
        ),
        (IncidentWorkflow.page, PageOnDemand(actor=MARKETING_OFFICER, role="deputy")),
    ):
        with pytest.raises(DecisionRejected) as refused:
            await _decide(client, incident_id, update, decision)
        assert "playbook rule authority." in str(refused.value)
        assert f"Incident Commander is {commander}" in str(refused.value)
        assert MARKETING_OFFICER in str(refused.value)
    assert await _timeline(client, incident_id) == before  # nothing was written

    assert "resolved" in await _decide(
        client, incident_id, IncidentWorkflow.resolve, Resolve(actor=commander)
    )


async def test_a_deputy_commands_the_phase_but_only_the_commander_closes(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    commander, deputy = playbook.people[0], playbook.people[1]
    incident_id = await _declare(client, settings, playbook, commander, "manual")
    handed = await _decide(
        client,
        incident_id,
        IncidentWorkflow.assign_role,
        AssignRole(role="deputy", person=deputy, actor=commander),
    )
    assert handed == f"Deputy handed to {deputy}"
    for phase in (Phase.IDENTIFIED, Phase.MONITORING):
        await _decide(
            client,
            incident_id,
            IncidentWorkflow.change_phase,
            ChangePhase(phase=phase, actor=deputy),
        )
    with pytest.raises(DecisionRejected, match=r"authority\.resolve"):
        await _decide(client, incident_id, IncidentWorkflow.resolve, Resolve(actor=deputy))
    await _decide(client, incident_id, IncidentWorkflow.resolve, Resolve(actor=commander))
    with pytest.raises(DecisionRejected, match=r"Only the Incident Commander may close"):
        await _decide(
            client,
            incident_id,
            IncidentWorkflow.change_phase,
            ChangePhase(phase=Phase.CLOSED, actor=deputy),
        )
    await _decide(
        client, incident_id, IncidentWorkflow.reopen, Reopen(actor=deputy, reason="errors back")
    )


async def test_command_handed_over_moves_the_authority_with_it(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    first, second = playbook.people[0], playbook.people[2]
    incident_id = await _declare(client, settings, playbook, first, "manual")
    with pytest.raises(DecisionRejected, match=r"authority\.handover"):
        await _decide(
            client,
            incident_id,
            IncidentWorkflow.assign_role,
            AssignRole(role="incident_commander", person=second, actor=MARKETING_OFFICER),
        )
    await _decide(
        client,
        incident_id,
        IncidentWorkflow.assign_role,
        AssignRole(role="incident_commander", person=second, actor=first, note="shift change"),
    )
    status = await client.get_workflow_handle(incident_id).query(IncidentWorkflow.status)
    assert status.roles["incident_commander"] == second
    with pytest.raises(DecisionRejected, match=f"Incident Commander is {second}"):
        await _decide(client, incident_id, IncidentWorkflow.resolve, Resolve(actor=first))
    await _decide(client, incident_id, IncidentWorkflow.resolve, Resolve(actor=second))


async def test_handover_refuses_unknown_roles_and_people_in_one_line(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    commander = playbook.people[0]
    incident_id = await _declare(client, settings, playbook, commander, "manual")
    for decision, reason in (
        (AssignRole(role="wizard", person=commander, actor=commander), "Unknown role 'wizard'"),
        (
            AssignRole(role="deputy", person="nobody-here", actor=commander),
            "Unknown person 'nobody-here'",
        ),
        (
            AssignRole(role="incident_commander", person=commander, actor=commander),
            "already holds Incident Commander",
        ),
    ):
        with pytest.raises(DecisionRejected, match=reason) as refused:
            await _decide(client, incident_id, IncidentWorkflow.assign_role, decision)
        assert "\n" not in str(refused.value)


async def test_an_incident_nobody_leads_yet_can_be_decided_by_anyone_in_the_directory(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    # Opened by an alert, its page not yet taken: no commander, no responders.
    incident_id = await _declare(client, settings, playbook, playbook.people[3], "alertmanager")
    status = await client.get_workflow_handle(incident_id).query(IncidentWorkflow.status)
    assert "incident_commander" not in status.roles
    await _decide(
        client,
        incident_id,
        IncidentWorkflow.change_phase,
        ChangePhase(phase=Phase.IDENTIFIED, actor=MARKETING_OFFICER),
    )
    # Once someone commands, the rule holds again.
    await _decide(
        client,
        incident_id,
        IncidentWorkflow.assign_role,
        AssignRole(role="incident_commander", person=playbook.people[0], actor=MARKETING_OFFICER),
    )
    with pytest.raises(DecisionRejected, match=r"authority\.resolve"):
        await _decide(
            client, incident_id, IncidentWorkflow.resolve, Resolve(actor=MARKETING_OFFICER)
        )
