"""Every broken playbook fails with the expected file, line, path and reason, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mayday.cli.playbook import app
from playbooks import PlaybookInvalid, PlaybookIssue, load_playbook

BROKEN = Path(__file__).parent / "broken"
MARKER = "# expect"

# case -> the issues it must produce, in report order: (file, path, part of the reason)
EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "alert_route_bad_regex": [
        (
            "alert_route_bad_regex.yaml",
            "alert_routes[0].match_re",
            "'(Checkout' is not a regular expression",
        ),
    ],
    "alert_route_unknown_service": [
        ("alert_route_unknown_service.yaml", "alert_routes[0].service", "unknown service 'cart'"),
    ],
    "approval_chain_slower_than_cadence": [
        (
            "approval_chain_slower_than_cadence.yaml",
            "audiences.everyone.cadence.update_every",
            "impossible cadence: the approval chain takes up to 32m",
        ),
    ],
    "approval_role_without_rotation": [
        (
            "approval_role_without_rotation.yaml",
            "roles.legal_officer.rotation",
            "unknown rotation 'legal-oncall'",
        ),
        (
            "approval_role_without_rotation.yaml",
            "audiences.everyone.approval_chain[1].roles[0]",
            "whose rotation 'legal-oncall' does not exist",
        ),
    ],
    "authority_empty_rule": [
        ("authority_empty_rule.yaml", "authority.close", "an empty rule lets nobody decide"),
    ],
    "authority_unknown_decision": [
        (
            "authority_unknown_decision.yaml",
            "authority.resolv",
            "unknown decision 'resolv'; did you mean 'resolve'?",
        ),
    ],
    "authority_unknown_role": [
        (
            "authority_unknown_role.yaml",
            "authority.resolve[0]",
            "unknown role 'incident_comander'; did you mean 'incident_commander'?",
        ),
    ],
    "audience_without_channel": [
        ("audience_without_channel.yaml", "audiences.everyone.channels", "audience has no channel"),
    ],
    "bad_phone_number": [
        (
            "bad_phone_number.yaml",
            "directory.people.ann-lee.channels[0]",
            "sms channel needs an E.164 number",
        ),
    ],
    "bad_time_zone": [
        (
            "bad_time_zone.yaml",
            "directory.people.ann-lee.timezone",
            "'Mars/Olympus_Mons' is not an IANA time zone",
        ),
    ],
    "custom_handoff_without_interval": [
        (
            "custom_handoff_without_interval.yaml",
            "rotations.web-oncall.layers[0]",
            "a custom handoff needs 'every'",
        ),
    ],
    "duplicate_person_id": [
        (
            "duplicate_person_id.yaml",
            "directory.people.ann-lee",
            "duplicate key 'ann-lee' (first defined on line 28)",
        ),
    ],
    "duplicate_severity_id": [
        ("duplicate_severity_id.yaml", "severities[2].id", "duplicate severity id 'SEV2'"),
    ],
    "duration_without_unit": [
        (
            "duration_without_unit.yaml",
            "escalation_policies.web-escalation.levels[0].ack_timeout",
            "write durations as text with a unit",
        ),
    ],
    "email_as_person_id": [
        (
            "email_as_person_id.yaml",
            "directory.people.cy@tiny.example",
            "looks like an email address",
        ),
    ],
    "escalation_target_names_two": [
        (
            "escalation_target_names_two.yaml",
            "escalation_policies.web-escalation.levels[0].targets[0]",
            "names exactly one of rotation, role, person or team, not rotation and person",
        ),
    ],
    "id_differs_from_key": [
        (
            "id_differs_from_key.yaml",
            "directory.people.bo-chen.id",
            "id 'bob-chen' differs from its key 'bo-chen'",
        ),
    ],
    "long_incident_too_early": [
        (
            "long_incident_too_early.yaml",
            "audiences.everyone.cadence",
            "long_incident_after must be at least 1h",
        ),
    ],
    "missing_incident_commander": [
        ("missing_incident_commander.yaml", "roles", "the 'incident_commander' role is required"),
    ],
    "misspelled_field": [
        ("misspelled_field.yaml", "services.shop.escalation_polcy", "is not a known field"),
        ("misspelled_field.yaml", "services.shop.escalation_policy", "is required but missing"),
    ],
    "not_yaml": [
        ("not_yaml.yaml", "", "is not valid YAML"),
    ],
    "override_ends_before_it_starts": [
        (
            "override_ends_before_it_starts.yaml",
            "rotations.web-oncall.overrides[0]",
            "override end must come after its start",
        ),
    ],
    "phone_as_person_id": [
        ("phone_as_person_id.yaml", "directory.people.15550152", "looks like a phone number"),
    ],
    "reminder_after_deadline": [
        (
            "reminder_after_deadline.yaml",
            "audiences.everyone.cadence",
            "reminder_before (45m) must be shorter than update_every (30m)",
        ),
    ],
    "role_with_nobody": [
        (
            "role_with_nobody.yaml",
            "roles.incident_commander.rotation",
            "role has nobody: every layer of rotation 'web-oncall' has ended",
        ),
        (
            "role_with_nobody.yaml",
            "rotations.web-oncall.layers",
            "nobody is on call from 2025-01-06 09:00",
        ),
    ],
    "rotation_with_gap": [
        (
            "rotation_with_gap.yaml",
            "rotations.web-oncall.layers",
            "rotation has a gap: nobody is on call from 2025-01-06 09:00",
        ),
    ],
    "rotation_without_backup": [
        (
            "rotation_without_backup.yaml",
            "rotations.web-oncall.layers[0].members",
            "has one member, so nobody backs them up",
        ),
    ],
    "sms_over_segment_limit": [
        (
            "sms_over_segment_limit.yaml",
            "templates.update.sms",
            "renders to 3 SMS segments (GSM-7) with the sample incident, over the playbook's "
            "limit of 2",
        ),
    ],
    "template_reaches_python_internals": [
        (
            "template_reaches_python_internals.yaml",
            "templates.update.sms",
            "refused: the template reaches Python internals (__class__, __mro__)",
        ),
    ],
    "template_syntax_error": [
        (
            "template_syntax_error.yaml",
            "templates.update.email.subject",
            "line 1 of the template: Unexpected end of template",
        ),
    ],
    "template_unknown_variable": [
        (
            "template_unknown_variable.yaml",
            "templates.update.sms",
            "'dict object' has no attribute 'customer_count'",
        ),
    ],
    "unknown_business_threshold": [
        ("unknown_business_threshold.yaml", "business_threshold", "unknown severity 'SEV0'"),
    ],
    "unknown_person_in_rotation": [
        (
            "unknown_person_in_rotation.yaml",
            "rotations.web-oncall.layers[0].members[1]",
            "unknown person 'cy-diaz'",
        ),
    ],
    "unknown_role_in_approval_chain": [
        (
            "unknown_role_in_approval_chain.yaml",
            "audiences.everyone.approval_chain[1].roles[0]",
            "unknown role 'legal_officer'",
        ),
    ],
    "unknown_template_in_audience": [
        (
            "unknown_template_in_audience.yaml",
            "audiences.everyone.templates.investigating",
            "unknown template 'status_update'",
        ),
    ],
    "split_directory_unknown_member": [
        ("directory.yaml", "teams.web.members[2]", "unknown person 'cy-diaz'"),
    ],
    "split_missing_templates_folder": [
        ("playbook.yaml", "templates", "the templates folder 'messages' does not exist"),
    ],
    "split_template_unknown_variable": [
        ("templates/update.yaml", "sms", "'dict object' has no attribute 'eta'"),
    ],
}


def _case_path(case: str) -> Path:
    single = BROKEN / f"{case}.yaml"
    return single if single.exists() else BROKEN / case


def _marked_lines(case: str) -> set[tuple[str, int]]:
    """(file, line) of every line that ends in the '# expect' marker."""
    root = _case_path(case)
    files = [root] if root.is_file() else sorted(root.rglob("*.yaml"))
    base = root.parent if root.is_file() else root
    return {
        (file.relative_to(base).as_posix(), number)
        for file in files
        for number, line in enumerate(file.read_text().splitlines(), start=1)
        if line.rstrip().endswith(MARKER)
    }


def _issues(case: str) -> list[PlaybookIssue]:
    with pytest.raises(PlaybookInvalid) as caught:
        load_playbook(_case_path(case))
    return caught.value.issues


def test_corpus_has_at_least_twenty_distinct_mistakes() -> None:
    on_disk = {path.stem for path in BROKEN.iterdir() if not path.name.startswith(".")}
    assert on_disk == set(EXPECTED)
    assert len(EXPECTED) >= 20


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_broken_playbook_names_every_mistake(case: str) -> None:
    issues = _issues(case)
    assert [(issue.file, issue.path) for issue in issues] == [
        (file, path) for file, path, _ in EXPECTED[case]
    ]
    for issue, (_, _, reason) in zip(issues, EXPECTED[case], strict=True):
        assert reason in issue.reason
    assert {(issue.file, issue.line) for issue in issues} == _marked_lines(case)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_validate_command_exits_1_listing_each_mistake(case: str) -> None:
    result = CliRunner().invoke(app, ["validate", str(_case_path(case))])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    for issue in _issues(case):
        assert str(issue) in lines
        assert f"{issue.file}:{issue.line}: {issue.path or '(top level)'}: " in str(issue)
