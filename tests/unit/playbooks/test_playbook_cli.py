"""`mayday playbook validate|render|oncall` as a user runs them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from mayday.cli.playbook import app
from playbooks import Playbook

runner = CliRunner()


def test_validate_bundled_playbook_exits_0() -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "playbook 'acme' is valid" in result.output


def test_validate_json_summarises_the_playbook(acme: Playbook) -> None:
    result = runner.invoke(app, ["validate", "--json"])
    payload = json.loads(result.output)
    assert payload["valid"] is True
    assert payload["content_hash"] == acme.content_hash
    assert payload["people"] == len(acme.directory.people)


def test_validate_json_lists_issues(tmp_path: Path) -> None:
    broken = Path(__file__).parent / "broken" / "misspelled_field.yaml"
    result = runner.invoke(app, ["validate", str(broken), "--json"])
    assert result.exit_code == 1
    issues = json.loads(result.output)["issues"]
    assert [issue["path"] for issue in issues] == [
        "services.shop.escalation_polcy",
        "services.shop.escalation_policy",
    ]
    assert issues[0]["line"] == 17


def test_oncall_prints_every_role_with_holder_and_backup(acme: Playbook) -> None:
    result = runner.invoke(app, ["oncall", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["roles"]
    assert {row["role"] for row in rows} == set(acme.roles)
    assert all(row["primary"] and row["backup"] for row in rows)
    table = runner.invoke(app, ["oncall"])
    assert table.exit_code == 0
    assert "Incident Commander" in table.output and "Support Lead" in table.output


def _ic_at(at: str | None = None) -> dict[str, str]:
    args = ["oncall", "incident_commander", "--json", *(["--at", at] if at else [])]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload: dict[str, str] = json.loads(result.output)
    return payload


def test_oncall_at_a_past_handoff_prints_the_other_holder() -> None:
    now = _ic_at()
    # The IC rotation hands off weekly, so the current shift began a week before `until`.
    handoff = datetime.fromisoformat(now["until"]) - timedelta(days=7)
    assert _ic_at(handoff.isoformat())["primary"] == now["primary"]
    before = _ic_at((handoff - timedelta(minutes=1)).isoformat())
    assert before["primary"] != now["primary"]
    assert before["until"] == handoff.isoformat()


def test_oncall_at_a_known_handoff_shows_both_sides() -> None:
    before = runner.invoke(app, ["oncall", "deputy", "--at", "2026-03-09T12:59Z", "--json"])
    after = runner.invoke(app, ["oncall", "deputy", "--at", "2026-03-09T13:00Z", "--json"])
    assert before.exit_code == after.exit_code == 0
    assert json.loads(before.output)["primary"] != json.loads(after.output)["primary"]
    assert json.loads(before.output)["until"] == "2026-03-09T13:00:00+00:00"


def test_oncall_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["oncall", "nobody"]).exit_code == 2
    assert runner.invoke(app, ["oncall", "--at", "yesterday"]).exit_code == 2


def test_render_external_initial_for_all_customers_prints_a_complete_message() -> None:
    result = runner.invoke(app, ["render", "external_initial", "--audience", "all-customers"])
    assert result.exit_code == 0, result.output
    assert "Subject: Investigating issues with Checkout" in result.output
    assert "We are investigating reports of issues with Checkout" in result.output
    assert "SMS: 1 segment (GSM-7," in result.output


def test_render_by_purpose_with_an_incident_file(tmp_path: Path) -> None:
    facts = tmp_path / "incident.yaml"
    facts.write_text("service_name: Search\nregions: [Europe]\n")
    result = runner.invoke(
        app,
        [
            "render",
            "scoping",
            "--audience",
            "all-customers",
            "--incident",
            str(facts),
            "--channel",
            "sms",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    [message] = json.loads(result.output)["messages"]
    assert message["template"] == "external_scoping"
    assert "Search issues in Europe" in message["body"]
    assert message["segments"] >= 1


def test_render_voice_page() -> None:
    result = runner.invoke(
        app,
        [
            "render",
            "page",
            "--audience",
            "internal",
            "--channel",
            "voice",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Press 1 to acknowledge." in result.output


def test_render_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["render", "initial", "--audience", "nobody"]).exit_code == 2
    assert runner.invoke(app, ["render", "nothing", "--audience", "internal"]).exit_code == 2
    assert (
        runner.invoke(
            app,
            [
                "render",
                "external_initial",
                "--audience",
                "all-customers",
                "--channel",
                "voice",
            ],
        ).exit_code
        == 2
    )
