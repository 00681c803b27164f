"""Generic JSON deliveries: one alert or a batch, with sensible defaults."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from mayday.hooks import InvalidPayload
from mayday.hooks.generic import parse_generic
from tests.unit.hooks.hook_payloads import encode, sample
from workflows.alerts import AlertStatus


def test_batch_is_normalised() -> None:
    body = encode(sample("generic"))

    parsed = parse_generic(body, {})

    assert parsed.delivery_id == hashlib.sha256(body).hexdigest()
    [alert] = parsed.alerts
    assert alert.source == "generic"
    assert alert.fingerprint == "checkout-5xx"
    assert alert.status is AlertStatus.FIRING
    assert alert.title == "Checkout 5xx above 5%"
    assert alert.labels == {"service": "checkout", "severity": "critical"}
    assert alert.annotations == {"runbook": "https://runbooks.acme.example/checkout"}
    assert alert.starts_at == datetime(2024, 10, 1, 12, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.links == ["https://grafana.acme.example/d/checkout"]


def test_a_single_alert_object_with_only_a_title() -> None:
    parsed = parse_generic(encode({"title": "Checkout is down", "labels": {"service": "x"}}), {})

    [alert] = parsed.alerts
    assert alert.status is AlertStatus.FIRING
    assert len(alert.fingerprint) == 16
    same = parse_generic(encode({"labels": {"service": "x"}, "title": "Checkout is down"}), {})
    assert same.alerts[0].fingerprint == alert.fingerprint


def test_idempotency_key_header_is_the_delivery_id() -> None:
    parsed = parse_generic(encode(sample("generic")), {"idempotency-key": "deploy-42-check"})

    assert parsed.delivery_id == "deploy-42-check"


def test_a_changed_status_is_a_new_delivery() -> None:
    resolved = sample("generic")
    resolved["alerts"][0]["status"] = "resolved"

    first = parse_generic(encode(sample("generic")), {})
    assert first.delivery_id == parse_generic(encode(sample("generic")), {}).delivery_id
    assert first.delivery_id != parse_generic(encode(resolved), {}).delivery_id


def test_naive_timestamps_are_utc() -> None:
    parsed = parse_generic(encode({"title": "t", "starts_at": "2024-10-01T12:00:00"}), {})

    assert parsed.alerts[0].starts_at == datetime(2024, 10, 1, 12, tzinfo=UTC)


def test_unknown_fields_are_ignored() -> None:
    document = sample("generic")
    document["alerts"][0]["severity"] = "SEV1"
    document["sender"] = "cron"

    assert (
        parse_generic(encode(document), {}).alerts
        == parse_generic(encode(sample("generic")), {}).alerts
    )


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"labels": {"service": "x"}}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "t", "status": "open"}, "status"),
        ({"alerts": [{"title": "t"}, {"status": "firing"}]}, "alerts.1.title"),
        ({"alerts": [{"title": "t", "links": "https://x"}]}, "alerts.0.links"),
        ({"alerts": []}, "alerts"),
        (
            {"alerts": [{"title": "t", "labels": {f"l{n}": "v" for n in range(101)}}]},
            "alerts.0.labels",
        ),
    ],
)
def test_wrong_shape_names_the_field(document: object, field: str) -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse_generic(encode(document), {})

    assert raised.value.status == 422
    assert raised.value.field == field
