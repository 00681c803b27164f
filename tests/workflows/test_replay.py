"""Saved histories (incidents and their pages) replay cleanly against today's workflow code.

Each file is named by its workflow id, which the replayer needs.

A failure here means a change altered the order of a workflow's commands: guard the new
behaviour with `workflow.patched(...)` instead of changing what running incidents replay.
Record a new history with `uv run python -m tests.workflows.record_history`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from worker.client import DATA_CONVERTER
from worker.registry import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_there_are_saved_histories() -> None:
    assert HISTORIES, "no saved histories to replay"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=DATA_CONVERTER)
    await replayer.replay_workflow(history)
