"""Alertmanager deliveries normalise to alerts with a delivery id stable across resends."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from mayday.hooks import InvalidPayload, ParsedHook
from mayday.hooks.alertmanager import parse_alertmanager
from tests.unit.hooks.hook_payloads import encode, sample
from workflows.alerts import AlertStatus


def parse(document: object) -> ParsedHook:
    return parse_alertmanager(encode(document), {})


def test_firing_alert_is_normalised() -> None:
    parsed = parse(sample("alertmanager"))

    assert parsed.source == "alertmanager"
    assert parsed.event is None
    [alert] = parsed.alerts
    assert alert.source == "alertmanager"
    assert alert.fingerprint == "5ef77f1f8a3ecfa4"
    assert alert.status is AlertStatus.FIRING
    assert alert.title == "Checkout 5xx above 5%"
    assert alert.labels == {
        "alertname": "CheckoutHighErrorRate",
        "service": "checkout",
        "pod": "checkout-7d9f",
    }
    assert alert.annotations == {"description": "7.3% of requests failed over 5m"}
    assert alert.starts_at == datetime(2024, 10, 1, 11, 58, 30, 123000, tzinfo=UTC)
    assert alert.links == ["http://prometheus.acme.internal:9090/graph?g0.expr=…"]


def test_go_zero_time_end_means_not_ended() -> None:
    [alert] = parse(sample("alertmanager")).alerts

    assert alert.ends_at is None


def test_resolved_alert_keeps_its_end() -> None:
    document = sample("alertmanager")
    document["status"] = "resolved"
    document["alerts"][0] |= {"status": "resolved", "endsAt": "2024-10-01T12:10:00Z"}

    [alert] = parse(document).alerts

    assert alert.status is AlertStatus.RESOLVED
    assert alert.ends_at == datetime(2024, 10, 1, 12, 10, tzinfo=UTC)


def test_identical_resend_has_the_same_delivery_id() -> None:
    document = sample("alertmanager")
    reformatted = json.dumps(document, indent=2, sort_keys=True).encode()

    assert parse(document).delivery_id == parse_alertmanager(reformatted, {}).delivery_id


def test_alert_order_does_not_change_the_delivery_id() -> None:
    document = sample("alertmanager")
    second = dict(document["alerts"][0], fingerprint="0123456789abcdef")
    document["alerts"].append(second)
    reordered = sample("alertmanager")
    reordered["alerts"] = [second, *reordered["alerts"]]

    assert parse(document).delivery_id == parse(reordered).delivery_id


def test_a_resolve_is_a_new_delivery() -> None:
    firing = sample("alertmanager")
    resolved = sample("alertmanager")
    resolved["status"] = "resolved"
    resolved["alerts"][0] |= {"status": "resolved", "endsAt": "2024-10-01T12:10:00Z"}

    assert parse(firing).delivery_id != parse(resolved).delivery_id


def test_a_new_episode_of_the_same_alert_is_a_new_delivery() -> None:
    refired = sample("alertmanager")
    refired["alerts"][0]["startsAt"] = "2024-10-02T08:00:00Z"

    assert parse(sample("alertmanager")).delivery_id != parse(refired).delivery_id


def test_another_group_is_a_new_delivery() -> None:
    other = sample("alertmanager")
    other["groupKey"] = '{}:{alertname="Other"}'

    assert parse(sample("alertmanager")).delivery_id != parse(other).delivery_id


def test_unknown_fields_are_ignored() -> None:
    document = sample("alertmanager")
    document["notification_reason"] = "group_changed"
    document["alerts"][0]["someFutureField"] = {"nested": [1, 2]}

    assert parse(document).alerts == parse(sample("alertmanager")).alerts


def test_missing_fingerprint_comes_from_the_sorted_labels() -> None:
    document = sample("alertmanager")
    del document["alerts"][0]["fingerprint"]
    reordered = sample("alertmanager")
    del reordered["alerts"][0]["fingerprint"]
    reordered["alerts"][0]["labels"] = dict(reversed(reordered["alerts"][0]["labels"].items()))

    [alert] = parse(document).alerts

    assert len(alert.fingerprint) == 16
    assert alert.fingerprint == parse(reordered).alerts[0].fingerprint


def test_title_falls_back_to_the_alert_name() -> None:
    document = sample("alertmanager")
    document["commonAnnotations"] = {}

    assert parse(document).alerts[0].title == "CheckoutHighErrorRate"


def test_the_alert_summary_wins_for_the_title() -> None:
    document = sample("alertmanager")
    document["alerts"][0]["annotations"]["summary"] = "Pod checkout-7d9f failing"

    assert parse(document).alerts[0].title == "Pod checkout-7d9f failing"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["alerts"][0].update(fingerprint=42), "alerts.0.fingerprint"),
        (lambda d: d["alerts"][0].update(status="pending"), "alerts.0.status"),
        (lambda d: d["alerts"][0].pop("status"), "alerts.0.status"),
        (lambda d: d["alerts"][0]["labels"].update(pod=7), "alerts.0.labels.pod"),
        (lambda d: d["alerts"][0].update(startsAt="yesterday"), "alerts.0.startsAt"),
        (lambda d: d.pop("alerts"), "alerts"),
        (lambda d: d.update(alerts=[]), "alerts"),
        (lambda d: d.update(alerts={"0": {}}), "alerts"),
    ],
)
def test_wrong_shape_names_the_field(mutate: Callable[[Any], object], field: str) -> None:
    document = sample("alertmanager")
    mutate(document)

    with pytest.raises(InvalidPayload) as raised:
        parse(document)

    assert raised.value.status == 422
    assert raised.value.field == field
    assert field in raised.value.error


def test_too_many_labels_are_refused() -> None:
    document = sample("alertmanager")
    document["alerts"][0]["labels"] = {f"label{n}": "x" for n in range(101)}

    with pytest.raises(InvalidPayload) as raised:
        parse(document)

    assert raised.value.field == "alerts.0.labels"


def test_an_oversized_label_value_is_refused_without_echoing_it() -> None:
    document = sample("alertmanager")
    document["alerts"][0]["labels"]["pod"] = "p" * 1025

    with pytest.raises(InvalidPayload) as raised:
        parse(document)

    assert raised.value.field == "alerts.0.labels.pod"
    assert "ppp" not in raised.value.error


def test_long_annotations_are_accepted() -> None:
    document = sample("alertmanager")
    document["alerts"][0]["annotations"]["description"] = "d" * 4000

    assert parse(document).alerts[0].annotations["description"] == "d" * 4000
