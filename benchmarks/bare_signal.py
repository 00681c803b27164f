"""The floor for alert hand-off: an endpoint that only signal-with-starts a trivial workflow.

Run by benchmarks/alert_storm.py as `uvicorn benchmarks.bare_signal:app`; it reads
MAYDAY_TEMPORAL_ADDRESS and runs its own worker for the trivial workflow.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

TASK_QUEUE = "bare-signal"


@workflow.defn
class BareWorkflow:
    """Counts signals; nothing else."""

    def __init__(self) -> None:
        self.count = 0

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def alert(self, _payload: dict[str, object]) -> None:
        self.count += 1


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    client = await Client.connect(os.environ["MAYDAY_TEMPORAL_ADDRESS"])
    app.state.client = client
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[BareWorkflow]):
        yield


app = FastAPI(lifespan=lifespan)


@app.post("/signal/{key}", status_code=202)
async def signal(key: str, request: Request) -> JSONResponse:
    body = await request.json()
    client: Client = request.app.state.client
    await client.start_workflow(
        BareWorkflow.run,
        id=f"bare-{key}",
        task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="alert",
        start_signal_args=[body],
    )
    await asyncio.sleep(0)
    return JSONResponse({"incidents": [f"bare-{key}"]}, status_code=202)
