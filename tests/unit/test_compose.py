"""docker-compose.yml agrees with the code (no Docker engine runs here, so check the text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main
import yaml

from mayday.cli import app
from mayday.settings import Settings
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

REPO = Path(__file__).resolve().parents[2]
VENDOR_ENV = {"SENDGRID_API_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"}
NOT_FOR_SERVICES = {
    "temporal_port": "the embedded dev server's port (`mayday dev`)",
    "ui_port": "the embedded dev server's UI port (`mayday dev`)",
    "user": "the CLI's acting person",
}
NOT_FOR_WORKER = {"hook_secret": "only the HTTP app authenticates hooks"}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return loaded


def _mayday_services() -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in _compose()["services"].items() if svc.get("build")}


def test_mayday_services_run_commands_that_exist() -> None:
    commands = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    services = _mayday_services()
    assert set(services) == {"mayday-worker", "mayday-http"}
    for svc in services.values():
        assert svc["command"][0] in commands


def test_mayday_environment_names_are_settings_fields() -> None:
    fields = {f"MAYDAY_{name.upper()}" for name in Settings.model_fields}
    for svc in _mayday_services().values():
        for name in svc["environment"]:
            assert name in fields or name in VENDOR_ENV, f"{name} is not a Settings field"


def _env_names(name: str) -> set[str]:
    """Every variable that sets the field: MAYDAY_<NAME> and the vendor's usual names."""
    alias = Settings.model_fields[name].validation_alias
    choices = getattr(alias, "choices", [])
    return {f"MAYDAY_{name.upper()}", *(str(choice) for choice in choices)}


def test_mayday_services_pass_every_setting_the_code_reads() -> None:
    services = _mayday_services()
    for service, exempt in (("mayday-worker", NOT_FOR_WORKER), ("mayday-http", {})):
        passed = set(services[service]["environment"])
        missing = [
            name
            for name in Settings.model_fields
            if name not in NOT_FOR_SERVICES and name not in exempt and not _env_names(name) & passed
        ]
        assert missing == [], f"{service} does not pass {missing}"


def test_compose_empty_values_mean_the_code_defaults() -> None:
    # `${X:-}` hands the container an empty string, which must not become a value.
    assert Settings.model_config.get("env_ignore_empty") is True


def test_compose_registers_the_search_attributes_the_code_uses() -> None:
    setup = _compose()["services"]["temporal-setup"]
    registered = setup["environment"]["MAYDAY_SEARCH_ATTRIBUTES"].split()
    assert registered == [key.name for key in SEARCH_ATTRIBUTES]
    assert "search-attribute create" in setup["command"][0]


def test_dockerfile_copies_every_package_the_wheel_ships() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    pyproject = (REPO / "pyproject.toml").read_text()
    for package in ("mayday", "playbooks", "workflows", "activities", "worker"):
        assert f'"{package}"' in pyproject
        assert f"COPY {package} ./{package}" in dockerfile
