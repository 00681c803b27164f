"""Incidents that stay right over time: recurrence, severity from alerts, the IC page, close.

Alerts go through the real HTTP app (Alertmanager hook), pages through the real worker, and what
was "sent" is read back from the outbox, as an on-call engineer's phone would see it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.client import Client

from mayday import incidents
from mayday.alert_intake import incident_id_for
from mayday.http.app import create_app
from mayday.pages import ack_for, open_pages
from mayday.settings import Settings
from tests.e2e.test_paging import on_call, outbox_for, phone_of
from tests.fakes import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, FakeTwilio
from tests.helpers import assert_eventually, cleaned_up, run_cli_async
from worker.run import Workers
from workflows.contracts import ChangePhase, Declaration, PlaybookSnapshot, Resolve
from workflows.incident import IncidentWorkflow
from workflows.phases import Phase

pytestmark = pytest.mark.usefixtures("worker")

SECRET = "lifecycle-hook-token"
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def go_time(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def alert_body(
    alertname: str, status: str, *, starts: datetime, ends: datetime | None = None, **labels: str
) -> dict[str, Any]:
    """An Alertmanager delivery of one checkout alert, with the source's own timestamps."""
    alert_labels = {"alertname": alertname, "service": "checkout", "severity": "critical", **labels}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}',
        "status": status,
        "receiver": "mayday",
        "groupLabels": {"alertname": alertname},
        "commonLabels": alert_labels,
        "commonAnnotations": {"summary": f"{alertname} above threshold"},
        "alerts": [
            {
                "status": status,
                "labels": alert_labels,
                "annotations": {"summary": f"{alertname} above threshold"},
                "startsAt": go_time(starts),
                "endsAt": go_time(ends) if ends else "0001-01-01T00:00:00Z",
                "fingerprint": uuid.uuid5(uuid.NAMESPACE_URL, alertname).hex[:16],
            }
        ],
    }


