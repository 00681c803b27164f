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
