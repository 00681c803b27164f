"""A worker killed mid-emergency: nothing lost, no page and no business HTTP action repeated."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from mayday import incidents
from mayday.business import business_status, decide_business
from mayday.playbook_seam import snapshot
from mayday.settings import Settings
from playbooks import load_playbook
from tests.fakes.fake_business_api import FakeBusinessApi
from tests.helpers import REPO, assert_eventually, cli_env, end_running
from workflows.business import BusinessIncidentWorkflow
from workflows.business_contracts import ConfirmAction, ResolutionSent
from workflows.contracts import Declaration, Escalate, Resolve
from workflows.incident import IncidentWorkflow

ACME = REPO / "playbooks" / "acme"
PAUSE = "/api/campaigns/pause"
RESUME = "/api/campaigns/resume"
COMMANDER = "aisha-bello"


@pytest.fixture
def business_api() -> Iterator[FakeBusinessApi]:
    api = FakeBusinessApi().start()
    yield api
    api.close()


def _worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        "MAYDAY_TEMPORAL_ADDRESS": settings.temporal_address,
        "MAYDAY_TASK_QUEUE": settings.task_queue,
        "MAYDAY_PAGE_TASK_QUEUE": settings.page_task_queue,
        "MAYDAY_CONTACT_TASK_QUEUE": settings.contact_task_queue,
        "MAYDAY_DATA_DIR": str(settings.data_dir),
        "MAYDAY_PLAYBOOK": str(settings.playbook),
        "MAYDAY_PROVIDER_TIMEOUT": "4",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "mayday", "worker"],
        env=cli_env(env),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _outbox(settings: Settings) -> list[dict[str, Any]]:
    path = settings.outbox_path
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.strip()]


async def test_a_worker_killed_mid_emergency_repeats_no_page_and_no_http_action(
    client: Client, settings: Settings, tmp_path: Path, business_api: FakeBusinessApi
) -> None:
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    playbook_file = folder / "playbook.yaml"
    playbook_file.write_text(
        playbook_file.read_text().replace("https://marketing.acme.example", business_api.url)
    )
    run = uuid.uuid4().hex[:6]
    own = settings.model_copy(
        update={
            "task_queue": f"bizkill-{run}",
            "page_task_queue": f"bizkill-pages-{run}",
            "contact_task_queue": f"bizkill-contacts-{run}",
            "data_dir": tmp_path / "data",
            "playbook": folder,
        }
    )
    own.data_dir.mkdir()
    playbook = snapshot(load_playbook(folder))
    # The pause is carried out but its answer is held: the worker dies with the call out.
    business_api.hang_next(1, seconds=8)
    first = _worker(own)
    second: subprocess.Popen[bytes] | None = None
    try:
        decl = Declaration(
            service="checkout", severity="SEV1", title="Checkout down", actor=COMMANDER
        )
        incident_id = await incidents.declare(client, own, decl, playbook, time_scale=0.01)
        await incidents.decide(
            client,
            incident_id,
            lambda h: h.execute_update(IncidentWorkflow.escalate, Escalate(actor=COMMANDER)),
        )

        async def pause_out() -> None:
            assert business_api.calls(PAUSE)

        await assert_eventually(pause_out, timeout=30)
        await asyncio.sleep(0.5)  # the mobilisation pages' sends reach Temporal
        first.send_signal(signal.SIGKILL)
        first.wait()
        before = Counter(line["id"] for line in _outbox(own))
        await asyncio.sleep(2)
        second = _worker(own)

        async def checked_by_hand() -> None:
            status = await business_status(client, incident_id)
            assert status is not None
            pause = next(a for a in status.actions if a.action == "pause-email-campaigns")
            assert pause.state == "waiting" and pause.http and "may have been done" in pause.http

        await assert_eventually(checked_by_hand, timeout=40)
        status = await business_status(client, incident_id)
        assert status is not None
        for action in status.actions:
            if action.state != "done":
                await decide_business(
                    client,
                    incident_id,
                    lambda h, a=action.action: h.execute_update(  # type: ignore[misc]
                        BusinessIncidentWorkflow.confirm, ConfirmAction(actor=COMMANDER, action=a)
                    ),
                )
        await incidents.decide(
            client,
            incident_id,
            lambda h: h.execute_update(IncidentWorkflow.resolve, Resolve(actor=COMMANDER)),
        )

        async def parent_resolved() -> None:
            status = await business_status(client, incident_id)
            assert status is not None and status.stage.value == "resolving", status

        await assert_eventually(parent_resolved, timeout=20)
        await decide_business(
            client,
            incident_id,
            lambda h: h.execute_update(
                BusinessIncidentWorkflow.resolution_sent, ResolutionSent(actor=COMMANDER)
            ),
        )

        async def social_resuming() -> list[str]:
            status = await business_status(client, incident_id)
            assert status is not None and status.modes.get("social") == "resuming", status
            return [a.action for a in status.actions if a.kind == "resume" and a.state != "done"]

        for action_id in await assert_eventually(social_resuming, timeout=20):
            await decide_business(
                client,
                incident_id,
                lambda h, a=action_id: h.execute_update(  # type: ignore[misc]
                    BusinessIncidentWorkflow.confirm, ConfirmAction(actor=COMMANDER, action=a)
                ),
            )

        async def resume_called() -> None:
            assert business_api.calls(RESUME)

        await assert_eventually(resume_called, timeout=30)
        # Nothing repeated: one call per action, one outbox line per notification id.
        assert len(business_api.calls(PAUSE)) == 1
        assert len(business_api.calls(RESUME)) == 1
        after = Counter(line["id"] for line in _outbox(own))
        assert [i for i, n in after.items() if n > 1] == []
        # Nothing lost: everything sent before the kill is still there, and more came.
        assert set(before) <= set(after) and len(after) > len(before)
        business_pages = [i for i in after if i.startswith("business-")]
        assert business_pages, "no business page went out"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        await end_running(client, own.task_queue, own.page_task_queue, own.contact_task_queue)
