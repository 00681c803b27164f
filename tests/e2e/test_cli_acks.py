"""An ACK that arrives after the page ended: the newer page that paged you, or a clear answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.client import Client

from mayday.http.app import create_app
from mayday.playbook_seam import current_playbook
from mayday.settings import Settings
from tests.e2e.test_paging import PUBLIC, TWILIO_TOKEN, on_call, paged, phone_of, sid, signed
from tests.helpers import assert_eventually, run_cli_async

pytestmark = pytest.mark.usefixtures("worker")


@pytest_asyncio.fixture(scope="module")
async def sms(client: Client, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP app as Twilio reaches it, signed with the auth token."""
    configured = settings.model_copy(
        update={"twilio_auth_token": SecretStr(TWILIO_TOKEN), "public_url": PUBLIC}
    )

    async def factory() -> Client:
        return client

    transport = httpx.ASGITransport(app=create_app(configured, factory))
    async with httpx.AsyncClient(transport=transport, base_url="http://internal") as http:
        yield http


async def reply(sms: httpx.AsyncClient, person: str, body: str) -> str:
    form = {"From": phone_of(person), "Body": body, "MessageSid": sid()}
    answer = await sms.post(
        "/hooks/twilio/sms", data=form, headers=signed("/hooks/twilio/sms", form)
    )
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    return answer.text


async def declare(env: dict[str, str], person: str) -> str:
    result = await run_cli_async(
        "declare", "--service", "checkout", "--severity", "SEV2", "--title", "Checkout errors",
        "--as", person, env=env,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    return result.last_line


def short(incident_id: str) -> str:
    return incident_id.rsplit("-", 1)[-1]


async def test_late_ack_after_someone_took_the_page_names_who(
    client: Client, sms: httpx.AsyncClient, cli_settings_env: dict[str, str], people: list[str]
) -> None:
    primary, _ = on_call()
    incident_id = await declare(cli_settings_env, people[0])
    await paged(client, incident_id, primary)
    took = await run_cli_async("ack", incident_id, "--as", primary, env=cli_settings_env)
    assert took.code == 0, took.stderr

    answer = await reply(sms, primary, f"ACK {short(incident_id)}")
    name = current_playbook(None).directory.people[primary].name
    assert (
        f"<Message>No open page for you; {incident_id} has no open page, already "
        f"acknowledged by {name}.</Message>"
    ) in answer


async def test_late_ack_after_resolve_says_there_is_no_open_page(
    client: Client, sms: httpx.AsyncClient, cli_settings_env: dict[str, str], people: list[str]
) -> None:
    primary, _ = on_call()
    incident_id = await declare(cli_settings_env, people[0])
    await paged(client, incident_id, primary)
    resolved = await run_cli_async("resolve", incident_id, "--as", people[0], env=cli_settings_env)
    assert resolved.code == 0, resolved.stderr

    async def page_ended() -> None:
        status = await run_cli_async("status", incident_id, "--json", env=cli_settings_env)
        assert "notifying" not in json.loads(status.stdout)["pages"].values()

    await assert_eventually(page_ended, timeout=15)
    answer = await reply(sms, primary, f"ack {short(incident_id)}")
    assert f"<Message>No open page for you; {incident_id} has no open page.</Message>" in answer


async def test_late_ack_takes_the_newer_page_that_paged_you(
    client: Client, sms: httpx.AsyncClient, cli_settings_env: dict[str, str], people: list[str]
) -> None:
    env = cli_settings_env
    primary, _ = on_call()
    incident_id = await declare(env, people[0])
    await paged(client, incident_id, primary)
    assert (await run_cli_async("ack", incident_id, "--as", primary, env=env)).code == 0
    again = await run_cli_async(
        "page", incident_id, "--person", primary, "--as", people[0], "--json", env=env
    )
    assert again.code == 0, again.stderr
    newer = json.loads(again.stdout)["page_id"]
    await paged(client, incident_id, primary)

    answer = await reply(sms, primary, f"ACK {short(incident_id)}")
    assert f"Acknowledged {incident_id}" in answer

    async def newer_acked() -> None:
        status = await run_cli_async("status", incident_id, "--json", env=env)
        assert json.loads(status.stdout)["pages"][newer] == "acked"

    await assert_eventually(newer_acked, timeout=15)


async def test_cli_ack_of_something_that_is_not_an_incident_id(
    cli_settings_env: dict[str, str],
) -> None:
    result = await run_cli_async(
        "ack", 'x" OR WorkflowId STARTS_WITH "', "--as", "dana-reyes", env=cli_settings_env
    )
    assert result.code == 2  # a usage error: the CLI checks the id before reaching Temporal
    assert "is not an incident id" in result.stderr
