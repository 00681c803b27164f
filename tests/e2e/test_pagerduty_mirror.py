"""With PagerDuty configured, an incident is mirrored there and PagerDuty's echoes don't loop."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client

from mayday import incidents
from mayday.http.app import create_app
from mayday.pages import ack_for, open_pages
from mayday.settings import Settings
from tests.e2e.test_paging import on_call, pagerduty_event
from tests.fakes import FakePagerDuty
from tests.helpers import assert_eventually
from worker.run import Workers
from workflows.contracts import Declaration, PlaybookSnapshot, Resolve
from workflows.incident import IncidentWorkflow

ROUTING_KEY = "R" * 32


@pytest.fixture
def fake_pagerduty() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as fake:
        yield fake


async def test_incident_is_triggered_acknowledged_and_resolved_in_pagerduty(
    client: Client,
    settings: Settings,
    playbook: PlaybookSnapshot,
    fake_pagerduty: FakePagerDuty,
    tmp_path: Path,
) -> None:
    run = uuid.uuid4().hex[:6]
    mirrored = settings.model_copy(
        update={
            "task_queue": f"pd-{run}",
            "page_task_queue": f"pd-pages-{run}",
            "data_dir": tmp_path,
            "pagerduty_provider": "pagerduty",
            "pagerduty_routing_key": SecretStr(ROUTING_KEY),
            "pagerduty_base_url": fake_pagerduty.url,
            "hook_secret": SecretStr("pd-secret"),
        }
    )
    primary, _ = on_call()
    async with Workers(client, mirrored):
        incident_id = await incidents.declare(
            client,
            mirrored,
            Declaration(
                service="checkout",
                severity="SEV2",
                title="Checkout errors",
                actor=playbook.people[0],
            ),
            playbook,
        )
        key = f"mayday:{incident_id}"

        def actions() -> list[str]:
            return [e.action for e in fake_pagerduty.events if e.dedup_key == key]

        async def triggered() -> None:
            assert actions() == ["trigger"]

        await assert_eventually(triggered)

        # PagerDuty echoes our trigger as a webhook: no second incident is opened.
        async def factory() -> Client:
            return client

        transport = httpx.ASGITransport(app=create_app(mirrored, factory))
        async with httpx.AsyncClient(transport=transport, base_url="http://internal") as http:
            import hashlib
            import hmac

            raw = pagerduty_event("incident.triggered", key, uuid.uuid4().hex)
            mac = hmac.new(b"pd-secret", raw, hashlib.sha256).hexdigest()
            echo = await http.post(
                "/hooks/pagerduty", content=raw, headers={"X-PagerDuty-Signature": f"v1={mac}"}
            )
        assert echo.status_code == 202, echo.text
        assert json.loads(echo.text) == {"incidents": [], "unrouted": 0, "ignored": 1}

        async def paged() -> None:
            pages = await open_pages(client, incident_id=incident_id)
            assert pages and primary in pages[0].status.paged

        await assert_eventually(paged, timeout=15)
        await ack_for(client, primary, "cli", incident_id=incident_id)

        async def acknowledged() -> None:
            assert actions() == ["trigger", "acknowledge"]

        await assert_eventually(acknowledged, timeout=15)
        await client.get_workflow_handle(incident_id).execute_update(
            IncidentWorkflow.resolve, Resolve(actor=playbook.people[0])
        )

        async def resolved() -> None:
            assert actions() == ["trigger", "acknowledge", "resolve"]

        await assert_eventually(resolved, timeout=15)
