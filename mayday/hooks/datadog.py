"""Datadog webhook, using the payload template mayday asks users to configure::

    {"id": "$ID", "alert_id": "$ALERT_ID", "alert_cycle_key": "$ALERT_CYCLE_KEY",
     "transition": "$ALERT_TRANSITION", "alert_type": "$ALERT_TYPE",
     "priority": "$ALERT_PRIORITY", "title": "$EVENT_TITLE", "scope": "$ALERT_SCOPE",
     "tags": "$TAGS", "hostname": "$HOSTNAME", "link": "$LINK",
     "last_updated": "$LAST_UPDATED"}

Datadog substitutes every variable as a string; numbers are accepted too, for templates that
leave the quotes off. `Recovered` resolves the alert, every other transition (Triggered,
Re-Triggered, Warn, No Data, Renotify) fires it. `tags` ("service:checkout,env:prod") become
labels, split at the first colon; a tag without one becomes a label with an empty value, and a
repeated tag name joins its values with commas. `alert_type`, `priority` and `hostname` are
added as labels unless a tag of that name exists; `transition` and `scope` become annotations.
The fingerprint is `alert_cycle_key`, else `alert_id` + `scope`; the delivery id is `id`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from mayday.hooks.errors import InvalidPayload
from mayday.hooks.normalise import (
    alert_title,
    check_annotations,
    check_labels,
    fingerprint,
    first_text,
    links,
)
from mayday.hooks.payload import ParsedHook, decode_json, delivery_key, validate_shape
from workflows.alerts import Alert, AlertStatus

RESOLVING_TRANSITIONS = frozenset({"recovered"})


class DatadogNotification(BaseModel):
    """The recommended template's fields, all optional until the parser needs them."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str | None = None
    alert_id: str | None = None
    alert_cycle_key: str | None = None
    transition: str | None = None
    alert_type: str | None = None
    priority: str | None = None
    title: str | None = None
    scope: str | None = None
    tags: str | None = None
    hostname: str | None = None
    link: str | None = None
    last_updated: str | None = None


def parse_datadog(body: bytes, _headers: Mapping[str, str]) -> ParsedHook:
    """Normalise a Datadog webhook delivery sent with the recommended template."""
    notification = validate_shape(DatadogNotification, decode_json(body))
    delivery = _substituted(notification.id)
    if delivery is None:
        raise InvalidPayload('id: missing; the webhook template must send "id": "$ID"', field="id")
    identity = _fingerprint(notification)
    transition = _substituted(notification.transition)
    status = (
        AlertStatus.RESOLVED
        if transition and transition.lower() in RESOLVING_TRANSITIONS
        else AlertStatus.FIRING
    )
    labels = _tag_labels(notification.tags)
    for name in ("alert_type", "priority", "hostname"):
        value = _substituted(getattr(notification, name))
        if value is not None:
            labels.setdefault(name, value)
    annotations = {
        name: value
        for name, value in (("transition", transition), ("scope", _substituted(notification.scope)))
        if value is not None
    }
    alert = Alert(
        source="datadog",
        fingerprint=identity,
        status=status,
        title=alert_title(_substituted(notification.title)) or f"Datadog monitor {identity}",
        labels=check_labels(labels, "tags"),
        annotations=check_annotations(annotations, "scope"),
        links=links([_substituted(notification.link)]),
    )
    return ParsedHook(source="datadog", delivery_id=delivery_key(delivery), alerts=[alert])


def _fingerprint(notification: DatadogNotification) -> str:
    cycle = fingerprint(_substituted(notification.alert_cycle_key))
    if cycle is not None:
        return cycle
    alert_id = _substituted(notification.alert_id)
    if alert_id is None:
        raise InvalidPayload(
            'alert_id: missing; the webhook template must send "alert_cycle_key": '
            '"$ALERT_CYCLE_KEY" or "alert_id": "$ALERT_ID"',
            field="alert_id",
        )
    scope = _substituted(notification.scope)
    return fingerprint(f"{alert_id}:{scope}" if scope else alert_id) or alert_id


def _substituted(value: str | None) -> str | None:
    # Datadog leaves a variable it cannot fill as its literal "$NAME"; that is no value either.
    text = first_text(value)
    if text is None or (text.startswith("$") and text[1:].replace("_", "").isalnum()):
        return None
    return text


def _tag_labels(tags: str | None) -> dict[str, str]:
    labels: dict[str, str] = {}
    for tag in (_substituted(tags) or "").split(","):
        name, _, value = tag.strip().partition(":")
        if not name:
            continue
        labels[name] = f"{labels[name]},{value}" if name in labels else value
    return labels
