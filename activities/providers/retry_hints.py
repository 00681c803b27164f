"""Read a provider's "try again at" hint from response headers."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, timedelta
from email.utils import parsedate_to_datetime


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return str(value).strip()
    return None


def retry_after(
    headers: Mapping[str, str] | None, *, clock: Callable[[], float] = time.time
) -> timedelta | None:
    """Delay until the provider accepts requests again, from Retry-After or X-RateLimit-Reset.

    Retry-After may be delta-seconds or an HTTP date; X-RateLimit-Reset is a Unix time in seconds
    (SendGrid). Past times give a zero delay; missing or unreadable headers give None.
    """
    value = _header(headers, "Retry-After")
    if value:
        if value.isdigit():
            return timedelta(seconds=int(value))
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return timedelta(seconds=max(0.0, moment.timestamp() - clock()))
    reset = _header(headers, "X-RateLimit-Reset")
    if reset:
        try:
            return timedelta(seconds=max(0.0, float(reset) - clock()))
        except ValueError:
            return None
    return None
