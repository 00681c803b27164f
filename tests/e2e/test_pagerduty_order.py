"""PagerDuty events of one incident leave in order, each once: a slow trigger is never overtaken."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.client import Client

from mayday import incidents
from mayday.pages import ack_for, open_pages
from mayday.settings import Settings
from tests.e2e.test_paging import on_call
from tests.fakes import FakePagerDuty
from tests.helpers import assert_eventually, cleaned_up
from worker.run import Workers
from workflows.contracts import Declaration, PlaybookSnapshot, Resolve
from workflows.incident import IncidentWorkflow

# The session worker polls the shared contact queue; this module's own workers rely on it.
pytestmark = pytest.mark.usefixtures("worker")

ROUTING_KEY = "Q" * 32


@pytest.fixture
def fake_pagerduty() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as fake:
        yield fake


async def test_a_trigger_retried_after_errors_still_lands_before_the_ack_and_the_resolve(
    client: Client,
    settings: Settings,
    playbook: PlaybookSnapshot,
    fake_pagerduty: FakePagerDuty,
    tmp_path: Path,
) -> None:
    run = uuid.uuid4().hex[:6]
    mirrored = settings.model_copy(
        update={
            "task_queue": f"pd-order-{run}",
            "page_task_queue": f"pd-order-pages-{run}",
            "data_dir": tmp_path,
            "pagerduty_provider": "pagerduty",
            "pagerduty_routing_key": SecretStr(ROUTING_KEY),
            "pagerduty_base_url": fake_pagerduty.url,
        }
    )
    primary, _ = on_call()
    commander = playbook.people[0]
    # PagerDuty is down for the first attempts: the trigger backs off and retries.
    fake_pagerduty.fail_next(2, status=503)
    queues = (mirrored.task_queue, mirrored.page_task_queue)
    async with Workers(client, mirrored), cleaned_up(client, *queues):
        incident_id = await incidents.declare(
            client,
            mirrored,
            Declaration(
                service="checkout", severity="SEV2", title="Checkout errors", actor=commander
            ),
            playbook,
        )
        key = f"mayday:{incident_id}"

        async def paged() -> None:
            pages = await open_pages(client, incident_id=incident_id)
            assert pages and primary in pages[0].status.paged

        await assert_eventually(paged, timeout=15)
        await ack_for(client, primary, "cli", incident_id=incident_id)

        async def ack_reached_the_incident() -> None:
            # An ack the incident hears of only after the resolve is, by design, not mirrored.
            status = await incidents.status(client, incident_id)
            assert any(e.kind == "ack" for e in status.timeline)

        await assert_eventually(ack_reached_the_incident, timeout=15)
        await client.get_workflow_handle(incident_id).execute_update(
            IncidentWorkflow.resolve, Resolve(actor=commander)
        )

        def actions() -> list[str]:
            return [e.action for e in fake_pagerduty.events if e.dedup_key == key]

        async def mirrored_in_order() -> None:
            assert actions() == ["trigger", "acknowledge", "resolve"]
            assert fake_pagerduty.alerts[key] == "resolved"

        await assert_eventually(mirrored_in_order, timeout=20)
        refused = [r for r in fake_pagerduty.requests if r.path == "/v2/enqueue"]
        assert len(refused) == 5  # two failed tries of the trigger, then one of each
