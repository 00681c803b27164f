"""The alerts an incident knows, kept compact so that tens of thousands fit one payload.

Each alert is one short string under its key: its status letter, when it last fired and when
it last resolved, as integer microseconds since the epoch (exact, unlike floats) in base 36,
e.g. `Fhc1x8k0lq0` or `Rhc1x8k0lq0/hc1x9a3b2c0`. Twenty thousand alerts take under a
megabyte, so the book travels whole through continue-as-new, under Temporal's 2 MB payload
limit. Long fingerprints are keyed by a digest.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta

FIRING, RESOLVED = "firing", "resolved"
_LETTER = {FIRING: "F", RESOLVED: "R"}
_STATUS = {letter: status for status, letter in _LETTER.items()}
KEY_MAX = 64
ALERTS_MAX = 25_000
"""Alerts tracked one by one; past it the oldest resolved make room, else a new one is counted."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def alert_key(fingerprint: str) -> str:
    """The book's key of a fingerprint: itself when short, else a digest of it."""
    if len(fingerprint) <= KEY_MAX and not fingerprint.startswith("#"):
        return fingerprint
    return "#" + hashlib.sha256(fingerprint.encode()).hexdigest()[:32]


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _micros(at: datetime) -> str:
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    number = (aware - _EPOCH) // _MICRO
    sign = "-" if number < 0 else ""
    number, digits = abs(number), []
    while True:
        number, digit = divmod(number, 36)
        digits.append(_DIGITS[digit])
        if not number:
            return sign + "".join(reversed(digits))


def _time(micros: str) -> datetime | None:
    return _EPOCH + int(micros, 36) * _MICRO if micros else None


class AlertBook:
    """A view over the incident state's `alert_book` dict; reads and writes it in place."""

    def __init__(self, book: dict[str, str]) -> None:
        self._book = book

    def __len__(self) -> int:
        return len(self._book)

    def _fields(self, fingerprint: str) -> tuple[str, str, str] | None:
        entry = self._book.get(alert_key(fingerprint))
        if entry is None:
            return None
        fired, _, ended = entry[1:].partition("/")
        return _STATUS[entry[0]], fired, ended

    def status(self, fingerprint: str) -> str | None:
        """firing, resolved, or None for an alert never seen."""
        fields = self._fields(fingerprint)
        return fields[0] if fields else None

    def fired_at(self, fingerprint: str) -> datetime | None:
        """When the alert last fired (source time where given)."""
        fields = self._fields(fingerprint)
        return _time(fields[1]) if fields else None

    def ended_at(self, fingerprint: str) -> datetime | None:
        """When the alert last resolved (source time where given)."""
        fields = self._fields(fingerprint)
        return _time(fields[2]) if fields else None

    def note(
        self,
        fingerprint: str,
        *,
        status: str | None = None,
        fired: datetime | None = None,
        ended: datetime | None = None,
    ) -> bool:
        """Change what is known of an alert; False when the book is full and it is new."""
        key = alert_key(fingerprint)
        old = self._fields(fingerprint)
        if old is None and not self._make_room():
            return False
        was_status, was_fired, was_ended = old or (status or FIRING, "", "")
        new_status = status or was_status
        new_fired = _micros(fired) if fired is not None else was_fired
        new_ended = _micros(ended) if ended is not None else was_ended
        entry = _LETTER[new_status] + new_fired + (f"/{new_ended}" if new_ended else "")
        self._book[key] = entry
        return True

    def _make_room(self) -> bool:
        if len(self._book) < ALERTS_MAX:
            return True
        oldest_resolved = next((key for key, entry in self._book.items() if entry[0] == "R"), None)
        if oldest_resolved is None:
            return False
        del self._book[oldest_resolved]
        return True

    def shed_resolved(self, count: int) -> int:
        """Forget up to `count` of the oldest resolved alerts; how many were forgotten."""
        oldest = [key for key, entry in self._book.items() if entry[0] == "R"][:count]
        for key in oldest:
            del self._book[key]
        return len(oldest)

    def counts(self) -> dict[str, int]:
        """How many alerts have each status."""
        counted = Counter(_STATUS[entry[0]] for entry in self._book.values())
        return dict(sorted(counted.items()))

    def all_resolved(self) -> bool:
        """At least one alert, and every one resolved."""
        return bool(self._book) and all(entry[0] == "R" for entry in self._book.values())

    def newest(self, limit: int) -> dict[str, str]:
        """The last `limit` alerts the incident first heard of, key to status."""
        keys = list(self._book)[-limit:] if limit else []
        return {key: _STATUS[self._book[key][0]] for key in keys}

    def migrate(
        self,
        statuses: dict[str, str],
        fired: dict[str, datetime],
        ended: dict[str, datetime],
    ) -> None:
        """Take the three dicts a run before this book kept (state carried from Step 5)."""
        for fingerprint, status in statuses.items():
            self.note(
                fingerprint,
                status=status,
                fired=fired.get(fingerprint),
                ended=ended.get(fingerprint),
            )
        statuses.clear()
        fired.clear()
        ended.clear()
