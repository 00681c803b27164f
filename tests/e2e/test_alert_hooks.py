"""Alert webhooks end to end: the real HTTP app, real Temporal, real worker."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.client import Client

from mayday import incidents
from mayday.http.app import create_app
from mayday.settings import Settings

pytestmark = pytest.mark.usefixtures("worker")

SECRET = "s3cret-hook-token"


def alertmanager_payload(alertname: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    """An Alertmanager v4 webhook body for one checkout alert."""
    fingerprint = hashlib.sha256(alertname.encode()).hexdigest()[:16]
    alert_labels = {"alertname": alertname, "service": "checkout", "severity": "critical", **labels}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "mayday",
        "groupLabels": {"alertname": alertname},
        "commonLabels": alert_labels,
        "commonAnnotations": {"summary": "Checkout 5xx above 5%"},
        "externalURL": "http://alertmanager.acme.internal:9093",
        "alerts": [
            {
                "status": status,
                "labels": alert_labels,
                "annotations": {"summary": "Checkout 5xx above 5%"},
                "startsAt": "2026-11-28T11:58:30.123Z",
                "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-28T12:30:00Z",
                "generatorURL": "http://prometheus.acme.internal:9090/graph",
                "fingerprint": fingerprint,
            }
        ],
    }


def unique_alertname() -> str:
    return f"CheckoutErrors{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture(scope="session")
async def hooks(client: Client, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP app with a hook secret, served in-process."""
    secured = settings.model_copy(update={"hook_secret": SecretStr(SECRET)})

    async def factory() -> Client:
        return client

    app = create_app(secured, factory)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mayday.test") as http:
        yield http


def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {SECRET}"}


