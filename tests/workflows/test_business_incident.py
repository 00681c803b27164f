"""The business incident: escalation by the IC only, mobilisation, emergency mode and back.

Each test runs its own workers on its own queues with a copy of the Acme playbook whose marketing
endpoints point at a fake business API, and reads what was sent from its own outbox.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.service import RPCError

from mayday import incidents
from mayday.business import decide_business
from mayday.incidents import DecisionRejected
from mayday.pages import ack_for, ack_page, page_status
from mayday.playbook_seam import snapshot
from mayday.settings import Settings
from playbooks import load_playbook
from tests.e2e.test_paging import on_call
from tests.fakes.fake_business_api import FakeBusinessApi
from tests.helpers import REPO, assert_eventually, cleaned_up
from worker.run import Workers
from workflows.business import BusinessIncidentWorkflow
from workflows.business_contracts import (
    Brief,
    BusinessDecided,
    ConfirmAction,
    ParentReport,
    PostmortemUpdate,
    ResolutionSent,
)
from workflows.business_state import BusinessStatus
from workflows.contracts import Declaration, Escalate, PlaybookSnapshot, Recommend, Resolve
from workflows.incident import IncidentWorkflow

ACME = REPO / "playbooks" / "acme"
PAUSE = "/api/campaigns/pause"
RESUME = "/api/campaigns/resume"
SCALE = 0.01
COMMANDER = "aisha-bello"
MARKETING = "chloe-dubois"


@pytest.fixture
def business_api() -> Iterator[FakeBusinessApi]:
    api = FakeBusinessApi().start()
    yield api
    api.close()


@dataclass
class Stack:
    client: Client
    settings: Settings
    playbook: PlaybookSnapshot
    api: FakeBusinessApi

    def outbox(self) -> list[dict[str, Any]]:
        path = self.settings.outbox_path
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def playbook_edits() -> dict[str, str]:
    """Text replacements in the test's copy of playbook.yaml (a test may override it)."""
    return {}


@pytest_asyncio.fixture
async def stack(
    client: Client,
    settings: Settings,
    tmp_path: Path,
    business_api: FakeBusinessApi,
    playbook_edits: dict[str, str],
) -> AsyncIterator[Stack]:
    folder = tmp_path / "acme"
    shutil.copytree(ACME, folder)
    playbook_file = folder / "playbook.yaml"
    text = playbook_file.read_text().replace("https://marketing.acme.example", business_api.url)
    for old, new in playbook_edits.items():
        assert old in text, old
        text = text.replace(old, new)
    playbook_file.write_text(text)
    run = uuid.uuid4().hex[:8]
    own = settings.model_copy(
        update={
            "task_queue": f"business-{run}",
            "page_task_queue": f"business-pages-{run}",
            "contact_task_queue": f"business-contacts-{run}",
            "data_dir": tmp_path / "data",
            "playbook": folder,
        }
    )
    own.data_dir.mkdir()
    queues = (own.task_queue, own.page_task_queue, own.contact_task_queue)
    async with Workers(client, own), cleaned_up(client, *queues):
        yield Stack(client, own, snapshot(load_playbook(folder)), business_api)


async def _declare(stack: Stack) -> str:
    decl = Declaration(
        service="checkout", severity="SEV1", title="Checkout down for everyone", actor=COMMANDER
    )
    return await incidents.declare(
        stack.client, stack.settings, decl, stack.playbook, time_scale=SCALE
    )


async def _incident(stack: Stack, incident_id: str) -> Any:
    return await stack.client.get_workflow_handle(incident_id).query(IncidentWorkflow.status)


async def _business(stack: Stack, business_id: str) -> BusinessStatus:
    handle = stack.client.get_workflow_handle(business_id)
    try:
        return await handle.query(BusinessIncidentWorkflow.business_status)
    except RPCError as err:
        # Started by the escalation's workflow task; the server creates it a moment later.
        raise AssertionError(f"business incident not there yet: {err.message}") from None


async def _slt_paged(stack: Stack, incident_id: str) -> str:
    async def check() -> str:
        lines = [m for m in stack.outbox() if m["incident_id"] == incident_id]
        slt = [m for m in lines if "Technical SLT" in (m.get("body") or "")]
        assert slt, "the Technical SLT was not paged"
        return str(slt[0]["to"]["person"])

    return await assert_eventually(check, timeout=20)


