"""PagerDuty Events API v2: trigger, acknowledge and resolve an alert under our dedup key.

Our own dedup key makes retried triggers idempotent while the alert is open, which is why every
5xx and network failure is safe to retry here.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from activities.providers.errors import (
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
    scrub,
)
from activities.providers.message import Delivery, OutboundMessage, utc_now
from activities.providers.retry_hints import retry_after

PROVIDER = "pagerduty"
DEFAULT_BASE_URL = "https://events.pagerduty.com"
DEFAULT_RATE_LIMIT_PAUSE = timedelta(seconds=30)

EventAction = Literal["trigger", "acknowledge", "resolve"]
ACKNOWLEDGE_PURPOSES = frozenset({"ack", "ack-notice", "acknowledge", "acknowledged"})
RESOLVE_PURPOSES = frozenset({"resolve", "resolved", "resolution"})

_SEVERITIES = {"critical", "error", "warning", "info"}
_SEV_LEVELS = {
    "SEV1": "critical",
    "SEV2": "error",
    "SEV3": "warning",
    "SEV4": "info",
    "SEV5": "info",
}


def event_action(purpose: str) -> EventAction:
    """The Events v2 action for a notification purpose: ack and resolve purposes, else trigger."""
    if purpose in ACKNOWLEDGE_PURPOSES:
        return "acknowledge"
    if purpose in RESOLVE_PURPOSES:
        return "resolve"
    return "trigger"


def pagerduty_severity(severity: str | None) -> str:
    """Map SEV1..SEV5 (or an Events v2 severity) to critical|error|warning|info."""
    if severity is None:
        return "critical"
    if severity.lower() in _SEVERITIES:
        return severity.lower()
    return _SEV_LEVELS.get(severity.upper(), "critical")


def dedup_key_for(message: OutboundMessage) -> str:
    """The dedup key ack/resolve must repeat: the message's own or one per incident."""
    return message.dedup_key or f"mayday:{message.incident_id}"


def pagerduty_event(message: OutboundMessage, routing_key: str) -> dict[str, Any]:
    """The Events v2 body for one message."""
    action = event_action(message.purpose)
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key_for(message)[:255],
        "client": "mayday",
    }
    if action == "trigger":
        event["payload"] = {
            "summary": (message.subject or message.body)[:1024],
            "source": "mayday",
            "severity": pagerduty_severity(message.severity),
            "custom_details": {
                "incident_id": message.incident_id,
                "notification_id": message.id,
                "details": message.body,
            },
        }
    return event


def classify_pagerduty_error(
    status: int, body: bytes, headers: Mapping[str, str] | None, message: OutboundMessage
) -> DeliveryError:
    """Turn an Events v2 HTTP error into a typed delivery error."""
    try:
        answer = json.loads(body)
        detail = "; ".join([str(answer.get("message", "")), *map(str, answer.get("errors") or [])])
    except (ValueError, AttributeError, TypeError):
        detail = "no details given"
    said = scrub(detail.strip("; ") or "no details given", message.address)
    if status == 429 or status >= 500:
        hint = retry_after(headers)
        if status == 429 and hint is None:
            hint = DEFAULT_RATE_LIMIT_PAUSE
        return RetryableDeliveryError(
            f"PagerDuty could not take event for notification {message.id} yet (HTTP {status}): "
            f"{said}. It will be retried.",
            provider=PROVIDER,
            code=status,
            retry_after=hint,
        )
    reason: Literal["auth", "too_large", "rejected"] = (
        "auth" if status in (401, 403) else "too_large" if status == 413 else "rejected"
    )
    return PermanentDeliveryError(
        f"PagerDuty rejected the event for notification {message.id} (HTTP {status}): {said}.",
        provider=PROVIDER,
        reason=reason,
        code=status,
    )


class PagerDutyEventsProvider:
    """Pages a PagerDuty service through its Events v2 integration (routing) key."""

    name = PROVIDER

    def __init__(
        self, routing_key: str, base_url: str = DEFAULT_BASE_URL, timeout: float = 10
    ) -> None:
        self._routing_key = routing_key
        self._url = base_url.rstrip("/") + "/v2/enqueue"
        self._timeout = timeout

    async def send(self, message: OutboundMessage) -> Delivery:
        """Trigger, acknowledge or resolve the alert for the message's dedup key."""
        return await asyncio.to_thread(self.send_blocking, message)

    def send_blocking(self, message: OutboundMessage) -> Delivery:
        """Synchronous `send`, for thread-pool activities."""
        body = json.dumps(pagerduty_event(message, self._routing_key)).encode()
        request = urllib.request.Request(
            self._url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise classify_pagerduty_error(
                exc.code, exc.read(), dict(exc.headers.items()), message
            ) from None
        except urllib.error.URLError:
            raise RetryableDeliveryError(
                f"Sending PagerDuty event for notification {message.id} failed: "
                "PagerDuty could not be reached.",
                provider=PROVIDER,
            ) from None
        except (OSError, ValueError) as exc:
            raise RetryableDeliveryError(
                f"Sending PagerDuty event for notification {message.id} failed: "
                f"{type(exc).__name__} while waiting for the answer; "
                "the dedup key makes a retry safe.",
                provider=PROVIDER,
                possibly_sent=True,
            ) from None
        return Delivery(
            provider=self.name,
            provider_id=str(answer.get("dedup_key") or dedup_key_for(message)),
            status=str(answer.get("status") or "success"),
            at=utc_now(),
        )
