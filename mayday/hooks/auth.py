"""Who may post to a hook: vendor signatures where they exist, otherwise a shared token.

Per source, with the hook secret S::

    pagerduty     X-PagerDuty-Signature: v1=<hex HMAC-SHA256(S, body)>[,v1=<…>]
                  several values during PagerDuty's secret rotation; any match passes
    grafana       X-Grafana-Alerting-Signature or X-Grafana-Alert-Signature (Grafana's UI and
                  code disagree on the default; both are read): lowercase hex HMAC-SHA256(S)
                  over the body, or over "<unix seconds>:" + body when the contact point sets
                  its timestamp header to X-Grafana-Alerting-Signature-Timestamp, which must
                  be within the signature window of now (MAYDAY_HOOK_SIGNATURE_WINDOW,
                  5 minutes); or, without a signature, a token as below
    alertmanager  Authorization: Bearer S, Authorization: Basic with S as the password,
    datadog         or X-Mayday-Token: S (for senders that cannot set Authorization)
    generic

Only Grafana's signature can carry a time: PagerDuty V3 signs the body alone (redeliveries
are deduplicated by X-Webhook-Id instead) and token sources sign nothing. Without a secret
every hook is refused, except in `mayday dev`, which accepts unauthenticated
hooks from loopback addresses only. Comparisons are constant-time, and reasons name headers,
never the values received or expected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from datetime import datetime, timedelta

from mayday.hooks.errors import Unauthorized
from mayday.hooks.payload import header

PAGERDUTY_SIGNATURE_HEADER = "X-PagerDuty-Signature"
GRAFANA_SIGNATURE_HEADERS = ("X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature")
GRAFANA_SIGNATURE_HEADER_NAMES = " or ".join(GRAFANA_SIGNATURE_HEADERS)
GRAFANA_TIMESTAMP_HEADER = "X-Grafana-Alerting-Signature-Timestamp"
TOKEN_HEADER = "X-Mayday-Token"
TOKEN_SOURCES = frozenset({"alertmanager", "datadog", "generic"})
SIGNATURE_WINDOW = timedelta(minutes=5)


def verify(
    source: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    secret: str | None,
    now: datetime,
    loopback_only_unauthenticated: bool,
    client_host: str,
    window: timedelta = SIGNATURE_WINDOW,
) -> None:
    """Return if the delivery is authentic for `source`, else raise Unauthorized with why.

    `now` must be timezone-aware; an empty `secret` counts as none configured. A signed
    timestamp further than `window` from `now` is refused: a captured delivery replayed later.
    """
    if not secret:
        if loopback_only_unauthenticated and is_loopback(client_host):
            return
        if loopback_only_unauthenticated:
            raise Unauthorized(
                "no hook secret configured; unauthenticated hooks are accepted from loopback only"
            )
        raise Unauthorized("no hook secret configured")
    key = secret.encode("utf-8")
    if source == "pagerduty":
        _verify_pagerduty(key, body, headers)
    elif source == "grafana":
        _verify_grafana(key, body, headers, now, window)
    elif source in TOKEN_SOURCES:
        _verify_token(key, headers)
    else:
        raise Unauthorized("this hook source is unknown")


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback IP address (127.0.0.0/8, ::1, or IPv4-mapped 127.x)."""
    try:
        address = ipaddress.ip_address(host.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _verify_pagerduty(key: bytes, body: bytes, headers: Mapping[str, str]) -> None:
    value = header(headers, PAGERDUTY_SIGNATURE_HEADER)
    if not value:
        raise Unauthorized(f"missing {PAGERDUTY_SIGNATURE_HEADER} header")
    signatures = [
        part.strip()[3:] for part in value.split(",") if part.strip().lower().startswith("v1=")
    ]
    if not signatures:
        raise Unauthorized(f"{PAGERDUTY_SIGNATURE_HEADER} has no v1= signature")
    if not _any_equal(_hmac_hex(key, body), [_bytes(s.lower()) for s in signatures]):
        raise Unauthorized(f"{PAGERDUTY_SIGNATURE_HEADER} does not match the hook secret")


def _verify_grafana(
    key: bytes, body: bytes, headers: Mapping[str, str], now: datetime, window: timedelta
) -> None:
    signatures = [
        value.strip() for name in GRAFANA_SIGNATURE_HEADERS if (value := header(headers, name))
    ]
    if not signatures:
        if _token_candidates(headers):
            _verify_token(key, headers)
            return
        raise Unauthorized(
            f"missing {GRAFANA_SIGNATURE_HEADER_NAMES} header (or an Authorization token)"
        )
    timestamp = header(headers, GRAFANA_TIMESTAMP_HEADER)
    signed = body if timestamp is None else _timestamped(timestamp, body, now, window)
    if not _any_equal(_hmac_hex(key, signed), [_bytes(s.lower()) for s in signatures]):
        raise Unauthorized(f"{GRAFANA_SIGNATURE_HEADER_NAMES} does not match the hook secret")


def _timestamped(timestamp: str, body: bytes, now: datetime, window: timedelta) -> bytes:
    check_timestamp(GRAFANA_TIMESTAMP_HEADER, timestamp, now, window)
    # Signed as sent: the header's own digits, leading zeros and all.
    return timestamp.strip().encode("ascii") + b":" + body


def check_timestamp(header_name: str, value: str, now: datetime, window: timedelta) -> int:
    """The Unix seconds a signed header carries, or Unauthorized if unreadable or outside the
    window (a captured delivery replayed later, or a sender's clock far off).

    For every signature that covers a time: Grafana's here; SendGrid's signed event webhook
    (X-Twilio-Email-Event-Webhook-Timestamp) must go through it too.
    """
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        raise Unauthorized(f"{header_name} is not a Unix time in seconds")
    if abs(now.timestamp() - int(text)) > window.total_seconds():
        raise Unauthorized(
            f"{header_name} is more than {window.total_seconds():g} s from now; "
            "a replayed delivery, or check the sender's clock"
        )
    return int(text)


def _verify_token(key: bytes, headers: Mapping[str, str]) -> None:
    candidates = _token_candidates(headers)
    if not candidates:
        raise Unauthorized(f"missing Authorization: Bearer token (or {TOKEN_HEADER} header)")
    if not _any_equal(key, [_bytes(candidate) for candidate in candidates]):
        raise Unauthorized("the hook token does not match the hook secret")


def _token_candidates(headers: Mapping[str, str]) -> list[str]:
    candidates: list[str] = []
    authorization = header(headers, "Authorization")
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() == "bearer":
            candidates.append(credentials.strip())
        elif scheme.lower() == "basic":
            candidates.append(_basic_password(credentials.strip()))
    token = header(headers, TOKEN_HEADER)
    if token:
        candidates.append(token.strip())
    return [candidate for candidate in candidates if candidate]


def _basic_password(credentials: str) -> str:
    try:
        decoded = base64.b64decode(_bytes(credentials), validate=True)
    except (binascii.Error, ValueError):
        return ""
    return decoded.decode("utf-8", "replace").partition(":")[2]


def _hmac_hex(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).hexdigest().encode("ascii")


def _any_equal(expected: bytes, candidates: list[bytes]) -> bool:
    # Every candidate is compared, so timing does not reveal which one matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(expected, candidate)
    return matched


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "replace")
