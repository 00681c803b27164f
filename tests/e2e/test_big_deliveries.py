"""Deliveries of any accepted size and width reach Temporal: real HTTP app, real Temporal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from mayday.devstack import temporal_binary
from mayday.hooks import MAX_BODY_BYTES
from mayday.http.app import create_app
from mayday.settings import Settings
from worker.client import DATA_CONVERTER
from worker.run import Workers
from workflows.alerts import AlertBatch, AlertDelivery
from workflows.contracts import IncidentInput
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

SECRET = "big-delivery-token"
HEADERS = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}
ACME = Path(__file__).resolve().parents[2] / "playbooks" / "acme"


def group_body(alerts: list[dict[str, Any]], group: str) -> bytes:
    """One Alertmanager notification carrying `alerts`, as compact as Alertmanager sends it."""
    body = {
        "version": "4",
        "groupKey": f"{{}}:{{group={group!r}}}",
        "status": "firing",
        "receiver": "mayday",
        "alerts": alerts,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def tall_body(alertname: str, count: int) -> bytes:
    """`count` alerts of one alertname (one incident), each with its own fingerprint."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": alertname, "service": "checkout"},
            "fingerprint": f"f{n:06d}",
        }
        for n in range(count)
    ]
    return group_body(alerts, alertname)


def wide_body(prefix: str, count: int) -> bytes:
    """`count` alerts of distinct alertnames: one incident each."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"{prefix}{n}", "service": "checkout", "severity": "critical"},
            "fingerprint": f"w{n:06d}",
        }
        for n in range(count)
    ]
    return group_body(alerts, prefix)


async def runs_of(client: Client, workflow_id: str) -> list[str | None]:
    """Every run of a workflow id, newest first, walking the continue-as-new chain back.

    From history rather than visibility, which may not list a run that just began.
    """
    runs: list[str | None] = []
    run_id: str | None = None
    while True:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        async for event in handle.fetch_history_events():
            started = event.workflow_execution_started_event_attributes
            runs.append(run_id)
            run_id = started.continued_execution_run_id or None
            break
        if run_id is None:
            return runs


async def signalled(client: Client, workflow_id: str) -> list[AlertDelivery]:
    """Every alert delivery Temporal recorded for the workflow id, over all its runs."""
    deliveries: list[AlertDelivery] = []
    for run_id in await runs_of(client, workflow_id):
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        async for event in handle.fetch_history_events():
            if not event.HasField("workflow_execution_signaled_event_attributes"):
                continue
            attrs = event.workflow_execution_signaled_event_attributes
            hint: type[AlertBatch | AlertDelivery] = (
                AlertBatch if attrs.signal_name == "alert_batch" else AlertDelivery
            )
            [value] = await client.data_converter.decode(attrs.input.payloads, [hint])
            deliveries += value.deliveries if isinstance(value, AlertBatch) else [value]
    return deliveries


async def signalled_when(
    client: Client, workflow_id: str, done: Callable[[list[AlertDelivery]], bool]
) -> list[AlertDelivery]:
    """The deliveries signalled to an incident, once `done` holds for them (or 15 s passed).

    Signals that arrive while a workflow task runs are durable at once but enter the history
    only when that task completes; so wait for them rather than read too early.
    """
    deadline = time.monotonic() + 15
    while True:
        deliveries = await signalled(client, workflow_id)
        if done(deliveries) or time.monotonic() > deadline:
            return deliveries
        await asyncio.sleep(0.2)


def fingerprints(deliveries: list[AlertDelivery]) -> set[str]:
    return {a.fingerprint for d in deliveries for a in d.alerts}


async def post_until_accepted(
    http: httpx.AsyncClient, body: bytes, attempts: int = 4
) -> tuple[httpx.Response, int]:
    """Post like a sender that retries on 503 (Alertmanager does); the answer and tries used."""
    for attempt in range(1, attempts + 1):
        response = await http.post("/hooks/alertmanager", content=body, headers=HEADERS)
        if response.status_code != 503:
            return response, attempt
    return response, attempts


def app_client(settings: Settings, client: Client) -> httpx.AsyncClient:
    async def factory() -> Client:
        return client

    app = create_app(settings.model_copy(update={"hook_secret": SecretStr(SECRET)}), factory)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://mayday.test", timeout=60
    )


@pytest_asyncio.fixture(scope="module")
async def client() -> AsyncIterator[Client]:
    """A dev server of this module's own: thousands of incidents must not load the session's."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        data_converter=DATA_CONVERTER,
        search_attributes=SEARCH_ATTRIBUTES,
    ) as env:
        yield env.client