async def post_alertmanager(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await http.post("/hooks/alertmanager", json=body, headers=bearer())


async def test_alertmanager_alert_opens_one_incident_and_redelivery_is_idempotent(
    hooks: httpx.AsyncClient, client: Client
) -> None:
    body = alertmanager_payload(unique_alertname())
    first = await post_alertmanager(hooks, body)
    assert first.status_code == 202, first.text
    [incident_id] = first.json()["incidents"]
    assert incident_id.startswith("incident-checkout-")
    run_id = (await client.get_workflow_handle(incident_id).describe()).run_id

    again = await post_alertmanager(hooks, body)
    assert again.status_code == 202
    assert again.json()["incidents"] == [incident_id]
    assert (await client.get_workflow_handle(incident_id).describe()).run_id == run_id

    status = await incidents.status(client, incident_id)
    assert (status.severity, status.service, status.source) == ("SEV2", "checkout", "alertmanager")
    assert [e.kind for e in status.timeline].count("alert") == 1
    assert list(status.alerts.values()) == ["firing"]


async def test_alert_storm_for_one_key_yields_one_incident(
    hooks: httpx.AsyncClient, client: Client
) -> None:
    alertname = unique_alertname()
    bodies = []
    for pod in range(30):
        body = alertmanager_payload(alertname, pod=f"checkout-{pod % 5}")
        body["alerts"][0]["fingerprint"] = f"fp-{pod % 5}"
        bodies.append(body)
    responses = await asyncio.gather(*(post_alertmanager(hooks, b) for b in bodies))
    assert {r.status_code for r in responses} == {202}
    ids = {i for r in responses for i in r.json()["incidents"]}
    assert len(ids) == 1
    status = await incidents.status(client, ids.pop())
    assert sorted(status.alerts) == [f"fp-{n}" for n in range(5)]
    assert [e.kind for e in status.timeline].count("alert") == 5


async def test_resolved_alert_goes_on_the_timeline_and_tells_the_commander(
    hooks: httpx.AsyncClient, client: Client
) -> None:
    alertname = unique_alertname()
    [incident_id] = (await post_alertmanager(hooks, alertmanager_payload(alertname))).json()[
        "incidents"
    ]
    resolved = await post_alertmanager(hooks, alertmanager_payload(alertname, "resolved"))
    assert resolved.json()["incidents"] == [incident_id]
    status = await incidents.status(client, incident_id)
    assert status.phase.value == "investigating"
    decisions = [e for e in status.timeline if e.kind != "page"]  # page steps run alongside
    assert [e.kind for e in decisions][-2:] == ["alert", "alerts-resolved"]
    assert decisions[-2].text == "Alert resolved: Checkout 5xx above 5%"


async def test_resolved_alert_without_an_open_incident_opens_nothing(
    hooks: httpx.AsyncClient, client: Client
) -> None:
    response = await post_alertmanager(hooks, alertmanager_payload(unique_alertname(), "resolved"))
    assert response.status_code == 202
    assert response.json()["incidents"] == []
    assert response.json()["ignored"] == 1


async def test_alert_refiring_after_close_opens_a_new_incident(
    hooks: httpx.AsyncClient, client: Client, people: list[str]
) -> None:
    alertname = unique_alertname()
    body = alertmanager_payload(alertname)
    [incident_id] = (await post_alertmanager(hooks, body)).json()["incidents"]
    handle = client.get_workflow_handle(incident_id)
    first_run = (await handle.describe()).run_id
    from workflows.contracts import ChangePhase, Resolve
    from workflows.incident import IncidentWorkflow
    from workflows.phases import Phase

    await handle.execute_update(IncidentWorkflow.resolve, Resolve(actor=people[0]))
    await handle.execute_update(
        IncidentWorkflow.change_phase, ChangePhase(phase=Phase.CLOSED, actor=people[0])
    )
    await handle.result()

    refire = copy.deepcopy(body)
    refire["alerts"][0]["startsAt"] = "2026-11-28T14:00:00Z"
    again = await post_alertmanager(hooks, refire)
    assert again.json()["incidents"] == [incident_id]
    assert (await client.get_workflow_handle(incident_id).describe()).run_id != first_run


@pytest.mark.parametrize(
    ("path", "content", "headers", "status", "needle"),
    [
        ("/hooks/alertmanager", b"{not json", {"Authorization": f"Bearer {SECRET}"}, 400, ""),
        (
            "/hooks/alertmanager",
            b'{"alerts": "nope"}',
            {"Authorization": f"Bearer {SECRET}"},
            422,
            "alerts",
        ),
        ("/hooks/alertmanager", b"{}", {"Authorization": "Bearer wrong"}, 401, ""),
        ("/hooks/alertmanager", b"{}", {}, 401, ""),
        ("/hooks/nagios", b"{}", {"Authorization": f"Bearer {SECRET}"}, 404, "nagios"),
    ],
)
async def test_bad_requests_get_a_clear_4xx(
    hooks: httpx.AsyncClient,
    path: str,
    content: bytes,
    headers: dict[str, str],
    status: int,
    needle: str,
) -> None:
    response = await hooks.post(
        path, content=content, headers={"Content-Type": "application/json", **headers}
    )
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "field"}
    assert body["error"]
    assert needle in json.dumps(body)


async def test_unrouted_alert_is_refused_naming_the_labels(hooks: httpx.AsyncClient) -> None:
    body = alertmanager_payload(unique_alertname())
    body["alerts"][0]["labels"]["service"] = "warehouse"
    response = await post_alertmanager(hooks, body)
    assert response.status_code == 422
    assert response.json()["field"] == "alerts.0.labels"


