"""A worker hosting contact entities on a task queue of the test's own, and its ContactBook."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.contacts import DEFAULT_TIMEOUT, ContactBook
from workflows.contacts import ContactWorkflow


def book_for(
    client: Client, task_queue: str, *, timeout: timedelta = DEFAULT_TIMEOUT
) -> ContactBook:
    """A ContactBook reaching contacts on `task_queue` through `client`."""

    async def source() -> Client:
        return client

    return ContactBook(source, task_queue, timeout=timeout)


@asynccontextmanager
async def contact_worker(client: Client) -> AsyncIterator[ContactBook]:
    """Contacts on a fresh task queue, served while the block runs."""
    task_queue = f"contacts-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[ContactWorkflow]):
        yield book_for(client, task_queue)
