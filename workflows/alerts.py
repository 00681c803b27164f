"""Alerts as every monitoring source is normalised to them before reaching an incident.

These cross the Temporal boundary as signal payloads: fields are only added with defaults,
and nothing here may name a person (alert labels are operational metadata, not contacts).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class AlertStatus(StrEnum):
    """Whether the monitoring source says the condition holds."""

    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(BaseModel):
    """One alert from one source, whatever its original shape."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="alertmanager, grafana, pagerduty, datadog or generic")
    fingerprint: str = Field(description="Stable identity of the alert within its source.")
    status: AlertStatus
    title: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    links: list[str] = Field(default_factory=list)
    severity: str | None = Field(
        default=None, description="The severity its own alert route gives it (set at intake)."
    )


class AlertDelivery(BaseModel):
    """One webhook delivery's alerts for one incident: the payload of the `alert` signal."""

    delivery_id: str = Field(description="Stable across the sender's retries of one delivery.")
    source: str
    alerts: list[Alert]
    received_at: datetime


class AlertBatch(BaseModel):
    """Several deliveries for one incident in one signal (group commit, split deliveries)."""

    deliveries: list[AlertDelivery] = Field(min_length=1)
