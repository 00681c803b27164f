"""A worker killed mid-page is replaced, and every page moves on within seconds of the new one."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from temporalio.client import Client

from mayday import incidents
from mayday.settings import Settings
from tests.e2e.test_paging import on_call
from tests.helpers import REPO, cli_env, end_running
from workflows.contracts import Declaration, PlaybookSnapshot

TIME_SCALE = 0.01
"""5-minute ack windows become 3 s: the page climbs a level while no worker runs."""
RECOVERY_BUDGET_SECONDS = 3.0


def _page_lines(outbox: Path, incident_id: str) -> list[dict[str, object]]:
    lines = outbox.read_text().splitlines() if outbox.exists() else []
    entries = [json.loads(line) for line in lines]
    return [e for e in entries if e["incident_id"] == incident_id and e["purpose"] == "page"]


def _start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        "MAYDAY_TEMPORAL_ADDRESS": settings.temporal_address,
        "MAYDAY_TASK_QUEUE": settings.task_queue,
        "MAYDAY_PAGE_TASK_QUEUE": settings.page_task_queue,
        "MAYDAY_CONTACT_TASK_QUEUE": settings.contact_task_queue,
        "MAYDAY_DATA_DIR": str(settings.data_dir),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "mayday", "worker"],
        env=cli_env(env),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def _polling(worker: subprocess.Popen[bytes]) -> float:
    """When the worker says it polls (its first stderr line)."""
    assert worker.stderr is not None
    line = await asyncio.wait_for(asyncio.to_thread(worker.stderr.readline), 30)
    assert b"mayday worker polling" in line, line
    return time.monotonic()


async def _until(check: object, timeout: float) -> float:
    began = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - began < timeout, "timed out"
        await asyncio.sleep(0.02)
    return time.monotonic()


async def test_pages_resume_within_3_s_of_a_new_worker_after_a_sigkill(
    client: Client, settings: Settings, playbook: PlaybookSnapshot, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    own = settings.model_copy(
        update={
            "task_queue": f"recover-{run}",
            "page_task_queue": f"recover-pages-{run}",
            "data_dir": tmp_path,
        }
    )
    outbox = own.outbox_path
    on_call()  # no rotation handoff during the test
    first = _start_worker(own)
    second: subprocess.Popen[bytes] | None = None
    try:
        declared = [
            await incidents.declare(
                client,
                own,
                Declaration(
                    service=service, severity="SEV2", title="Errors", actor=playbook.people[0]
                ),
                playbook,
                time_scale=TIME_SCALE,
            )
            for service in ("checkout", "payments")
        ]
        await _until(lambda: all(_page_lines(outbox, i) for i in declared), timeout=30)
        await asyncio.sleep(0.3)  # the sends' completions reach Temporal
        first.send_signal(signal.SIGKILL)
        first.wait()
        sent = {i: len(_page_lines(outbox, i)) for i in declared}
        # Dead past the level's 3 s ack window: the escalation is due while nobody runs.
        await asyncio.sleep(4)
        assert {i: len(_page_lines(outbox, i)) for i in declared} == sent

        spawned = time.monotonic()
        second = _start_worker(own)
        polling = await _polling(second)
        resumed = await _until(
            lambda: all(len(_page_lines(outbox, i)) > sent[i] for i in declared), timeout=30
        )
        print(  # noqa: T201
            f"\nevery page resumed {resumed - polling:.2f} s after the new worker began polling "
            f"({resumed - spawned:.2f} s after its process was spawned)"
        )
        assert resumed - polling < RECOVERY_BUDGET_SECONDS
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        # Nobody polls these queues after the test: a page left there would stall later acks.
        await end_running(client, own.task_queue, own.page_task_queue)
