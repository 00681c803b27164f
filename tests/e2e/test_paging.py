"""Paging through an incident: the owning team is paged, and one ack — from any door — stops it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.client import Client
from twilio.request_validator import RequestValidator

from activities.opt_outs import OptOutRegistry
from activities.providers import read_outbox
from mayday import incidents
from mayday.http.app import create_app
from mayday.pages import OpenPage, ack_for, open_pages
from mayday.playbook_seam import current_playbook
from mayday.settings import Settings
from playbooks import who_is_on_call
from tests.contact_entities import book_for
from tests.helpers import assert_eventually, run_cli_async
from workflows.contracts import Declaration, PlaybookSnapshot

pytestmark = pytest.mark.usefixtures("worker")

TWILIO_TOKEN = "twilio-auth-token"
PUBLIC = "https://mayday.acme.example"


HANDOFF_MARGIN = timedelta(seconds=20)


def on_call(rotation: str = "checkout-oncall") -> tuple[str, str | None]:
    """Who the page will reach; waits out a handoff due within the test's own span."""
    holder = who_is_on_call(current_playbook(None), rotation, datetime.now(UTC))
    if holder.until - datetime.now(UTC) < HANDOFF_MARGIN:
        time.sleep(max((holder.until - datetime.now(UTC)).total_seconds(), 0) + 1)
        holder = who_is_on_call(current_playbook(None), rotation, datetime.now(UTC))
    return holder.primary, holder.backup


def phone_of(person: str) -> str:
    channel = current_playbook(None).directory.people[person].channel("sms")
    assert channel is not None
    return channel.address


async def declare(
    client: Client, settings: Settings, playbook: PlaybookSnapshot, time_scale: float = 1.0
) -> str:
    decl = Declaration(
        service="checkout", severity="SEV2", title="Checkout errors", actor=playbook.people[0]
    )
    return await incidents.declare(client, settings, decl, playbook, time_scale=time_scale)


def outbox_for(settings: Settings, incident_id: str) -> list[dict[str, Any]]:
    return [e for e in read_outbox(settings.outbox_path) if e["incident_id"] == incident_id]


async def paged(client: Client, incident_id: str, person: str) -> None:
    async def check() -> None:
        pages = await open_pages(client, incident_id=incident_id)
        assert pages and person in pages[0].status.paged
        # A person is listed as paged before their send settles; wait for the send itself.
        settled = {"paged", "possibly-sent"}
        assert any(e.person == person and e.outcome in settled for e in pages[0].status.events)

    await assert_eventually(check, timeout=15)


