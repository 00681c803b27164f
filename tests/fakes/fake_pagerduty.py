"""A fake PagerDuty Events API v2 (`POST /v2/enqueue`) that tracks alert state by dedup key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from tests.fakes.server import EventLog, FakeServer, Fault, Incoming, Reply

_ACTIONS = ("trigger", "acknowledge", "resolve")
_SEVERITIES = ("critical", "error", "warning", "info")


@dataclass(frozen=True)
class AcceptedEvent:
    """An event the fake accepted."""

    routing_key: str
    action: str
    dedup_key: str
    payload: dict[str, Any]


def event_errors(event: Any) -> list[str]:
    """What PagerDuty would list under `errors` for an invalid event (empty: valid)."""
    if not isinstance(event, dict):
        return ["Event object is not a JSON object."]
    errors = []
    routing_key = event.get("routing_key")
    if not isinstance(routing_key, str) or len(routing_key) != 32:
        errors.append("'routing_key' is invalid: it must be a 32-character integration key.")
    action = event.get("event_action")
    if action not in _ACTIONS:
        errors.append("'event_action' is invalid (must be one of trigger, acknowledge, resolve).")
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters.")
    if action in ("acknowledge", "resolve") and not dedup_key:
        errors.append("'dedup_key' is required for acknowledge and resolve events.")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object.")
        else:
            summary = payload.get("summary")
            if not isinstance(summary, str) or not summary or len(summary) > 1024:
                errors.append("'payload.summary' is missing or longer than 1024 characters.")
            if not payload.get("source"):
                errors.append("'payload.source' is missing.")
            if payload.get("severity") not in _SEVERITIES:
                errors.append("'payload.severity' is invalid.")
    return errors


class FakePagerDuty(FakeServer):
    """Events v2 with PagerDuty's validation; `alerts` maps dedup key → latest state.

    Knobs: `latency`, `fail_next(status=429, retry_after=...)` and `drop_next` from `FakeServer`.
    """

    vendor = "pagerduty"

    def __init__(self) -> None:
        super().__init__()
        self.events: EventLog[AcceptedEvent] = EventLog()
        self.alerts: dict[str, str] = {}

    def error_reply(self, fault: Fault, request: Incoming) -> Reply:
        """PagerDuty's error body for an injected status."""
        if fault.status == 429:
            return Reply.json(429, {"status": "throttle event", "message": "Requests throttled"})
        return Reply.json(fault.status, {"status": "error", "message": "Internal error"})

    def route(self, request: Incoming) -> Reply:
        """Accept or refuse one event."""
        if request.method != "POST" or request.path != "/v2/enqueue":
            return Reply.json(404, {"status": "not found", "message": "Not Found"})
        event = request.json
        errors = event_errors(event)
        if errors:
            return Reply.json(
                400,
                {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
            )
        dedup_key = event.get("dedup_key") or secrets.token_hex(16)
        action = event["event_action"]
        self.events.append(
            AcceptedEvent(event["routing_key"], action, dedup_key, event.get("payload") or {})
        )
        self.alerts[dedup_key] = {
            "trigger": "triggered",
            "acknowledge": "acknowledged",
            "resolve": "resolved",
        }[action]
        return Reply.json(
            202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
        )
