"""MAYDAY_PROVIDER_TIMEOUT: how long one HTTP call to a provider may take, finite and positive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import ValidationError

from mayday.cli import common
from mayday.settings import Settings
from worker import registry


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1"])
def test_a_timeout_that_is_not_finite_and_positive_is_refused(
    value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAYDAY_PROVIDER_TIMEOUT", value)
    with pytest.raises(ValidationError):
        Settings()
    with pytest.raises(typer.Exit) as exited:
        common.settings()
    assert exited.value.exit_code == common.EXIT_USAGE
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "provider_timeout" in error, error


def test_a_fractional_timeout_is_taken_and_reaches_the_providers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Settings().provider_timeout == 10.0
    monkeypatch.setenv("MAYDAY_PROVIDER_TIMEOUT", "2.5")
    settings = Settings(data_dir=tmp_path)
    assert settings.provider_timeout == 2.5

    given: dict[str, Any] = {}

    def build(**kwargs: Any) -> object:
        given.update(kwargs)
        return object()

    monkeypatch.setattr(registry, "build_providers", build)
    registry.providers_for(settings)
    assert given["timeout"] == 2.5
