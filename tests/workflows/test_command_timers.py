"""Timers of command: the Deputy's elapsed-time callouts and the IC's handover reminders."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import Client

from activities.providers import read_outbox
from mayday import incidents
from mayday.settings import Settings
from tests.helpers import assert_eventually
from workflows.contracts import AssignRole, Declaration, PlaybookSnapshot
from workflows.incident import IncidentWorkflow

pytestmark = pytest.mark.usefixtures("worker")

SCALE = 0.001
"""10 min ticks every second (the floor), 1 h handover at 3.6 s, 3 h limit at 10.8 s."""
COMMANDER = "aisha-bello"
DEPUTY = "omar-haddad"
NEXT_COMMANDER = "kofi-mensah"


async def _hand(client: Client, incident_id: str, role: str, person: str) -> None:
    decision = AssignRole(role=role, person=person, actor=COMMANDER)
    await incidents.decide(
        client, incident_id, lambda h: h.execute_update(IncidentWorkflow.assign_role, decision)
    )


async def _timeline(client: Client, incident_id: str) -> list[Any]:
    status = await client.get_workflow_handle(incident_id).query(IncidentWorkflow.status)
    return list(status.timeline)


async def test_the_deputy_hears_the_elapsed_time_and_the_commander_is_told_to_hand_over(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    assert DEPUTY in playbook.people and NEXT_COMMANDER in playbook.people
    decl = Declaration(service="search", severity="SEV2", title="Search down", actor=COMMANDER)
    incident_id = await incidents.declare(client, settings, decl, playbook, time_scale=SCALE)
    await _hand(client, incident_id, "deputy", DEPUTY)

    async def deputy_told() -> None:
        notices = [
            m
            for m in read_outbox(settings.outbox_path)
            if m["incident_id"] == incident_id and m["purpose"] == "notice"
        ]
        to_deputy = [m for m in notices if m["to"]["person"] == DEPUTY]
        assert len(to_deputy) >= 2 and "elapsed" in to_deputy[0]["body"], notices
        assert to_deputy[0]["channel"] == "sms"

    await assert_eventually(deputy_told, timeout=15)

    async def reminded() -> None:
        lines = [e for e in await _timeline(client, incident_id) if e.kind == "handover-due"]
        assert lines and COMMANDER in lines[0].text

    await assert_eventually(reminded, timeout=15)

    async def commander_told() -> None:
        notices = [
            m
            for m in read_outbox(settings.outbox_path)
            if m["incident_id"] == incident_id and m["to"]["person"] == COMMANDER
        ]
        assert any("hand over" in m["body"] for m in notices), notices

    # The timeline line is written before the notice activity completes.
    await assert_eventually(commander_told, timeout=15)

    # A handover restarts the clock: the new commander is reminded 1 h (3.6 s) after taking over.
    await _hand(client, incident_id, "incident_commander", NEXT_COMMANDER)
    handed = next(e for e in reversed(await _timeline(client, incident_id)) if e.kind == "handover")

    async def new_commander_reminded() -> None:
        lines = [
            e
            for e in await _timeline(client, incident_id)
            if e.kind == "handover-due" and NEXT_COMMANDER in e.text
        ]
        assert lines
        waited = (lines[0].at - handed.at).total_seconds()
        assert 3.4 <= waited <= 5.5, waited

    await assert_eventually(new_commander_reminded, timeout=15)

    async def deputy_paged() -> None:
        lines = [e for e in await _timeline(client, incident_id) if e.kind == "handover-due"]
        assert any("paging the Deputy" in e.text for e in lines), lines
        paged = [
            m
            for m in read_outbox(settings.outbox_path)
            if m["incident_id"] == incident_id
            and m["purpose"] == "page"
            and m["to"]["person"] == DEPUTY
        ]
        assert paged

    await assert_eventually(deputy_paged, timeout=20)


async def test_minor_incidents_run_no_command_timers(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    decl = Declaration(service="search", severity="SEV3", title="Search slow", actor=COMMANDER)
    incident_id = await incidents.declare(client, settings, decl, playbook, time_scale=SCALE)
    await _hand(client, incident_id, "deputy", DEPUTY)
    await assert_eventually(lambda: _ticked(client, incident_id, expect=False), timeout=3)


async def _ticked(client: Client, incident_id: str, *, expect: bool) -> None:
    import asyncio

    await asyncio.sleep(2.5)
    kinds = {e.kind for e in await _timeline(client, incident_id)}
    assert ("tick" in kinds) is expect, kinds
