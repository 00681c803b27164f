"""Field types and checks shared by the parsers: Go zero times, label limits, stable hashes.

Labels identify and route an alert, so a label over the limits is refused (422) rather than
cut: a truncated label could route an alert somewhere else. Annotations are prose and may be
longer. The body limit bounds the whole delivery besides.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from mayday.hooks.errors import InvalidPayload

MAX_ENTRIES = 100
MAX_KEY_CHARS = 256
MAX_LABEL_VALUE_BYTES = 1024
MAX_ANNOTATION_VALUE_BYTES = 8 * 1024


def _go_time(value: datetime | None) -> datetime | None:
    # Go marshals an unset time.Time as "0001-01-01T00:00:00Z": "not ended yet", not a date.
    if value is None or value.year == 1:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _null_as_empty(value: object) -> object:
    return {} if value is None else value


GoTime = Annotated[datetime | None, AfterValidator(_go_time)]
"""A timestamp where Go's zero time and null both mean "none"; naive values are read as UTC."""

StringMap = Annotated[dict[str, str], BeforeValidator(_null_as_empty)]
"""Labels or annotations; null reads as empty."""


def check_labels(labels: Mapping[str, str], field: str) -> dict[str, str]:
    """The labels as a dict, or InvalidPayload if they break the count or size limits."""
    return _checked(labels, field, kind="label", max_value_bytes=MAX_LABEL_VALUE_BYTES)


def check_annotations(annotations: Mapping[str, str], field: str) -> dict[str, str]:
    """The annotations as a dict, or InvalidPayload if they break the count or size limits."""
    return _checked(
        annotations, field, kind="annotation", max_value_bytes=MAX_ANNOTATION_VALUE_BYTES
    )


def _checked(
    entries: Mapping[str, str], field: str, *, kind: str, max_value_bytes: int
) -> dict[str, str]:
    if len(entries) > MAX_ENTRIES:
        raise InvalidPayload(
            f"{field}: {len(entries)} {kind}s; an alert may carry at most {MAX_ENTRIES}",
            field=field,
        )
    for position, (key, value) in enumerate(entries.items()):
        if not key or len(key) > MAX_KEY_CHARS:
            # Position, not the key itself: a key this odd is content, not a field name.
            raise InvalidPayload(
                f"{field}: {kind} name number {position + 1} must have 1 to "
                f"{MAX_KEY_CHARS} characters",
                field=field,
            )
        if len(value.encode("utf-8")) > max_value_bytes:
            raise InvalidPayload(
                f"{field}.{key}: a {kind} value may have at most {max_value_bytes} bytes",
                field=f"{field}.{key}",
            )
    return dict(entries)


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable 16-hex-digit identity from the sorted labels, for alerts sent without one."""
    return digest(sorted(labels.items()))[:16]


def digest(*parts: object) -> str:
    """The sha256 hex digest of JSON-encodable parts, identical for identical input."""
    encoded = json.dumps(parts, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def first_text(*candidates: str | None) -> str | None:
    """The first candidate with visible text, stripped."""
    for candidate in candidates:
        if candidate and candidate.strip():
            return candidate.strip()
    return None
