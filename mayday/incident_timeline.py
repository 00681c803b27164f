"""An incident's whole timeline, read a page at a time so no query nears Temporal's size limits.

The `status` query carries only the newest entries; `timeline_page` pages through every entry
the incident holds, oldest first. Steps of pages still running are read from the pages
themselves (as `status` does), so the timeline shows every page as it happens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from mayday.incidents import IncidentError, UnknownIncident, handle_for, status
from workflows.contracts import IncidentStatus, TimelineEntry, TimelinePage, TimelineRequest
from workflows.incident import IncidentWorkflow

PAGE_SIZE = 500
"""Entries per query: the most `timeline_page` answers."""


@dataclass(frozen=True)
class Timeline:
    """Every entry of an incident, oldest first, and how many old ones it no longer holds."""

    status: IncidentStatus
    entries: list[TimelineEntry]
    dropped: int


async def pages(client: Client, incident_id: str) -> AsyncIterator[TimelinePage]:
    """The held timeline page by page, oldest first, until a page ends it."""
    handle = handle_for(client, incident_id)
    offset = 0
    while True:
        try:
            page = await handle.query(
                IncidentWorkflow.timeline_page, TimelineRequest(offset=offset, limit=PAGE_SIZE)
            )
        except RPCError as err:
            raise UnknownIncident(
                f"Incident {incident_id!r} cannot be read: {err.message}"
            ) from None
        except WorkflowQueryFailedError as err:
            raise IncidentError(
                f"Incident {incident_id!r} cannot report its timeline: {err}"
            ) from None
        yield page
        offset = page.offset + len(page.entries)
        if not page.entries or offset >= page.total:
            return


async def timeline(client: Client, incident_id: str) -> Timeline:
    """Every entry: the held timeline paged, plus the steps of pages still running."""
    current = await status(client, incident_id)
    entries: list[TimelineEntry] = []
    seen: set[tuple[object, ...]] = set()
    dropped = 0
    async for page in pages(client, incident_id):
        dropped = page.dropped
        for entry in page.entries:
            seen.add(_key(entry))
            entries.append(entry)
    # `status` merged in what running pages did so far; keep what the pages did not hold.
    entries.extend(entry for entry in current.timeline if _key(entry) not in seen)
    entries.sort(key=lambda entry: entry.at)
    return Timeline(status=current, entries=entries, dropped=dropped)


def _key(entry: TimelineEntry) -> tuple[object, ...]:
    return (entry.at, entry.actor, entry.kind, entry.text)
