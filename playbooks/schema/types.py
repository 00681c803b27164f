"""Scalar types shared by the playbook schema: ids, durations, time zones, URLs."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    HttpUrl,
    PlainSerializer,
    TypeAdapter,
)

STRICT = ConfigDict(frozen=True, extra="forbid")

_SLUG = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
_EMAIL_LIKE = re.compile(r"@")
_PHONE_LIKE = re.compile(r"^\+?[0-9][0-9 ().-]{5,}$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def _check_slug(value: str) -> str:
    # Ids end up in workflow ids, search attributes and logs, where Temporal cannot encrypt them.
    if _EMAIL_LIKE.search(value):
        raise ValueError(
            f"id {value!r} looks like an email address; ids appear in workflow ids and logs, "
            "so use a slug such as 'dana-reyes' and put the address under channels"
        )
    if _PHONE_LIKE.match(value):
        raise ValueError(
            f"id {value!r} looks like a phone number; ids appear in workflow ids and logs, "
            "so use a slug such as 'dana-reyes' and put the number under channels"
        )
    if not _SLUG.match(value) or len(value) > 64:
        raise ValueError(
            f"id {value!r} is not a slug: use lower-case letters, digits, '-' or '_' "
            "(at most 64 characters), e.g. 'dana-reyes'"
        )
    return value


def parse_duration(value: Any) -> timedelta:
    """Read a human duration such as '5m', '2h', '1h30m' or '1d' (timedeltas pass through)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"write durations as text with a unit, e.g. '5m' or '2h', not {value!r}")
    text = value.strip().replace(" ", "")
    match = _DURATION.match(text)
    if not text or match is None:
        raise ValueError(
            f"{value!r} is not a duration; write e.g. '90s', '5m', '2h', '1h30m' or '1d'"
        )
    days, hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Write a timedelta the way playbooks do ('1h30m')."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("duration must be longer than zero")
    return value


def _check_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not an IANA time zone; use a name such as 'America/New_York'"
        ) from None
    return value


_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _check_web_url(value: str) -> str:
    # Validate with pydantic but keep the text as written: HttpUrl would add a trailing slash.
    _HTTP_URL.validate_python(value)
    return value


Slug = Annotated[str, AfterValidator(_check_slug)]
WebUrl = Annotated[str, AfterValidator(_check_web_url)]
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    AfterValidator(_positive),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
TimeZoneName = Annotated[str, AfterValidator(_check_time_zone)]
