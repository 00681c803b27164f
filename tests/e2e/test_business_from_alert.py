"""From a SEV1 alert to emergency mode: the HTTP app, real workers, a fake marketing API."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.client import Client

from mayday import incidents
from mayday.business import business_status
from mayday.http.app import create_app
from mayday.incidents import DecisionRejected
from mayday.pages import ack_for
from mayday.settings import Settings
from tests.e2e.test_alert_hooks import alertmanager_payload
from tests.fakes.fake_business_api import FakeBusinessApi
from tests.helpers import REPO, assert_eventually, cleaned_up
from worker.run import Workers
from workflows.contracts import Escalate, Recommend

ACME = REPO / "playbooks" / "acme"
SECRET = "business-hook-token"
PAUSE = "/api/campaigns/pause"


@dataclass
class Stack:
    client: Client
    settings: Settings
    http: httpx.AsyncClient
    api: FakeBusinessApi

    def outbox(self) -> list[dict[str, Any]]:
        path = self.settings.outbox_path
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines if line.strip()]

    async def alert(self, **labels: str) -> str:
        name = f"Outage{uuid.uuid4().hex[:8]}"
        body = alertmanager_payload(name, **labels)
        answer = await self.http.post(
            "/hooks/alertmanager", json=body, headers={"Authorization": f"Bearer {SECRET}"}
        )
        assert answer.status_code == 202, answer.text
        [incident_id] = answer.json()["incidents"]
        return str(incident_id)


@pytest.fixture
def business_api() -> Iterator[FakeBusinessApi]:
    api = FakeBusinessApi().start()
    yield api
    api.close()


@pytest_asyncio.fixture
async def stack(
    client: Client, settings: Settings, tmp_path: Path, business_api: FakeBusinessApi
) -> AsyncIterator[Stack]:
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    playbook_file = folder / "playbook.yaml"
    text = playbook_file.read_text().replace("https://marketing.acme.example", business_api.url)
    playbook_file.write_text(text)
    run = uuid.uuid4().hex[:8]
    own = settings.model_copy(
        update={
            "task_queue": f"bizalert-{run}",
            "page_task_queue": f"bizalert-pages-{run}",
            "contact_task_queue": f"bizalert-contacts-{run}",
            "data_dir": tmp_path / "data",
            "playbook": folder,
            "hook_secret": SecretStr(SECRET),
        }
    )
    own.data_dir.mkdir()

    async def factory() -> Client:
        return client

    transport = httpx.ASGITransport(app=create_app(own, factory))
    queues = (own.task_queue, own.page_task_queue, own.contact_task_queue)
    async with (
        Workers(client, own),
        cleaned_up(client, *queues),
        httpx.AsyncClient(transport=transport, base_url="http://mayday.test") as http,
    ):
        yield Stack(client, own, http, business_api)


async def test_a_sev1_alert_pages_the_slt_and_only_the_commander_escalates(stack: Stack) -> None:
    incident_id = await stack.alert(service="checkout", severity="outage")
    status = await incidents.status(stack.client, incident_id)
    assert status.severity == "SEV1"

    async def slt_paged() -> str:
        lines = [
            m
            for m in stack.outbox()
            if m["incident_id"] == incident_id and "Technical SLT" in (m.get("body") or "")
        ]
        assert lines
        return str(lines[0]["to"]["person"])

    slt = await assert_eventually(slt_paged, timeout=20)

    async def commander_paged() -> str:
        current = await incidents.status(stack.client, incident_id)
        lines = [
            m
            for m in stack.outbox()
            if m["incident_id"] == incident_id and "Incident Commander" in (m.get("body") or "")
        ]
        assert lines, current.pages
        return str(lines[0]["to"]["person"])

    commander = await assert_eventually(commander_paged, timeout=20)
    await ack_for(stack.client, commander, "cli", incident_id=incident_id)
    await ack_for(stack.client, slt, "cli", incident_id=incident_id)

    async def held() -> None:
        roles = (await incidents.status(stack.client, incident_id)).roles
        assert roles.get("incident_commander") == commander and roles.get("technical_slt") == slt

    await assert_eventually(held)
    await incidents.decide(
        stack.client,
        incident_id,
        lambda h: h.execute_update("recommend", Recommend(actor=slt, reason="checkout is down")),
    )
    with pytest.raises(DecisionRejected, match=r"authority\.escalate"):
        await incidents.decide(
            stack.client, incident_id, lambda h: h.execute_update("escalate", Escalate(actor=slt))
        )
    assert (await incidents.status(stack.client, incident_id)).business_id is None
    await incidents.decide(
        stack.client,
        incident_id,
        lambda h: h.execute_update("escalate", Escalate(actor=commander)),
    )

    async def halting() -> None:
        business = await business_status(stack.client, incident_id)
        assert business is not None and business.emergency == "active"
        assert set(business.modes) == {"marketing", "social", "media", "support"}
        roles = {m["to"]["person"] for m in stack.outbox() if m["id"].startswith(business.id)}
        # Every business role but the SLT (already in) is paged, and every owner has a task.
        assert len(roles) >= 6, roles
        assert stack.api.calls(PAUSE)

    await assert_eventually(halting, timeout=30)
    assert len(stack.api.calls(PAUSE)) == 1


async def test_a_credential_leak_escalates_itself_as_a_security_incident(stack: Stack) -> None:
    incident_id = await stack.alert(service="accounts", category="security")

    async def escalated() -> None:
        business = await business_status(stack.client, incident_id)
        assert business is not None and business.security and business.codename

    await assert_eventually(escalated, timeout=20)
    status = await incidents.status(stack.client, incident_id)
    assert status.codename
    assert any(e.kind == "escalated" and "automatically" in e.text for e in status.timeline)
    lines = [m for m in stack.outbox() if m["incident_id"] == incident_id]
    assert lines
    for line in lines:
        text = f"{line.get('subject') or ''} {line.get('body') or ''}"
        assert "Checkout 5xx" not in text and "accounts" not in text.lower(), line
