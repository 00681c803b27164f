"""The loader: files, line numbers, ids, durations, hashes and all errors at once."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from playbooks import PlaybookInvalid, PlaybookIssue, default_playbook_path, load_playbook
from playbooks.schema import Person
from playbooks.schema.types import format_duration, parse_duration

VALID = Path(__file__).parent / "valid"


def _copy_acme(tmp_path: Path) -> Path:
    return Path(shutil.copytree(default_playbook_path(), tmp_path / "acme"))


def test_single_file_and_split_playbooks_load_the_same() -> None:
    single = load_playbook(VALID / "tiny.yaml")
    split = load_playbook(VALID / "split")
    assert single.model_dump(exclude={"content_hash"}) == split.model_dump(exclude={"content_hash"})
    assert single.content_hash != split.content_hash


def test_issue_renders_as_file_line_path_reason() -> None:
    assert str(PlaybookIssue("directory.yaml", 12, "people.x.timezone", "bad")) == (
        "directory.yaml:12: people.x.timezone: bad"
    )
    assert str(PlaybookIssue("playbook.yaml", None, "", "gone")) == (
        "playbook.yaml: (top level): gone"
    )


def test_errors_in_several_files_are_all_reported_at_once(tmp_path: Path) -> None:
    root = _copy_acme(tmp_path)
    directory = root / "directory.yaml"
    directory.write_text(
        directory.read_text().replace("timezone: Europe/Berlin", "timezone: Europe/Atlantis")
    )
    main = root / "playbook.yaml"
    main.write_text(main.read_text().replace("team: search-team", "team: serch-team", 1))
    page = root / "templates" / "page.yaml"
    page.write_text(page.read_text().replace("{{ page.reason }}. Press", "{{ page.why }}. Press"))
    with pytest.raises(PlaybookInvalid) as caught:
        load_playbook(root)
    found = [(issue.file, issue.path) for issue in caught.value.issues]
    assert found == [
        ("playbook.yaml", "services.search.team"),
        ("directory.yaml", "people.hannah-berg.timezone"),
        ("templates/page.yaml", "voice"),
    ]
    lines = {issue.file: issue.line or 0 for issue in caught.value.issues}
    assert main.read_text().splitlines()[lines["playbook.yaml"] - 1].strip() == ("team: serch-team")
    assert "Europe/Atlantis" in directory.read_text().splitlines()[lines["directory.yaml"] - 1]
    assert str(caught.value).count("\n") == 2


def test_content_hash_changes_when_any_file_changes(tmp_path: Path) -> None:
    root = _copy_acme(tmp_path)
    before = load_playbook(root).content_hash
    page = root / "templates" / "page.yaml"
    page.write_text(page.read_text() + "\n# reviewed\n")
    assert load_playbook(root).content_hash != before


def test_missing_playbook_is_reported(tmp_path: Path) -> None:
    with pytest.raises(PlaybookInvalid, match="no playbook here"):
        load_playbook(tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("5m", timedelta(minutes=5)),
        ("2h", timedelta(hours=2)),
        ("1h30m", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
    ],
)
def test_durations_are_human_strings(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert format_duration(expected) == text


@pytest.mark.parametrize("text", ["5", "5 minutes", "m", "", "-5m"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("person_id", "reason"),
    [
        ("dana@acme.example", "looks like an email address"),
        ("+15550100", "looks like a phone number"),
        ("555 0100", "looks like a phone number"),
        ("Dana Reyes", "is not a slug"),
    ],
)
def test_person_ids_that_would_leak_pii_or_break_ids_are_refused(
    person_id: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        Person.model_validate(
            {
                "id": person_id,
                "name": "Dana",
                "timezone": "UTC",
                "channels": [{"kind": "email", "address": "dana@acme.example"}],
            }
        )


def test_clock_like_values_stay_text(tmp_path: Path) -> None:
    # YAML 1.1 would read an unquoted 09:00 as the number 540; the loader keeps the text.
    text = (
        (VALID / "tiny.yaml")
        .read_text()
        .replace('start: "2024-01-01T09:00"', "start: 2024-01-01T09:00")
    )
    (tmp_path / "playbook.yaml").write_text(text)
    playbook = load_playbook(tmp_path)
    assert playbook.rotations["web-oncall"].layers[0].start.hour == 9


def test_schema_import_stays_free_of_jinja2_and_yaml() -> None:
    # Workflows import the schema; Jinja2 must never load inside the workflow sandbox.
    probe = (
        "import sys, playbooks, playbooks.schema, playbooks.oncall; "
        "print(sorted(m for m in ('jinja2', 'yaml') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_circular_resume_order_is_reported(tmp_path: Path) -> None:
    root = _copy_acme(tmp_path)
    main = root / "playbook.yaml"
    main.write_text(
        main.read_text().replace(
            "    owner_role: social_officer\n",
            "    owner_role: social_officer\n    resume_after: [marketing]\n",
            1,
        )
    )
    with pytest.raises(PlaybookInvalid) as caught:
        load_playbook(root)
    [issue] = caught.value.issues
    assert issue.path == "business_functions.marketing.resume_after"
    assert "resume order is circular (marketing -> social -> marketing)" in issue.reason
