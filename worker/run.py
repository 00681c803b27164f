"""Build mayday's workers and run them until asked to stop, finishing in-flight work first."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from mayday.playbook_seam import current_playbook
from mayday.settings import Settings
from worker.registry import (
    CONTACT_WORKFLOWS,
    INCIDENT_WORKFLOWS,
    PAGE_WORKFLOWS,
    business_actions,
    incident_activities,
    notify_activities,
    page_activities,
)

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN = timedelta(seconds=10)
STICKY_SCHEDULE_TO_START = timedelta(seconds=1)
"""How long a workflow task waits on this worker's sticky queue before any worker may take it.

A killed worker's sticky queue is never polled again, so every task due for its workflows
waits this long once before moving to the shared queue (Temporal's default is 10 s, the
"+10 s per kill" of reference/temporal.md §12). A healthy worker picks up sticky tasks in
milliseconds; one too busy for 1 s hands the task to another worker, which replays the
history: more work under overload, never a lost or repeated step."""


def build_workers(client: Client, settings: Settings) -> list[Worker]:
    """One worker for incidents, one for pages on their own queue so bulk work never delays them."""
    playbook = current_playbook(settings.playbook)
    acts = notify_activities(settings, playbook)
    return [
        Worker(
            client,
            task_queue=settings.task_queue,
            workflows=list(INCIDENT_WORKFLOWS),
            activities=incident_activities(acts, business_actions(settings, playbook)),
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
            sticky_queue_schedule_to_start_timeout=STICKY_SCHEDULE_TO_START,
        ),
        Worker(
            client,
            task_queue=settings.page_task_queue,
            workflows=list(PAGE_WORKFLOWS),
            activities=page_activities(acts),
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
            sticky_queue_schedule_to_start_timeout=STICKY_SCHEDULE_TO_START,
        ),
        *_contact_worker(client, settings),
    ]


def _contact_worker(client: Client, settings: Settings) -> list[Worker]:
    """The contact queue's worker, unless this process already polls it through `client`.

    Contacts are shared by every deployment using the queue, so a second set of workers in one
    process (the SDK refuses two pollers of one queue on one client) simply relies on the first.
    """
    try:
        worker = Worker(
            client,
            task_queue=settings.contact_task_queue,
            workflows=list(CONTACT_WORKFLOWS),
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
            sticky_queue_schedule_to_start_timeout=STICKY_SCHEDULE_TO_START,
        )
    except RuntimeError as err:
        if "overlapping worker task types" not in str(err):
            raise
        log.info("contact queue %s already polled in this process", settings.contact_task_queue)
        return []
    return [worker]


class Workers:
    """All of mayday's workers as one async context manager."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.workers = build_workers(client, settings)
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Workers:
        for worker in self.workers:
            await self._stack.enter_async_context(worker)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()


async def run_until(workers: list[Worker], stop: asyncio.Event) -> None:
    """Poll until `stop` is set, then shut every worker down gracefully."""
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    stopped = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({*tasks, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if stopped not in done:
        stopped.cancel()
    log.info("workers shutting down")
    await asyncio.gather(*(worker.shutdown() for worker in workers))
    for task in tasks:
        if task.done() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
        await task