@pytest_asyncio.fixture(scope="module")
async def hooks(client: Client, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    secured = settings.model_copy(update={"hook_secret": SecretStr(SECRET)})

    async def factory() -> Client:
        return client

    transport = httpx.ASGITransport(app=create_app(secured, factory))
    async with httpx.AsyncClient(transport=transport, base_url="http://mayday.test") as http:
        yield http


async def post(http: httpx.AsyncClient, body: dict[str, Any]) -> list[str]:
    response = await http.post(
        "/hooks/alertmanager", json=body, headers={"Authorization": f"Bearer {SECRET}"}
    )
    assert response.status_code == 202, response.text
    found: list[str] = response.json()["incidents"]
    return found


def page_lines(settings: Settings, incident_id: str, person: str) -> list[dict[str, Any]]:
    return [
        line
        for line in outbox_for(settings, incident_id)
        if line["purpose"] == "page" and line["to"]["person"] == person
    ]


async def decide_as(client: Client, incident_id: str, update: Any, decision: Any) -> None:
    await incidents.decide(client, incident_id, lambda h: h.execute_update(update, decision))


async def test_an_alert_firing_again_after_resolve_reopens_and_pages_the_on_call(
    client: Client, settings: Settings, hooks: httpx.AsyncClient, playbook: PlaybookSnapshot
) -> None:
    primary, _ = on_call()
    name = f"CheckoutErrors{uuid.uuid4().hex[:8]}"
    [incident_id] = await post(hooks, alert_body(name, "firing", starts=T0))

    async def first_sms() -> None:
        assert len(page_lines(settings, incident_id, primary)) == 1

    await assert_eventually(first_sms, timeout=15)
    await ack_for(client, primary, "cli", incident_id=incident_id)
    # Who took the page commands the incident, and only the commander resolves.
    await decide_as(client, incident_id, IncidentWorkflow.resolve, Resolve(actor=primary))

    began = time.monotonic()
    again = alert_body(name, "firing", starts=T0 + timedelta(hours=1))
    assert await post(hooks, again) == [incident_id]

    async def paged_again() -> None:
        lines = page_lines(settings, incident_id, primary)
        assert len(lines) == 2 and lines[0]["id"] != lines[1]["id"]

    await assert_eventually(paged_again, timeout=5, interval=0.05)
    assert time.monotonic() - began < 2.0
    status = await incidents.status(client, incident_id)
    assert status.phase is Phase.INVESTIGATING
    kinds = [entry.kind for entry in status.timeline]
    assert "recurred" in kinds and kinds.index("recurred") > kinds.index("resolved")
    assert len(status.pages) == 2


async def test_a_resolve_older_than_the_latest_firing_does_not_resolve_the_alert(
    client: Client, hooks: httpx.AsyncClient
) -> None:
    name = f"CheckoutFlap{uuid.uuid4().hex[:8]}"
    [incident_id] = await post(hooks, alert_body(name, "firing", starts=T0))
    later = T0 + timedelta(minutes=30)
    await post(hooks, alert_body(name, "firing", starts=later))
    await post(hooks, alert_body(name, "resolved", starts=T0, ends=T0 + timedelta(minutes=10)))
    status = await incidents.status(client, incident_id)
    assert set(status.alerts.values()) == {"firing"}
    assert not any(entry.text.startswith("Alert resolved") for entry in status.timeline)
    # A resolve of the latest firing still lands.
    await post(hooks, alert_body(name, "resolved", starts=later, ends=later + timedelta(minutes=5)))
    status = await incidents.status(client, incident_id)
    assert set(status.alerts.values()) == {"resolved"}


async def test_a_critical_alert_joining_a_sev3_raises_it_and_names_the_alert(
    client: Client, hooks: httpx.AsyncClient
) -> None:
    name = f"CheckoutSlow{uuid.uuid4().hex[:8]}"
    degraded = alert_body(name, "firing", starts=T0, severity="warning")
    [incident_id] = await post(hooks, degraded)
    assert (await incidents.status(client, incident_id)).severity == "SEV3"

    critical = alert_body(f"{name}", "firing", starts=T0, severity="critical")
    critical["alerts"][0]["fingerprint"] = uuid.uuid4().hex[:16]
    assert await post(hooks, critical) == [incident_id]
    status = await incidents.status(client, incident_id)
    assert status.severity == "SEV2"
    [raised] = [entry for entry in status.timeline if entry.kind == "severity"]
    assert "SEV3 → SEV2" in raised.text and f"{name} above threshold" in raised.text
    # A lower-severity alert afterwards never lowers it.
    warning = alert_body(name, "firing", starts=T0, severity="warning")
    warning["alerts"][0]["fingerprint"] = uuid.uuid4().hex[:16]
    await post(hooks, warning)
    assert (await incidents.status(client, incident_id)).severity == "SEV2"


async def test_a_sev1_declaration_pages_the_commander_rotation_primary_and_backup_at_once(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    commander, deputy = on_call("incident-commanders")
    team, _ = on_call()
    decl = Declaration(
        service="checkout", severity="SEV1", title="Checkout down", actor=playbook.people[0]
    )
    incident_id = await incidents.declare(client, settings, decl, playbook)

    async def both_paged() -> None:
        paged = {line["to"]["person"] for line in outbox_for(settings, incident_id)}
        assert {commander, deputy, team} <= paged

    await assert_eventually(both_paged, timeout=15)
    pages = await open_pages(client, incident_id=incident_id)
    # The team, the commander, and (at the business threshold) the Technical SLT to advise.
    assert sorted(p.status.target for p in pages)[1:] == [
        "role:incident_commander",
        "role:technical_slt",
    ]
    commander_page = next(p for p in pages if p.status.target == "role:incident_commander")
    assert {commander, deputy} <= set(commander_page.status.paged)


async def test_the_next_incident_after_close_pages_with_new_ids(
    client: Client, settings: Settings, hooks: httpx.AsyncClient, playbook: PlaybookSnapshot
) -> None:
    primary, _ = on_call()
    name = f"CheckoutAgain{uuid.uuid4().hex[:8]}"
    [incident_id] = await post(hooks, alert_body(name, "firing", starts=T0))
    assert incident_id == incident_id_for(f"checkout-{name.lower()}")

    async def first_sms() -> None:
        assert len(page_lines(settings, incident_id, primary)) == 1

    await assert_eventually(first_sms, timeout=15)
    actor = playbook.people[0]
    await decide_as(client, incident_id, IncidentWorkflow.resolve, Resolve(actor=actor))
    await decide_as(
        client,
        incident_id,
        IncidentWorkflow.change_phase,
        ChangePhase(phase=Phase.CLOSED, actor=actor),
    )

    async def closed() -> None:
        described = await client.get_workflow_handle(incident_id).describe()
        assert described.status is not None and described.status.name == "COMPLETED"

    await assert_eventually(closed, timeout=15)
    await post(hooks, alert_body(name, "firing", starts=T0 + timedelta(days=1)))

    async def new_sms() -> None:
        lines = page_lines(settings, incident_id, primary)
        assert len(lines) == 2 and len({line["id"] for line in lines}) == 2

    await assert_eventually(new_sms, timeout=15)
    status = await incidents.status(client, incident_id)
    assert status.phase is Phase.INVESTIGATING
    sent = [line["id"] for line in page_lines(settings, incident_id, primary)]
    [page_id] = status.pages
    assert sent[1].startswith(page_id + ":") and not sent[0].startswith(page_id + ":")
    assert any(primary in entry.text and "paged" in entry.text for entry in status.timeline)


async def test_paging_the_business_lead_on_demand_escalates_until_acked(
    client: Client, settings: Settings, playbook: PlaybookSnapshot, cli_settings_env: dict[str, str]
) -> None:
    lead, backup = on_call("business-leads")
    decl = Declaration(
        service="payments", severity="SEV2", title="Refunds failing", actor=playbook.people[0]
    )
    incident_id = await incidents.declare(client, settings, decl, playbook)
    paged = await run_cli_async(
        "page", incident_id, "--role", "business_lead", "--reason", "customers calling",
        "--as", playbook.people[0], env=cli_settings_env,
    )  # fmt: skip
    assert paged.code == 0, paged.stderr
    page_id = paged.last_line.rsplit("(", 1)[1].rstrip(")")

    async def both_slots_paged() -> None:
        lines = [
            line for line in outbox_for(settings, incident_id) if line["id"].startswith(page_id)
        ]
        assert {lead, backup} <= {line["to"]["person"] for line in lines}

    await assert_eventually(both_slots_paged, timeout=15)
    acked = await run_cli_async("ack", incident_id, "--as", lead, env=cli_settings_env)
    assert acked.code == 0, acked.stderr

    async def stopped() -> None:
        status = await incidents.status(client, incident_id)
        assert status.pages[page_id] == "acked"
        assert any(e.kind == "ack" and lead in e.text for e in status.timeline)
        notices = [
            line["to"]["person"]
            for line in outbox_for(settings, incident_id)
            if line["purpose"] == "ack-notice" and line["id"].startswith(page_id)
        ]
        assert backup is not None and notices == [backup]  # the acker is not told

    await assert_eventually(stopped, timeout=15)


async def test_with_twilio_the_next_incident_after_close_sends_new_requests(
    client: Client, settings: Settings, playbook: PlaybookSnapshot, tmp_path: Path
) -> None:
    primary, _ = on_call()
    run = uuid.uuid4().hex[:6]
    with FakeTwilio() as twilio:
        texting = settings.model_copy(
            update={
                "task_queue": f"twilio-{run}",
                "page_task_queue": f"twilio-pages-{run}",
                "data_dir": tmp_path,
                "sms_provider": "twilio",
                "twilio_account_sid": TEST_ACCOUNT_SID,
                "twilio_auth_token": SecretStr(TEST_AUTH_TOKEN),
                "twilio_base_url": twilio.url,
                "twilio_from": "+15005550006",
                "hook_secret": SecretStr(SECRET),
            }
        )

        async def factory() -> Client:
            return client

        transport = httpx.ASGITransport(app=create_app(texting, factory))
        async with (
            Workers(client, texting),
            cleaned_up(client, texting.task_queue, texting.page_task_queue),
            httpx.AsyncClient(transport=transport, base_url="http://mayday.test") as http,
        ):
            name = f"CheckoutTwilio{uuid.uuid4().hex[:8]}"
            [incident_id] = await post(http, alert_body(name, "firing", starts=T0))
            number = phone_of(primary)

            async def texted(count: int) -> None:
                assert len([m for m in twilio.messages if m.to == number]) == count

            await assert_eventually(lambda: texted(1), timeout=15)
            actor = playbook.people[0]
            await decide_as(client, incident_id, IncidentWorkflow.resolve, Resolve(actor=actor))
            await decide_as(
                client,
                incident_id,
                IncidentWorkflow.change_phase,
                ChangePhase(phase=Phase.CLOSED, actor=actor),
            )
            await post(http, alert_body(name, "firing", starts=T0 + timedelta(days=1)))
            await assert_eventually(lambda: texted(2), timeout=15)
