"""When Temporal is silent or refuses, hooks answer 503 + Retry-After in time, and log why."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from mayday.devstack import temporal_binary
from mayday.http.app import create_app
from mayday.http.hooks import HANDOFF_TIMEOUT_SECONDS
from mayday.http.temporal_link import ClientFactory
from mayday.settings import Settings
from tests.e2e.test_big_deliveries import HEADERS, SECRET, group_body
from worker.client import DATA_CONVERTER
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

SIGNAL_CAP = 3


def one_alert(alertname: str, n: int) -> bytes:
    alert = {
        "status": "firing",
        "labels": {"alertname": alertname, "service": "checkout"},
        "fingerprint": f"t{n}",
    }
    return group_body([alert], f"{alertname}-{n}")


def app_for(settings: Settings, factory: ClientFactory) -> httpx.AsyncClient:
    app = create_app(settings.model_copy(update={"hook_secret": SecretStr(SECRET)}), factory)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://mayday.test", timeout=60
    )


@pytest_asyncio.fixture
async def silent_port() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    for writer in held:
        writer.close()


async def test_a_temporal_that_never_answers_gets_503_within_the_budget(
    settings: Settings, silent_port: int
) -> None:
    async def silent() -> Client:
        return await Client.connect(f"127.0.0.1:{silent_port}")

    alertname = f"Silent{uuid.uuid4().hex[:8]}"
    began = time.monotonic()
    async with app_for(settings, silent) as http:
        responses = await asyncio.gather(
            *(
                http.post("/hooks/alertmanager", content=one_alert(alertname, n), headers=HEADERS)
                for n in range(20)
            )
        )
    elapsed = time.monotonic() - began

    assert {r.status_code for r in responses} == {503}
    assert all(r.headers["Retry-After"] for r in responses)
    # One shared, short connect attempt: not twenty in a row, and well inside the budget.
    assert elapsed < HANDOFF_TIMEOUT_SECONDS / 2, f"{elapsed:.1f} s"


@pytest_asyncio.fixture
async def capped_server() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of its own whose runs take only SIGNAL_CAP signals."""
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        data_converter=DATA_CONVERTER,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"history.maximumSignalsPerExecution={SIGNAL_CAP}",
        ],
    ) as env:
        yield env


async def test_a_run_out_of_signals_is_a_logged_503_not_a_silent_failure(
    settings: Settings, capped_server: WorkflowEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    client = capped_server.client

    async def factory() -> Client:
        return client

    # No worker: the run never continues-as-new, so it fills up like a run that failed to.
    alertname = f"Full{uuid.uuid4().hex[:8]}"
    answers = []
    async with app_for(settings, factory) as http:
        for n in range(SIGNAL_CAP + 1):
            response = await http.post(
                "/hooks/alertmanager", content=one_alert(alertname, n), headers=HEADERS
            )
            answers.append(response.status_code)
    assert answers == [202] * SIGNAL_CAP + [503]
    assert response.headers["Retry-After"]
    refused = [r for r in caplog.records if r.name == "mayday.http.hooks"]
    assert [(r.levelno, r.getMessage()) for r in refused] == [
        (logging.ERROR, "alert hand-off refused by Temporal: signal-limit")
    ]
