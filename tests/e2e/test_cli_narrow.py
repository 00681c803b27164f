"""At 3 a.m. in an 80-column terminal: list, status and outbox keep ids whole and cut the title."""

from __future__ import annotations

import json

import pytest

from tests.helpers import CliResult, assert_eventually, run_cli_async

pytestmark = pytest.mark.usefixtures("worker")

NARROW = {"COLUMNS": "80"}
TITLE = (
    "Card payments failing at checkout for customers in Europe and North America "
    "since the gateway change"
)


def fits(result: CliResult) -> list[str]:
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines and max(len(line) for line in lines) <= 80, result.stdout
    return lines


async def declare_long(env: dict[str, str], person: str) -> str:
    result = await run_cli_async(
        "declare", "--service", "checkout", "--severity", "SEV2", "--title", TITLE,
        "--as", person, env=env,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    return result.last_line


async def test_list_at_80_columns_shows_id_severity_phase_and_a_cut_title(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    incident_id = await declare_long(cli_settings_env, people[0])
    env = {**cli_settings_env, **NARROW}

    lines = fits(await run_cli_async("list", env=env))
    assert lines[0].split() == ["id", "severity", "phase", "title"]
    [row] = [line for line in lines if incident_id in line.split()]
    assert row.split()[:3] == [incident_id, "SEV2", "investigating"]
    # The title column shrinks to what the longest listed id leaves; it is cut, never dropped.
    shown = row.split("investigating", 1)[1].strip()
    assert shown.endswith("…") and len(shown) > 3 and TITLE.startswith(shown[:-1].rstrip())

    wide = await run_cli_async("list", "--wide", env=env)
    assert wide.code == 0, wide.stderr
    [full] = [line for line in wide.stdout.splitlines() if incident_id in line.split()]
    assert TITLE in full and "checkout" in full.split()


async def test_status_at_80_columns_keeps_the_id_and_cuts_long_values(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    incident_id = await declare_long(cli_settings_env, people[0])
    env = {**cli_settings_env, **NARROW}

    lines = fits(await run_cli_async("status", incident_id, env=env))
    assert lines[0].split() == ["id", incident_id]
    [title] = [line for line in lines if line.startswith("title")]
    assert "Card payments" in title and title.rstrip().endswith("…")
    assert any(line.split()[:2] == ["phase", "investigating"] for line in lines)

    wide = await run_cli_async("status", incident_id, "--wide", env=env)
    assert wide.code == 0, wide.stderr
    assert "since the gateway change" in wide.stdout


async def test_outbox_at_80_columns_keeps_the_incident_id_whole(
    cli_settings_env: dict[str, str], people: list[str]
) -> None:
    incident_id = await declare_long(cli_settings_env, people[0])
    env = {**cli_settings_env, **NARROW}

    async def page_sent() -> list[str]:
        result = await run_cli_async("outbox", "--incident", incident_id, "--json", env=env)
        entries = [json.loads(line) for line in result.stdout.splitlines()]
        assert any(e["purpose"] == "page" for e in entries)
        return [e["to"]["person"] for e in entries]

    [paged, *_] = await assert_eventually(page_sent, timeout=20)

    lines = fits(await run_cli_async("outbox", "--incident", incident_id, env=env))
    assert lines[0].split() == ["at", "to", "incident", "text"]
    [row, *_] = [line for line in lines[1:] if incident_id in line.split()]
    assert f"{paged}/sms" in row.split() and "PAGE SEV2" in row

    wide = await run_cli_async("outbox", "--incident", incident_id, "--wide", env=env)
    assert wide.code == 0, wide.stderr
    assert wide.stdout.splitlines()[0].split() == [
        "at", "channel", "to", "purpose", "incident", "id", "text",
    ]  # fmt: skip
    assert "Card payments failing at checkout for customers in Europe" in wide.stdout
