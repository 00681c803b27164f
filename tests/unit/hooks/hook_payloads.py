"""Realistic webhook bodies per source (from reference/integrations.md) and signing helpers."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from typing import Any

ALERTMANAGER: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}/{severity="critical"}:{alertname="CheckoutHighErrorRate", service="checkout"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "incident-orchestrator",
    "groupLabels": {"alertname": "CheckoutHighErrorRate", "service": "checkout"},
    "commonLabels": {
        "alertname": "CheckoutHighErrorRate",
        "service": "checkout",
        "severity": "critical",
        "env": "prod",
    },
    "commonAnnotations": {"summary": "Checkout 5xx above 5%"},
    "externalURL": "http://alertmanager.acme.internal:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "CheckoutHighErrorRate",
                "service": "checkout",
                "pod": "checkout-7d9f",
            },
            "annotations": {"description": "7.3% of requests failed over 5m"},
            "startsAt": "2024-10-01T11:58:30.123Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.acme.internal:9090/graph?g0.expr=…",
            "fingerprint": "5ef77f1f8a3ecfa4",
        }
    ],
}

GRAFANA: dict[str, Any] = {
    "receiver": "ir-webhook",
    "status": "firing",
    "orgId": 1,
    "version": "1",
    "state": "alerting",
    "title": "[FIRING:1] CheckoutLatency (checkout)",
    "message": "**Firing** …",
    "groupKey": '{}/{__grafana_receiver__="ir-webhook"}:{alertname="CheckoutLatency"}',
    "truncatedAlerts": 0,
    "groupLabels": {"alertname": "CheckoutLatency"},
    "commonLabels": {"alertname": "CheckoutLatency", "service": "checkout"},
    "commonAnnotations": {"summary": "p99 > 2s"},
    "externalURL": "https://grafana.acme.example/",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "CheckoutLatency", "service": "checkout"},
            "annotations": {"summary": "p99 > 2s"},
            "startsAt": "2024-10-01T12:01:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.acme.example/alerting/grafana/abc123/view",
            "fingerprint": "a1b2c3d4e5f60718",
            "silenceURL": "https://grafana.acme.example/alerting/silence/new?alertmanager=grafana",
            "dashboardURL": "",
            "panelURL": "",
            "values": {"B": 2.41},
            "valueString": "[ var='B' value=2.41 ]",
        }
    ],
}

PAGERDUTY: dict[str, Any] = {
    "event": {
        "id": "01DEN2HNQLDVCDA5Z8DP3PX6SN",
        "event_type": "incident.triggered",
        "resource_type": "incident",
        "occurred_at": "2024-10-01T12:00:03.123Z",
        "agent": None,
        "client": None,
        "data": {
            "id": "Q1R5V0XKDTSTE9",
            "type": "incident",
            "number": 4211,
            "status": "triggered",
            "incident_key": "checkout-5xx-prod",
            "title": "Checkout 5xx > 5%",
            "urgency": "high",
            "created_at": "2024-10-01T12:00:01Z",
            "html_url": "https://acme.pagerduty.com/incidents/Q1R5V0XKDTSTE9",
            "service": {"id": "PF9KMXH", "summary": "Checkout API", "type": "service_reference"},
            "priority": {"id": "PSO75BM", "summary": "P1", "type": "priority_reference"},
            "assignees": [{"id": "PTUXL6G", "summary": "Dana", "type": "user_reference"}],
            "teams": [],
            "resolve_reason": None,
        },
    }
}

PAGERDUTY_PING: dict[str, Any] = {
    "event": {
        "id": "01DEN3PING000000000000000",
        "event_type": "pagey.ping",
        "resource_type": "pagey",
        "occurred_at": "2024-10-01T12:00:03Z",
        "agent": None,
        "client": None,
        "data": {"message": "Hello from your friend Pagey!", "type": "ping"},
    }
}

DATADOG: dict[str, Any] = {
    "id": "7654321098765432101",
    "alert_id": "12345678",
    "alert_cycle_key": "7654321000000000000",
    "transition": "Triggered",
    "alert_type": "error",
    "priority": "P1",
    "title": "[Triggered] Checkout 5xx high",
    "scope": "env:prod",
    "tags": "env:prod,service:checkout,team:payments",
    "hostname": "checkout-1",
    "link": "https://app.datadoghq.com/monitors/12345678",
    "last_updated": "2024-10-01T12:00:00Z",
}

GENERIC: dict[str, Any] = {
    "alerts": [
        {
            "fingerprint": "checkout-5xx",
            "status": "firing",
            "title": "Checkout 5xx above 5%",
            "labels": {"service": "checkout", "severity": "critical"},
            "annotations": {"runbook": "https://runbooks.acme.example/checkout"},
            "starts_at": "2024-10-01T12:00:00Z",
            "ends_at": None,
            "links": ["https://grafana.acme.example/d/checkout"],
        }
    ]
}

SAMPLES: dict[str, dict[str, Any]] = {
    "alertmanager": ALERTMANAGER,
    "grafana": GRAFANA,
    "pagerduty": PAGERDUTY,
    "datadog": DATADOG,
    "generic": GENERIC,
}


def sample(source: str) -> dict[str, Any]:
    """A fresh deep copy of a source's sample body, safe to mutate."""
    return copy.deepcopy(SAMPLES[source])


def encode(document: object) -> bytes:
    """A body as a sender would put it on the wire."""
    return json.dumps(document).encode("utf-8")


def hmac_hex(secret: str, message: bytes) -> str:
    """Lowercase hex HMAC-SHA256, as PagerDuty and Grafana sign."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
