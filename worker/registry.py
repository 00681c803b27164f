"""What a mayday worker runs: every workflow and activity, in one place."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from workflows.incident import IncidentWorkflow

WORKFLOWS: Sequence[type] = (IncidentWorkflow,)
ACTIVITIES: Sequence[Callable[..., Any]] = ()
