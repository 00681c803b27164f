"""Datadog deliveries from the recommended template."""

from __future__ import annotations

import pytest

from mayday.hooks import InvalidPayload, ParsedHook
from mayday.hooks.datadog import parse_datadog
from tests.unit.hooks.hook_payloads import encode, sample
from workflows.alerts import AlertStatus


def parse(document: object) -> ParsedHook:
    return parse_datadog(encode(document), {})


def test_triggered_monitor_is_a_firing_alert() -> None:
    parsed = parse(sample("datadog"))

    assert parsed.delivery_id == "7654321098765432101"
    [alert] = parsed.alerts
    assert alert.source == "datadog"
    assert alert.fingerprint == "7654321000000000000"
    assert alert.status is AlertStatus.FIRING
    assert alert.title == "[Triggered] Checkout 5xx high"
    assert alert.labels == {
        "env": "prod",
        "service": "checkout",
        "team": "payments",
        "alert_type": "error",
        "priority": "P1",
        "hostname": "checkout-1",
    }
    assert alert.annotations == {"transition": "Triggered", "scope": "env:prod"}
    assert alert.links == ["https://app.datadoghq.com/monitors/12345678"]


def test_recovered_resolves_the_alert() -> None:
    document = sample("datadog") | {"transition": "Recovered", "id": "7654321098765432102"}

    parsed = parse(document)

    assert parsed.alerts[0].status is AlertStatus.RESOLVED
    assert parsed.delivery_id != parse(sample("datadog")).delivery_id


@pytest.mark.parametrize("transition", ["Re-Triggered", "Warn", "No Data", "Renotify"])
def test_other_transitions_fire(transition: str) -> None:
    assert parse(sample("datadog") | {"transition": transition}).alerts[0].status == "firing"


def test_without_a_cycle_key_the_fingerprint_is_alert_and_scope() -> None:
    document = sample("datadog")
    del document["alert_cycle_key"]

    assert parse(document).alerts[0].fingerprint == "12345678:env:prod"


def test_an_unsubstituted_variable_counts_as_missing() -> None:
    document = sample("datadog") | {"alert_cycle_key": "$ALERT_CYCLE_KEY"}

    assert parse(document).alerts[0].fingerprint == "12345678:env:prod"


def test_tags_split_at_the_first_colon_and_repeats_join() -> None:
    document = sample("datadog") | {"tags": "url:https://x, team:a,team:b,canary"}

    labels = parse(document).alerts[0].labels

    assert labels["url"] == "https://x"
    assert labels["team"] == "a,b"
    assert labels["canary"] == ""


def test_a_tag_wins_over_the_field_of_the_same_name() -> None:
    document = sample("datadog") | {"tags": "priority:P3"}

    assert parse(document).alerts[0].labels["priority"] == "P3"


def test_unquoted_numbers_are_read_as_strings() -> None:
    document = sample("datadog") | {"id": 7654321098765432101, "alert_cycle_key": 76543210}

    parsed = parse(document)

    assert parsed.delivery_id == "7654321098765432101"
    assert parsed.alerts[0].fingerprint == "76543210"


def test_unknown_fields_are_ignored() -> None:
    document = sample("datadog") | {"org": {"id": "1", "name": "Acme"}, "body": "%%%"}

    assert parse(document).alerts == parse(sample("datadog")).alerts


def test_missing_id_names_the_field() -> None:
    document = sample("datadog")
    del document["id"]

    with pytest.raises(InvalidPayload) as raised:
        parse(document)

    assert raised.value.field == "id"


def test_datadogs_default_template_is_refused_naming_the_missing_field() -> None:
    default = {
        "body": "Checkout 5xx high",
        "last_updated": "1727784000000",
        "event_type": "query_alert_monitor",
        "title": "[Triggered] Checkout 5xx high",
        "date": "1727784000000",
        "org": {"id": "1", "name": "Acme"},
        "id": "7654321098765432101",
    }

    with pytest.raises(InvalidPayload) as raised:
        parse(default)

    assert raised.value.field == "alert_id"
    assert "$ALERT_ID" in raised.value.error


def test_a_non_string_tag_list_names_tags() -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse(sample("datadog") | {"tags": ["env:prod"]})

    assert raised.value.field == "tags"
