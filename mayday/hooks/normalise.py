"""Field types and checks shared by the parsers: Go zero times, bounded text, stable hashes.

Every text is bounded here, where it enters (workflows/bounds.py has the limits):

- labels identify and route an alert, so a label over the limits is refused (422) rather than
  cut: a truncated label could route an alert somewhere else; values lose control characters
  and escape sequences;
- titles and annotations are prose: made visible and cut with a marker; a title with nothing
  visible left is no title;
- a fingerprint too long or unprintable to carry is replaced by its hash, which stays stable
  across the sender's retries;
- links are kept whole or dropped (a cut URL leads nowhere), at most LINKS_MAX of them.

The body limit bounds the whole delivery besides.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from mayday.hooks.errors import InvalidPayload
from workflows.bounds import (
    ANNOTATION_MAX,
    FINGERPRINT_MAX,
    LABEL_COUNT_MAX,
    LABEL_VALUE_MAX,
    LINK_MAX,
    LINKS_MAX,
    clean_text,
    clean_title,
    visible,
)

MAX_ENTRIES = LABEL_COUNT_MAX
MAX_KEY_CHARS = 256
MAX_LABEL_VALUE_BYTES = LABEL_VALUE_MAX
MAX_ANNOTATION_VALUE_CHARS = ANNOTATION_MAX


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
    """The labels, visible, or InvalidPayload if they break the count or size limits."""
    _check_names(labels, field, kind="label")
    for key, value in labels.items():
        if len(value.encode("utf-8")) > MAX_LABEL_VALUE_BYTES:
            raise InvalidPayload(
                f"{field}.{key}: a label value may have at most {MAX_LABEL_VALUE_BYTES} bytes",
                field=f"{field}.{key}",
            )
    return {key: visible(value) for key, value in labels.items()}


def check_annotations(annotations: Mapping[str, str], field: str) -> dict[str, str]:
    """The annotations visible and cut to their limit, or InvalidPayload for too many."""
    _check_names(annotations, field, kind="annotation")
    return {
        key: clean_text(value, MAX_ANNOTATION_VALUE_CHARS) for key, value in annotations.items()
    }


def _check_names(entries: Mapping[str, str], field: str, *, kind: str) -> None:
    if len(entries) > MAX_ENTRIES:
        raise InvalidPayload(
            f"{field}: {len(entries)} {kind}s; an alert may carry at most {MAX_ENTRIES}",
            field=field,
        )
    for position, key in enumerate(entries):
        if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
            # Position, not the key itself: a key this odd is content, not a field name.
            raise InvalidPayload(
                f"{field}: {kind} name number {position + 1} must have 1 to "
                f"{MAX_KEY_CHARS} printable characters",
                field=field,
            )


def alert_title(*candidates: str | None) -> str | None:
    """The first candidate with visible text, cleaned and bounded (workflows.bounds)."""
    for candidate in candidates:
        if candidate:
            title = clean_title(candidate)
            if title:
                return title
    return None


def fingerprint(value: str | None) -> str | None:
    """A sender's fingerprint as given when short and printable, else its stable hash."""
    text = first_text(value)
    if text is None:
        return None
    if len(text) <= FINGERPRINT_MAX and text.isprintable():
        return text
    return digest(text)[:32]


def links(candidates: Iterable[str | None]) -> list[str]:
    """The first LINKS_MAX links that are printable and short enough to use whole."""
    kept: list[str] = []
    for candidate in candidates:
        link = (candidate or "").strip()
        if link and len(link) <= LINK_MAX and link.isprintable():
            kept.append(link)
            if len(kept) == LINKS_MAX:
                break
    return kept


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
