"""Acceptance: a SEV1 becomes a business incident through the CLI, as the responders would do it.

The Technical SLT is paged at the threshold, acks and recommends; only the Incident Commander
escalates; `mayday status` shows the business side in 80 columns; business roles ack, brief and
confirm with the incident's id; a security incident shows Temporal nothing but its codename.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client

from mayday.devstack import temporal_binary
from mayday.http.app import create_app
from mayday.settings import Settings
from tests.e2e.test_alert_hooks import alertmanager_payload
from tests.helpers import CliResult, assert_eventually, run_cli_async

pytestmark = pytest.mark.usefixtures("worker")

NARROW = {"COLUMNS": "80"}
SCALE = "0.01"
SECRET = "business-hook-secret"


def _outbox(settings: Settings, incident_id: str) -> list[dict[str, Any]]:
    path = settings.outbox_path
    lines = path.read_text().splitlines() if path.exists() else []
    sent = [json.loads(line) for line in lines if line.strip()]
    return [m for m in sent if m.get("incident_id") == incident_id]


def _one_line(result: CliResult) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


async def _declare(env: dict[str, str], commander: str, *extra: str) -> str:
    declared = await run_cli_async(
        "declare", "--service", "checkout", "--severity", "SEV1",
        "--title", "Checkout down for everyone", "--time-scale", SCALE, "--as", commander,
        *extra, env=env,
    )  # fmt: skip
    assert declared.code == 0, declared.stderr
    return declared.last_line


async def _status(env: dict[str, str], incident_id: str) -> dict[str, Any]:
    shown = await run_cli_async("status", incident_id, "--json", env=env)
    assert shown.code == 0, shown.stderr
    status: dict[str, Any] = json.loads(shown.stdout)
    return status


async def _paged(settings: Settings, incident_id: str, words: str, *, business: bool) -> str:
    """Who a page of the incident (or of its business incident) saying `words` reached."""

    async def sent() -> str:
        pages = [
            m
            for m in _outbox(settings, incident_id)
            if m["purpose"] == "page"
            and m["id"].startswith("business-") == business
            and words in (m.get("body") or "")
        ]
        assert pages, f"nobody was paged about {words!r}"
        return str(pages[0]["to"]["person"])

    return await assert_eventually(sent, timeout=20)


async def _business(env: dict[str, str], incident_id: str) -> dict[str, Any]:
    async def mobilised() -> dict[str, Any]:
        business = (await _status(env, incident_id))["business"]
        assert business is not None and business["modes"], business
        return dict(business)

    return await assert_eventually(mobilised, timeout=20, interval=0.5)


async def test_the_slt_recommends_only_the_commander_escalates_and_status_shows_the_business(
    cli_settings_env: dict[str, str], settings: Settings, people: list[str]
) -> None:
    env, commander = cli_settings_env, people[0]
    incident_id = await _declare(env, commander)
    slt = await _paged(settings, incident_id, "Technical SLT", business=False)
    acked = await run_cli_async("ack", incident_id, "--as", slt, env=env)
    assert acked.code == 0, acked.stderr

    async def slt_holds_the_role() -> None:
        assert (await _status(env, incident_id))["roles"].get("technical_slt") == slt

    await assert_eventually(slt_holds_the_role, timeout=10, interval=0.5)
    advised = await run_cli_async(
        "recommend", incident_id, "--reason", "checkout down at peak", "--as", slt, env=env
    )
    assert advised.code == 0, advised.stderr
    assert "recommends escalating" in advised.stdout and "checkout down at peak" in advised.stdout

    refused = await run_cli_async("escalate", incident_id, "--as", slt, env=env)
    assert refused.code == 1
    line = _one_line(refused)
    assert "authority.escalate" in line and f"Incident Commander is {commander}" in line
    assert (await _status(env, incident_id))["business_id"] is None

    escalated = await run_cli_async(
        "escalate", incident_id, "--reason", "customers cannot pay", "--as", commander, env=env
    )
    assert escalated.code == 0, escalated.stderr
    [said] = escalated.stdout.strip().splitlines()
    business_id = (await _status(env, incident_id))["business_id"]
    assert business_id and business_id.startswith("business-") and business_id in said

    business = await _business(env, incident_id)
    assert business["id"] == business_id and business["emergency"] == "active"
    assert business["roles"].get("technical_slt") == slt  # the SLT joined without a page

    shown = await run_cli_async("status", incident_id, env={**env, **NARROW})
    assert shown.code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, shown.stdout
    section = lines[next(i for i, line in enumerate(lines) if line.startswith("business ")) :]
    assert section[0].split() == ["business", business_id]
    labels = [line.split("  ")[0] for line in section]
    assert {"stage", "functions", "briefing missing", "postmortem"} <= set(labels), shown.stdout
    [stage] = [line for line in section if line.startswith("stage")]
    assert "emergency active" in stage
    [functions] = [line for line in section if line.startswith("functions")]
    assert "marketing" in functions and "social" in functions


async def test_business_roles_ack_brief_and_confirm_with_the_incident_id(
    cli_settings_env: dict[str, str], settings: Settings, people: list[str]
) -> None:
    env, commander = cli_settings_env, people[0]
    incident_id = await _declare(env, commander)
    escalated = await run_cli_async("escalate", incident_id, "--as", commander, env=env)
    assert escalated.code == 0, escalated.stderr
    await _business(env, incident_id)

    unknown = await run_cli_async(
        "confirm", incident_id, "pause-the-moon", "--as", commander, env=env
    )
    assert unknown.code == 1
    line = _one_line(unknown)
    assert "Unknown action 'pause-the-moon'" in line and "open actions:" in line

    lead = await _paged(settings, incident_id, "Business Lead", business=True)
    # On call for two business roles (Business Lead and ELT Approver), one ack takes one page:
    # the newest that paged them. Ack until the Business Lead's page is taken.
    for _ in range(3):
        acked = await run_cli_async("ack", incident_id, "--as", lead, env=env)
        assert acked.code == 0, acked.stderr
        assert f"acknowledged by {lead}" in acked.stdout
        roles = (await _status(env, incident_id))["business"]["roles"]
        if roles.get("business_lead") == lead:
            break
        await asyncio.sleep(0.3)

    briefed = await run_cli_async(
        "brief", incident_id, "--started", "09:12Z", "--trigger", "payment gateway deploy",
        "--as", commander, env=env,
    )  # fmt: skip
    assert briefed.code == 0, briefed.stderr
    assert "still missing" in briefed.stdout and "customers affected now" in briefed.stdout

    async def briefed_and_led() -> dict[str, Any]:
        business = (await _status(env, incident_id))["business"]
        assert business["roles"].get("business_lead") == lead, business["roles"]
        return dict(business)

    business = await assert_eventually(briefed_and_led, timeout=10, interval=0.5)
    assert "started" not in business["briefing_missing"]
    assert "affected_now" in business["briefing_missing"]
    shown = await run_cli_async("status", incident_id, env={**env, **NARROW})
    [missing] = [line for line in shown.stdout.splitlines() if line.startswith("briefing")]
    assert "affected-now" in missing and "trigger" not in missing

    early = await run_cli_async(
        "postmortem", incident_id, "--status", "draft", "--as", commander, env=env
    )
    assert early.code == 1
    assert "the postmortem starts once it is resolved" in _one_line(early)
    usage = await run_cli_async("postmortem", incident_id, "--as", commander, env=env)
    assert usage.code == 2 and "--status, --link or --owner" in usage.stderr


async def test_a_security_incident_shows_temporal_and_the_outbox_only_its_codename(
    cli_settings_env: dict[str, str], settings: Settings, people: list[str]
) -> None:
    env, commander = cli_settings_env, people[0]
    title = "Credential stuffing against customer logins"
    declared = await run_cli_async(
        "declare", "--service", "accounts", "--severity", "SEV1", "--title", title,
        "--security", "--time-scale", SCALE, "--as", commander, env=env,
    )  # fmt: skip
    assert declared.code == 0, declared.stderr
    incident_id = declared.last_line
    codename = (await _status(env, incident_id))["codename"]
    assert codename

    async def paged() -> list[dict[str, Any]]:
        sent = _outbox(settings, incident_id)
        assert sent, "nothing was sent"
        return sent

    for message in await assert_eventually(paged, timeout=20):
        text = json.dumps(message)
        assert "Credential" not in text and "stuffing" not in text, message

    temporal = [str(temporal_binary()), "--address", settings.temporal_address]
    described = subprocess.run(
        [*temporal, "workflow", "describe", "--workflow-id", incident_id],
        capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip
    listed = subprocess.run(
        [*temporal, "workflow", "list", "--query", f'WorkflowId="{incident_id}"', "-o", "json"],
        capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip
    for shown in (described.stdout, listed.stdout):
        # Memo and static summary, decoded: the codename line instead of the title.
        assert f"security incident {codename}" in shown and "stuffing" not in shown, shown
    assert f"SEV1 · accounts · security incident {codename}" in described.stdout
    wide = await run_cli_async("list", "--wide", env=env)
    [row] = [line for line in wide.stdout.splitlines() if incident_id in line]
    assert f"security incident {codename}" in row and "stuffing" not in row


def _temporal(settings: Settings, *args: str) -> str:
    done = subprocess.run(
        [str(temporal_binary()), "--address", settings.temporal_address, *args],
        capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip
    return done.stdout


async def test_a_security_alert_route_opens_a_codenamed_incident_that_escalates_itself(
    cli_settings_env: dict[str, str], settings: Settings, client: Client
) -> None:
    secured = settings.model_copy(update={"hook_secret": SecretStr(SECRET)})

    async def factory() -> Client:
        return client

    body = alertmanager_payload(
        f"Sec{uuid.uuid4().hex[:8]}", service="accounts", category="security"
    )
    transport = httpx.ASGITransport(app=create_app(secured, factory))
    async with httpx.AsyncClient(transport=transport, base_url="http://mayday.test") as http:
        answer = await http.post(
            "/hooks/alertmanager", json=body, headers={"Authorization": f"Bearer {SECRET}"}
        )
    assert answer.status_code == 202, answer.text
    [incident_id] = answer.json()["incidents"]
    status = await _status(cli_settings_env, incident_id)
    codename = status["codename"]
    assert codename and status["service"] == "accounts"

    described = _temporal(settings, "workflow", "describe", "--workflow-id", incident_id)
    assert f"SEV1 · accounts · security incident {codename}" in described
    assert f"security incident {codename}" in described and "Checkout 5xx" not in described

    async def escalated_by_its_route() -> dict[str, Any]:
        business = (await _status(cli_settings_env, incident_id))["business"]
        assert business is not None and business["security"], business
        return dict(business)

    business = await assert_eventually(escalated_by_its_route, timeout=20, interval=0.5)
    assert business["codename"] == codename
