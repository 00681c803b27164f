"""Two workers and two HTTP apps, each on its own data dir, against one dev server.

What one host learns about a contact (STOP, START, a Twilio request already handled) every other
host honours, because it lives in the contact's entity in Temporal and not in any data dir.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.client import Client

from activities.opt_outs import OptOutRegistry
from activities.providers import read_outbox
from mayday.http.app import create_app
from mayday.incidents import IncidentError
from mayday.pages import ack_for, open_pages
from mayday.settings import Settings
from tests.contact_entities import book_for
from tests.e2e.test_paging import PUBLIC, TWILIO_TOKEN, declare, on_call, phone_of, sid, signed
from tests.helpers import assert_eventually
from worker.client import connect
from worker.run import Workers
from workflows.contracts import PlaybookSnapshot

pytestmark = pytest.mark.usefixtures("worker")

SMS = "/hooks/twilio/sms"


def host(settings: Settings, data_dir: Path) -> Settings:
    """Another host on the same Temporal and task queues, with a data dir of its own."""
    return settings.model_copy(
        update={
            "data_dir": data_dir,
            "twilio_auth_token": SecretStr(TWILIO_TOKEN),
            "public_url": PUBLIC,
        }
    )


@contextlib.asynccontextmanager
async def http_app(settings: Settings, client: Client) -> AsyncIterator[httpx.AsyncClient]:
    async def factory() -> Client:
        return client

    transport = httpx.ASGITransport(app=create_app(settings, factory))
    async with httpx.AsyncClient(transport=transport, base_url="http://internal") as http:
        yield http


@pytest_asyncio.fixture(scope="module")
async def hosts(
    client: Client, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, list[Path]]]:
    """App 1 and app 2, and the outboxes of every worker (the session's and two more)."""
    dirs = {name: tmp_path_factory.mktemp(name) for name in ("app1", "app2", "w1", "w2")}
    # Each host has its own connection, as separate processes would.
    w1, w2, a1, a2 = [await connect(host(settings, dirs["w1"])) for _ in range(4)]
    async with (
        Workers(w1, host(settings, dirs["w1"])),
        Workers(w2, host(settings, dirs["w2"])),
        http_app(host(settings, dirs["app1"]), a1) as app1,
        http_app(host(settings, dirs["app2"]), a2) as app2,
    ):
        outboxes = [settings.outbox_path, dirs["w1"] / "outbox.jsonl", dirs["w2"] / "outbox.jsonl"]
        yield app1, app2, outboxes


def sms_to(outboxes: list[Path], phone: str, incident_id: str) -> list[dict[str, Any]]:
    """Every SMS any worker wrote to `phone` for the incident."""
    return [
        entry
        for path in outboxes
        for entry in read_outbox(path)
        if entry["channel"] == "sms"
        and entry["to"]["address"] == phone
        and entry["incident_id"] == incident_id
    ]


async def post_sms(app: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    return await app.post(SMS, data=form, headers=signed(SMS, form))


async def stand_down(client: Client, person: str, *incident_ids: str) -> None:
    for incident_id in incident_ids:
        with contextlib.suppress(IncidentError):
            await ack_for(client, person, "cli", incident_id=incident_id)


async def test_stop_through_app_1_holds_on_every_worker_until_start_through_app_2(
    client: Client,
    settings: Settings,
    playbook: PlaybookSnapshot,
    hosts: tuple[httpx.AsyncClient, httpx.AsyncClient, list[Path]],
) -> None:
    app1, app2, outboxes = hosts
    primary, _ = on_call()
    phone = phone_of(primary)
    stop = {"From": phone, "Body": "STOP", "MessageSid": sid()}
    assert (await post_sms(app1, stop)).status_code == 200

    stopped = await declare(client, settings, playbook)

    async def refused_by_a_worker() -> None:
        pages = await open_pages(client, incident_id=stopped)
        assert pages, "the page has not started yet"
        assert any(
            (e.person, e.channel, e.detail) == (primary, "sms", "DeliveryOptedOut")
            for e in pages[0].status.events
        )

    await assert_eventually(refused_by_a_worker, timeout=15)
    assert sms_to(outboxes, phone, stopped) == []

    start = {"From": phone, "Body": "START", "MessageSid": sid()}
    assert (await post_sms(app2, start)).status_code == 200  # app 2's data dir is fresh
    assert (await post_sms(app2, stop)).status_code == 200  # a replayed STOP flips nothing
    started = await declare(client, settings, playbook)

    async def texted_again() -> None:
        assert len(sms_to(outboxes, phone, started)) == 1

    await assert_eventually(texted_again, timeout=15)
    assert sms_to(outboxes, phone, stopped) == []
    assert not await OptOutRegistry(book_for(client, settings.contact_task_queue)).opted_out(
        primary, "sms"
    )
    await stand_down(client, primary, stopped, started)


async def test_a_replayed_ack_answers_as_before_and_never_acks_a_newer_page(
    client: Client,
    settings: Settings,
    playbook: PlaybookSnapshot,
    hosts: tuple[httpx.AsyncClient, httpx.AsyncClient, list[Path]],
) -> None:
    app1, app2, _ = hosts
    primary, _ = on_call()
    first = await declare(client, settings, playbook)

    async def paged(incident_id: str) -> None:
        async def check() -> None:
            pages = await open_pages(client, incident_id=incident_id)
            assert pages and primary in pages[0].status.paged

        await assert_eventually(check, timeout=15)

    await paged(first)
    ack = {"From": phone_of(primary), "Body": "1", "MessageSid": sid()}
    answered = await post_sms(app1, ack)
    assert f"Acknowledged {first}" in answered.text

    newer = await declare(client, settings, playbook)
    await paged(newer)
    replayed = await post_sms(app2, ack)  # captured earlier, replayed to the other app

    assert replayed.status_code == 200 and replayed.text == answered.text
    [still_open] = await open_pages(client, incident_id=newer)
    assert still_open.status.state == "notifying"
    fresh = {**ack, "MessageSid": sid()}
    assert f"Acknowledged {newer}" in (await post_sms(app2, fresh)).text


async def test_without_temporal_a_stop_or_an_ack_is_answered_503_so_twilio_retries(
    settings: Settings, tmp_path: Path
) -> None:
    async def unreachable() -> Client:
        raise RuntimeError("Temporal is down")

    primary, _ = on_call()
    transport = httpx.ASGITransport(app=create_app(host(settings, tmp_path), unreachable))
    async with httpx.AsyncClient(transport=transport, base_url="http://internal") as app:
        for body in ("STOP", "START", "1"):
            form = {"From": phone_of(primary), "Body": body, "MessageSid": sid()}
            answer = await post_sms(app, form)
            assert answer.status_code == 503, body
            assert answer.headers["Retry-After"]
