"""Long-lived incidents: continue-as-new keeps state and pages alive; no run nears Temporal's caps.

A dev server of this module's own suggests continue-as-new after 40 events, so a handful of
alerts walks an incident through several runs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from activities.providers import read_outbox
from mayday import incidents
from mayday.devstack import temporal_binary
from mayday.pages import ack_for
from mayday.settings import Settings
from tests.e2e.test_paging import on_call
from tests.helpers import assert_eventually
from worker.client import DATA_CONVERTER
from worker.run import Workers
from workflows.alerts import Alert, AlertDelivery, AlertStatus
from workflows.contracts import Declaration, IncidentInput, PlaybookSnapshot, Resolve
from workflows.incident import IncidentWorkflow, initial_search_attributes
from workflows.phases import Phase
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

SUGGEST_AFTER = ["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=40"]


@pytest_asyncio.fixture(scope="module")
async def small(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Client, Settings]]:
    """A dev server that suggests continue-as-new early, with mayday's workers on it."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        data_converter=DATA_CONVERTER,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=SUGGEST_AFTER,
    ) as env:
        run = uuid.uuid4().hex[:6]
        settings = Settings(
            temporal_address=env.client.service_client.config.target_host,
            task_queue=f"long-{run}",
            page_task_queue=f"long-pages-{run}",
            data_dir=Path(tmp_path_factory.mktemp("long-runs")),
        )
        async with Workers(env.client, settings):
            yield env.client, settings


def delivery(number: int, fingerprint: str | None = None) -> AlertDelivery:
    return AlertDelivery(
        delivery_id=f"d-{uuid.uuid4().hex}",
        source="generic",
        received_at=datetime.now(UTC),
        alerts=[
            Alert(
                source="generic",
                fingerprint=fingerprint or f"fp-{number}",
                status=AlertStatus.FIRING,
                title=f"Checkout node {number} failing",
            )
        ],
    )


async def runs_of(client: Client, incident_id: str) -> list[int]:
    """History length of every run of an incident, oldest first."""
    lengths = []
    async for execution in client.list_workflows(f'WorkflowId="{incident_id}"'):
        handle = client.get_workflow_handle(incident_id, run_id=execution.run_id)
        described = await handle.describe()
        lengths.append(described.raw_description.workflow_execution_info.history_length)
    return lengths[::-1]


async def declared(client: Client, settings: Settings, playbook: PlaybookSnapshot) -> str:
    decl = Declaration(
        service="checkout", severity="SEV2", title="Checkout errors", actor=playbook.people[0]
    )
    return await incidents.declare(client, settings, decl, playbook)


async def test_continue_as_new_keeps_the_timeline_and_the_running_page(
    small: tuple[Client, Settings], playbook: PlaybookSnapshot
) -> None:
    client, settings = small
    primary, _ = on_call()
    incident_id = await declared(client, settings, playbook)
    handle = client.get_workflow_handle(incident_id)
    for number in range(30):
        await handle.signal(IncidentWorkflow.alert, delivery(number))
        await _taken(client, incident_id, f"fp-{number}")

    async def several_runs() -> None:
        assert len(await runs_of(client, incident_id)) >= 3

    await assert_eventually(several_runs, timeout=20)
    status = await incidents.status(client, incident_id)
    firing = [e.text for e in status.timeline if e.text.startswith("Alert firing")]
    assert firing == [f"Alert firing: Checkout node {n} failing" for n in range(30)]
    assert [e.at for e in status.timeline] == sorted(e.at for e in status.timeline)
    [(page_id, state)] = status.pages.items()
    assert state == "notifying"
    page = await client.get_workflow_handle(page_id).describe()
    assert page.status is not None and page.status.name == "RUNNING"

    await ack_for(client, primary, "cli", incident_id=incident_id)

    async def acked_in_the_newest_run() -> None:
        now = await incidents.status(client, incident_id)
        assert now.pages == {page_id: "acked"}
        assert now.roles["incident_commander"] == playbook.people[0]
        assert any(e.kind == "ack" and primary in e.text for e in now.timeline)

    await assert_eventually(acked_in_the_newest_run, timeout=15)


async def test_resolve_after_continue_as_new_stops_the_page_and_stands_down_the_woken(
    small: tuple[Client, Settings], playbook: PlaybookSnapshot
) -> None:
    client, settings = small
    primary, _ = on_call()
    incident_id = await declared(client, settings, playbook)
    handle = client.get_workflow_handle(incident_id)

    async def paged() -> None:
        lines = [e for e in read_outbox(settings.outbox_path) if e["incident_id"] == incident_id]
        assert [line["to"]["person"] for line in lines] == [primary]

    await assert_eventually(paged, timeout=15)
    for number in range(20):
        await handle.signal(IncidentWorkflow.alert, delivery(number))
        await _taken(client, incident_id, f"fp-{number}")
    await assert_eventually(lambda: _more_runs(client, incident_id, 2), timeout=20)
    await incidents.decide(
        client,
        incident_id,
        lambda h: h.execute_update(IncidentWorkflow.resolve, Resolve(actor=playbook.people[0])),
    )

    async def stood_down() -> None:
        status = await incidents.status(client, incident_id)
        assert set(status.pages.values()) == {"cancelled"}
        texts = [e.text for e in status.timeline]
        assert any("stopped" in text for text in texts)
        assert any(primary in text and "paged" in text for text in texts)
        lines = [e for e in read_outbox(settings.outbox_path) if e["incident_id"] == incident_id]
        assert [line["to"]["person"] for line in lines if line["purpose"] == "stand-down"] == [
            primary
        ]

    await assert_eventually(stood_down, timeout=20)


async def _taken(client: Client, incident_id: str, fingerprint: str) -> None:
    """Wait until the incident's newest run holds the alert (one signal per workflow task)."""

    async def check() -> None:
        status = await client.get_workflow_handle(incident_id).query(IncidentWorkflow.status)
        assert fingerprint in status.alerts

    await assert_eventually(check, timeout=10, interval=0.02)


async def _more_runs(client: Client, incident_id: str, at_least: int) -> None:
    assert len(await runs_of(client, incident_id)) >= at_least


async def test_more_than_ten_thousand_signals_are_all_accepted_across_runs(
    client: Client, settings: Settings, playbook: PlaybookSnapshot, worker: object
) -> None:
    incident_id = f"incident-storm-{uuid.uuid4().hex[:8]}"
    inp = IncidentInput(
        declaration=Declaration(
            service="search",
            severity="SEV3",
            title="Search latency",
            actor="generic",
            source="generic",
        ),
        playbook=playbook,
        page_task_queue=settings.page_task_queue,
    )
    handle: WorkflowHandle[IncidentWorkflow, object] = await client.start_workflow(
        IncidentWorkflow.run,
        inp,
        id=incident_id,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        search_attributes=initial_search_attributes(inp),
    )
    total, in_flight = 10_500, 10
    queue = iter(range(total))

    async def sender() -> int:
        sent = 0
        for number in queue:
            await handle.signal(IncidentWorkflow.alert, delivery(number, fingerprint="same"))
            sent += 1
        return sent

    counts = await asyncio.gather(*(sender() for _ in range(in_flight)))
    assert sum(counts) == total

    async def settled() -> None:
        lengths = await runs_of(client, incident_id)
        assert len(lengths) >= 10 and max(lengths) < 10_000

    await assert_eventually(settled, timeout=60, interval=1)
    status = await incidents.status(client, incident_id)
    assert status.phase is Phase.INVESTIGATING and status.alerts == {"same": "firing"}
    assert len(status.pages) == 1
