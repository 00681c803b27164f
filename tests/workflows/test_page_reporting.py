"""A page reports to the workflow that asked for it (`report_to`), and a restricted page's texts
name only its codename.

A business incident pages responders for a technical incident: the page's texts and ids name
the technical incident, but its ack and its end go to the business workflow. The stand-in below
plays that business workflow, on a worker of this test's own.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import workflow

from workflows.codename import codename

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel
    from temporalio.client import Client
    from temporalio.service import RPCError
    from temporalio.worker import Worker

    from activities.notify import NotifyActivities
    from activities.providers import build_providers, read_outbox
    from tests.helpers import assert_eventually, cleaned_up
    from tests.unit.activities.paging_playbook import paging_playbook
    from workflows.escalation import EscalationWorkflow
    from workflows.escalation_contracts import (
        AckInput,
        EscalationInput,
        PageAcked,
        PageEnded,
        PagePolicy,
        PageStatus,
        PageTarget,
        PolicyLevel,
    )

TITLE = "Card numbers readable in checkout logs"
PAGED = ["ada-first", "ben-second"]


class StandInInput(BaseModel):
    """The technical incident the business incident pages for, and what it knows of it."""

    technical_incident: str
    title: str
    people: list[str]


class Heard(BaseModel):
    """What the stand-in was told by its page, and the page's own result."""

    codename: str
    acked: list[PageAcked]
    ended: list[PageEnded]
    result: PageStatus


@workflow.defn
class BusinessStandIn:
    """Starts a restricted page for a technical incident; the page reports back here."""

    def __init__(self) -> None:
        self._acked: list[PageAcked] = []
        self._ended: list[PageEnded] = []

    @workflow.run
    async def run(self, inp: StandInInput) -> Heard:
        # The title stays here: the page is given only the codename line.
        name = codename(inp.technical_incident)
        policy = PagePolicy(
            id="security",
            levels=[
                PolicyLevel(
                    targets=[PageTarget(kind="person", id=person) for person in inp.people],
                    ack_timeout=timedelta(minutes=5),
                )
            ],
        )
        page = await workflow.start_child_workflow(
            EscalationWorkflow.run,
            EscalationInput(
                incident_id=inp.technical_incident,
                target="security-responders",
                policy=policy,
                summary=f"SEV1 security incident {name}",
                severity="SEV1",
                service="checkout",
                report_to=workflow.info().workflow_id,
                restricted=True,
            ),
            id=f"{workflow.info().workflow_id}-page-1",
        )
        result = await page
        await workflow.wait_condition(lambda: bool(self._ended))
        return Heard(codename=name, acked=self._acked, ended=self._ended, result=result)

    @workflow.signal
    def page_acked(self, acked: PageAcked) -> None:
        self._acked.append(acked)

    @workflow.signal
    def page_ended(self, ended: PageEnded) -> None:
        self._ended.append(ended)


async def test_a_page_with_report_to_tells_that_workflow_and_a_restricted_page_hides_the_title(
    client: Client, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.jsonl"
    acts = NotifyActivities(build_providers(outbox_path=outbox), paging_playbook())
    queue = f"page-reporting-{uuid.uuid4().hex[:8]}"
    business_id = f"business-{uuid.uuid4().hex[:8]}"
    technical = f"incident-checkout-{uuid.uuid4().hex[:8]}"
    async with (
        Worker(
            client,
            task_queue=queue,
            workflows=[BusinessStandIn, EscalationWorkflow],
            activities=[acts.resolve_level, acts.notify],
        ),
        cleaned_up(client, queue),
    ):
        business = await client.start_workflow(
            BusinessStandIn.run,
            StandInInput(technical_incident=technical, title=TITLE, people=PAGED),
            id=business_id,
            task_queue=queue,
        )
        page = client.get_workflow_handle_for(EscalationWorkflow.run, f"{business_id}-page-1")

        async def everyone_paged() -> None:
            try:
                status = await page.query(EscalationWorkflow.page_status)
            except RPCError as err:
                raise AssertionError("the page has not started yet") from err
            assert {e.person for e in status.events if e.outcome == "paged"} == set(PAGED)

        await assert_eventually(everyone_paged, timeout=15)
        await page.execute_update(
            EscalationWorkflow.ack, AckInput(actor="ada-first", channel="sms")
        )
        heard = await asyncio.wait_for(business.result(), timeout=20)

    [acked] = heard.acked
    assert (acked.page_id, acked.acked_by, acked.via) == (page.id, "ada-first", "sms")
    [ended] = heard.ended
    assert ended.page_id == page.id and ended.status.state == "acked"
    assert ended.status.incident_id == technical
    # No signal went to the technical incident's id (which would have failed: it does not run).
    assert not [e for e in heard.result.events if e.outcome == "failed"]

    lines = [line for line in read_outbox(outbox) if line["id"].startswith(page.id)]
    assert sorted((line["to"]["person"], line["purpose"]) for line in lines) == [
        ("ada-first", "page"),
        ("ben-second", "ack-notice"),
        ("ben-second", "page"),
    ]
    for line in lines:
        said = _said(line)
        assert heard.codename in said
        for secret in (TITLE, "Checkout", "checkout", technical, "http"):
            assert secret not in said, (secret, line)


def _said(line: dict[str, Any]) -> str:
    """Everything a recipient could read or hear in an outbox line."""
    return " ".join(str(line[key] or "") for key in ("subject", "body", "html", "voice_text"))
