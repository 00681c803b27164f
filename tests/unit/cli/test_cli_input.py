"""Every value a user types is checked before anything reaches Temporal: a one-line usage error.

In-process through typer's runner (no server needed: a refused value never connects). The
Temporal address points at a closed port, so a value wrongly let through fails the exit code.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mayday.cli import app

CLOSED = {"MAYDAY_TEMPORAL_ADDRESS": "127.0.0.1:9", "MAYDAY_USER": "aisha-bello"}
DECLARE = ["declare", "--service", "checkout", "--severity", "SEV2", "--title"]


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=CLOSED)
    # In-process, typer draws usage errors in a box; the words are what matter here.
    return result.exit_code, " ".join(result.stderr.replace("│", " ").split())


@pytest.mark.parametrize("scale", ["inf", "-inf", "nan", "0", "-1", "1e400", "1e-9", "5000", "x"])
def test_declare_refuses_a_time_scale_that_is_not_a_usable_number(scale: str) -> None:
    code, stderr = invoke(*DECLARE, "Checkout down", "--time-scale", scale)
    assert code == 2, stderr
    assert "--time-scale" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--temporal-port", "99999"),
        ("--temporal-port", "0"),
        ("--ui-port", "-1"),
        ("--http-port", "abc"),
        ("--http-port", "65536"),
    ],
)
def test_dev_refuses_a_bad_port(option: str, value: str) -> None:
    code, stderr = invoke("dev", option, value)
    assert code == 2, stderr
    assert option in stderr and "Traceback" not in stderr


def test_serve_refuses_a_bad_port() -> None:
    code, stderr = invoke("serve", "--insecure", "--port", "70000")
    assert code == 2 and "--port" in stderr


BAD_IDS = ["", " ", "incident-", "INCIDENT-X", "../../etc/passwd", "incident-a b", "x" * 500,
           "incident-\x1b[31mred", "incident-ok\n"]  # fmt: skip
COMMANDS = [
    ["status"],
    ["timeline"],
    ["resolve"],
    ["ack"],
    ["severity", "SEV1"],
    ["phase", "identified"],
    ["reopen", "--reason", "back"],
    ["page", "--role", "incident_commander"],
    ["recommend", "--reason", "customers cannot pay"],
    ["escalate"],
    ["brief", "--started", "09:12Z"],
    ["confirm", "pause-paid-ads"],
    ["resolution-sent"],
    ["postmortem", "--status", "draft"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("incident_id", BAD_IDS, ids=range(len(BAD_IDS)))
def test_every_incident_command_refuses_a_malformed_id(
    command: list[str], incident_id: str
) -> None:
    code, stderr = invoke(command[0], incident_id, *command[1:])
    assert code == 2, stderr
    assert "is not an incident id" in stderr
    assert "\x1b" not in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("title", ["", "   ", "\x1b[2J\x1b[H", "\u200b\u3164", "\x1b]0;x\x07\n"])
def test_declare_refuses_a_title_with_nothing_visible(title: str) -> None:
    code, stderr = invoke(*DECLARE, title)
    assert code == 2, stderr
    assert "--title" in stderr and "visible" in stderr


def test_reopen_refuses_a_reason_with_nothing_visible() -> None:
    code, stderr = invoke("reopen", "incident-checkout-1", "--reason", "\x1b[0m \t")
    assert code == 2 and "--reason" in stderr


@pytest.mark.parametrize("who", ["", "ai\x1bsha", "a" * 500, "aisha\nbello"])
def test_an_actor_that_is_no_directory_id_is_refused(who: str) -> None:
    code, stderr = invoke("resolve", "incident-checkout-1", "--as", who)
    assert code == 2, stderr
    assert "--as" in stderr and "\x1b" not in stderr


@pytest.mark.parametrize("service", ["check\x1b[2Jout", "x" * 1_000])
def test_declare_refuses_a_service_no_playbook_could_name(service: str) -> None:
    code, stderr = invoke("declare", "--service", service, "--severity", "SEV2", "--title", "t")
    assert code == 2 and "--service" in stderr


@pytest.mark.parametrize(
    "args",
    [
        ["handover", "incident-checkout-1"],
        ["handover", "incident-checkout-1", "dana-reyes", "--to", "dana-reyes"],
    ],
    ids=["nobody", "both"],
)
def test_handover_names_who_takes_the_role_exactly_once(args: list[str]) -> None:
    code, stderr = invoke(*args)
    assert code == 2 and "PERSON or --to PERSON" in stderr


def test_brief_needs_an_answer_and_names_the_questions() -> None:
    code, stderr = invoke("brief", "incident-checkout-1")
    assert code == 2 and "--affected-now" in stderr and "--next-update" in stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "--status, --link or --owner"),
        (["--status", "done"], "draft, in-review, reviewed, closed"),
        (["--status", "none"], "--status"),
    ],
)
def test_postmortem_refuses_a_change_that_says_nothing_or_no_status(
    args: list[str], says: str
) -> None:
    code, stderr = invoke("postmortem", "incident-checkout-1", *args)
    assert code == 2 and says in stderr, stderr


def test_recommend_needs_a_reason() -> None:
    code, stderr = invoke("recommend", "incident-checkout-1", "--reason", " \x1b[0m ")
    assert code == 2 and "--reason" in stderr
