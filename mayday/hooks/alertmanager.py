"""Prometheus Alertmanager webhook (`version: "4"`), and the alert group shape Grafana reuses.

One delivery is one notification for one alert group. Its id hashes what makes the
notification distinct (group key, status, every alert's fingerprint, status and start), so
Alertmanager's retries and its HA peers' duplicates share one id, and a change such as a
resolve gets a new one. Alerts without a fingerprint get one from their sorted labels.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from mayday.hooks.errors import InvalidPayload
from mayday.hooks.normalise import (
    GoTime,
    StringMap,
    alert_title,
    check_annotations,
    check_labels,
    digest,
    fingerprint,
    label_fingerprint,
    links,
)
from mayday.hooks.payload import ParsedHook, decode_json, validate_shape
from workflows.alerts import Alert, AlertStatus


class GroupedAlert(BaseModel):
    """One alert of an Alertmanager or Grafana notification."""

    model_config = ConfigDict(extra="ignore")

    status: AlertStatus
    labels: StringMap = Field(default_factory=dict)
    annotations: StringMap = Field(default_factory=dict)
    starts_at: GoTime = Field(None, alias="startsAt")
    ends_at: GoTime = Field(None, alias="endsAt")
    generator_url: str | None = Field(None, alias="generatorURL")
    fingerprint: str | None = None
    dashboard_url: str | None = Field(None, alias="dashboardURL")
    panel_url: str | None = Field(None, alias="panelURL")
    silence_url: str | None = Field(None, alias="silenceURL")


class AlertGroup(BaseModel):
    """An Alertmanager notification body; Grafana's default body adds `orgId` and more."""

    model_config = ConfigDict(extra="ignore")

    status: str | None = None
    group_key: str | None = Field(None, alias="groupKey")
    common_labels: StringMap = Field(default_factory=dict, alias="commonLabels")
    common_annotations: StringMap = Field(default_factory=dict, alias="commonAnnotations")
    alerts: list[GroupedAlert]
    org_id: int | str | None = Field(None, alias="orgId")


def parse_alertmanager(body: bytes, _headers: Mapping[str, str]) -> ParsedHook:
    """Normalise an Alertmanager webhook delivery."""
    group = validate_shape(AlertGroup, decode_json(body))
    return parse_alert_group("alertmanager", group, dashboard_links=False)


def parse_alert_group(source: str, group: AlertGroup, *, dashboard_links: bool) -> ParsedHook:
    """Normalise a validated alert group; `dashboard_links` adds Grafana's per-alert URLs."""
    if not group.alerts:
        raise InvalidPayload(
            "alerts: the list is empty; there is nothing to alert on", field="alerts"
        )
    alerts = [
        _alert(source, group, grouped, f"alerts.{position}", dashboard_links=dashboard_links)
        for position, grouped in enumerate(group.alerts)
    ]
    episodes = sorted(
        f"{alert.fingerprint}:{alert.status.value}:"
        f"{alert.starts_at.isoformat() if alert.starts_at else ''}"
        for alert in alerts
    )
    scope = [source, group.group_key or "", group.status or "", episodes]
    if dashboard_links:
        scope.insert(1, "" if group.org_id is None else str(group.org_id))
    return ParsedHook(source=source, delivery_id=digest(*scope), alerts=alerts)


def _alert(
    source: str, group: AlertGroup, grouped: GroupedAlert, field: str, *, dashboard_links: bool
) -> Alert:
    labels = check_labels(grouped.labels, f"{field}.labels")
    annotations = check_annotations(grouped.annotations, f"{field}.annotations")
    identity = fingerprint(grouped.fingerprint) or label_fingerprint(labels)
    title = alert_title(
        annotations.get("summary"),
        group.common_annotations.get("summary"),
        labels.get("alertname"),
        group.common_labels.get("alertname"),
    )
    urls = [grouped.generator_url]
    if dashboard_links:
        urls += [grouped.dashboard_url, grouped.panel_url, grouped.silence_url]
    return Alert(
        source=source,
        fingerprint=identity,
        status=grouped.status,
        title=title or f"Alert {identity}",
        labels=labels,
        annotations=annotations,
        starts_at=grouped.starts_at,
        ends_at=grouped.ends_at,
        links=links(urls),
    )
