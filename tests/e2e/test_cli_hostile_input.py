"""Hostile input through the CLI against the session's stack: nothing raw reaches the terminal,
nothing crashes, and a long timeline is read a page at a time."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from temporalio.client import Client

from mayday import incident_timeline
from tests.helpers import assert_eventually, run_cli_async
from workflows.alerts import Alert, AlertBatch, AlertDelivery, AlertStatus
from workflows.bounds import TITLE_MAX, TRUNCATED
from workflows.contracts import IncidentStatus, TimelinePage, TimelineRequest
from workflows.incident import IncidentWorkflow

pytestmark = pytest.mark.usefixtures("worker")

HOSTILE_TITLE = (
    "\x1b[1;31mCheckout down\x1b[0m \x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\link"
    "\x1b]8;;\x1b\\ \u202eevil\u202c\r\n\x9b2J" + " and worse" * 300
)


async def _declare(env: dict[str, str], person: str, title: str) -> str:
    result = await run_cli_async(
        "declare", "--service", "checkout", "--severity", "SEV3", "--title", title,
        "--as", person, "--time-scale", "0.01", env=env,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    return result.last_line


async def test_a_hostile_title_is_shown_cut_and_without_escapes_everywhere(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    incident_id = await _declare(cli_settings_env, people[0], HOSTILE_TITLE)
    shown = await run_cli_async("status", incident_id, "--json", env=cli_settings_env)
    title = json.loads(shown.stdout)["title"]
    assert title.startswith("Checkout down link evil and worse") and title.endswith(TRUNCATED)
    assert len(title) <= TITLE_MAX
    for command in (
        ("status", incident_id),
        ("status", incident_id, "--wide"),
        ("timeline", incident_id),
        ("list", "--wide"),
        ("outbox", "--incident", incident_id, "--wide"),
    ):
        result = await run_cli_async(*command, env=cli_settings_env)
        assert result.code == 0, (command, result.stderr)
        printed = result.stdout + result.stderr
        assert not [c for c in "\x1b\x9b\x07\r\u202e" if c in printed], command
        assert "Traceback" not in printed


async def test_timeline_reads_every_held_entry_page_by_page(
    cli_settings_env: dict[str, str], people: list[str], client: Client
) -> None:
    incident_id = await _declare(cli_settings_env, people[0], "Many alerts")
    handle = client.get_workflow_handle(incident_id)
    now = datetime.now(UTC)
    deliveries = [
        AlertDelivery(
            delivery_id=f"many-{n}",
            source="generic",
            received_at=now,
            alerts=[
                Alert(
                    source="generic",
                    fingerprint=f"many-{n}-{k}",
                    status=AlertStatus.FIRING,
                    title=f"\x1b[31mAlert {n}.{k}\x1b[0m",
                )
                for k in range(6)
            ],
        )
        for n in range(100)
    ]
    await handle.signal(IncidentWorkflow.alert_batch, AlertBatch(deliveries=deliveries))

    async def over_one_page() -> None:
        status: IncidentStatus = await handle.query(IncidentWorkflow.status)
        assert status.timeline_total > incident_timeline.PAGE_SIZE

    await assert_eventually(over_one_page, timeout=30)
    held: TimelinePage = await handle.query(
        IncidentWorkflow.timeline_page, TimelineRequest(offset=0, limit=1)
    )

    shown = await run_cli_async("timeline", incident_id, "--json", env=cli_settings_env)
    assert shown.code == 0, shown.stderr
    entries = json.loads(shown.stdout)["timeline"]
    assert len(entries) >= held.total > incident_timeline.PAGE_SIZE
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    texts = [e["text"] for e in entries]
    assert texts.count("Alert firing: Alert 0.0") == 1 and "Alert firing: Alert 82.0" in texts

    table = await run_cli_async("timeline", incident_id, env=cli_settings_env)
    assert table.code == 0, table.stderr
    assert len(table.stdout.splitlines()) >= held.total + 1 and "\x1b" not in table.stdout

    status = await run_cli_async("status", incident_id, env=cli_settings_env)
    assert status.code == 0, status.stderr
    assert "showing the newest" in status.stdout and "600 firing" in status.stdout


async def test_small_pages_assemble_the_same_timeline(
    cli_settings_env: dict[str, str],
    people: list[str],
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    incident_id = await _declare(cli_settings_env, people[0], "Small pages")
    for decision in (
        ("severity", incident_id, "SEV2", "--reason", "step 0"),
        ("severity", incident_id, "SEV1", "--reason", "step 1"),
        ("phase", incident_id, "identified", "--note", "step 2"),
    ):
        done = await run_cli_async(*decision, "--as", people[0], env=cli_settings_env)
        assert done.code == 0, done.stderr
    whole = await incident_timeline.timeline(client, incident_id)
    monkeypatch.setattr(incident_timeline, "PAGE_SIZE", 2)
    paged = await incident_timeline.timeline(client, incident_id)
    decisions = [e for e in paged.entries if e.kind != "page"]
    assert decisions == [e for e in whole.entries if e.kind != "page"]
    assert len(decisions) >= 5 and "step 2" in decisions[-1].text


async def test_a_bad_number_ends_in_one_line_not_a_traceback(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    for args in (
        ("declare", "--service", "checkout", "--severity", "SEV3", "--title", "t",
         "--as", people[0], "--time-scale", "inf"),
        ("dev", "--temporal-port", "99999"),
        ("dev", "--http-port", "abc"),
        ("status", ""),
    ):  # fmt: skip
        result = await run_cli_async(*args, env=cli_settings_env)
        assert result.code == 2, (args, result.stderr)
        errors = [line for line in result.stderr.splitlines() if "rror" in line]
        assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    unknown = await run_cli_async("status", "incident-no-such-thing", env=cli_settings_env)
    assert unknown.code == 1 and len(unknown.stderr.strip().splitlines()) == 1