async def _escalated(stack: Stack) -> tuple[str, str]:
    incident_id = await _declare(stack)
    slt = await _slt_paged(stack, incident_id)
    await ack_for(stack.client, slt, "cli", incident_id=incident_id)

    async def slt_holds_the_role() -> None:
        assert (await _incident(stack, incident_id)).roles.get("technical_slt") == slt

    await assert_eventually(slt_holds_the_role)
    await incidents.decide(
        stack.client,
        incident_id,
        lambda h: h.execute_update(
            IncidentWorkflow.recommend, Recommend(actor=slt, reason="checkout down at peak")
        ),
    )
    decided = await incidents.decide(
        stack.client,
        incident_id,
        lambda h: h.execute_update(IncidentWorkflow.escalate, Escalate(actor=COMMANDER)),
    )
    status = await _incident(stack, incident_id)
    assert status.business_id is not None
    assert status.business_id in decided.text
    return incident_id, status.business_id


async def _decide(stack: Stack, incident_id: str, update: Any, decision: Any) -> BusinessDecided:
    return await decide_business(
        stack.client, incident_id, lambda handle: handle.execute_update(update, decision)
    )


async def test_only_the_commander_escalates_and_the_business_is_mobilised_and_halting(
    stack: Stack,
) -> None:
    incident_id = await _declare(stack)
    slt = await _slt_paged(stack, incident_id)
    await ack_for(stack.client, slt, "cli", incident_id=incident_id)
    before = await _incident(stack, incident_id)
    with pytest.raises(DecisionRejected) as refused:
        await incidents.decide(
            stack.client,
            incident_id,
            lambda h: h.execute_update(IncidentWorkflow.escalate, Escalate(actor=slt)),
        )
    assert "authority.escalate" in str(refused.value)
    assert f"Incident Commander is {COMMANDER}" in str(refused.value)
    after = await _incident(stack, incident_id)
    assert after.business_id is None
    written = after.timeline[len(before.timeline) - 1 :]
    assert not [e for e in written if e.kind in ("escalated", "business")]  # nothing written

    decided = await incidents.decide(
        stack.client,
        incident_id,
        lambda h: h.execute_update(IncidentWorkflow.escalate, Escalate(actor=COMMANDER)),
    )
    business_id = (await _incident(stack, incident_id)).business_id
    assert business_id and business_id.startswith("business-") and business_id in decided.text

    async def mobilised() -> BusinessStatus:
        status = await _business(stack, business_id)
        assert set(status.modes.values()) <= {"halting", "halted"}, status.modes
        paged = {m["to"]["person"] for m in stack.outbox() if m["purpose"] == "page"}
        roles = stack.playbook.business.roles if stack.playbook.business else []
        pages = [p for p, target in status.pages.items()]
        assert len(pages) >= len(roles) - 1, status.pages  # the SLT already holds its role
        assert stack.api.calls(PAUSE), "the marketing pause endpoint was not called"
        pause = next(a for a in status.actions if a.action == "pause-email-campaigns")
        assert pause.state == "done", pause
        assert paged
        return status

    status = await assert_eventually(mobilised, timeout=30)
    assert status.roles.get("technical_slt") == slt
    assert status.emergency == "active"
    assert len(stack.api.calls(PAUSE)) == 1
    assert len(stack.api.idempotency_keys()) == 1
    pause = next(a for a in status.actions if a.action == "pause-email-campaigns")
    assert pause.done_by == "mayday" and pause.http and "HTTP 200" in pause.http
    listed = [
        e.id
        async for e in stack.client.list_workflows(
            f'EmergencyMode="active" AND WorkflowId="{business_id}"'
        )
    ]
    assert listed == [business_id]
    incident = await _incident(stack, incident_id)
    assert any(e.kind == "business" for e in incident.timeline)


