"""`mayday page`: page a role, a person or a policy on demand, from the command line."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import assert_eventually, run_cli_async

pytestmark = pytest.mark.usefixtures("worker")

PERSON = "david-cohen"  # texted first: the page shows up in the outbox as an SMS


async def _declare(env: dict[str, str], person: str) -> str:
    result = await run_cli_async(
        "declare", "--service", "checkout", "--severity", "SEV2", "--title", "Checkout errors",
        "--as", person, env=env,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    return result.last_line


async def test_page_a_person_prints_the_page_and_texts_them(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    env = {**cli_settings_env, "COLUMNS": "80"}  # the confirmation stays on one line
    incident_id = await _declare(env, people[0])
    result = await run_cli_async(
        "page", incident_id, "--person", PERSON, "--reason", "payments look odd",
        "--as", people[0], env=env,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    match = re.fullmatch(
        rf"{re.escape(incident_id)}: paging {PERSON} \(({re.escape(incident_id)}-page-\S+)\)",
        result.last_line,
    )
    assert match is not None, result.stdout
    page_id = match.group(1)

    async def texted() -> None:
        shown = await run_cli_async("outbox", "--incident", incident_id, "--json", env=env)
        sent = [json.loads(line) for line in shown.stdout.splitlines()]
        assert any(
            e["purpose"] == "page" and e["to"]["person"] == PERSON and e["id"].startswith(page_id)
            for e in sent
        )

    await assert_eventually(texted, timeout=20)
    status = json.loads((await run_cli_async("status", incident_id, "--json", env=env)).stdout)
    assert page_id in status["pages"]


async def test_page_a_role_with_json_prints_the_decision(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    env = cli_settings_env
    incident_id = await _declare(env, people[0])
    result = await run_cli_async(
        "page", incident_id, "--role", "incident_commander", "--as", people[0], "--json", env=env
    )
    assert result.code == 0, result.stderr
    decided = json.loads(result.stdout)
    assert set(decided) == {"id", "severity", "phase", "text", "page_id"}
    assert (decided["id"], decided["severity"], decided["phase"]) == (
        incident_id,
        "SEV2",
        "investigating",
    )
    assert decided["page_id"].startswith(f"{incident_id}-page-")


@pytest.mark.parametrize(
    "targets",
    [(), ("--role", "incident_commander", "--person", PERSON), ("--policy", "")],
    ids=["none", "two", "empty"],
)
async def test_page_needs_exactly_one_target(
    cli_settings_env: dict[str, str], targets: tuple[str, ...]
) -> None:
    result = await run_cli_async(
        "page", "incident-checkout-0000", *targets, "--as", "dana-reyes", env=cli_settings_env
    )
    assert result.code == 2, (result.stdout, result.stderr)
    assert result.stderr.strip().splitlines() == [
        "error: Name exactly one of --role, --person or --policy to page."
    ]


async def test_paging_someone_unknown_is_refused(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    incident_id = await _declare(cli_settings_env, people[0])
    result = await run_cli_async(
        "page", incident_id, "--person", "mallory", "--as", people[0], env=cli_settings_env
    )
    assert result.code == 1
    assert "Unknown person 'mallory'" in result.stderr
