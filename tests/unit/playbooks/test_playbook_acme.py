"""The bundled Acme playbook follows the guides (reference/domain.md)."""

from __future__ import annotations

import re
from datetime import timedelta

from playbooks import Playbook, default_playbook_path, load_playbook
from playbooks.schema import Playbook as SchemaPlaybook

TECHNICAL_ROLES = {
    "incident_commander",
    "deputy",
    "scribe",
    "customer_liaison",
    "internal_liaison",
}
BUSINESS_ROLES = {
    "business_lead",
    "technical_slt",
    "marketing_officer",
    "social_officer",
    "media_officer",
    "legal_officer",
    "messaging_officer",
    "elt_approver",
    "support_lead",
}
MESSAGE_LOOP = ["draft", "review", "tech_check", "approve", "approve", "send"]


def test_default_path_is_the_bundled_acme_directory() -> None:
    path = default_playbook_path()
    assert path.is_dir()
    assert (path / "playbook.yaml").is_file()
    assert (path / "directory.yaml").is_file()
    assert (path / "templates").is_dir()


def test_acme_has_twenty_to_thirty_fictional_people(acme: Playbook) -> None:
    people = acme.directory.people
    assert 20 <= len(people) <= 30
    for person in people.values():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)+", person.id)
        for channel in person.channels:
            if channel.kind == "email":
                assert channel.address.endswith("@acme.example")
            else:
                assert re.fullmatch(r"\+155501\d\d", channel.address)


def test_severities_and_business_threshold(acme: Playbook) -> None:
    assert [s.id for s in acme.severities] == ["SEV1", "SEV2", "SEV3", "SEV4", "SEV5"]
    assert acme.business_threshold == "SEV1"
    assert acme.severity_rank("SEV1") == 1
    assert acme.severity_rank("SEV5") == 5
    assert acme.is_business_severity("SEV1")
    assert not acme.is_business_severity("SEV2")


def test_services_include_checkout_and_others(acme: Playbook) -> None:
    assert {"checkout", "payments", "search", "accounts", "api"} <= set(acme.services)
    for service in acme.services.values():
        assert service.team in acme.directory.teams
        assert service.escalation_policy in acme.escalation_policies


def test_every_guide_role_has_a_rotation_with_a_backup(acme: Playbook) -> None:
    assert {r for r, role in acme.roles.items() if role.kind == "technical"} == TECHNICAL_ROLES
    assert {r for r, role in acme.roles.items() if role.kind == "business"} == BUSINESS_ROLES
    for role in acme.roles.values():
        for layer in acme.rotations[role.rotation].layers:
            assert len(set(layer.members)) >= 2


def test_escalation_uses_the_five_minute_ack_timeout(acme: Playbook) -> None:
    for policy in acme.escalation_policies.values():
        assert all(level.ack_timeout == timedelta(minutes=5) for level in policy.levels)
    assert acme.roles["incident_commander"].page_primary_and_backup
    assert acme.roles["business_lead"].page_primary_and_backup


def test_external_cadence_follows_the_guide(acme: Playbook) -> None:
    cadence = acme.audiences["all-customers"].cadence
    assert cadence.first_message == timedelta(minutes=5)
    assert cadence.scoping_after == timedelta(minutes=5)
    assert cadence.update_every == timedelta(minutes=20)
    assert cadence.long_incident_after == timedelta(hours=2)


def test_internal_and_executive_updates_every_thirty_minutes(acme: Playbook) -> None:
    assert acme.audiences["internal"].cadence.update_every == timedelta(minutes=30)
    assert acme.audiences["executives"].cadence.update_every == timedelta(minutes=30)
    assert acme.audiences["executives"].templates["summary"] == "executive_summary"


def test_approval_chains_are_the_message_creation_loop(acme: Playbook) -> None:
    for audience_id in ("internal", "strategic-customers", "all-customers"):
        chain = acme.audiences[audience_id].approval_chain
        assert [step.step for step in chain] == MESSAGE_LOOP
        assert chain[0].roles == ["technical_slt"]
        assert set(chain[1].roles) == {"messaging_officer", "legal_officer"}
        assert chain[1].objection_binding
        assert chain[2].roles == ["customer_liaison"]
        assert chain[3].roles == ["elt_approver"]
        assert chain[4].roles == ["incident_commander"]


def test_a_template_for_every_message_the_guides_list(acme: Playbook) -> None:
    expected = {
        "internal_investigating": {"email", "sms"},
        "internal_identified": {"email", "sms"},
        "internal_monitoring": {"email", "sms"},
        "internal_resolved": {"email", "sms"},
        "executive_summary": {"email", "sms"},
        "external_initial": {"email", "sms"},
        "external_scoping": {"email", "sms"},
        "external_update": {"email", "sms"},
        "external_long": {"email", "sms"},
        "external_resolution": {"email", "sms"},
        "strategic_customer": {"email"},
        "strategic_customer_resolution": {"email"},
        "customer_follow_up": {"email"},
        "sms_short_update": {"sms"},
        "page": {"email", "sms", "voice"},
        "holding_statement": {"email", "sms"},
        "holding_statement_internal": {"email", "sms"},
        "preliminary_analysis": {"email"},
        "postmortem_internal": {"email"},
        "postmortem_external": {"email"},
        "security_breach_statement": {"email"},
        "security_internal": {"email", "sms"},
    }
    for template_id, channels in expected.items():
        assert set(acme.templates[template_id].channels()) == channels, template_id
    for template in acme.templates.values():
        if template.email is not None:
            assert template.email.html is not None or template.id in {
                "page_acknowledged",
                "comms_reminder",
                "approval_request",
                "preliminary_analysis",
                "security_internal",
            }


def test_emergency_mode_functions_have_owned_halt_and_resume_actions(acme: Playbook) -> None:
    assert {"marketing", "social", "media", "support"} <= set(acme.business_functions)
    assert acme.business_functions["marketing"].resume_after == ["social"]
    for function in acme.business_functions.values():
        for action in (*function.halt, *function.resume):
            assert action.owner_role in acme.roles
            assert action.eta > timedelta(0)


def test_alert_routes_match_labels(acme: Playbook) -> None:
    def route(labels: dict[str, str]) -> str | None:
        return next((r.id for r in acme.alert_routes if r.matches(labels)), None)

    assert route({"service": "checkout", "severity": "critical"}) == "checkout-down"
    assert route({"service": "checkout", "severity": "warning"}) == "checkout-degraded"
    assert route({"service": "gateway"}) == "api"
    assert route({"service": "unknown"}) is None


def test_snapshot_round_trips_through_json(acme: Playbook) -> None:
    # Workflows receive the playbook as JSON; it must come back identical.
    restored = SchemaPlaybook.model_validate_json(acme.model_dump_json())
    assert restored == acme
    assert '"ack_timeout":"5m"' in acme.model_dump_json()


def test_content_hash_is_stable_and_covers_every_file(acme: Playbook) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", acme.content_hash)
    assert load_playbook(default_playbook_path() / "playbook.yaml").content_hash == (
        acme.content_hash
    )
