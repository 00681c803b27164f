"""Bodies no parser can read are refused with a 4xx that names the problem, never its content."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mayday.hooks import (
    MAX_BODY_BYTES,
    PARSERS,
    HookError,
    InvalidPayload,
    MalformedPayload,
    PayloadTooLarge,
)
from tests.unit.hooks.hook_payloads import encode, sample
from workflows.alerts import AlertDelivery

SOURCES = sorted(PARSERS)


@pytest.mark.parametrize("source", SOURCES)
def test_every_sample_parses_and_crosses_the_temporal_boundary(source: str) -> None:
    parsed = PARSERS[source](encode(sample(source)), {})

    delivery = parsed.to_delivery(datetime(2024, 10, 1, 12, tzinfo=UTC))

    assert parsed.source == source
    assert parsed.alerts
    assert AlertDelivery.model_validate_json(delivery.model_dump_json()) == delivery


@pytest.mark.parametrize("source", SOURCES)
def test_malformed_json_names_the_problem_and_where(source: str) -> None:
    with pytest.raises(MalformedPayload) as raised:
        PARSERS[source](b'{"alerts": [\n  {"status": "firing",}\n]}', {})

    assert raised.value.status == 400
    assert raised.value.field is None
    assert "not valid JSON" in raised.value.error
    assert "line 2, column 23" in raised.value.error


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b'{"title": "caf\xe9"}', "not UTF-8"),
        (b'{"title": "\\ud800"}', "surrogate"),
        (b"[" * 100_000, "nesting"),
        (b'{"title": ' + b"9" * 5000 + b"}", "number"),
        (b"{'title': 'single quotes'}", "double quotes"),
    ],
)
def test_unreadable_bodies_are_malformed(body: bytes, problem: str) -> None:
    for parse in PARSERS.values():
        with pytest.raises(MalformedPayload) as raised:
            parse(body, {})
        assert problem in raised.value.error


def test_a_byte_order_mark_is_tolerated() -> None:
    parsed = PARSERS["generic"](b"\xef\xbb\xbf" + encode({"title": "t"}), {})

    assert parsed.alerts[0].title == "t"


@pytest.mark.parametrize("source", SOURCES)
def test_an_oversized_body_is_too_large(source: str) -> None:
    with pytest.raises(PayloadTooLarge) as raised:
        PARSERS[source](b" " * (MAX_BODY_BYTES + 1), {})

    assert raised.value.status == 413


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("document", [[], "alert", 42, None])
def test_a_body_that_is_not_an_object_is_the_wrong_shape(source: str, document: object) -> None:
    with pytest.raises(InvalidPayload) as raised:
        PARSERS[source](encode(document), {})

    assert raised.value.status == 422
    assert "Grafana" in raised.value.error or "JSON object" in raised.value.error


def test_messages_name_fields_but_not_values() -> None:
    document = sample("alertmanager")
    document["alerts"][0]["labels"]["customer_email"] = ["dana@customer.example"]

    with pytest.raises(InvalidPayload) as raised:
        PARSERS["alertmanager"](encode(document), {})

    assert raised.value.field == "alerts.0.labels.customer_email"
    assert "dana@customer.example" not in str(raised.value)


def test_error_body_is_the_json_answer() -> None:
    error = InvalidPayload("alerts: the list is empty", field="alerts")

    assert isinstance(error, HookError)
    assert error.body() == {"error": "alerts: the list is empty", "field": "alerts"}
