"""PagerDuty Webhooks V3: one event per delivery, keyed by the PagerDuty incident.

`incident.triggered` and `.reopened` give a firing alert and `.resolved` a resolved one.
`.acknowledged` and `.unacknowledged` are events (the incident is already open), with the
alert attached so they can be routed. Other `incident.*` events whose data is an incident are
events with the alert attached; anything else (`pagey.ping`, `service.*`, notes) is an event
without alerts. The alert's fingerprint is the PagerDuty incident id, and its labels are:

    service             the service's name (service.summary)
    service_id          the service's id
    priority            the priority's name (P1…), when set
    urgency             high or low
    incident_key        the Events API dedup key, when set
    pagerduty_incident  the PagerDuty incident id

Assignees are left out: they name people. The delivery id is the `X-Webhook-Id` header, stable
across PagerDuty's retries, or else `event.id`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from mayday.hooks.normalise import GoTime, alert_title, check_labels, fingerprint, links
from mayday.hooks.payload import ParsedHook, decode_json, delivery_key, header, validate_shape
from workflows.alerts import Alert, AlertStatus

DELIVERY_HEADER = "X-Webhook-Id"

OPENING_EVENTS = {
    "incident.triggered": AlertStatus.FIRING,
    "incident.reopened": AlertStatus.FIRING,
    "incident.resolved": AlertStatus.RESOLVED,
}
ACKNOWLEDGEMENT_EVENTS = frozenset({"incident.acknowledged", "incident.unacknowledged"})


class Reference(BaseModel):
    """A PagerDuty `*_reference` object."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    summary: str | None = None


class PagerDutyIncident(BaseModel):
    """The incident in an `incident.*` event's `data`."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    number: int | None = None
    status: str | None = None
    incident_key: str | None = None
    title: str | None = None
    urgency: str | None = None
    created_at: GoTime = None
    html_url: str | None = None
    service: Reference | None = None
    priority: Reference | None = None


class PagerDutyEvent(BaseModel):
    """The `event` envelope; `data` is checked once the event type says what it holds."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    event_type: str = Field(min_length=1)
    occurred_at: GoTime = None
    data: object = None


class PagerDutyWebhook(BaseModel):
    """A V3 webhook body."""

    model_config = ConfigDict(extra="ignore")

    event: PagerDutyEvent


def parse_pagerduty(body: bytes, headers: Mapping[str, str]) -> ParsedHook:
    """Normalise a PagerDuty V3 webhook delivery."""
    event = validate_shape(PagerDutyWebhook, decode_json(body)).event
    delivery_id = delivery_key(header(headers, DELIVERY_HEADER) or event.id)
    kind = event.event_type
    carries_incident = isinstance(event.data, dict) and event.data.get("type") == "incident"
    if kind not in OPENING_EVENTS and kind not in ACKNOWLEDGEMENT_EVENTS and not carries_incident:
        return ParsedHook(source="pagerduty", delivery_id=delivery_id, event=kind)
    incident = validate_shape(PagerDutyIncident, event.data, prefix="event.data")
    status = OPENING_EVENTS.get(kind) or (
        AlertStatus.RESOLVED if incident.status == "resolved" else AlertStatus.FIRING
    )
    alert = _alert(incident, status, event)
    return ParsedHook(
        source="pagerduty",
        delivery_id=delivery_id,
        alerts=[alert],
        event=None if kind in OPENING_EVENTS else kind,
    )


def _alert(incident: PagerDutyIncident, status: AlertStatus, event: PagerDutyEvent) -> Alert:
    service = incident.service or Reference()
    priority = incident.priority or Reference()
    candidates = {
        "service": service.summary,
        "service_id": service.id,
        "priority": priority.summary,
        "urgency": incident.urgency,
        "incident_key": incident.incident_key,
        "pagerduty_incident": incident.id,
    }
    labels = {name: value for name, value in candidates.items() if value}
    annotations = {} if incident.number is None else {"pagerduty_number": str(incident.number)}
    identity = fingerprint(incident.id) or incident.id
    return Alert(
        source="pagerduty",
        fingerprint=identity,
        status=status,
        title=alert_title(incident.title) or f"PagerDuty incident {incident.number or identity}",
        labels=check_labels(labels, "event.data"),
        annotations=annotations,
        starts_at=incident.created_at,
        ends_at=event.occurred_at if status is AlertStatus.RESOLVED else None,
        links=links([incident.html_url]),
    )
