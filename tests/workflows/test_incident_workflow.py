"""IncidentWorkflow behaviour on the real dev server with the real worker."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from mayday import incidents
from mayday.incidents import DecisionRejected, UnknownIncident
from mayday.settings import Settings
from tests.helpers import assert_eventually
from workflows import search_attributes as sa
from workflows.contracts import (
    ChangePhase,
    ChangeSeverity,
    Decided,
    Declaration,
    IncidentStatus,
    PlaybookSnapshot,
    Reopen,
    Resolve,
)
from workflows.incident import IncidentWorkflow
from workflows.phases import Phase

pytestmark = pytest.mark.usefixtures("worker")


async def _declare(
    client: Client, settings: Settings, playbook: PlaybookSnapshot, severity: str = "SEV2"
) -> str:
    decl = Declaration(
        service="checkout", severity=severity, title="Checkout errors", actor=playbook.people[0]
    )
    return await incidents.declare(client, settings, decl, playbook)


async def recorded(client: Client, incident_id: str) -> IncidentStatus:
    """What the incident itself holds, without the live steps of its running pages."""
    return await client.get_workflow_handle(incident_id).query(IncidentWorkflow.status)


async def _phase(client: Client, incident_id: str, phase: Phase, actor: str) -> Decided:
    return await incidents.decide(
        client,
        incident_id,
        lambda h: h.execute_update(
            IncidentWorkflow.change_phase, ChangePhase(phase=phase, actor=actor)
        ),
    )


async def test_declared_incident_is_investigating_with_timeline_and_attributes(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    incident_id = await _declare(client, settings, playbook)
    status = await incidents.status(client, incident_id)
    assert (status.severity, status.phase, status.service) == (
        "SEV2",
        Phase.INVESTIGATING,
        "checkout",
    )
    assert status.roles == {"incident_commander": playbook.people[0]}
    kinds = [e.kind for e in status.timeline]
    assert kinds[:3] == ["declared", "playbook", "page"]
    assert set(kinds[3:]) <= {"page"}  # the page's live steps, read from the page itself
    assert playbook.content_hash[:12] in status.timeline[1].text
    assert status.playbook_hash == playbook.content_hash

    handle = client.get_workflow_handle(incident_id)
    description = await handle.describe()
    attrs = description.typed_search_attributes
    assert attrs.get(sa.INCIDENT_SEVERITY) == "SEV2"
    assert attrs.get(sa.INCIDENT_PHASE) == "investigating"
    assert attrs.get(sa.BUSINESS_SERVICE) == "checkout"
    assert await description.static_summary() == "SEV2 · checkout · Checkout errors"
    assert (await description.memo_value("playbook_hash")) == playbook.content_hash

    async def listed() -> None:
        ids = [
            w.id
            async for w in client.list_workflows(
                f'IncidentSeverity="SEV2" AND WorkflowId="{incident_id}"'
            )
        ]
        assert ids == [incident_id]

    await assert_eventually(listed)


async def test_phases_move_forward_one_step_and_close_ends_the_run(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    incident_id = await _declare(client, settings, playbook)
    actor = playbook.people[0]  # who declares by hand commands, and only the IC closes
    for phase in (Phase.IDENTIFIED, Phase.MONITORING, Phase.RESOLVED, Phase.CLOSED):
        status = await _phase(client, incident_id, phase, actor)
        assert status.phase is phase
    handle = client.get_workflow_handle_for(IncidentWorkflow.run, incident_id)
    final = await handle.result()
    assert isinstance(final, IncidentStatus)
    assert [e.kind for e in final.timeline if e.kind != "page"][-4:] == ["phase"] * 4
    assert set(final.pages.values()) == {"cancelled"}
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    phase_attr = (await handle.describe()).typed_search_attributes.get(sa.INCIDENT_PHASE)
    assert phase_attr == "closed"


@pytest.mark.parametrize(
    ("moves", "target", "reason"),
    [
        ((), Phase.CLOSED, "allowed next phase is identified"),
        ((), Phase.MONITORING, "allowed next phase is identified"),
        ((), Phase.INVESTIGATING, "already investigating"),
        ((Phase.IDENTIFIED, Phase.MONITORING), Phase.IDENTIFIED, "mayday reopen"),
    ],
)
async def test_wrong_phase_is_rejected_and_writes_nothing(
    client: Client,
    settings: Settings,
    playbook: PlaybookSnapshot,
    moves: tuple[Phase, ...],
    target: Phase,
    reason: str,
) -> None:
    incident_id = await _declare(client, settings, playbook)
    actor = playbook.people[0]
    for move in moves:
        await _phase(client, incident_id, move, actor)
    before = await recorded(client, incident_id)
    with pytest.raises(DecisionRejected, match=reason):
        await _phase(client, incident_id, target, actor)
    assert (await recorded(client, incident_id)).timeline == before.timeline


async def test_unknown_actor_is_rejected_and_writes_nothing(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    incident_id = await _declare(client, settings, playbook)
    before = await recorded(client, incident_id)
    with pytest.raises(DecisionRejected, match="Unknown actor 'mallory'"):
        await _phase(client, incident_id, Phase.IDENTIFIED, "mallory")
    with pytest.raises(DecisionRejected, match="Unknown actor"):
        await incidents.decide(
            client,
            incident_id,
            lambda h: h.execute_update(IncidentWorkflow.resolve, Resolve(actor="mallory")),
        )
    assert (await recorded(client, incident_id)).timeline == before.timeline


async def test_severity_is_raised_while_open_and_lowered_only_after_resolution(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    incident_id = await _declare(client, settings, playbook, severity="SEV3")
    actor = playbook.people[0]

    def change(level: str) -> object:
        return lambda h: h.execute_update(
            IncidentWorkflow.change_severity, ChangeSeverity(severity=level, actor=actor)
        )

    raised = await incidents.decide(client, incident_id, change("SEV1"))  # type: ignore[arg-type]
    assert raised.severity == "SEV1"
    with pytest.raises(DecisionRejected, match="only raised"):
        await incidents.decide(client, incident_id, change("SEV4"))  # type: ignore[arg-type]
    with pytest.raises(DecisionRejected, match="Unknown severity 'SEV9'"):
        await incidents.decide(client, incident_id, change("SEV9"))  # type: ignore[arg-type]
    await incidents.decide(
        client,
        incident_id,
        lambda h: h.execute_update(IncidentWorkflow.resolve, Resolve(actor=actor)),
    )
    final = await incidents.decide(client, incident_id, change("SEV2"))  # type: ignore[arg-type]
    assert final.severity == "SEV2"
    handle = client.get_workflow_handle(incident_id)

    async def mirrored() -> None:
        attrs = (await handle.describe()).typed_search_attributes
        assert attrs.get(sa.INCIDENT_SEVERITY) == "SEV2"

    await assert_eventually(mirrored)


async def test_reopen_is_recorded_and_needs_a_reopenable_phase(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    incident_id = await _declare(client, settings, playbook)
    actor = playbook.people[0]

    def reopen(reason: str) -> object:
        return lambda h: h.execute_update(
            IncidentWorkflow.reopen, Reopen(actor=actor, reason=reason)
        )

    with pytest.raises(DecisionRejected, match="investigating cannot be reopened"):
        await incidents.decide(client, incident_id, reopen("again"))  # type: ignore[arg-type]
    await incidents.decide(
        client,
        incident_id,
        lambda h: h.execute_update(
            IncidentWorkflow.resolve, Resolve(actor=actor, note="rolled back")
        ),
    )
    decided = await incidents.decide(client, incident_id, reopen("errors are back"))  # type: ignore[arg-type]
    assert decided.phase is Phase.INVESTIGATING
    assert "errors are back" in decided.text
    status = await recorded(client, incident_id)
    reopened = next(e for e in reversed(status.timeline) if e.kind == "reopened")
    assert "errors are back" in reopened.text
    # A resolved incident that reopens pages its team again.
    assert len(status.pages) == 2


async def test_decisions_on_an_unknown_incident_fail_clearly(client: Client) -> None:
    with pytest.raises(UnknownIncident, match="incident-nope"):
        await incidents.status(client, "incident-nope")
    with pytest.raises(UnknownIncident):
        await _phase(client, "incident-nope", Phase.IDENTIFIED, "anyone")


async def test_declaration_naming_unknown_things_starts_nothing(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    for decl, reason in [
        (
            Declaration(service="nope", severity="SEV2", title="t", actor=playbook.people[0]),
            "Unknown service",
        ),
        (
            Declaration(service="checkout", severity="SEV7", title="t", actor=playbook.people[0]),
            "Unknown severity",
        ),
        (
            Declaration(service="checkout", severity="SEV2", title="t", actor="mallory"),
            "Unknown actor",
        ),
    ]:
        with pytest.raises(DecisionRejected, match=reason):
            await incidents.declare(client, settings, decl, playbook)


async def test_alerts_that_arrived_as_an_incident_closed_open_the_next_one(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    from datetime import UTC, datetime

    from workflows.alerts import Alert, AlertDelivery, AlertStatus
    from workflows.contracts import IncidentInput
    from workflows.incident import initial_search_attributes

    late = AlertDelivery(
        delivery_id="late-1",
        source="alertmanager",
        received_at=datetime.now(UTC),
        alerts=[
            Alert(
                source="alertmanager",
                fingerprint="fp-late",
                status=AlertStatus.FIRING,
                title="Checkout 5xx again",
            )
        ],
    )
    inp = IncidentInput(
        declaration=Declaration(
            service="checkout",
            severity="SEV2",
            title="Checkout 5xx again",
            actor="alertmanager",
            source="alertmanager",
        ),
        playbook=playbook,
        page_task_queue=settings.page_task_queue,
        pending_alerts=[late],
    )
    incident_id = f"incident-late-{uuid.uuid4().hex[:8]}"
    await client.start_workflow(
        IncidentWorkflow.run,
        inp,
        id=incident_id,
        task_queue=settings.task_queue,
        search_attributes=initial_search_attributes(inp),
    )
    status = await incidents.status(client, incident_id)
    assert status.alerts == {"fp-late": "firing"}
    assert "Alert firing: Checkout 5xx again" in [e.text for e in status.timeline]
    await incidents.decide(
        client,
        incident_id,
        lambda h: h.execute_update(IncidentWorkflow.resolve, Resolve(actor=playbook.people[0])),
    )
