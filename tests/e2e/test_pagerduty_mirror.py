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
from tests.e2e.test_paging import on_call, paged, pagerduty_event
from tests.fakes import FakePagerDuty
from tests.helpers import assert_eventually, cleaned_up
from worker.run import Workers
from workflows.contracts import Declaration, PlaybookSnapshot, Resolve
from workflows.incident import IncidentWorkflow

# The session worker polls the shared contact queue; this module's own workers rely on it.
pytestmark = pytest.mark.usefixtures("worker")

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
    queues = (mirrored.task_queue, mirrored.page_task_queue)
    async with Workers(client, mirrored), cleaned_up(client, *queues):
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


def _pagerduty_webhook(kind: str, *, incident_key: str, pagerduty_id: str) -> bytes:
    """A V3 webhook whose key and PagerDuty incident id are both the sender's choice."""
    data = {
        "id": pagerduty_id,
        "type": "incident",
        "number": 7,
        "status": kind.split(".")[1],
        "incident_key": incident_key,
        "title": "Checkout 5xx",
        "urgency": "high",
        "service": {"id": "PF9KMXH", "summary": "checkout", "type": "service_reference"},
    }
    event = {"id": uuid.uuid4().hex, "event_type": kind, "resource_type": "incident", "data": data}
    return json.dumps({"event": event}).encode()


async def _post_signed(http: httpx.AsyncClient, raw: bytes) -> httpx.Response:
    import hashlib
    import hmac

    mac = hmac.new(b"pd-secret", raw, hashlib.sha256).hexdigest()
    return await http.post(
        "/hooks/pagerduty",
        content=raw,
        headers={"X-PagerDuty-Signature": f"v1={mac}", "Content-Type": "application/json"},
    )


async def test_a_hostile_pagerduty_incident_key_acks_nothing_but_its_own(
    client: Client,
    settings: Settings,
    playbook: PlaybookSnapshot,
    fake_pagerduty: FakePagerDuty,
    tmp_path: Path,
) -> None:
    run = uuid.uuid4().hex[:6]
    mirrored = settings.model_copy(
        update={
            "task_queue": f"pd-hostile-{run}",
            "page_task_queue": f"pd-hostile-pages-{run}",
            "data_dir": tmp_path,
            "pagerduty_provider": "pagerduty",
            "pagerduty_routing_key": SecretStr(ROUTING_KEY),
            "pagerduty_base_url": fake_pagerduty.url,
            "hook_secret": SecretStr("pd-secret"),
        }
    )
    unmirrored = mirrored.model_copy(update={"pagerduty_provider": "outbox"})
    primary, _ = on_call()
    declaration = Declaration(
        service="checkout", severity="SEV2", title="Checkout errors", actor=playbook.people[0]
    )

    async def factory() -> Client:
        return client

    transport = httpx.ASGITransport(app=create_app(mirrored, factory))
    async with (
        Workers(client, mirrored),
        cleaned_up(client, mirrored.task_queue, mirrored.page_task_queue),
        httpx.AsyncClient(transport=transport, base_url="http://internal") as http,
    ):
        first, second = [
            await incidents.declare(client, mirrored, declaration, playbook) for _ in range(2)
        ]
        # Declared without the mirror: PagerDuty never heard of it.
        local = await incidents.declare(client, unmirrored, declaration, playbook)
        routed_id = f"QROUTED{run.upper()}"
        opened = await _post_signed(
            http,
            _pagerduty_webhook(
                "incident.triggered", incident_key=f"pd-{run}", pagerduty_id=routed_id
            ),
        )
        assert opened.status_code == 202, opened.text
        [from_pagerduty] = opened.json()["incidents"]
        every = [first, second, local, from_pagerduty]
        for incident_id in every:
            await paged(client, incident_id, primary)

        hostile = [
            ("mayday:incident-*", "QWILD"),
            ("mayday:incident-checkout", "QPREFIX"),
            ("mayday:" + first[:-2], "QSHORTER"),
            ('mayday:" OR WorkflowType="EscalationWorkflow', "QQUOTE"),
            (f"mayday:{first} OR {second}", "QOR"),
            (f"mayday:{local}", "QLOCAL"),  # a real incident, but never mirrored
            (f"mayday:{first.upper()}", "QUPPER"),
            (f"mayday:{first}\n", "QNEWLINE"),
            ('" OR 1=1 --', "QSQL"),
            # Routes to the local incident by id (the route keys on the PagerDuty id)...
            (f"pd-{run}-hijack", local.removeprefix("incident-checkout-")),
            # ...and to the PagerDuty-opened one, but from another PagerDuty incident.
            (f"pd-{run}", "QSOMEONEELSE"),
        ]
        for key, pagerduty_id in hostile:
            answer = await _post_signed(
                http,
                _pagerduty_webhook(
                    "incident.acknowledged", incident_key=key, pagerduty_id=pagerduty_id
                ),
            )
            assert answer.status_code in (202, 422), (key, answer.text)
            assert answer.status_code == 422 or answer.json()["incidents"] == [], (key, answer.text)

        async def still_open() -> dict[str, bool]:
            return {i: bool(await open_pages(client, incident_id=i)) for i in every}

        assert await still_open() == dict.fromkeys(every, True)

        # Each genuine ack reaches its own incident, and only that one.
        own = await _post_signed(
            http,
            _pagerduty_webhook(
                "incident.acknowledged", incident_key=f"mayday:{first}", pagerduty_id="QMIRROR"
            ),
        )
        assert own.json()["incidents"] == [first], own.text
        routed = await _post_signed(
            http,
            _pagerduty_webhook(
                "incident.acknowledged", incident_key=f"pd-{run}", pagerduty_id=routed_id
            ),
        )
        assert routed.json()["incidents"] == [from_pagerduty], routed.text
        assert await still_open() == {
            first: False,
            second: True,
            local: True,
            from_pagerduty: False,
        }
