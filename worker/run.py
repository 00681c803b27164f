"""Run a worker until asked to stop, finishing in-flight work first."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from mayday.settings import Settings
from worker.registry import ACTIVITIES, WORKFLOWS

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN = timedelta(seconds=10)


def build_worker(client: Client, settings: Settings) -> Worker:
    """A worker on the settings' task queue with every mayday workflow and activity."""
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=list(WORKFLOWS),
        activities=list(ACTIVITIES),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


async def run_until(worker: Worker, stop: asyncio.Event) -> None:
    """Poll until `stop` is set, then shut the worker down gracefully."""
    task = asyncio.create_task(worker.run())
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        stopped.cancel()
        task.result()
        return
    log.info("worker shutting down")
    await worker.shutdown()
    await task
