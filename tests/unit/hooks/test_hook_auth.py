"""Hook authentication: vendor signatures, shared tokens, and the loopback-only dev mode."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from mayday.hooks import Unauthorized, verify
from mayday.hooks.auth import is_loopback
from tests.unit.hooks.hook_payloads import encode, hmac_hex, sample

SECRET = "whsec-0123456789abcdef"
NOW = datetime(2024, 10, 1, 12, 0, tzinfo=UTC)
PAGERDUTY_BODY = encode(sample("pagerduty"))
GRAFANA_BODY = encode(sample("grafana"))


def check(
    source: str,
    body: bytes,
    headers: dict[str, str],
    *,
    secret: str | None = SECRET,
    loopback_only: bool = False,
    client_host: str = "203.0.113.9",
    window: timedelta = timedelta(minutes=5),
) -> None:
    verify(
        source,
        body,
        headers,
        secret=secret,
        now=NOW,
        loopback_only_unauthenticated=loopback_only,
        client_host=client_host,
        window=window,
    )


def refused(source: str, body: bytes, headers: dict[str, str], **options: object) -> str:
    with pytest.raises(Unauthorized) as raised:
        check(source, body, headers, **options)  # type: ignore[arg-type]
    assert raised.value.status == 401
    assert SECRET not in raised.value.error
    return raised.value.error


# PagerDuty


def test_pagerduty_valid_signature_passes() -> None:
    signature = f"v1={hmac_hex(SECRET, PAGERDUTY_BODY)}"

    check("pagerduty", PAGERDUTY_BODY, {"X-PagerDuty-Signature": signature})


def test_pagerduty_rotation_passes_when_any_signature_matches() -> None:
    old = hmac_hex("whsec-old-secret", PAGERDUTY_BODY)
    header = f"v1={old}, v1={hmac_hex(SECRET, PAGERDUTY_BODY)}"

    check("pagerduty", PAGERDUTY_BODY, {"x-pagerduty-signature": header})


def test_pagerduty_wrong_signature_is_refused() -> None:
    header = f"v1={hmac_hex('another-secret', PAGERDUTY_BODY)}"

    reason = refused("pagerduty", PAGERDUTY_BODY, {"X-PagerDuty-Signature": header})

    assert "does not match" in reason


def test_pagerduty_signature_over_another_body_is_refused() -> None:
    header = f"v1={hmac_hex(SECRET, PAGERDUTY_BODY)}"

    refused("pagerduty", PAGERDUTY_BODY + b" ", {"X-PagerDuty-Signature": header})


def test_pagerduty_missing_signature_names_the_header() -> None:
    assert "X-PagerDuty-Signature" in refused("pagerduty", PAGERDUTY_BODY, {})


def test_pagerduty_signature_without_v1_scheme_is_refused() -> None:
    header = f"v0={hmac_hex(SECRET, PAGERDUTY_BODY)}"

    assert "v1=" in refused("pagerduty", PAGERDUTY_BODY, {"X-PagerDuty-Signature": header})


def test_pagerduty_does_not_take_a_bearer_token() -> None:
    refused("pagerduty", PAGERDUTY_BODY, {"Authorization": f"Bearer {SECRET}"})


# Grafana


@pytest.mark.parametrize("name", ["X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature"])
def test_grafana_body_signature_passes_under_either_header_name(name: str) -> None:
    check("grafana", GRAFANA_BODY, {name: hmac_hex(SECRET, GRAFANA_BODY)})


def test_grafana_timestamped_signature_passes_within_the_window() -> None:
    sent = int((NOW - timedelta(minutes=4)).timestamp())
    signature = hmac_hex(SECRET, f"{sent}:".encode() + GRAFANA_BODY)

    check(
        "grafana",
        GRAFANA_BODY,
        {
            "X-Grafana-Alerting-Signature": signature,
            "X-Grafana-Alerting-Signature-Timestamp": str(sent),
        },
    )


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_grafana_stale_or_future_timestamp_is_refused(skew: timedelta) -> None:
    sent = int((NOW + skew).timestamp())
    signature = hmac_hex(SECRET, f"{sent}:".encode() + GRAFANA_BODY)

    reason = refused(
        "grafana",
        GRAFANA_BODY,
        {
            "X-Grafana-Alert-Signature": signature,
            "X-Grafana-Alerting-Signature-Timestamp": str(sent),
        },
    )

    assert "more than 300 s from now" in reason


@pytest.mark.parametrize(
    ("age", "passes"), [(timedelta(seconds=50), True), (timedelta(minutes=2), False)]
)
def test_grafana_signature_window_is_a_setting(age: timedelta, passes: bool) -> None:
    sent = int((NOW - age).timestamp())
    headers = {
        "X-Grafana-Alerting-Signature": hmac_hex(SECRET, f"{sent}:".encode() + GRAFANA_BODY),
        "X-Grafana-Alerting-Signature-Timestamp": str(sent),
    }
    if passes:
        check("grafana", GRAFANA_BODY, headers, window=timedelta(minutes=1))
    else:
        reason = refused("grafana", GRAFANA_BODY, headers, window=timedelta(minutes=1))
        assert "more than 60 s from now" in reason


def test_grafana_timestamp_must_be_signed_too() -> None:
    sent = int(NOW.timestamp())

    refused(
        "grafana",
        GRAFANA_BODY,
        {
            "X-Grafana-Alerting-Signature": hmac_hex(SECRET, GRAFANA_BODY),
            "X-Grafana-Alerting-Signature-Timestamp": str(sent),
        },
    )


@pytest.mark.parametrize("timestamp", ["yesterday", "-1", "1.5", "١٧٢٧٧٨٤٠٠٠", "9" * 40])
def test_grafana_unreadable_timestamp_is_refused(timestamp: str) -> None:
    headers = {
        "X-Grafana-Alerting-Signature": hmac_hex(SECRET, GRAFANA_BODY),
        "X-Grafana-Alerting-Signature-Timestamp": timestamp,
    }

    assert "Unix time" in refused("grafana", GRAFANA_BODY, headers)


def test_grafana_wrong_signature_is_refused() -> None:
    headers = {"X-Grafana-Alerting-Signature": hmac_hex("another-secret", GRAFANA_BODY)}

    assert "does not match" in refused("grafana", GRAFANA_BODY, headers)


def test_grafana_uppercase_hex_is_accepted() -> None:
    headers = {"X-Grafana-Alert-Signature": hmac_hex(SECRET, GRAFANA_BODY).upper()}

    check("grafana", GRAFANA_BODY, headers)


def test_grafana_bearer_token_passes_without_a_signature() -> None:
    check("grafana", GRAFANA_BODY, {"Authorization": f"Bearer {SECRET}"})


def test_grafana_without_signature_or_token_names_both_headers() -> None:
    reason = refused("grafana", GRAFANA_BODY, {})

    assert "X-Grafana-Alerting-Signature" in reason
    assert "X-Grafana-Alert-Signature" in reason


# Tokens


@pytest.mark.parametrize("source", ["alertmanager", "datadog", "generic"])
@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {SECRET}"},
        {"authorization": f"bearer {SECRET}"},
        {"X-Mayday-Token": SECRET},
        {"Authorization": "Basic " + base64.b64encode(f"alertmanager:{SECRET}".encode()).decode()},
    ],
)
def test_token_sources_accept_the_secret(source: str, headers: dict[str, str]) -> None:
    check(source, b"{}", headers)


@pytest.mark.parametrize("source", ["alertmanager", "datadog", "generic"])
@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer not-the-secret"},
        {"Authorization": f"Bearer {SECRET}x"},
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic " + base64.b64encode(SECRET.encode()).decode()},
        {"X-Mayday-Token": "not-the-secret"},
        {"Authorization": f"Token {SECRET}"},
    ],
)
def test_token_sources_refuse_anything_else(source: str, headers: dict[str, str]) -> None:
    refused(source, b"{}", headers)


def test_missing_token_names_the_headers() -> None:
    reason = refused("alertmanager", b"{}", {})

    assert "Authorization" in reason
    assert "X-Mayday-Token" in reason


def test_an_unknown_source_is_refused() -> None:
    refused("opsgenie", b"{}", {"Authorization": f"Bearer {SECRET}"})


# Without a secret


def test_without_a_secret_everything_is_refused() -> None:
    reason = refused("generic", b"{}", {}, secret=None, client_host="127.0.0.1")

    assert reason == "no hook secret configured"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_dev_mode_accepts_loopback_without_a_secret(host: str) -> None:
    check("pagerduty", PAGERDUTY_BODY, {}, secret=None, loopback_only=True, client_host=host)


@pytest.mark.parametrize("host", ["10.0.0.5", "192.168.1.2", "::ffff:10.0.0.5", "testclient", ""])
def test_dev_mode_refuses_other_hosts_without_a_secret(host: str) -> None:
    reason = refused("generic", b"{}", {}, secret=None, loopback_only=True, client_host=host)

    assert "loopback" in reason


def test_dev_mode_with_a_secret_still_checks_it() -> None:
    refused("generic", b"{}", {}, loopback_only=True, client_host="127.0.0.1")


def test_loopback_recognises_bracketed_ipv6() -> None:
    assert is_loopback("[::1]")
    assert not is_loopback("localhost.attacker.example")
