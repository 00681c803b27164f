"""PagerDuty V3 events: incidents become alerts, acknowledgements become events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mayday.hooks import InvalidPayload, ParsedHook
from mayday.hooks.pagerduty import parse_pagerduty
from tests.unit.hooks.hook_payloads import PAGERDUTY_PING, encode, sample
from workflows.alerts import AlertStatus


def parse(document: object, headers: dict[str, str] | None = None) -> ParsedHook:
    return parse_pagerduty(encode(document), headers or {})


def with_event_type(event_type: str, status: str) -> dict[str, object]:
    document = sample("pagerduty")
    document["event"]["event_type"] = event_type
    document["event"]["data"]["status"] = status
    return document


def test_triggered_incident_is_a_firing_alert() -> None:
    parsed = parse(sample("pagerduty"))

    assert parsed.event is None
    assert parsed.delivery_id == "01DEN2HNQLDVCDA5Z8DP3PX6SN"
    [alert] = parsed.alerts
    assert alert.source == "pagerduty"
    assert alert.fingerprint == "Q1R5V0XKDTSTE9"
    assert alert.status is AlertStatus.FIRING
    assert alert.title == "Checkout 5xx > 5%"
    assert alert.labels == {
        "service": "Checkout API",
        "service_id": "PF9KMXH",
        "priority": "P1",
        "urgency": "high",
        "incident_key": "checkout-5xx-prod",
        "pagerduty_incident": "Q1R5V0XKDTSTE9",
    }
    assert alert.starts_at == datetime(2024, 10, 1, 12, 0, 1, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.links == ["https://acme.pagerduty.com/incidents/Q1R5V0XKDTSTE9"]


def test_assignees_are_not_carried() -> None:
    [alert] = parse(sample("pagerduty")).alerts

    assert "Dana" not in alert.model_dump_json()


def test_webhook_id_header_is_the_delivery_id() -> None:
    parsed = parse(sample("pagerduty"), {"x-webhook-id": "b7d6c1e2-delivery"})

    assert parsed.delivery_id == "b7d6c1e2-delivery"


def test_resolved_incident_is_a_resolved_alert_ending_when_it_occurred() -> None:
    parsed = parse(with_event_type("incident.resolved", "resolved"))

    [alert] = parsed.alerts
    assert parsed.event is None
    assert alert.status is AlertStatus.RESOLVED
    assert alert.ends_at == datetime(2024, 10, 1, 12, 0, 3, 123000, tzinfo=UTC)


def test_reopened_incident_fires_again() -> None:
    parsed = parse(with_event_type("incident.reopened", "triggered"))

    assert parsed.event is None
    assert parsed.alerts[0].status is AlertStatus.FIRING


@pytest.mark.parametrize("event_type", ["incident.acknowledged", "incident.unacknowledged"])
def test_acknowledgement_is_an_event_with_the_alert_attached(event_type: str) -> None:
    parsed = parse(with_event_type(event_type, "acknowledged"))

    assert parsed.event == event_type
    [alert] = parsed.alerts
    assert alert.fingerprint == "Q1R5V0XKDTSTE9"
    assert alert.status is AlertStatus.FIRING


def test_other_incident_events_carry_the_incident_state() -> None:
    parsed = parse(with_event_type("incident.priority_updated", "resolved"))

    assert parsed.event == "incident.priority_updated"
    assert parsed.alerts[0].status is AlertStatus.RESOLVED


def test_ping_is_an_event_without_alerts() -> None:
    parsed = parse(PAGERDUTY_PING)

    assert parsed.event == "pagey.ping"
    assert parsed.alerts == []
    assert parsed.delivery_id == "01DEN3PING000000000000000"


def test_unknown_fields_are_ignored() -> None:
    document = sample("pagerduty")
    document["event"]["data"]["conference_bridge"] = {"conference_url": "https://meet"}
    document["event"]["schema_version"] = 2

    assert parse(document).alerts == parse(sample("pagerduty")).alerts


def test_identical_resend_has_the_same_delivery_id() -> None:
    assert parse(sample("pagerduty")).delivery_id == parse(sample("pagerduty")).delivery_id


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("data", "id"), None, "event.data.id"),
        (("data", "number"), "forty-two", "event.data.number"),
        (("data",), "Q1R5V0XKDTSTE9", "event.data"),
        (("id",), "", "event.id"),
        (("event_type",), 3, "event.event_type"),
    ],
)
def test_wrong_shape_names_the_field(path: tuple[str, ...], value: object, field: str) -> None:
    document = sample("pagerduty")
    target = document["event"]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value

    with pytest.raises(InvalidPayload) as raised:
        parse(document)

    assert raised.value.field == field
    assert "PagerDutyIncident" not in raised.value.error


def test_a_body_without_event_names_it() -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse({"messages": []})

    assert raised.value.field == "event"
