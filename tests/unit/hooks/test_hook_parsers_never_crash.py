"""Whatever a client sends, a parser answers a ParsedHook or a HookError: never a 5xx.

Three kinds of input per parser: arbitrary bytes, arbitrary JSON built from the field names the
parsers look for, and the realistic samples with parts replaced or removed. Every ParsedHook
must also survive the trip into a Temporal signal payload.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mayday.hooks import PARSERS, HookError, Parser, Unauthorized, verify
from tests.unit.hooks.hook_payloads import SAMPLES

SOURCES = sorted(PARSERS)
RECEIVED_AT = datetime(2024, 10, 1, 12, tzinfo=UTC)


def _all_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for child in value.values() for key in _all_keys(child)}
    if isinstance(value, list):
        return {key for child in value for key in _all_keys(child)}
    return set()


KNOWN_KEYS = sorted(set().union(*(_all_keys(document) for document in SAMPLES.values())))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "firing",
            "resolved",
            "incident.triggered",
            "incident.acknowledged",
            "incident",
            "Recovered",
            "0001-01-01T00:00:00Z",
            "2024-10-01T12:00:00Z",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+14:00",
            "$ALERT_ID",
            "a:b,c:d,,:e",
        ]
    ),
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=25,
)
headers = st.dictionaries(
    st.sampled_from(["X-Webhook-Id", "idempotency-key", "Content-Type"]),
    st.text(max_size=300),
    max_size=3,
)


def examples(count: int) -> settings:
    """Enough examples to find shape bugs while the folder stays well under 20 seconds."""
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_parses_or_refuses(parse: Parser, body: bytes, request_headers: dict[str, str]) -> None:
    try:
        parsed = parse(body, request_headers)
    except HookError as refused:
        assert refused.status in {400, 413, 422}
        assert refused.error
        return
    assert parsed.alerts or parsed.event
    assert parsed.delivery_id
    parsed.to_delivery(RECEIVED_AT).model_dump_json()


@st.composite
def mutated_samples(draw: st.DrawFn, source: str) -> bytes:
    document: Any = copy.deepcopy(SAMPLES[source])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(document))
        if not paths:
            break
        container, key = draw(st.sampled_from(paths))
        if isinstance(container, dict) and draw(st.booleans()):
            del container[key]
        else:
            container[key] = draw(json_values)
    return json.dumps(document).encode()


def _paths(value: Any) -> list[tuple[Any, Any]]:
    found: list[tuple[Any, Any]] = []
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        found.append((value, key))
        if isinstance(child, dict | list):
            found.extend(_paths(child))
    return found


@pytest.mark.parametrize("source", SOURCES)
@examples(60)
@given(body=st.binary(max_size=300), request_headers=headers)
def test_arbitrary_bytes(source: str, body: bytes, request_headers: dict[str, str]) -> None:
    assert_parses_or_refuses(PARSERS[source], body, request_headers)


@pytest.mark.parametrize("source", SOURCES)
@examples(80)
@given(document=json_values, request_headers=headers)
def test_arbitrary_json(source: str, document: object, request_headers: dict[str, str]) -> None:
    assert_parses_or_refuses(PARSERS[source], json.dumps(document).encode(), request_headers)


@pytest.mark.parametrize("source", SOURCES)
@examples(100)
@given(data=st.data(), request_headers=headers)
def test_mutated_samples(source: str, data: st.DataObject, request_headers: dict[str, str]) -> None:
    body = data.draw(mutated_samples(source))
    assert_parses_or_refuses(PARSERS[source], body, request_headers)


@pytest.mark.parametrize("source", [*SOURCES, "unknown"])
@examples(50)
@given(
    body=st.binary(max_size=64),
    request_headers=st.dictionaries(
        st.sampled_from(
            [
                "Authorization",
                "X-Mayday-Token",
                "X-PagerDuty-Signature",
                "X-Grafana-Alerting-Signature",
                "X-Grafana-Alert-Signature",
                "X-Grafana-Alerting-Signature-Timestamp",
            ]
        ),
        st.text(max_size=80),
    ),
    secret=st.none() | st.text(max_size=20),
    loopback_only=st.booleans(),
    client_host=st.text(max_size=40) | st.sampled_from(["127.0.0.1", "::1", "10.0.0.1"]),
)
def test_verify_only_ever_refuses_with_unauthorized(
    source: str,
    body: bytes,
    request_headers: dict[str, str],
    secret: str | None,
    loopback_only: bool,
    client_host: str,
) -> None:
    try:
        verify(
            source,
            body,
            request_headers,
            secret=secret,
            now=RECEIVED_AT,
            loopback_only_unauthenticated=loopback_only,
            client_host=client_host,
        )
    except Unauthorized as refused:
        assert refused.status == 401
