"""The Temporal floor for time_to_page: signal-with-start → first activity starting."""

from __future__ import annotations

import time
from datetime import timedelta

from temporalio import activity, workflow

FLOOR_QUEUE = "floor"
started_at: dict[str, float] = {}
"""Workflow key → wall-clock time its first activity started (filled in the worker process)."""


@activity.defn
async def first_step(key: str) -> None:
    """The floor's first activity: note when it started."""
    started_at[key] = time.time()


@workflow.defn
class FloorWorkflow:
    """Signal-with-start target whose first act is an activity."""

    @workflow.run
    async def run(self, key: str) -> None:
        await workflow.execute_activity(
            first_step, key, start_to_close_timeout=timedelta(seconds=10)
        )

    @workflow.signal
    def alert(self, _payload: dict[str, object]) -> None:
        """Accept the start signal, as an incident accepts an alert."""