async def test_back_to_normal_in_order_after_resolution_then_postmortem_closes_both(
    stack: Stack,
) -> None:
    incident_id, business_id = await _escalated(stack)
    await assert_eventually(
        lambda: _modes_are(stack, business_id, {"halting", "halted"}), timeout=30
    )
    await assert_eventually(lambda: _no_call_out(stack, business_id), timeout=20)
    await _confirm_all(stack, incident_id, business_id, None)
    await assert_eventually(lambda: _modes_are(stack, business_id, {"halted"}), timeout=10)
    with pytest.raises(DecisionRejected, match="only after it is resolved"):
        await _decide(
            stack,
            incident_id,
            BusinessIncidentWorkflow.resolution_sent,
            ResolutionSent(actor=COMMANDER),
        )
    await incidents.decide(
        stack.client,
        incident_id,
        lambda h: h.execute_update(IncidentWorkflow.resolve, Resolve(actor=COMMANDER)),
    )
    await assert_eventually(lambda: _stage_is(stack, business_id, "resolving"), timeout=10)
    await _decide(
        stack,
        incident_id,
        BusinessIncidentWorkflow.brief,
        Brief(actor=COMMANDER, answers={"trigger": "bad deploy"}),
    )
    await _decide(
        stack,
        incident_id,
        BusinessIncidentWorkflow.resolution_sent,
        ResolutionSent(actor=COMMANDER),
    )
    # Social resumes first; marketing waits for it.
    await assert_eventually(lambda: _mode_of(stack, business_id, "social", "resuming"), timeout=10)
    assert (await _business(stack, business_id)).modes["marketing"] == "halted"
    await _confirm_all(stack, incident_id, business_id, "social")
    await assert_eventually(
        lambda: _mode_of(stack, business_id, "marketing", "resuming"), timeout=10
    )
    await _confirm_all(stack, incident_id, business_id, None)
    await assert_eventually(lambda: _stage_is(stack, business_id, "post_incident"), timeout=20)
    assert len(stack.api.calls(RESUME)) == 1
    status = await _business(stack, business_id)
    assert status.emergency == "ended"

    async def nothing_active() -> None:
        query = (
            f'EmergencyMode="active" AND (WorkflowId="{business_id}" OR WorkflowId="{incident_id}")'
        )
        assert [e.id async for e in stack.client.list_workflows(query)] == []

    await assert_eventually(nothing_active)
    for step in ("draft", "in-review", "reviewed", "closed"):
        await _decide(
            stack,
            incident_id,
            BusinessIncidentWorkflow.postmortem,
            PostmortemUpdate(actor=COMMANDER, status=step, link="https://docs.acme.example/pm"),
        )

    async def closed() -> None:
        incident = await _incident(stack, incident_id)
        assert incident.phase.value == "closed"

    await assert_eventually(closed, timeout=20)


async def _modes_are(stack: Stack, business_id: str, allowed: set[str]) -> None:
    status = await _business(stack, business_id)
    assert status.modes and set(status.modes.values()) <= allowed, status.modes


async def _no_call_out(stack: Stack, business_id: str) -> None:
    status = await _business(stack, business_id)
    assert not [a.action for a in status.actions if a.state == "calling"]


async def _mode_of(stack: Stack, business_id: str, function: str, mode: str) -> None:
    status = await _business(stack, business_id)
    assert status.modes.get(function) == mode, status.modes


async def _stage_is(stack: Stack, business_id: str, stage: str) -> None:
    status = await _business(stack, business_id)
    assert status.stage.value == stage, status.stage


async def _confirm_all(
    stack: Stack, incident_id: str, business_id: str, function: str | None
) -> None:
    status = await _business(stack, business_id)
    for action in status.actions:
        if action.state == "waiting" and function in (None, action.function):
            await _decide(
                stack,
                incident_id,
                BusinessIncidentWorkflow.confirm,
                ConfirmAction(actor=COMMANDER, action=action.action),
            )


async def test_an_unconfirmed_halt_repages_its_owner_then_the_backup_then_the_business_lead(
    stack: Stack,
) -> None:
    social, social_backup = on_call("social-officers")
    lead, _ = on_call("business-leads")
    _, business_id = await _escalated(stack)

    async def climbed() -> BusinessStatus:
        status = await _business(stack, business_id)
        posts = next(a for a in status.actions if a.action == "pause-scheduled-posts")
        assert posts.step == 3, posts
        return status

    status = await assert_eventually(climbed, timeout=40)
    posts = next(a for a in status.actions if a.action == "pause-scheduled-posts")
    assert posts.state == "waiting" and posts.due_at is None  # shown overdue, no more steps
    grace = max(timedelta(minutes=2) * SCALE, timedelta(seconds=1))
    assert posts.eta_at is not None
    overdue = [
        e for e in status.timeline if e.kind == "overdue" and "pause-scheduled-posts" in e.text
    ]
    assert len(overdue) == 3
    # Each step at its scaled time: ETA + grace, then one grace more each (a second's slack).
    for number, entry in enumerate(overdue, start=1):
        due = posts.eta_at + grace * number
        assert due - timedelta(milliseconds=50) <= entry.at <= due + timedelta(seconds=1.5), (
            number,
            entry.at,
            due,
        )
    assert social in overdue[0].text or "Social Officer (primary)" in overdue[0].text
    assert "backup" in overdue[1].text
    assert "Business Lead" in overdue[2].text or lead in overdue[2].text

    async def paged_in_turn() -> None:
        lines = [
            m
            for m in stack.outbox()
            if m["id"].startswith(business_id) and "OVERDUE" in (m.get("body") or "")
        ]
        people = [m["to"]["person"] for m in lines if "pause-scheduled-posts" in m["body"]]
        assert social in people and social_backup in people and lead in people, people
        first = {p: min(m["at"] for m in lines if m["to"]["person"] == p) for p in people}
        assert first[social] < first[social_backup] < first[lead]

    await assert_eventually(paged_in_turn, timeout=10)


