"""Acceptance: `mayday resolve ID --as <marketing officer>` exits 1 naming the rule; the IC can."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli_async

pytestmark = pytest.mark.usefixtures("worker")

MARKETING_OFFICER = "chloe-dubois"


async def test_a_marketing_officer_cannot_resolve_and_the_commander_can(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    env, commander = cli_settings_env, people[0]
    declared = await run_cli_async(
        "declare",
        "--service",
        "checkout",
        "--severity",
        "SEV2",
        "--title",
        "Checkout errors",
        "--as",
        commander,
        env=env,
    )
    assert declared.code == 0, declared.stderr
    incident_id = declared.last_line

    refused = await run_cli_async("resolve", incident_id, "--as", MARKETING_OFFICER, env=env)
    assert refused.code == 1
    [line] = refused.stderr.strip().splitlines()
    assert "authority.resolve" in line and f"Incident Commander is {commander}" in line
    assert "Traceback" not in refused.stderr

    shown = json.loads((await run_cli_async("status", incident_id, "--json", env=env)).stdout)
    assert shown["phase"] == "investigating"
    assert not [e for e in shown["timeline"] if e["kind"] == "resolved"]

    resolved = await run_cli_async("resolve", incident_id, "--as", commander, env=env)
    assert resolved.code == 0, resolved.stderr
    shown = json.loads((await run_cli_async("status", incident_id, "--json", env=env)).stdout)
    assert shown["phase"] == "resolved"


async def test_handover_moves_command_and_refuses_in_one_line(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    env, first, second = cli_settings_env, people[0], people[2]
    declared = await run_cli_async(
        "declare",
        "--service",
        "checkout",
        "--severity",
        "SEV2",
        "--title",
        "Checkout errors",
        "--as",
        first,
        env=env,
    )
    incident_id = declared.last_line

    stranger = await run_cli_async(
        "handover", incident_id, second, "--as", MARKETING_OFFICER, env=env
    )
    assert stranger.code == 1 and "authority.handover" in stranger.stderr
    unknown = await run_cli_async(
        "handover", incident_id, second, "--role", "wizard", "--as", first, env=env
    )
    assert unknown.code == 1
    assert len(unknown.stderr.strip().splitlines()) == 1 and "Unknown role" in unknown.stderr

    handed = await run_cli_async(
        "handover", incident_id, second, "--note", "shift change", "--as", first, env=env
    )
    assert handed.code == 0, handed.stderr
    assert handed.stdout.strip() == (
        f"{incident_id}: Incident Commander handed from {first} to {second}: shift change."
    )
    shown = json.loads((await run_cli_async("status", incident_id, "--json", env=env)).stdout)
    assert shown["roles"]["incident_commander"] == second
    refused = await run_cli_async("resolve", incident_id, "--as", first, env=env)
    assert refused.code == 1 and f"Incident Commander is {second}" in refused.stderr