@pytest.fixture(scope="module")
def settings(client: Client, data_dir: Path) -> Settings:
    run = uuid.uuid4().hex[:8]
    return Settings(
        temporal_address=client.service_client.config.target_host,
        task_queue=f"big-{run}",
        page_task_queue=f"big-pages-{run}",
        data_dir=data_dir,
    )


@pytest_asyncio.fixture
async def worked(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    """The app on this module's task queues, where real workers run incidents."""
    async with Workers(client, settings), app_client(settings, client) as http:
        yield http


@pytest_asyncio.fixture
async def isolated(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    """The app and workers of its own on task queues of their own, emptied afterwards.

    For tests that open many incidents: their pages must not load the rest of the session.
    """
    run = uuid.uuid4().hex[:8]
    own = settings.model_copy(
        update={"task_queue": f"wide-{run}", "page_task_queue": f"wide-pages-{run}"}
    )
    async with Workers(client, own), app_client(own, client) as http:
        yield http
        query = (
            f'(TaskQueue="{own.task_queue}" OR TaskQueue="{own.page_task_queue}") '
            'AND ExecutionStatus="Running"'
        )
        running = [e.id async for e in client.list_workflows(query)]
        slots = asyncio.Semaphore(100)

        async def terminate(workflow_id: str) -> None:
            async with slots:
                with contextlib.suppress(RPCError):
                    await client.get_workflow_handle(workflow_id).terminate("test cleanup")

        await asyncio.gather(*(terminate(i) for i in running))


async def test_ten_thousand_alerts_in_one_delivery_all_reach_their_incident(
    worked: httpx.AsyncClient, client: Client
) -> None:
    alertname = f"Tall{uuid.uuid4().hex[:8]}"
    body = tall_body(alertname, 10_000)
    assert 900_000 < len(body) <= MAX_BODY_BYTES

    response, attempts = await post_until_accepted(worked, body)

    assert response.status_code == 202, response.text
    assert attempts <= 3
    [incident_id] = response.json()["incidents"]
    expected = {f"f{n:06d}" for n in range(10_000)}
    deliveries = await signalled_when(client, incident_id, lambda d: fingerprints(d) >= expected)
    assert fingerprints(deliveries) == expected
    ids = {d.delivery_id for d in deliveries}
    assert len(ids) > 1 and all("#" in i for i in ids)

    again = await worked.post("/hooks/alertmanager", content=body, headers=HEADERS)
    assert again.status_code == 202
    resent = await signalled_when(client, incident_id, lambda d: len(d) >= 2 * len(ids))
    assert len(resent) == 2 * len(ids)
    assert {d.delivery_id for d in resent} == ids  # same chunk ids: the incident drops them


async def test_a_thousand_alertnames_in_one_delivery_open_a_thousand_incidents(
    isolated: httpx.AsyncClient, client: Client
) -> None:
    prefix = f"Wide{uuid.uuid4().hex[:6]}n"
    body = wide_body(prefix, 1_000)
    began = time.monotonic()

    response, attempts = await post_until_accepted(isolated, body)

    assert response.status_code == 202, response.text
    assert attempts <= 3, f"{attempts} tries in {time.monotonic() - began:.1f} s"
    incidents = response.json()["incidents"]
    assert len(incidents) == 1_000
    slots = asyncio.Semaphore(50)

    async def fingerprints(incident_id: str) -> list[str]:
        async with slots:
            deliveries = await signalled_when(client, incident_id, lambda d: bool(d))
            return [a.fingerprint for d in deliveries for a in d.alerts]

    found = await asyncio.gather(*(fingerprints(i) for i in incidents))
    assert sorted(f for fps in found for f in set(fps)) == [f"w{n:06d}" for n in range(1_000)]


async def test_concurrent_deliveries_for_one_key_share_signals(
    worked: httpx.AsyncClient, client: Client
) -> None:
    alertname = f"Storm{uuid.uuid4().hex[:8]}"
    bodies = [
        group_body(
            [
                {
                    "status": "firing",
                    "labels": {"alertname": alertname, "service": "checkout", "pod": f"p{n}"},
                    "fingerprint": f"s{n:04d}",
                }
            ],
            f"{alertname}-{n}",
        )
        for n in range(100)
    ]

    responses = await asyncio.gather(
        *(worked.post("/hooks/alertmanager", content=b, headers=HEADERS) for b in bodies)
    )

    assert {r.status_code for r in responses} == {202}
    [incident_id] = {i for r in responses for i in r.json()["incidents"]}
    expected = {f"s{n:04d}" for n in range(100)}
    deliveries = await signalled_when(client, incident_id, lambda d: fingerprints(d) >= expected)
    assert fingerprints(deliveries) == expected
    signals = 0
    for run_id in await runs_of(client, incident_id):
        handle = client.get_workflow_handle(incident_id, run_id=run_id)
        async for event in handle.fetch_history_events():
            signals += event.HasField("workflow_execution_signaled_event_attributes")
    assert signals < 50, f"{signals} signals for 100 deliveries"


@pytest.fixture
def record_on_refire(tmp_path: Path) -> Path:
    """The Acme playbook with the checkout-degraded route only recording re-fires."""
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    playbook = folder / "playbook.yaml"
    text = playbook.read_text()
    marker = "  - id: checkout-degraded\n"
    assert marker in text
    playbook.write_text(text.replace(marker, marker + "    on_refire: record\n"))
    return folder


async def test_each_alert_carries_its_own_routes_severity_and_the_route_sets_on_refire(
    settings: Settings, client: Client, record_on_refire: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    quiet = settings.model_copy(
        update={
            "task_queue": f"intake-only-{run}",
            "page_task_queue": f"intake-pages-{run}",
            "playbook": record_on_refire,
        }
    )
    alertname = f"Mixed{run}"
    body = group_body(
        [
            {
                "status": "firing",
                "labels": {"alertname": alertname, "service": "checkout", "severity": "warning"},
                "fingerprint": "degraded",
            },
            {
                "status": "firing",
                "labels": {"alertname": alertname, "service": "checkout", "severity": "critical"},
                "fingerprint": "down",
            },
        ],
        alertname,
    )
    async with app_client(quiet, client) as http:
        response = await http.post("/hooks/alertmanager", content=body, headers=HEADERS)
    assert response.status_code == 202, response.text
    [incident_id] = response.json()["incidents"]
    try:
        [delivery] = await signalled(client, incident_id)
        assert {a.fingerprint: a.severity for a in delivery.alerts} == {
            "degraded": "SEV3",
            "down": "SEV2",
        }
        handle = client.get_workflow_handle(incident_id)
        async for event in handle.fetch_history_events():
            attrs = event.workflow_execution_started_event_attributes
            [inp] = await client.data_converter.decode(attrs.input.payloads, [IncidentInput])
            break
        assert inp.on_refire == "record"
        assert inp.declaration.severity == "SEV3"
    finally:
        await client.get_workflow_handle(incident_id).terminate("test cleanup")
