"""The technical phase of an incident and the moves allowed between phases."""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """Technical phase, in the only order an incident moves through it."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        """Whether the technical incident is still being worked (before resolution)."""
        return self in OPEN_PHASES

    @property
    def rank(self) -> int:
        """Position along the phase order, 0 for investigating."""
        return list(Phase).index(self)

    def next(self) -> Phase | None:
        """The single phase this one may move forward to, or None at the end."""
        order = list(Phase)
        return order[self.rank + 1] if self.rank + 1 < len(order) else None


OPEN_PHASES = frozenset({Phase.INVESTIGATING, Phase.IDENTIFIED, Phase.MONITORING})
REOPENABLE_PHASES = frozenset({Phase.IDENTIFIED, Phase.MONITORING, Phase.RESOLVED})
