"""Acceptance: no accepted input poisons an incident.

An alert titled with 900,000 characters and an incident holding 20,000 alerts: `status`,
`timeline`, `resolve` and `phase closed` all work from the CLI, and no SMS in the outbox is
longer than the playbook allows. On a dev server of its own (like the big deliveries).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from mayday.devstack import temporal_binary
from mayday.playbook_seam import current_playbook
from mayday.settings import Settings
from playbooks.sms import measure_sms
from tests.e2e.test_big_deliveries import HEADERS, app_client, group_body
from tests.helpers import assert_eventually, run_cli_async
from worker.client import DATA_CONVERTER
from worker.run import Workers
from workflows.contracts import IncidentStatus
from workflows.incident import IncidentWorkflow
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

ALERTS = 20_000
PER_DELIVERY = 5_000
TWILIO_MAX_CHARACTERS = 1_600


@pytest_asyncio.fixture(scope="module")
async def client() -> AsyncIterator[Client]:
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        data_converter=DATA_CONVERTER,
        search_attributes=SEARCH_ATTRIBUTES,
    ) as env:
        yield env.client


@pytest.fixture(scope="module")
def settings(client: Client, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    run = uuid.uuid4().hex[:8]
    return Settings(
        temporal_address=client.service_client.config.target_host,
        task_queue=f"huge-{run}",
        page_task_queue=f"huge-pages-{run}",
        data_dir=tmp_path_factory.mktemp("huge"),
    )


def env_of(settings: Settings) -> dict[str, str]:
    return {
        "MAYDAY_TEMPORAL_ADDRESS": settings.temporal_address,
        "MAYDAY_TASK_QUEUE": settings.task_queue,
        "MAYDAY_PAGE_TASK_QUEUE": settings.page_task_queue,
        "MAYDAY_CONTACT_TASK_QUEUE": settings.contact_task_queue,
        "MAYDAY_DATA_DIR": str(settings.data_dir),
    }


def alerts(alertname: str, start: int, count: int) -> list[dict[str, object]]:
    return [
        {
            "status": "firing",
            "labels": {"alertname": alertname, "service": "checkout", "pod": f"p{n}"},
            "fingerprint": f"h{n:06d}",
        }
        for n in range(start, start + count)
    ]


def sms_bodies(data_dir: Path, incident_id: str) -> list[str]:
    outbox = data_dir / "outbox.jsonl"
    lines = outbox.read_text().splitlines() if outbox.exists() else []
    sent = [json.loads(line) for line in lines]
    return [m["body"] for m in sent if m["channel"] == "sms" and m["incident_id"] == incident_id]


async def test_a_huge_title_and_twenty_thousand_alerts_leave_the_incident_workable(
    client: Client, settings: Settings
) -> None:
    alertname = f"Huge{uuid.uuid4().hex[:8]}"
    env = env_of(settings)
    async with Workers(client, settings), app_client(settings, client) as http:
        first = alerts(alertname, 0, 1)
        first[0]["annotations"] = {"summary": "Checkout is down " + "x" * 900_000}
        answer = await http.post(
            "/hooks/alertmanager", content=group_body(first, alertname), headers=HEADERS
        )
        assert answer.status_code == 202, answer.text[:300]
        [incident_id] = answer.json()["incidents"]
        began = time.monotonic()
        for start in range(1, ALERTS, PER_DELIVERY):
            body = group_body(
                alerts(alertname, start, min(PER_DELIVERY, ALERTS - start)), alertname
            )
            sent = await http.post("/hooks/alertmanager", content=body, headers=HEADERS)
            assert sent.status_code == 202, sent.text[:300]
            assert sent.json()["incidents"] == [incident_id]

        handle = client.get_workflow_handle(incident_id)

        async def holding_all() -> None:
            status: IncidentStatus = await handle.query(IncidentWorkflow.status)
            assert status.alert_counts.get("firing") == ALERTS

        await assert_eventually(holding_all, timeout=60)
        assert time.monotonic() - began < 60

        status = await handle.query(IncidentWorkflow.status)
        assert len(status.title) <= 400 and status.title.startswith("Checkout is down")
        assert len(status.alerts) <= 100 and len(status.timeline) <= 200

        shown = await run_cli_async("status", incident_id, env=env)
        assert shown.code == 0, shown.stderr
        assert "Traceback" not in shown.stderr + shown.stdout
        timeline = await run_cli_async("timeline", incident_id, "--json", env=env)
        assert timeline.code == 0, timeline.stderr
        entries = json.loads(timeline.stdout)["timeline"]
        assert entries[0]["kind"] == "declared"
        assert all(len(entry["text"]) <= 600 for entry in entries)

        commander = "aisha-bello"
        resolved = await run_cli_async("resolve", incident_id, "--as", commander, env=env)
        assert resolved.code == 0, resolved.stderr
        closed = await run_cli_async("phase", incident_id, "closed", "--as", commander, env=env)
        assert closed.code == 0, closed.stderr
        final = await client.get_workflow_handle_for(IncidentWorkflow.run, incident_id).result()
        assert final.phase.value == "closed"

    bodies = sms_bodies(settings.data_dir, incident_id)
    assert bodies, "the on-call was texted"
    limit = current_playbook(None).sms.segment_limit
    for text in bodies:
        assert len(text) <= TWILIO_MAX_CHARACTERS
        assert measure_sms(text).segments <= limit, text
        assert "ACK" in text or "No action needed" in text  # the instruction is never cut