async def first_page(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> tuple[str, str, OpenPage, str]:
    """Declare an incident and return who was paged, its id, its page and the SMS's id."""
    primary, _ = on_call()
    incident_id = await declare(client, settings, playbook)
    await paged(client, incident_id, primary)
    [page] = await open_pages(client, incident_id=incident_id)
    notification = next(e.notification_id for e in page.status.events if e.outcome == "paged")
    assert notification is not None
    return primary, incident_id, page, notification


@pytest_asyncio.fixture(scope="module")
async def twilio_app(client: Client, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP app as Twilio reaches it: behind a public URL, signed with the auth token."""
    configured = settings.model_copy(
        update={"twilio_auth_token": SecretStr(TWILIO_TOKEN), "public_url": PUBLIC}
    )

    async def factory() -> Client:
        return client

    transport = httpx.ASGITransport(app=create_app(configured, factory))
    async with httpx.AsyncClient(transport=transport, base_url="http://internal") as http:
        yield http


def sid(prefix: str = "SM") -> str:
    """A Twilio-shaped MessageSid (or CallSid) no other test uses."""
    return prefix + uuid.uuid4().hex


def signed(path: str, form: dict[str, str], token: str = TWILIO_TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(PUBLIC + path, form)}


async def test_incident_pages_the_on_call_and_cli_ack_tells_everyone(
    client: Client, settings: Settings, playbook: PlaybookSnapshot, cli_settings_env: dict[str, str]
) -> None:
    primary, _ = on_call()
    incident_id = await declare(client, settings, playbook)
    await paged(client, incident_id, primary)

    async def sms_in_outbox() -> None:
        pages = [e for e in outbox_for(settings, incident_id) if e["purpose"] == "page"]
        assert [(e["channel"], e["to"]["person"]) for e in pages] == [("sms", primary)]

    await assert_eventually(sms_in_outbox)

    denied = await run_cli_async("ack", incident_id, "--as", "rachel-ito", env=cli_settings_env)
    assert denied.code == 1 and "paged" in denied.stderr
    acked = await run_cli_async("ack", incident_id, "--as", primary, env=cli_settings_env)
    assert acked.code == 0, acked.stderr

    async def acknowledged() -> None:
        status = await incidents.status(client, incident_id)
        assert set(status.pages.values()) == {"acked"}
        assert any(e.kind == "ack" and primary in e.text for e in status.timeline)

    await assert_eventually(acknowledged, timeout=15)

    # Everyone paged is told, except the one who took the page (here that is everyone).
    await asyncio.sleep(1.0)
    sent = outbox_for(settings, incident_id)
    told = sorted({e["to"]["person"] for e in sent if e["purpose"] == "page"} - {primary})
    assert sorted(e["to"]["person"] for e in sent if e["purpose"] == "ack-notice") == told
    again = await run_cli_async("ack", incident_id, "--as", primary, env=cli_settings_env)
    assert again.code == 1 and "no open page" in again.stderr


async def test_unacknowledged_page_climbs_to_the_backup_after_the_scaled_timeout(
    client: Client, settings: Settings, playbook: PlaybookSnapshot
) -> None:
    primary, backup = on_call()
    assert backup is not None
    incident_id = await declare(client, settings, playbook, time_scale=0.01)  # 5 min → 3 s
    await paged(client, incident_id, primary)
    await paged(client, incident_id, backup)
    [page] = await open_pages(client, incident_id=incident_id)
    levels = [(e.level, e.person, e.outcome) for e in page.status.events]
    assert (1, None, "ack-timeout") in levels and (2, backup, "paged") in levels

    await ack_for(client, backup, "cli", incident_id=incident_id)

    async def everyone_told() -> None:
        notices = [e for e in outbox_for(settings, incident_id) if e["purpose"] == "ack-notice"]
        assert [e["to"]["person"] for e in notices] == [primary]  # not the acker
        status = await incidents.status(client, incident_id)
        assert any(e.kind == "ack" and backup in e.text for e in status.timeline)

    await assert_eventually(everyone_told, timeout=15)


@pytest.mark.parametrize("reply", ["ack {short}", "1", " Ack "])
async def test_sms_reply_ack_with_a_valid_signature_acks(
    client: Client,
    settings: Settings,
    playbook: PlaybookSnapshot,
    twilio_app: httpx.AsyncClient,
    reply: str,
) -> None:
    primary, _ = on_call()
    incident_id = await declare(client, settings, playbook)
    await paged(client, incident_id, primary)
    short = incident_id.rsplit("-", 1)[-1]
    form = {"From": phone_of(primary), "Body": reply.format(short=short), "MessageSid": sid()}

    forged = await twilio_app.post(
        "/hooks/twilio/sms", data=form, headers=signed("/hooks/twilio/sms", form, token="wrong")
    )
    assert forged.status_code == 403
    assert (await open_pages(client, incident_id=incident_id))[0].status.state == "notifying"

    answer = await twilio_app.post(
        "/hooks/twilio/sms", data=form, headers=signed("/hooks/twilio/sms", form)
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/xml")
    assert f"Acknowledged {incident_id}" in answer.text

    async def acked() -> None:
        status = await incidents.status(client, incident_id)
        assert set(status.pages.values()) == {"acked"}

    await assert_eventually(acked, timeout=15)


async def test_voice_keypress_one_acks_the_page_it_rang_for(
    client: Client,
    settings: Settings,
    playbook: PlaybookSnapshot,
    twilio_app: httpx.AsyncClient,
) -> None:
    primary, incident_id, page, notification = await first_page(client, settings, playbook)
    path = f"/hooks/twilio/voice?notification={notification}&incident={incident_id}"
    call = sid("CA")
    wrong_key = {"Digits": "2", "CallSid": call}
    ignored = await twilio_app.post(path, data=wrong_key, headers=signed(path, wrong_key))
    assert "No acknowledgement" in ignored.text
    press = {"Digits": "1", "CallSid": call}
    answer = await twilio_app.post(path, data=press, headers=signed(path, press))
    assert "<Say>Acknowledged" in answer.text
    status = await client.get_workflow_handle(page.id).query("page_status")
    assert status["acked_by"] == primary and status["acked_via"] == "voice"

    replayed = await twilio_app.post(path, data=press, headers=signed(path, press))
    assert replayed.text == answer.text  # the same answer, not "no longer open"


async def test_status_callbacks_keep_the_furthest_delivery_state(
    client: Client,
    settings: Settings,
    playbook: PlaybookSnapshot,
    twilio_app: httpx.AsyncClient,
) -> None:
    _primary, incident_id, page, notification = await first_page(client, settings, playbook)
    path = f"/hooks/twilio/status?notification={notification}&incident={incident_id}"
    for state in ("delivered", "sent"):  # out of order, as Twilio may deliver them
        form = {"MessageSid": "SM9", "MessageStatus": state}
        response = await twilio_app.post(path, data=form, headers=signed(path, form))
        assert response.status_code == 204

    async def furthest() -> None:
        status = await client.get_workflow_handle(page.id).query("page_status")
        assert status["deliveries"][notification]["status"] == "delivered"

    await assert_eventually(furthest, timeout=10)
    await incidents.decide(
        client, incident_id, lambda h: h.execute_update("resolve", {"actor": playbook.people[0]})
    )
    await asyncio.sleep(0)


def pagerduty_event(kind: str, incident_key: str, event_id: str) -> bytes:
    import json

    return json.dumps(
        {
            "event": {
                "id": event_id,
                "event_type": kind,
                "resource_type": "incident",
                "occurred_at": "2026-11-28T12:00:03.123Z",
                "agent": None,
                "client": None,
                "data": {
                    "id": f"Q{incident_key.upper()}",
                    "type": "incident",
                    "number": 42,
                    "status": kind.split(".")[1],
                    "incident_key": incident_key,
                    "title": "Checkout 5xx",
                    "urgency": "high",
                    "created_at": "2026-11-28T12:00:01Z",
                    "html_url": "https://acme.pagerduty.com/incidents/Q1",
                    "service": {
                        "id": "PF9KMXH",
                        "summary": "checkout",
                        "type": "service_reference",
                    },
                    "priority": None,
                    "assignees": [],
                    "teams": [],
                    "resolve_reason": None,
                },
            }
        }
    ).encode()


async def test_pagerduty_acknowledged_event_acks_the_page(
    client: Client, settings: Settings
) -> None:
    import hashlib
    import hmac
    import uuid

    secret = "pd-secret"
    configured = settings.model_copy(update={"hook_secret": SecretStr(secret)})

    async def factory() -> Client:
        return client

    transport = httpx.ASGITransport(app=create_app(configured, factory))
    key = uuid.uuid4().hex[:8]
    primary, _ = on_call()
    async with httpx.AsyncClient(transport=transport, base_url="http://internal") as http:
        ids: list[str] = []
        for kind in ("incident.triggered", "incident.acknowledged"):
            raw = pagerduty_event(kind, key, uuid.uuid4().hex)
            mac = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            response = await http.post(
                "/hooks/pagerduty",
                content=raw,
                headers={"X-PagerDuty-Signature": f"v1={mac}", "Content-Type": "application/json"},
            )
            assert response.status_code == 202, response.text
            ids += response.json()["incidents"]
            if kind == "incident.triggered":
                await paged(client, ids[0], primary)
    assert len(ids) == 2 and ids[0] == ids[1]

    async def acked() -> None:
        status = await incidents.status(client, ids[0])
        assert set(status.pages.values()) == {"acked"}
        # Not necessarily the last entry: the ack notices to everyone paged follow it.
        assert any(e.kind == "ack" and "pagerduty" in e.text for e in status.timeline)
        assert "incident_commander" not in status.roles  # PagerDuty is not a person

    await assert_eventually(acked, timeout=15)


async def test_stop_reply_is_mirrored_and_start_lifts_it(
    client: Client, settings: Settings, twilio_app: httpx.AsyncClient
) -> None:
    primary, _ = on_call()
    registry = OptOutRegistry(book_for(client, settings.contact_task_queue))
    sent: dict[str, dict[str, str]] = {}
    for word, expected in (("STOP", True), ("start", False)):
        form = sent[word] = {"From": phone_of(primary), "Body": word, "MessageSid": sid()}
        answer = await twilio_app.post(
            "/hooks/twilio/sms", data=form, headers=signed("/hooks/twilio/sms", form)
        )
        assert answer.status_code == 200
        assert await registry.opted_out(primary, "sms") is expected

    replayed = await twilio_app.post(
        "/hooks/twilio/sms", data=sent["STOP"], headers=signed("/hooks/twilio/sms", sent["STOP"])
    )
    assert replayed.status_code == 200
    assert not await registry.opted_out(primary, "sms")  # a replayed STOP flips nothing back
