"""What an incident's severity and route decide about paging, and when it closes itself."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy

from activities.providers import read_outbox
from mayday import incidents
from mayday.settings import Settings
from tests.e2e.test_paging import on_call
from tests.helpers import assert_eventually
from workflows.alerts import Alert, AlertDelivery, AlertStatus
from workflows.contracts import (
    ChangeSeverity,
    Declaration,
    IncidentInput,
    PlaybookSnapshot,
    Resolve,
)
from workflows.incident import IncidentWorkflow, initial_search_attributes
from workflows.phases import Phase

pytestmark = pytest.mark.usefixtures("worker")


async def declare(
    client: Client,
    settings: Settings,
    playbook: PlaybookSnapshot,
    severity: str,
    *,
    time_scale: float = 1.0,
) -> str:
    decl = Declaration(
        service="search", severity=severity, title="Search slow", actor=playbook.people[0]
    )
    return await incidents.declare(client, settings, decl, playbook, time_scale=time_scale)


async def resolve(client: Client, incident_id: str, actor: str) -> None:
    await incidents.decide(
        client,
        incident_id,
        lambda h: h.execute_update(IncidentWorkflow.resolve, Resolve(actor=actor)),
    )


async def test_a_sev5_pages_nobody_and_says_so(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    incident_id = await declare(client, settings, playbook, "SEV5")
    status = await incidents.status(client, incident_id)
    assert status.pages == {}
    assert any("pages nobody" in entry.text for entry in status.timeline)
    assert not [e for e in read_outbox(settings.outbox_path) if e["incident_id"] == incident_id]


async def test_raising_a_sev5_by_hand_pages_the_team_and_sev1_the_commander(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    commander, deputy = on_call("incident-commanders")
    incident_id = await declare(client, settings, playbook, "SEV5")
    actor = playbook.people[0]
    for severity in ("SEV3", "SEV1"):
        await incidents.decide(
            client,
            incident_id,
            lambda h, s=severity: h.execute_update(  # type: ignore[misc]
                IncidentWorkflow.change_severity, ChangeSeverity(severity=s, actor=actor)
            ),
        )
    status = await incidents.status(client, incident_id)
    # The team, the commander, and at the business threshold the Technical SLT to advise.
    assert len(status.pages) == 3
    assert any("Technical SLT" in entry.text for entry in status.timeline)

    async def commander_paged() -> None:
        paged = {
            e["to"]["person"]
            for e in read_outbox(settings.outbox_path)
            if e["incident_id"] == incident_id
        }
        assert {commander, deputy} <= paged

    await assert_eventually(commander_paged, timeout=15)


async def test_a_resolved_incident_without_postmortem_closes_after_the_quiet_period(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    # Acme's quiet period is 1h; at this time scale it is 3.6 s.
    quick = await declare(client, settings, playbook, "SEV3", time_scale=0.001)
    major = await declare(client, settings, playbook, "SEV2", time_scale=0.001)
    for incident_id in (quick, major):
        await resolve(client, incident_id, playbook.people[0])

    async def closed() -> None:
        described = await client.get_workflow_handle(quick).describe()
        assert described.status == WorkflowExecutionStatus.COMPLETED

    await assert_eventually(closed, timeout=20, interval=0.5)
    final = await client.get_workflow_handle(quick).query(IncidentWorkflow.status)
    assert final.phase is Phase.CLOSED and "quiet" in final.timeline[-1].text
    # A SEV2 needs its postmortem: it waits for a person to close it.
    still = await incidents.status(client, major)
    assert still.phase is Phase.RESOLVED


async def test_a_route_that_only_records_refires_keeps_the_incident_resolved(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    incident_id = f"incident-record-{uuid.uuid4().hex[:8]}"

    def delivery(status: AlertStatus, number: int) -> AlertDelivery:
        return AlertDelivery(
            delivery_id=f"{incident_id}-{number}",
            source="generic",
            received_at=datetime.now(UTC),
            alerts=[Alert(source="generic", fingerprint="fp", status=status, title="Disk full")],
        )

    inp = IncidentInput(
        declaration=Declaration(
            service="search", severity="SEV3", title="Disk full", actor="generic", source="generic"
        ),
        playbook=playbook,
        page_task_queue=settings.page_task_queue,
        on_refire="record",
    )
    handle = await client.start_workflow(
        IncidentWorkflow.run,
        inp,
        id=incident_id,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=initial_search_attributes(inp),
        start_signal="alert",
        start_signal_args=[delivery(AlertStatus.FIRING, 1)],
    )
    await resolve(client, incident_id, playbook.people[0])
    await handle.signal(IncidentWorkflow.alert, delivery(AlertStatus.RESOLVED, 2))
    await handle.signal(IncidentWorkflow.alert, delivery(AlertStatus.FIRING, 3))

    async def recorded() -> None:
        status = await incidents.status(client, incident_id)
        assert status.phase is Phase.RESOLVED and len(status.pages) == 1
        assert any(entry.kind == "recurred" for entry in status.timeline)

    await assert_eventually(recorded)
