"""With no worker answering, every CLI decision ends in one line within the timeout, recording
nothing; the incident is untouched when a worker returns."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.client import Client

from mayday import incidents
from mayday.pages import open_pages
from mayday.settings import Settings
from tests.e2e.test_paging import on_call, paged
from tests.helpers import end_running, run_cli_async
from worker.run import Workers
from workflows.contracts import Declaration, PlaybookSnapshot

# The session worker polls the shared contact queue; this module's own workers rely on it.
pytestmark = pytest.mark.usefixtures("worker")

TIMEOUT_SECONDS = 2
NO_WORKER = f"No mayday worker answered within {TIMEOUT_SECONDS} s"


@pytest_asyncio.fixture
async def alone(client: Client, settings: Settings) -> AsyncIterator[Settings]:
    """Task queues of this test's own; what runs on them at the end is terminated."""
    run = uuid.uuid4().hex[:6]
    own = settings.model_copy(
        update={"task_queue": f"nobody-{run}", "page_task_queue": f"nobody-pages-{run}"}
    )
    yield own
    # Nobody polls them after the test: a page left there would stall every later SMS ack.
    await end_running(client, own.task_queue, own.page_task_queue)


async def test_decisions_without_a_worker_time_out_and_record_nothing(
    client: Client,
    alone: Settings,
    playbook: PlaybookSnapshot,
    cli_settings_env: dict[str, str],
) -> None:
    commander = playbook.people[0]
    primary, _ = on_call()
    async with Workers(client, alone):
        incident_id = await incidents.declare(
            client,
            alone,
            Declaration(service="checkout", severity="SEV2", title="Checkout", actor=commander),
            playbook,
        )
        await paged(client, incident_id, primary)
    # The workers have stopped: nobody polls either task queue now.
    env = {
        **cli_settings_env,
        "MAYDAY_TASK_QUEUE": alone.task_queue,
        "MAYDAY_PAGE_TASK_QUEUE": alone.page_task_queue,
        "MAYDAY_DECISION_TIMEOUT": str(TIMEOUT_SECONDS),
    }
    commands = [
        ("ack", incident_id, "--as", primary),
        ("severity", incident_id, "SEV1", "--as", commander),
        ("phase", incident_id, "identified", "--as", commander),
        ("resolve", incident_id, "--as", commander),
        ("declare", "--service", "checkout", "--severity", "SEV3", "--title", "Late",
         "--as", commander),
    ]  # fmt: skip
    began = time.monotonic()
    results = await asyncio.gather(*(run_cli_async(*c, env=env, timeout=60) for c in commands))
    elapsed = time.monotonic() - began
    print(f"\n{len(commands)} CLI decisions without a worker answered in {elapsed:.1f} s")  # noqa: T201
    for command, result in zip(commands, results, strict=True):
        assert result.code == 1, (command, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and NO_WORKER in lines[0], (command, result.stderr)
        assert "Traceback" not in result.stderr
    assert "withdrawn" in results[-1].stderr
    assert elapsed < 30

    # A worker comes back: no decision took effect and the withdrawn declaration never pages.
    async with Workers(client, alone):
        status = await incidents.status(client, incident_id)
        assert (status.severity, status.phase.value) == ("SEV2", "investigating")
        pages = await open_pages(client, incident_id=incident_id)
        assert pages and pages[0].status.acked_by is None
        await asyncio.sleep(1)
        running = [
            e.id
            async for e in client.list_workflows(
                f'TaskQueue="{alone.task_queue}" AND ExecutionStatus="Running"'
            )
        ]
        assert running == [incident_id]
