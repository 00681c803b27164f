"""Shared fixtures for the playbook tests: the bundled playbook, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from playbooks import Playbook, load_playbook

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def acme() -> Playbook:
    """The bundled Acme playbook."""
    return load_playbook()


@pytest.fixture(scope="session")
def tiny() -> Playbook:
    """The smallest valid playbook (tests/unit/playbooks/valid/tiny.yaml)."""
    return load_playbook(HERE / "valid" / "tiny.yaml")