async def test_a_security_incident_sends_no_title_and_pages_legal_first(stack: Stack) -> None:
    title = "Credential stuffing on accounts"
    decl = Declaration(
        service="accounts", severity="SEV1", title=title, actor=COMMANDER, security=True
    )
    incident_id = await incidents.declare(
        stack.client, stack.settings, decl, stack.playbook, time_scale=SCALE
    )
    await incidents.decide(
        stack.client,
        incident_id,
        lambda h: h.execute_update(IncidentWorkflow.escalate, Escalate(actor=COMMANDER)),
    )
    business_id = (await _incident(stack, incident_id)).business_id
    assert business_id

    async def legal_only() -> BusinessStatus:
        status = await _business(stack, business_id)
        targets = set(status.pages.values())
        assert targets, status.pages
        return status

    status = await assert_eventually(legal_only, timeout=20)
    legal, _ = on_call("legal-officers")
    lead, _ = on_call("business-leads")

    async def legal_paged_alone() -> str:
        found = {}
        for page_id in status.pages:
            page = await page_status(stack.client, page_id)
            assert page is not None
            found[page_id] = page.paged
        paged = {person for people in found.values() for person in people}
        assert legal in paged and lead not in paged, found
        return next(page_id for page_id, people in found.items() if legal in people)

    legal_page = await assert_eventually(legal_paged_alone, timeout=20)
    await ack_page(stack.client, legal_page, legal, "cli")

    async def everyone_paged() -> None:
        paged = {
            m["to"]["person"]
            for m in stack.outbox()
            if m["id"].startswith(business_id) and m["purpose"] == "page"
        }
        assert lead in paged, paged

    await assert_eventually(everyone_paged, timeout=20)
    lines = [m for m in stack.outbox() if m["incident_id"] == incident_id]
    assert lines
    words = {"credential", "stuffing", "accounts", incident_id.removeprefix("incident-")}
    for line in lines:
        text = " ".join(str(line.get(k) or "") for k in ("subject", "body")).lower()
        assert not [w for w in words if w in text], line
        if line["channel"] == "sms":
            assert "secure channel" in text
    assert status.codename and status.codename in " ".join(str(m["body"]) for m in lines)


async def test_a_business_incident_continues_as_new_past_its_signal_budget_and_keeps_it_all(
    stack: Stack,
) -> None:
    incident_id, business_id = await _escalated(stack)
    await assert_eventually(
        lambda: _modes_are(stack, business_id, {"halting", "halted"}), timeout=30
    )
    handle = stack.client.get_workflow_handle(business_id)
    first_run = (await handle.describe()).run_id
    before = await _business(stack, business_id)
    roles = (await _incident(stack, incident_id)).roles
    same = ParentReport(phase="investigating", severity="SEV1", roles=roles)
    for start in range(0, 1_010, 101):
        await asyncio.gather(
            *(handle.signal(BusinessIncidentWorkflow.parent_changed, same) for _ in range(101))
        )
        del start

    async def continued() -> None:
        assert (await handle.describe()).run_id != first_run

    await assert_eventually(continued, timeout=20)
    after = await _business(stack, business_id)
    assert after.stage == before.stage
    assert [a.key for a in after.actions] == [a.key for a in before.actions]
    assert set(after.pages) == set(before.pages)
    assert after.timeline_total >= before.timeline_total
    waiting = next(a for a in after.actions if a.state == "waiting")
    decided = await _decide(
        stack,
        incident_id,
        BusinessIncidentWorkflow.confirm,
        ConfirmAction(actor=COMMANDER, action=waiting.action),
    )
    assert waiting.action in decided.text


