"""Whatever a client sends, a parser answers a ParsedHook or a HookError: never a 5xx.

Four kinds of input per parser: arbitrary bytes, arbitrary JSON built from the field names the
parsers look for, the realistic samples with parts replaced or removed, and the samples with
every text replaced by hostile text (escape sequences, controls, bidi overrides, huge strings).
Every ParsedHook must also survive the trip into a Temporal signal payload, and every text it
carries must be bounded and visible (workflows/bounds.py).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mayday.hooks import PARSERS, HookError, ParsedHook, Parser, Unauthorized, verify
from tests.unit.hooks.hook_payloads import SAMPLES, encode, sample
from workflows.bounds import (
    ANNOTATION_MAX,
    FINGERPRINT_MAX,
    LABEL_COUNT_MAX,
    LINKS_MAX,
    TITLE_MAX,
    TRUNCATED,
)

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
    assert_bounded(parsed)


RAW = ("\x1b", "\x9b", "\x9d", "\x07", "\x00", "\r", "\n", "\u202e", "\u2066", "\ufeff")


def assert_bounded(parsed: ParsedHook) -> None:
    """Every text of every alert is within its limit and has nothing a terminal would obey."""
    for alert in parsed.alerts:
        assert 0 < len(alert.title) <= TITLE_MAX
        assert alert.title == alert.title.strip()
        assert 0 < len(alert.fingerprint) <= FINGERPRINT_MAX
        assert len(alert.labels) <= LABEL_COUNT_MAX
        assert len(alert.annotations) <= LABEL_COUNT_MAX
        assert all(len(value) <= ANNOTATION_MAX for value in alert.annotations.values())
        assert len(alert.links) <= LINKS_MAX
        texts = [alert.title, *alert.labels.values(), *alert.annotations.values(), *alert.links]
        assert not [text for text in texts if any(raw in text for raw in RAW)]


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


HOSTILE_TEXTS = [
    "\x1b[31mred\x1b[0m \x1b]0;retitled\x07 \x1b[2J\x1b[H",
    "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "\x9b6n\x9d52;c;aGk=\x9c",
    "\u202egnp.exe\u202c \u2066x\u2069 \ufeff\u200b",
    "line\nbreak\r\nand\ttab\x00nul\x7fdel",
    "\u3164\u2800\u200b",
    "\x1b[0m" * 2_000,
    "T" * 20_000,
    "\x1b[1mA\x00" * 5_000,
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE_TEXTS),
    st.text(st.characters(codec="utf-8"), max_size=400),
    st.text(st.sampled_from("\x1b[]0;\x07\x9b\x9dm\\P\u202e a\n"), max_size=200),
)


def _with_every_text(value: Any, replace: Any) -> Any:
    if isinstance(value, dict):
        return {key: _with_every_text(child, replace) for key, child in value.items()}
    if isinstance(value, list):
        return [_with_every_text(child, replace) for child in value]
    if isinstance(value, str) and value not in {"firing", "resolved", "incident"}:
        return replace(value)
    return value


@pytest.mark.parametrize("source", SOURCES)
@examples(40)
@given(data=st.data())
def test_hostile_texts_in_every_field(source: str, data: st.DataObject) -> None:
    document = _with_every_text(sample(source), lambda _: data.draw(hostile_text))
    assert_parses_or_refuses(PARSERS[source], encode(document), {})


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_appended_to_every_field(source: str, text: str) -> None:
    document = _with_every_text(sample(source), lambda value: value + text)
    assert_parses_or_refuses(PARSERS[source], encode(document), {})


TITLE_PATHS = {
    "alertmanager": ("alerts", 0, "annotations", "summary"),
    "grafana": ("alerts", 0, "annotations", "summary"),
    "pagerduty": ("event", "data", "title"),
    "datadog": ("title",),
    "generic": ("alerts", 0, "title"),
}


def _set(document: Any, path: tuple[Any, ...], value: str) -> None:
    for step in path[:-1]:
        document = document[step]
    document[path[-1]] = value


@pytest.mark.parametrize("source", SOURCES)
def test_a_900000_character_title_is_accepted_cut_with_the_marker(source: str) -> None:
    document = sample(source)
    _set(document, TITLE_PATHS[source], "\x1b[1mCheckout down\x1b[0m " + "x" * 900_000)
    parsed = PARSERS[source](encode(document), {})
    [alert, *_] = parsed.alerts
    assert len(alert.title) <= TITLE_MAX
    assert alert.title.startswith("Checkout down x") and alert.title.endswith(TRUNCATED)
    assert_bounded(parsed)


@pytest.mark.parametrize("source", ["generic"])
@pytest.mark.parametrize("text", ["\x1b[2J\x1b[H", "\u200b\u3164\u2800", "\x1b]0;x\x07\n\t"])
def test_a_title_of_only_invisible_characters_is_refused(source: str, text: str) -> None:
    document = sample(source)
    _set(document, TITLE_PATHS[source], text)
    with pytest.raises(HookError) as refused:
        PARSERS[source](encode(document), {})
    assert refused.value.status == 422 and refused.value.field == "alerts.0.title"
    assert "visible" in refused.value.error


@pytest.mark.parametrize("source", ["alertmanager", "grafana", "pagerduty", "datadog"])
def test_an_invisible_title_falls_back_to_the_sources_own_name(source: str) -> None:
    document = sample(source)
    _set(document, TITLE_PATHS[source], "\x1b[2J\u200b")
    if source in {"alertmanager", "grafana"}:
        document["commonAnnotations"] = {}
    [alert] = PARSERS[source](encode(document), {}).alerts[:1]
    assert alert.title and "\x1b" not in alert.title


def _generic_alert() -> dict[str, Any]:
    alert: dict[str, Any] = sample("generic")["alerts"][0]
    return alert


def test_a_huge_fingerprint_becomes_a_stable_hash() -> None:
    document = _generic_alert() | {"fingerprint": "f" * 10_000 + "\x1b[2J"}
    first = PARSERS["generic"](encode(document), {}).alerts[0].fingerprint
    again = PARSERS["generic"](encode(document), {}).alerts[0].fingerprint
    other = PARSERS["generic"](encode(document | {"fingerprint": "g" * 10_000}), {})
    assert first == again and len(first) <= FINGERPRINT_MAX
    assert other.alerts[0].fingerprint != first


def test_a_printable_fingerprint_is_kept_as_sent() -> None:
    document = _generic_alert() | {"fingerprint": "checkout-5xx/eu-west-1"}
    parsed = PARSERS["generic"](encode(document), {})
    assert parsed.alerts[0].fingerprint == "checkout-5xx/eu-west-1"


def test_links_are_kept_whole_or_dropped_at_most_ten() -> None:
    links = ["https://ok.example/1", "https://long.example/" + "a" * 5_000, "bad\x1b[2J"]
    document = _generic_alert() | {"links": links + [f"https://x.example/{n}" for n in range(20)]}
    kept = PARSERS["generic"](encode(document), {}).alerts[0].links
    assert kept[0] == "https://ok.example/1" and len(kept) == LINKS_MAX
    assert all(len(link) < 100 and "\x1b" not in link for link in kept)


def test_a_long_annotation_is_cut_with_the_marker() -> None:
    document = _generic_alert() | {"annotations": {"description": "d" * 100_000}}
    annotation = PARSERS["generic"](encode(document), {}).alerts[0].annotations["description"]
    assert len(annotation) <= ANNOTATION_MAX and annotation.endswith(TRUNCATED)
