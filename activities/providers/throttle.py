"""Carrier-aware throttling: how long a send to one destination must wait, never sleeping.

Carriers block sending numbers that flood one handset, so a flapping alert must not turn into
dozens of texts or calls to the same phone. Two limits apply to every send, each a sliding
window over the times of earlier sends:

- per destination and channel (default: SMS 5 per 15 minutes, voice 3 per 15 minutes);
- per channel across all destinations (the provider's account-wide pace).

The limiter is pure bookkeeping on an injected monotonic clock, so it is deterministic in tests;
callers decide what to do with the delay (a Temporal retry with `next_retry_delay`). Destinations
are held in memory only and never logged.

This in-process limiter is one host's view. Where a carrier sends, the per-destination budget is
kept in each contact's entity in Temporal instead (`throttled.SharedSendBudget`), so every worker
counts against one budget; the channel-wide pace stays here, a per-host courtesy to the provider.
Ack notices and stand-downs never use up a destination's budget (`BUDGET_EXEMPT_PURPOSES`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from activities.providers.message import Channel

_ZERO = timedelta(0)

BUDGET_EXEMPT_PURPOSES = frozenset({"ack-notice", "stand-down"})
""""No action needed" messages: they must not crowd out the next page to the same number."""


@dataclass(frozen=True)
class RateLimit:
    """At most `count` sends in any window of length `per`."""

    count: int
    per: timedelta

    def __post_init__(self) -> None:
        if self.count < 1 or self.per <= _ZERO:
            raise ValueError("a rate limit needs a count of at least 1 and a positive window")


def _frozen(limits: Mapping[Channel, RateLimit]) -> Mapping[Channel, RateLimit]:
    return MappingProxyType(dict(limits))


DEFAULT_PER_DESTINATION: Mapping[Channel, RateLimit] = _frozen(
    {
        "sms": RateLimit(5, timedelta(minutes=15)),
        "voice": RateLimit(3, timedelta(minutes=15)),
    }
)
DEFAULT_PER_CHANNEL: Mapping[Channel, RateLimit] = _frozen(
    {
        "sms": RateLimit(10, timedelta(seconds=1)),
        "voice": RateLimit(5, timedelta(seconds=1)),
        "email": RateLimit(50, timedelta(seconds=1)),
        "pagerduty": RateLimit(120, timedelta(minutes=1)),
    }
)


@dataclass(frozen=True)
class ThrottlePolicy:
    """Which limits apply; a channel missing from a mapping is not limited at that level."""

    per_destination: Mapping[Channel, RateLimit] = field(
        default_factory=lambda: DEFAULT_PER_DESTINATION
    )
    per_channel: Mapping[Channel, RateLimit] = field(default_factory=lambda: DEFAULT_PER_CHANNEL)

    @classmethod
    def unlimited(cls) -> ThrottlePolicy:
        """A policy that never holds anything back."""
        return cls(per_destination={}, per_channel={})


class _Window:
    """Send times inside one sliding window, oldest first."""

    __slots__ = ("limit", "times")

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more send fits, after forgetting sends that left the window."""
        span = self.limit.per.total_seconds()
        while self.times and self.times[0] <= now - span:
            self.times.popleft()
        if len(self.times) < self.limit.count:
            return 0.0
        return self.times[len(self.times) - self.limit.count] + span - now


class DeliveryThrottle:
    """Per-destination and per-channel sliding-window limiter (thread-safe)."""

    def __init__(
        self,
        policy: ThrottlePolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or ThrottlePolicy()
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[Channel, str | None], _Window] = {}
        self._since_sweep = 0

    def delay(self, channel: Channel, destination: str | None) -> timedelta:
        """How long a send on `channel` to `destination` must wait now (zero: send at once).

        A destination of None asks about the channel-wide pace only.
        """
        with self._lock:
            return timedelta(seconds=self._wait(channel, destination, self._clock()))

    def acquire(self, channel: Channel, destination: str | None) -> timedelta:
        """Admit and record a send if it may go now (returns zero); otherwise return the wait.

        A refused send is not recorded, so asking again after the wait succeeds.
        """
        with self._lock:
            now = self._clock()
            wait = self._wait(channel, destination, now)
            if wait <= 0:
                for window in self._applicable(channel, destination):
                    window.times.append(now)
                self._sweep(now)
            return timedelta(seconds=wait)

    def _wait(self, channel: Channel, destination: str | None, now: float) -> float:
        return max((w.wait(now) for w in self._applicable(channel, destination)), default=0.0)

    def _applicable(self, channel: Channel, destination: str | None) -> list[_Window]:
        limits: list[tuple[tuple[Channel, str | None], RateLimit | None]] = [
            ((channel, None), self.policy.per_channel.get(channel))
        ]
        if destination is not None:
            limits.append(((channel, destination), self.policy.per_destination.get(channel)))
        windows = []
        for key, limit in limits:
            if limit is None:
                continue
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = _Window(limit)
            windows.append(window)
        return windows

    def _sweep(self, now: float) -> None:
        """Drop windows that emptied, now and then, so memory follows recent destinations only."""
        self._since_sweep += 1
        if self._since_sweep < 1024:
            return
        self._since_sweep = 0
        for key in [k for k, w in self._windows.items() if w.wait(now) == 0.0 and not w.times]:
            del self._windows[key]
