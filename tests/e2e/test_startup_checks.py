"""Processes refuse, in one line, settings they would start with but never work under."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import run_cli_async

NOWHERE = {"MAYDAY_TEMPORAL_ADDRESS": "127.0.0.1:9"}


@pytest.mark.parametrize(
    ("command", "env", "code", "says"),
    [
        (("worker",), {"MAYDAY_SMS_PROVIDER": "twilio"}, 1, "MAYDAY_PUBLIC_URL is unset"),
        (
            ("worker",),
            {"MAYDAY_VOICE_PROVIDER": "twilio", "MAYDAY_PUBLIC_URL": "ftp://hooks.acme.example"},
            1,
            "MAYDAY_PUBLIC_URL is not an http(s) URL",
        ),
        (
            ("serve",),
            {"MAYDAY_HOOK_SECRET": "s3cret", "TWILIO_AUTH_TOKEN": "tok"},
            1,
            "Twilio is configured but MAYDAY_PUBLIC_URL is unset",
        ),
        (("serve",), {"MAYDAY_HOOK_SECRET": ""}, 2, "without a secret"),
        (("serve",), {"MAYDAY_HOOK_SECRET": "   "}, 2, "without a secret"),
    ],
)
async def test_bad_settings_refuse_to_start_in_one_line(
    command: tuple[str, ...], env: dict[str, str], code: int, says: str
) -> None:
    result = await asyncio.wait_for(run_cli_async(*command, env={**NOWHERE, **env}, timeout=30), 40)
    assert result.code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
