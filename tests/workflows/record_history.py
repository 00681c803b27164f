"""Record a full incident history for the replay tests (run by hand, then commit the JSON)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from mayday import incidents
from mayday.devstack import temporal_binary
from mayday.pages import OpenPage, ack_page, open_pages
from mayday.playbook_seam import current_playbook, snapshot
from mayday.settings import Settings
from worker.client import DATA_CONVERTER
from worker.run import Workers
from workflows.alerts import Alert, AlertDelivery, AlertStatus
from workflows.contracts import ChangePhase, Declaration, Reopen, Resolve
from workflows.incident import IncidentWorkflow
from workflows.phases import Phase
from workflows.search_attributes import ALL

OUT = Path(__file__).parent / "histories"


async def main() -> None:
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        data_converter=DATA_CONVERTER,
        search_attributes=ALL,
    ) as env:
        run = uuid.uuid4().hex[:6]
        settings = Settings(
            task_queue=f"record-{run}",
            page_task_queue=f"record-pages-{run}",
            data_dir=Path(tempfile.mkdtemp()),
        )
        frozen = snapshot(current_playbook(None))
        actor = frozen.people[0]
        async with Workers(env.client, settings):
            incident_id = await incidents.declare(
                env.client,
                settings,
                Declaration(
                    service="checkout", severity="SEV3", title="Checkout errors", actor=actor
                ),
                frozen,
            )
            handle = env.client.get_workflow_handle_for(IncidentWorkflow.run, incident_id)
            pages = await _open_pages(env.client, incident_id)
            await ack_page(env.client, pages[0].id, pages[0].status.paged[0], "cli")
            firing = Alert(
                source="alertmanager",
                fingerprint="fp1",
                status=AlertStatus.FIRING,
                title="Checkout 5xx",
                severity="SEV2",
            )
            now = datetime.now(UTC)
            await handle.signal(
                IncidentWorkflow.alert,
                AlertDelivery(
                    delivery_id="d1", source="alertmanager", alerts=[firing], received_at=now
                ),
            )
            await handle.execute_update(
                IncidentWorkflow.change_phase, ChangePhase(phase=Phase.IDENTIFIED, actor=actor)
            )
            await handle.execute_update(IncidentWorkflow.resolve, Resolve(actor=actor))
            # The alert fires again: the incident recurs and pages the team with a new page.
            again = firing.model_copy(update={"starts_at": now + timedelta(minutes=5)})
            await handle.signal(
                IncidentWorkflow.alert,
                AlertDelivery(
                    delivery_id="d2", source="alertmanager", alerts=[again], received_at=now
                ),
            )
            await _open_pages(env.client, incident_id)
            resolved = firing.model_copy(update={"status": AlertStatus.RESOLVED})
            await handle.signal(
                IncidentWorkflow.alert,
                AlertDelivery(
                    delivery_id="d3",
                    source="alertmanager",
                    alerts=[resolved],
                    received_at=now + timedelta(minutes=10),
                ),
            )
            await handle.execute_update(IncidentWorkflow.resolve, Resolve(actor=actor))
            await handle.execute_update(
                IncidentWorkflow.reopen, Reopen(actor=actor, reason="errors back")
            )
            await handle.execute_update(IncidentWorkflow.resolve, Resolve(actor=actor))
            await handle.execute_update(
                IncidentWorkflow.change_phase, ChangePhase(phase=Phase.CLOSED, actor=actor)
            )
            final = await handle.result()
            histories = [await handle.fetch_history()]
            for page_id in final.pages:
                page = env.client.get_workflow_handle(page_id)
                with contextlib.suppress(WorkflowFailureError):
                    await page.result()  # cancelled pages end as cancelled
                histories.append(await page.fetch_history())
    OUT.mkdir(exist_ok=True)
    for history in histories:
        # The replayer needs the workflow id, and page ids derive from it: name files by id.
        path = OUT / f"{history.workflow_id}.json"
        path.write_text(json.dumps(json.loads(history.to_json()), indent=1))
        print(path)  # noqa: T201


async def _open_pages(client: Client, incident_id: str) -> list[OpenPage]:
    pages: list[OpenPage] = []
    while not pages:
        pages = await open_pages(client, incident_id=incident_id)
        await asyncio.sleep(0.1)
    return pages


if __name__ == "__main__":
    asyncio.run(main())
