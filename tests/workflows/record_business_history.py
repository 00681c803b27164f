"""Record a SEV1 incident escalated to a business incident, end to end, for the replay tests.

Run by hand (`uv run python -m tests.workflows.record_business_history`), then commit the JSON:
the incident (with its SLT page, escalation, command timers and close by the postmortem) and its
business incident (mobilisation, halts, the HTTP call, resumes in order, the postmortem).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from mayday import incidents
from mayday.business import business_status, decide_business
from mayday.devstack import temporal_binary
from mayday.pages import ack_page, open_pages
from mayday.playbook_seam import snapshot
from mayday.settings import Settings
from playbooks import load_playbook
from tests.fakes.fake_business_api import FakeBusinessApi
from tests.helpers import REPO
from worker.client import DATA_CONVERTER
from worker.run import Workers
from workflows.business_contracts import (
    Brief,
    BusinessDecided,
    ConfirmAction,
    PostmortemUpdate,
    ResolutionSent,
)
from workflows.contracts import Declaration, Escalate, Recommend, Resolve
from workflows.search_attributes import ALL

OUT = Path(__file__).parent / "histories"
COMMANDER = "aisha-bello"
SCALE = 0.01


async def main() -> None:
    api = FakeBusinessApi().start()
    folder = Path(tempfile.mkdtemp()) / "acme"
    shutil.copytree(REPO / "playbooks" / "acme", folder)
    text = (folder / "playbook.yaml").read_text()
    (folder / "playbook.yaml").write_text(text.replace("https://marketing.acme.example", api.url))
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
            playbook=folder,
        )
        frozen = snapshot(load_playbook(folder))
        client = env.client
        async with Workers(client, settings):
            decl = Declaration(
                service="checkout", severity="SEV1", title="Checkout down", actor=COMMANDER
            )
            incident_id = await incidents.declare(client, settings, decl, frozen, time_scale=SCALE)
            slt_page = await _slt_page(client, incident_id)
            slt = slt_page[1]
            await ack_page(client, slt_page[0], slt, "cli")
            while (await incidents.status(client, incident_id)).roles.get("technical_slt") != slt:
                await asyncio.sleep(0.1)
            await _incident(client, incident_id, "recommend", Recommend(actor=slt, reason="peak"))
            await _incident(client, incident_id, "escalate", Escalate(actor=COMMANDER))
            status = None
            while status is None or not status.actions:
                await asyncio.sleep(0.2)
                try:
                    status = await business_status(client, incident_id)
                except incidents.IncidentError:  # the child is being created
                    status = None
            await _business(
                client, incident_id, "brief", Brief(actor=COMMANDER, answers={"trigger": "deploy"})
            )
            await _confirm_open(client, incident_id)
            await _incident(client, incident_id, "resolve", Resolve(actor=COMMANDER))
            while (await business_status(client, incident_id)).stage.value != "resolving":  # type: ignore[union-attr]
                await asyncio.sleep(0.1)
            await _business(client, incident_id, "resolution_sent", ResolutionSent(actor=COMMANDER))
            while True:
                current = await business_status(client, incident_id)
                assert current is not None
                if current.stage.value == "post_incident":
                    break
                await _confirm_open(client, incident_id)
                await asyncio.sleep(0.3)
            for step in ("draft", "in-review", "reviewed", "closed"):
                await _business(
                    client,
                    incident_id,
                    "postmortem",
                    PostmortemUpdate(actor=COMMANDER, status=step),
                )
            handle = client.get_workflow_handle(incident_id)
            await handle.result()
            business_id = (await incidents.status(client, incident_id)).business_id
            assert business_id is not None
            business = client.get_workflow_handle(business_id)
            await business.result()
            histories = [await handle.fetch_history(), await business.fetch_history()]
    api.close()
    OUT.mkdir(exist_ok=True)
    for history in histories:
        path = OUT / f"{history.workflow_id}.json"
        path.write_text(json.dumps(json.loads(history.to_json()), indent=1))
        print(path)  # noqa: T201


async def _slt_page(client: Client, incident_id: str) -> tuple[str, str]:
    while True:
        for page in await open_pages(client, incident_id=incident_id):
            if page.status.target == "role:technical_slt" and page.status.paged:
                return page.id, page.status.paged[0]
        await asyncio.sleep(0.1)


async def _incident(client: Client, incident_id: str, update: str, decision: Any) -> None:
    await incidents.decide(client, incident_id, lambda h: h.execute_update(update, decision))


async def _business(client: Client, incident_id: str, update: str, decision: Any) -> None:
    async def send(handle: WorkflowHandle[Any, Any]) -> BusinessDecided:
        result: BusinessDecided = await handle.execute_update(
            update, decision, result_type=BusinessDecided
        )
        return result

    await decide_business(client, incident_id, send)


async def _confirm_open(client: Client, incident_id: str) -> None:
    status = await business_status(client, incident_id)
    assert status is not None
    for action in status.actions:
        if action.state == "waiting":
            await _business(
                client,
                incident_id,
                "confirm",
                ConfirmAction(actor=COMMANDER, action=action.action),
            )


if __name__ == "__main__":
    asyncio.run(main())