async def test_pagerduty_wrong_signature_is_401_and_starts_nothing(
    hooks: httpx.AsyncClient, client: Client
) -> None:
    incident_key = f"checkout-{uuid.uuid4().hex[:8]}"
    pd_id = f"Q{uuid.uuid4().hex[:12].upper()}"
    event: dict[str, Any] = {
        "event": {
            "id": uuid.uuid4().hex,
            "event_type": "incident.triggered",
            "resource_type": "incident",
            "occurred_at": "2026-11-28T12:00:03.123Z",
            "agent": None,
            "client": None,
            "data": {
                "id": pd_id,
                "type": "incident",
                "number": 4211,
                "status": "triggered",
                "incident_key": incident_key,
                "title": "Checkout 5xx",
                "urgency": "high",
                "created_at": "2026-11-28T12:00:01Z",
                "html_url": "https://acme.pagerduty.com/incidents/Q1R5V0XKDTSTE9",
                "service": {"id": "PF9KMXH", "summary": "checkout", "type": "service_reference"},
                "priority": None,
                "assignees": [],
                "teams": [],
                "resolve_reason": None,
            },
        }
    }
    raw = json.dumps(event).encode()
    wrong = hmac.new(b"not-the-secret", raw, hashlib.sha256).hexdigest()
    # What the acme route would name it (fingerprint = PagerDuty's incident id).
    incident_id = f"incident-checkout-{pd_id.lower()}"
    response = await hooks.post(
        "/hooks/pagerduty",
        content=raw,
        headers={"X-PagerDuty-Signature": f"v1={wrong}", "Content-Type": "application/json"},
    )
    assert response.status_code == 401
    assert (await client.count_workflows(f'WorkflowId="{incident_id}"')).count == 0
    mac = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    signed = await hooks.post(
        "/hooks/pagerduty",
        content=raw,
        headers={"X-PagerDuty-Signature": f"v1={wrong},v1={mac}"},
    )
    assert signed.status_code == 202, signed.text
    assert signed.json()["incidents"] == [incident_id]


async def test_oversized_body_is_413(hooks: httpx.AsyncClient) -> None:
    response = await hooks.post("/hooks/generic", content=b"x" * 2_000_000, headers=bearer())
    assert response.status_code == 413


async def test_temporal_unavailable_is_503_with_retry_after(settings: Settings) -> None:
    async def unreachable() -> Client:
        return await Client.connect("127.0.0.1:1")

    app = create_app(settings.model_copy(update={"hook_secret": SecretStr(SECRET)}), unreachable)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mayday.test") as http:
        response = await post_alertmanager(http, alertmanager_payload(unique_alertname()))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "Temporal is unavailable" in response.json()["error"]


async def test_metrics_count_deliveries_by_source_and_status(hooks: httpx.AsyncClient) -> None:
    await post_alertmanager(hooks, alertmanager_payload(unique_alertname()))
    await hooks.post("/hooks/alertmanager", content=b"{", headers=bearer())
    text = (await hooks.get("/metrics")).text
    assert 'mayday_hook_deliveries_total{source="alertmanager",status="202"}' in text
    assert 'mayday_hook_deliveries_total{source="alertmanager",status="400"}' in text
    assert "mayday_hook_handoff_seconds_bucket" in text


def _unrouted_count(text: str) -> float:
    prefix = 'mayday_alerts_unrouted_total{source="alertmanager"} '
    line = next((line for line in text.splitlines() if line.startswith(prefix)), prefix + "0")
    return float(line.removeprefix(prefix))


async def test_unrouted_alerts_are_logged_without_labels_and_counted(
    hooks: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    before = _unrouted_count((await hooks.get("/metrics")).text)
    mixed = alertmanager_payload(unique_alertname())
    stray = copy.deepcopy(mixed["alerts"][0])
    stray["labels"].update(service="warehouse", owner="dana@acme.example")
    stray["fingerprint"] = "f" * 16
    mixed["alerts"].append(stray)
    answered = await post_alertmanager(hooks, mixed)
    assert answered.status_code == 202 and answered.json()["unrouted"] == 1, answered.text
    lost = alertmanager_payload(unique_alertname(), service="warehouse")
    assert (await post_alertmanager(hooks, lost)).status_code == 422

    after = _unrouted_count((await hooks.get("/metrics")).text)
    assert after - before == 2
    logged = [r.getMessage() for r in caplog.records if r.name == "mayday.http.hooks"]
    assert logged.count("1 alert(s) from alertmanager matched no route of the playbook") == 2
    assert not any("warehouse" in m or "dana@" in m for m in logged)
