"""The CLI as a user runs it: a fresh process per command against the session's stack."""

from __future__ import annotations

import json

import pytest

from tests.helpers import CliResult, assert_eventually, run_cli_async

pytestmark = pytest.mark.usefixtures("worker")


async def _declare(env: dict[str, str], person: str, *extra: str) -> str:
    result = await run_cli_async(
        "declare",
        "--service",
        "checkout",
        "--severity",
        "SEV2",
        "--title",
        "Checkout errors",
        "--as",
        person,
        *extra,
        env=env,
    )
    assert result.code == 0, result.stderr
    return result.last_line


async def test_declare_status_and_list(cli_settings_env: dict[str, str], people: list[str]) -> None:
    incident_id = await _declare(cli_settings_env, people[0])
    assert incident_id.startswith("incident-checkout-")

    status = await run_cli_async("status", incident_id, "--json", env=cli_settings_env)
    assert status.code == 0, status.stderr
    body = json.loads(status.stdout)
    assert {k: body[k] for k in ("id", "severity", "phase", "service", "title")} == {
        "id": incident_id,
        "severity": "SEV2",
        "phase": "investigating",
        "service": "checkout",
        "title": "Checkout errors",
    }
    assert body["roles"] == {"incident_commander": people[0]}
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds[:3] == ["declared", "playbook", "page"] and set(kinds[3:]) <= {"page"}
    assert any("Level 1" in e["text"] and "paged" in e["text"] for e in body["timeline"])

    listed = await run_cli_async("list", "--json", env=cli_settings_env)
    assert incident_id in [row["id"] for row in json.loads(listed.stdout)["incidents"]]


async def test_declare_json_and_time_scale(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    result = await run_cli_async(
        "declare",
        "--service",
        "checkout",
        "--severity",
        "sev1",
        "--title",
        "Drill",
        "--as",
        people[2],
        "--time-scale",
        "0.01",
        "--json",
        env=cli_settings_env,
    )
    assert result.code == 0, result.stderr
    incident_id = json.loads(result.stdout)["id"]
    status = json.loads(
        (await run_cli_async("status", incident_id, "--json", env=cli_settings_env)).stdout
    )
    assert (status["severity"], status["time_scale"]) == ("SEV1", 0.01)


async def test_phase_skip_exits_1_naming_next_phase_and_leaves_timeline(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    incident_id = await _declare(cli_settings_env, people[0])
    before = await run_cli_async("timeline", incident_id, "--json", env=cli_settings_env)
    result = await run_cli_async(
        "phase", incident_id, "closed", "--as", people[0], env=cli_settings_env
    )
    assert result.code == 1
    assert "allowed next phase is identified" in result.stderr
    after = await run_cli_async("timeline", incident_id, "--json", env=cli_settings_env)

    def decisions(result: CliResult) -> list[dict[str, str]]:
        # Page steps arrive on their own schedule; decisions must be untouched.
        return [e for e in json.loads(result.stdout)["timeline"] if e["kind"] != "page"]

    assert decisions(after) == decisions(before)


async def test_decisions_through_the_cli(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    # Who declares by hand is the commander, who may take every decision here.
    incident_id = await _declare(cli_settings_env, people[1])
    env = cli_settings_env
    assert (
        await run_cli_async("phase", incident_id, "identified", "--as", people[1], env=env)
    ).code == 0
    raised = await run_cli_async(
        "severity",
        incident_id,
        "SEV1",
        "--reason",
        "spreading",
        "--as",
        people[1],
        "--json",
        env=env,
    )
    assert raised.code == 0, raised.stderr
    # A decision answers what it did, not the whole incident.
    assert json.loads(raised.stdout) == {
        "id": incident_id,
        "severity": "SEV1",
        "phase": "identified",
        "text": "Severity SEV2 → SEV1 (spreading)",
        "page_id": None,
    }
    # The last --as is remembered in the data dir, as `git config user.name` would be.
    resolved = await run_cli_async("resolve", incident_id, "--note", "rolled back", env=env)
    assert resolved.code == 0, resolved.stderr

    async def stopped_and_stood_down() -> None:
        shown = await run_cli_async("timeline", incident_id, "--json", env=env)
        timeline = json.loads(shown.stdout)["timeline"]
        decisions = [e for e in timeline if e["kind"] != "page"]
        assert [e["kind"] for e in decisions][-3:] == ["phase", "severity", "resolved"]
        assert decisions[-1]["actor"] == people[1]
        # Resolving stops the page that was still waiting for an ack, and whoever it woke
        # is told to stand down.
        after = timeline[[e["kind"] for e in timeline].index("resolved") + 1 :]
        assert any(e["kind"] == "page" and "stopped" in e["text"] for e in after)
        outbox = await run_cli_async("outbox", "--incident", incident_id, "--json", env=env)
        sent = [json.loads(line) for line in outbox.stdout.splitlines()]
        stand_downs = [e for e in sent if e["purpose"] == "stand-down"]
        assert stand_downs, sent
        for notice in stand_downs:
            assert "Stand down:" in notice["body"], notice
            assert "Checkout errors" in notice["body"] and "resolved" in notice["body"]

    await assert_eventually(stopped_and_stood_down, timeout=20)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("status", "incident-does-not-exist"), 1, "No open incident"),
        (("phase", "incident-does-not-exist", "identified", "--as", "x"), 1, "No open incident"),
        (
            ("declare", "--service", "nope", "--severity", "SEV2", "--title", "t", "--as", "x"),
            1,
            "Unknown service",
        ),
        (("phase", "incident-x", "sideways", "--as", "x"), 2, "sideways"),
        (("frobnicate",), 2, "No such command"),
    ],
)
async def test_usage_and_rejections_have_exit_codes(
    cli_settings_env: dict[str, str], args: tuple[str, ...], code: int, message: str
) -> None:
    result = await run_cli_async(*args, env=cli_settings_env)
    assert result.code == code, (result.stdout, result.stderr)
    assert message in result.stderr


async def test_unknown_actor_via_cli_is_rejected(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    incident_id = await _declare(cli_settings_env, people[0])
    result = await run_cli_async(
        "phase", incident_id, "identified", "--as", "mallory", env=cli_settings_env
    )
    assert result.code == 1
    assert "Unknown actor 'mallory'" in result.stderr
    declared = await run_cli_async(
        "declare",
        "--service",
        "checkout",
        "--severity",
        "SEV2",
        "--title",
        "t",
        "--as",
        "mallory",
        env=cli_settings_env,
    )
    assert declared.code == 1 and "Unknown actor" in declared.stderr


async def test_cli_exit_codes_are_stable_across_runs(cli_settings_env: dict[str, str]) -> None:
    # Short-lived processes that touch Temporal must never abort at interpreter exit.
    for _ in range(5):
        result = await run_cli_async("list", "--json", env=cli_settings_env)
        assert result.code == 0, result.stderr


async def test_serve_refuses_to_start_without_a_hook_secret(
    cli_settings_env: dict[str, str],
) -> None:
    result = await run_cli_async("serve", env=cli_settings_env)
    assert result.code == 2
    assert "MAYDAY_HOOK_SECRET" in result.stderr