async def test_a_business_role_nobody_takes_is_escalated_then_shown_missing(stack: Stack) -> None:
    decl = Declaration(service="checkout", severity="SEV1", title="Checkout down", actor=COMMANDER)
    # Role pages: primary then backup, 5 min each, three rounds: 30 min become 3.6 s.
    incident_id = await incidents.declare(
        stack.client, stack.settings, decl, stack.playbook, time_scale=0.002
    )
    await incidents.decide(
        stack.client,
        incident_id,
        lambda h: h.execute_update(IncidentWorkflow.escalate, Escalate(actor=COMMANDER)),
    )
    business_id = (await _incident(stack, incident_id)).business_id
    assert business_id

    async def missing() -> BusinessStatus:
        status = await _business(stack, business_id)
        assert "media_officer" in status.missing, status.missing
        return status

    status = await assert_eventually(missing, timeout=40)
    assert any(e.kind == "missing" and "Media Officer" in e.text for e in status.timeline)
    media, backup = on_call("media-officers")
    paged = {m["to"]["person"] for m in stack.outbox() if m["id"].startswith(business_id)}
    assert media in paged and (backup is None or backup in paged)

    async def on_the_parent() -> None:
        incident = await _incident(stack, incident_id)
        lines = [e.text for e in incident.timeline if e.kind == "business"]
        assert any("Media Officer role" in text for text in lines), lines

    await assert_eventually(on_the_parent, timeout=10)


@pytest.mark.parametrize(
    "playbook_edits", [{"preliminary_analysis_due: 24h": "preliminary_analysis_due: 10m"}]
)
async def test_the_preliminary_analysis_owner_is_reminded_until_it_is_delivered(
    stack: Stack,
) -> None:
    incident_id, business_id = await _escalated(stack)
    slt = (await _incident(stack, incident_id)).roles["technical_slt"]
    await assert_eventually(
        lambda: _modes_are(stack, business_id, {"halting", "halted"}), timeout=30
    )
    await _confirm_all(stack, incident_id, business_id, None)
    await incidents.decide(
        stack.client,
        incident_id,
        lambda h: h.execute_update(IncidentWorkflow.resolve, Resolve(actor=COMMANDER)),
    )
    await assert_eventually(lambda: _stage_is(stack, business_id, "resolving"), timeout=10)
    await _decide(
        stack,
        incident_id,
        BusinessIncidentWorkflow.resolution_sent,
        ResolutionSent(actor=COMMANDER),
    )

    async def post_incident() -> BusinessStatus:
        await _confirm_all(stack, incident_id, business_id, None)
        status = await _business(stack, business_id)
        assert status.stage.value == "post_incident", status.stage
        return status

    status = await assert_eventually(post_incident, timeout=30)
    assert status.preliminary is not None and status.preliminary.owner == slt

    # 10 min scaled is 6 s: reminded at 3 s (halfway), then at the due time.
    async def reminded_twice() -> None:
        notices = [
            m
            for m in stack.outbox()
            if m["id"].startswith(business_id) and m["purpose"] == "notice"
        ]
        to_slt = [m for m in notices if m["to"]["person"] == slt]
        assert len(to_slt) >= 2, notices
        assert "Preliminary analysis" in to_slt[0]["body"] and to_slt[0]["channel"] == "email"

    await assert_eventually(reminded_twice, timeout=15)
    await _decide(
        stack,
        incident_id,
        BusinessIncidentWorkflow.postmortem,
        PostmortemUpdate(
            actor=slt, preliminary=True, status="closed", link="https://docs.acme.example/pa"
        ),
    )
    count = len(
        [m for m in stack.outbox() if m["purpose"] == "notice" and m["to"]["person"] == slt]
    )
    await asyncio.sleep(4)
    after = len(
        [m for m in stack.outbox() if m["purpose"] == "notice" and m["to"]["person"] == slt]
    )
    assert after == count  # delivered: no more reminders
    with pytest.raises(DecisionRejected, match="only moves forward"):
        await _decide(
            stack,
            incident_id,
            BusinessIncidentWorkflow.postmortem,
            PostmortemUpdate(actor=COMMANDER, preliminary=True, status="draft"),
        )


async def test_the_customer_liaison_hands_its_technical_seat_to_its_backup(stack: Stack) -> None:
    incident_id, business_id = await _escalated(stack)
    _, backup = on_call("customer-liaisons")
    assert backup is not None

    async def seat_page() -> str:
        status = await _business(stack, business_id)
        for page_id in status.pages:
            page = await page_status(stack.client, page_id)
            if page is not None and page.target == "seat:customer_liaison" and page.paged:
                assert page.paged == [backup], page.paged
                return page_id
        raise AssertionError("no page for the technical Customer Liaison seat")

    page_id = await assert_eventually(seat_page, timeout=20)
    await ack_page(stack.client, page_id, backup, "cli")

    async def handed() -> None:
        incident = await _incident(stack, incident_id)
        assert incident.roles.get("customer_liaison") == backup, incident.roles
        assert any("Customer Liaison handed to" in e.text for e in incident.timeline)

    await assert_eventually(handed, timeout=10)
