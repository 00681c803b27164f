"""Grafana Alerting webhook contact point: the Alertmanager shape plus `orgId`, `state`, URLs.

Grafana 12 lets users replace the body with a custom payload template, so nothing outside the
default body's `alerts` list is relied on; a template that drops the list is refused with a
sentence saying so. The delivery id also hashes `orgId`, because group keys repeat across orgs.
"""

from __future__ import annotations

from collections.abc import Mapping

from mayday.hooks.alertmanager import AlertGroup, parse_alert_group
from mayday.hooks.errors import InvalidPayload
from mayday.hooks.payload import ParsedHook, decode_json, validate_shape


def parse_grafana(body: bytes, _headers: Mapping[str, str]) -> ParsedHook:
    """Normalise a Grafana Alerting webhook delivery."""
    document = decode_json(body)
    if not isinstance(document, dict) or not isinstance(document.get("alerts"), list):
        raise InvalidPayload(
            "alerts: a Grafana body must carry the default `alerts` list; "
            "a custom payload template must keep it",
            field="alerts",
        )
    group = validate_shape(AlertGroup, document)
    return parse_alert_group("grafana", group, dashboard_links=True)
