"""Generic JSON hook, for scripts and tools without a dedicated parser.

The body is either one alert object or `{"alerts": [alert, ...]}` (at least one), where an
alert is::

    {
      "title":       "Checkout 5xx above 5%",        required, with visible text; cut to
                                                     300 characters, escapes removed
      "fingerprint": "checkout-5xx",                 optional; stable identity of the alert,
                                                     default: a hash of title and labels
      "status":      "firing" | "resolved",          optional, default "firing"
      "labels":      {"service": "checkout"},        optional, string values; used for routing
      "annotations": {"runbook": "https://…"},       optional, string values
      "starts_at":   "2024-10-01T12:00:00Z",         optional, RFC 3339 (no zone = UTC)
      "ends_at":     null,                           optional, RFC 3339
      "links":       ["https://grafana.example/d/1"] optional
    }

Unknown fields are ignored. The delivery id is the `Idempotency-Key` header when sent (retries
must repeat it), otherwise the sha256 of the body, so resending identical bytes is harmless.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mayday.hooks.errors import InvalidPayload
from mayday.hooks.normalise import (
    GoTime,
    StringMap,
    alert_title,
    check_annotations,
    check_labels,
    digest,
    fingerprint,
    links,
)
from mayday.hooks.payload import ParsedHook, decode_json, delivery_key, header, validate_shape
from workflows.alerts import Alert, AlertStatus

IDEMPOTENCY_HEADER = "Idempotency-Key"


class GenericAlert(BaseModel):
    """One alert in the generic schema."""

    model_config = ConfigDict(extra="ignore")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    fingerprint: str | None = None
    status: AlertStatus = AlertStatus.FIRING
    labels: StringMap = Field(default_factory=dict)
    annotations: StringMap = Field(default_factory=dict)
    starts_at: GoTime = None
    ends_at: GoTime = None
    links: list[str] = Field(default_factory=list)


class GenericBatch(BaseModel):
    """Several alerts in one delivery."""

    model_config = ConfigDict(extra="ignore")

    alerts: list[GenericAlert]


def parse_generic(body: bytes, headers: Mapping[str, str]) -> ParsedHook:
    """Normalise a generic JSON delivery: one alert, or a batch under `alerts`."""
    document = decode_json(body)
    if isinstance(document, dict) and "alerts" in document:
        alerts = validate_shape(GenericBatch, document).alerts
        prefix = "alerts."
    else:
        alerts = [validate_shape(GenericAlert, document)]
        prefix = ""
    if not alerts:
        raise InvalidPayload("alerts: the list is empty; send at least one alert", field="alerts")
    key = header(headers, IDEMPOTENCY_HEADER)
    return ParsedHook(
        source="generic",
        delivery_id=delivery_key(key) if key else hashlib.sha256(body).hexdigest(),
        alerts=[
            _alert(alert, f"{prefix}{position}." if prefix else "")
            for position, alert in enumerate(alerts)
        ],
    )


def _alert(alert: GenericAlert, field: str) -> Alert:
    labels = check_labels(alert.labels, f"{field}labels")
    title = alert_title(alert.title)
    if title is None:
        raise InvalidPayload(
            f"{field}title: has no visible characters; send a readable title",
            field=f"{field}title",
        )
    return Alert(
        source="generic",
        fingerprint=fingerprint(alert.fingerprint)
        or digest(alert.title, sorted(labels.items()))[:16],
        status=alert.status,
        title=title,
        labels=labels,
        annotations=check_annotations(alert.annotations, f"{field}annotations"),
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        links=links(alert.links),
    )
