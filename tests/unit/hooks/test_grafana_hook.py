"""Grafana deliveries: the Alertmanager shape plus org id and dashboard links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mayday.hooks import InvalidPayload, ParsedHook
from mayday.hooks.grafana import parse_grafana
from tests.unit.hooks.hook_payloads import encode, sample
from workflows.alerts import AlertStatus


def parse(document: object) -> ParsedHook:
    return parse_grafana(encode(document), {})


def test_default_body_is_normalised() -> None:
    parsed = parse(sample("grafana"))

    [alert] = parsed.alerts
    assert parsed.source == alert.source == "grafana"
    assert alert.fingerprint == "a1b2c3d4e5f60718"
    assert alert.status is AlertStatus.FIRING
    assert alert.title == "p99 > 2s"
    assert alert.labels == {"alertname": "CheckoutLatency", "service": "checkout"}
    assert alert.starts_at == datetime(2024, 10, 1, 12, 1, tzinfo=UTC)
    assert alert.ends_at is None


def test_links_skip_empty_dashboard_and_panel_urls() -> None:
    [alert] = parse(sample("grafana")).alerts

    assert alert.links == [
        "https://grafana.acme.example/alerting/grafana/abc123/view",
        "https://grafana.acme.example/alerting/silence/new?alertmanager=grafana",
    ]


def test_dashboard_and_panel_urls_are_links_when_set() -> None:
    document = sample("grafana")
    document["alerts"][0] |= {
        "dashboardURL": "https://grafana.acme.example/d/checkout",
        "panelURL": "https://grafana.acme.example/d/checkout?viewPanel=2",
    }

    [alert] = parse(document).alerts

    assert "https://grafana.acme.example/d/checkout" in alert.links
    assert "https://grafana.acme.example/d/checkout?viewPanel=2" in alert.links


def test_the_same_group_in_another_org_is_another_delivery() -> None:
    other_org = sample("grafana")
    other_org["orgId"] = 2

    assert parse(sample("grafana")).delivery_id != parse(other_org).delivery_id
    assert parse(sample("grafana")).delivery_id == parse(sample("grafana")).delivery_id


def test_resolved_is_a_new_delivery() -> None:
    resolved = sample("grafana")
    resolved |= {"status": "resolved", "state": "ok"}
    resolved["alerts"][0] |= {"status": "resolved", "endsAt": "2024-10-01T12:06:00Z"}

    parsed = parse(resolved)

    assert parsed.alerts[0].status is AlertStatus.RESOLVED
    assert parsed.alerts[0].ends_at == datetime(2024, 10, 1, 12, 6, tzinfo=UTC)
    assert parsed.delivery_id != parse(sample("grafana")).delivery_id


def test_unknown_and_null_fields_are_tolerated() -> None:
    document = sample("grafana")
    document["alerts"][0] |= {"imageURL": "https://img", "panelURL": None, "annotations": None}

    [alert] = parse(document).alerts

    assert alert.annotations == {}
    assert alert.title == "p99 > 2s"


@pytest.mark.parametrize(
    "custom_body",
    [
        {"text": "[FIRING:1] CheckoutLatency"},
        {"alerts": "CheckoutLatency"},
        ["CheckoutLatency"],
    ],
)
def test_a_custom_template_without_alerts_names_the_alerts_field(custom_body: object) -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse(custom_body)

    assert raised.value.field == "alerts"
    assert "custom payload template" in raised.value.error
