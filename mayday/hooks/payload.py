"""The raw delivery: body size, UTF-8 JSON decoding, header lookup, and pydantic shape checks.

Every step turns the sender's mistake into a `HookError` naming the problem, so a parser built
from these never lets any other exception escape for client input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from mayday.hooks.errors import InvalidPayload, MalformedPayload, PayloadTooLarge
from mayday.hooks.normalise import digest
from workflows.alerts import Alert, AlertDelivery

# PagerDuty guarantees 55 KB; Alertmanager groups of hundreds of alerts stay well below this.
MAX_BODY_BYTES = 1024 * 1024
MAX_DELIVERY_KEY_CHARS = 200

Shape = TypeVar("Shape", bound=BaseModel)


@dataclass(frozen=True)
class ParsedHook:
    """One webhook delivery, normalised: its alerts, or a non-alert event such as an ack.

    `alerts` is never empty unless `event` is set (a PagerDuty ping or service event).
    """

    source: str
    delivery_id: str
    alerts: list[Alert] = field(default_factory=list)
    event: str | None = None

    def to_delivery(
        self, received_at: datetime, alerts: Sequence[Alert] | None = None
    ) -> AlertDelivery:
        """The `alert` signal payload for these alerts (by default all of them)."""
        return AlertDelivery(
            delivery_id=self.delivery_id,
            source=self.source,
            alerts=list(self.alerts if alerts is None else alerts),
            received_at=received_at,
        )


def decode_json(body: bytes) -> object:
    """The body as a JSON value, or MalformedPayload/PayloadTooLarge saying what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"the body is {len(body)} bytes; a hook accepts at most {MAX_BODY_BYTES} bytes"
        )
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedPayload(
            f"the body is not UTF-8 text: invalid byte at offset {exc.start}"
        ) from None
    if not text.strip():
        raise MalformedPayload("the body is empty; send a JSON object")
    try:
        value = json.loads(text)
        if "\\u" in text:
            # JSON may escape a lone UTF-16 surrogate, which no UTF-8 payload can carry on.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except UnicodeEncodeError:
        raise MalformedPayload(
            "the body is not valid JSON text: it escapes an unpaired UTF-16 surrogate"
        ) from None
    except json.JSONDecodeError as exc:
        raise MalformedPayload(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except (ValueError, RecursionError):
        # int() refuses numbers over 4300 digits; the C scanner recurses on nesting.
        raise MalformedPayload(
            "the body is not valid JSON this hook can read: a number is too long "
            "or the nesting is too deep"
        ) from None


def validate_shape(shape: type[Shape], value: object, *, prefix: str = "") -> Shape:
    """`value` validated as `shape`, or InvalidPayload naming the first failing field."""
    try:
        return shape.model_validate(value)
    except ValidationError as exc:
        raise invalid_from(exc, prefix=prefix) from None


def invalid_from(exc: ValidationError, *, prefix: str = "") -> InvalidPayload:
    """The InvalidPayload for a pydantic error: its first failing field and pydantic's reason."""
    problems = exc.errors(include_url=False, include_input=False, include_context=False)
    first = problems[0]
    parts = [prefix] if prefix else []
    path = ".".join(parts + [str(part) for part in first["loc"]])
    # pydantic's reason for a non-object names our model class, which means nothing to a sender.
    reason = "Input should be a JSON object" if first["type"] == "model_type" else first["msg"]
    if len(problems) > 1:
        reason += f" (and {len(problems) - 1} more problems)"
    if not path:
        return InvalidPayload(f"the body has the wrong shape: {reason}")
    return InvalidPayload(f"{path}: {reason}", field=path)


def delivery_key(value: str) -> str:
    """A sender-chosen delivery key as given when short printable ASCII, otherwise its hash."""
    if 0 < len(value) <= MAX_DELIVERY_KEY_CHARS and value.isascii() and value.isprintable():
        return value
    return digest(value)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value by case-insensitive name, for plain dicts as well as Starlette headers."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None
