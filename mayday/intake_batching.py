"""Fit alerts into Temporal signals: split big deliveries, merge concurrent ones (group commit).

Temporal refuses a payload over 2 MB, and a run over 10,000 signals. A delivery that fits the
hook body limit can still serialize past the first (the model repeats shared labels per alert),
and a storm of small deliveries for one key walks into the second. So a delivery is cut into
chunks of at most `max_bytes` serialized, each with a delivery id derived from the sender's
(`<id>#<n>`, the same on every retry, so the incident drops what already landed); and chunks
for one incident that arrive while a signal for it is in flight ride the next signal together.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from mayday.hooks import PayloadTooLarge
from workflows.alerts import Alert, AlertDelivery

MAX_SIGNAL_BYTES = 256 * 1024
"""Serialized bytes one signal carries, far enough below Temporal's 2 MB to absorb a codec."""
MAX_ALERT_BYTES = 1024 * 1024
"""One alert past this cannot travel at all, whatever the split."""
MAX_BATCH_DELIVERIES = 200
"""Deliveries merged into one signal; the workflow remembers 200 delivery ids for dedup."""
ENVELOPE_BYTES = 512
"""Room for a delivery's own fields (id, source, time) next to its alerts."""

Opening = TypeVar("Opening")


def alert_size(item: Alert) -> int:
    """Bytes the alert takes in a signal payload (JSON, as the data converter writes it)."""
    return len(item.__pydantic_serializer__.to_json(item))


@dataclass(frozen=True)
class Chunk:
    """Part of one delivery for one incident, small enough for one signal."""

    delivery_id: str
    alerts: list[Alert]
    size: int


def split(
    delivery_id: str, alerts: Sequence[Alert], *, max_bytes: int = MAX_SIGNAL_BYTES
) -> list[Chunk]:
    """Consecutive chunks of at most `max_bytes`; one chunk keeps the sender's delivery id.

    Depends only on the alerts and their order, so a retried delivery splits the same way.
    """
    chunks: list[tuple[list[Alert], int]] = []
    current: list[Alert] = []
    size = ENVELOPE_BYTES
    for index, item in enumerate(alerts):
        cost = alert_size(item) + 1
        if cost > MAX_ALERT_BYTES:
            raise PayloadTooLarge(
                f"alerts.{index}: one alert is larger than {MAX_ALERT_BYTES} bytes once "
                "normalised; shorten its labels or annotations",
                field=f"alerts.{index}",
            )
        if current and size + cost > max_bytes:
            chunks.append((current, size))
            current, size = [], ENVELOPE_BYTES
        current.append(item)
        size += cost
    if current:
        chunks.append((current, size))
    if len(chunks) == 1:
        return [Chunk(delivery_id, chunks[0][0], chunks[0][1])]
    return [
        Chunk(f"{delivery_id}#{n}", part, part_size)
        for n, (part, part_size) in enumerate(chunks, start=1)
    ]


def _future() -> asyncio.Future[bool]:
    return asyncio.get_running_loop().create_future()


@dataclass(eq=False)
class Submission(Generic[Opening]):
    """One delivery (or chunk) waiting for its signal; `done` says if it reached an incident."""

    delivery: AlertDelivery
    size: int
    opening: Opening | None
    """How to start the incident if it is not running (None: only reach a running one)."""
    done: asyncio.Future[bool] = field(default_factory=_future)


Send = Callable[[str, list[Submission[Opening]]], Awaitable[bool]]


class GroupCommit(Generic[Opening]):
    """At most one signal in flight per incident; what queues meanwhile goes out together.

    A submitter learns its outcome only from the signal that carried its chunk: accepted,
    refused (the exception), or not reached (False). A submitter that gives up (cancelled)
    is left out of later batches; a signal already in flight is never cancelled for it,
    since it carries other senders' deliveries.
    """

    def __init__(
        self,
        send: Send[Opening],
        *,
        max_bytes: int = MAX_SIGNAL_BYTES,
        max_deliveries: int = MAX_BATCH_DELIVERIES,
        linger: float = 0.0,
    ) -> None:
        self._send = send
        self._linger = linger
        self._max_bytes = max_bytes
        self._max_deliveries = max_deliveries
        self._queues: dict[str, deque[Submission[Opening]]] = {}
        self._drainers: set[asyncio.Task[None]] = set()
        self.signals = 0
        """Signals sent so far (for tests and metrics)."""

    async def submit(self, incident_id: str, items: Sequence[Submission[Opening]]) -> bool:
        """Wait until every item's signal was accepted; True if any reached an incident."""
        queue = self._queues.get(incident_id)
        if queue is None:
            queue = self._queues[incident_id] = deque()
            drainer = asyncio.create_task(self._drain(incident_id, queue))
            self._drainers.add(drainer)
            drainer.add_done_callback(self._drainers.discard)
        queue.extend(items)
        return any(await asyncio.gather(*(item.done for item in items)))

    def _take(self, queue: deque[Submission[Opening]]) -> list[Submission[Opening]]:
        batch: list[Submission[Opening]] = []
        size = 0
        while queue and len(batch) < self._max_deliveries:
            item = queue[0]
            if item.done.done():
                queue.popleft()  # its sender gave up; it will retry
                continue
            if batch and size + item.size > self._max_bytes:
                break
            batch.append(queue.popleft())
            size += item.size
        return batch

    async def _drain(self, incident_id: str, queue: deque[Submission[Opening]]) -> None:
        batch: list[Submission[Opening]] = []
        try:
            while queue:
                if self._linger:
                    # A few ms let a storm's concurrent senders share the signal.
                    await asyncio.sleep(self._linger)
                batch = self._take(queue)
                if not batch:
                    continue
                self.signals += 1
                try:
                    reached = await self._send(incident_id, batch)
                except Exception as err:
                    _settle(batch, error=err)
                else:
                    _settle(batch, reached=reached)
                batch = []
        finally:
            del self._queues[incident_id]
            _settle([*batch, *queue], error=RuntimeError("the alert hand-off was stopped"))


def _settle(
    items: Sequence[Submission[Opening]], *, reached: bool = False, error: Exception | None = None
) -> None:
    for item in items:
        if item.done.done():
            continue
        if error is not None:
            item.done.set_exception(error)
        else:
            item.done.set_result(reached)
