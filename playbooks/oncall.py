"""Who holds a rotation at a given moment: layers, wall-clock handoffs, overrides, time zones."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from playbooks.errors import NoOneOnCall
from playbooks.schema import Layer, Override, Playbook, Rotation


class OnCall(BaseModel):
    """The holder of a rotation's primary and backup slots until `until` (UTC), the next change."""

    model_config = ConfigDict(frozen=True)

    rotation: str
    primary: str
    backup: str | None
    until: datetime


def who_is_on_call(playbook: Playbook, rotation_id: str, at: datetime) -> OnCall:
    """Who holds `rotation_id` (a rotation id, or a role id) at the aware datetime `at`."""
    return rotation_on_call(playbook.rotation(rotation_id), at)


def rotation_on_call(rotation: Rotation, at: datetime) -> OnCall:
    """Who holds this rotation at `at`, and until when nothing changes."""
    if at.tzinfo is None:
        raise ValueError("give the on-call time a UTC offset or time zone, e.g. 2025-03-10T09:00Z")
    zone = ZoneInfo(rotation.time_zone)
    local = at.astimezone(zone).replace(tzinfo=None)
    active = [
        (index, layer)
        for index, layer in enumerate(rotation.layers)
        if layer.start <= local and (layer.end is None or local < layer.end)
    ]
    if not active:
        raise NoOneOnCall(
            f"rotation {rotation.id!r} has nobody on call at {at.isoformat()}: no layer covers it"
        )
    index, layer = active[-1]
    order, handoff = _shift(layer, local)
    primary, backup = order[0], _first_other(order[1:], order[0])
    changes = [handoff]
    if layer.end is not None:
        changes.append(layer.end)
    changes.extend(later.start for later in rotation.layers[index + 1 :] if later.start > local)
    until = min(changes).replace(tzinfo=zone)
    for override in rotation.overrides:
        start, end = _window(override, zone)
        if start <= at < end:
            primary, backup = _apply(override, order, primary, backup)
            until = min(until, end)
        elif start > at:
            until = min(until, start)
    return OnCall(rotation=rotation.id, primary=primary, backup=backup, until=until.astimezone(UTC))


def _shift(layer: Layer, local: datetime) -> tuple[list[str], datetime]:
    """The layer's members in on-call order for the shift at `local`, and its handoff time."""
    # Wall-clock arithmetic keeps handoffs at the same local time on both sides of a DST change.
    number = (local - layer.start) // layer.shift_length
    start = number % len(layer.members)
    order = layer.members[start:] + layer.members[:start]
    return order, layer.start + (number + 1) * layer.shift_length


def _first_other(candidates: list[str], *excluded: str) -> str | None:
    return next((person for person in candidates if person not in excluded), None)


def _window(override: Override, zone: ZoneInfo) -> tuple[datetime, datetime]:
    if override.start.tzinfo is None:
        return override.start.replace(tzinfo=zone), override.end.replace(tzinfo=zone)
    return override.start, override.end


def _apply(
    override: Override, order: list[str], primary: str, backup: str | None
) -> tuple[str, str | None]:
    if override.slot == "backup":
        return primary, (override.person if override.person != primary else backup)
    # The backup stays the next in line; if the stand-in was that person, the one after them
    # backs up, and the displaced primary only when nobody else is left.
    stand_in = override.person
    backup = _first_other(order[1:], stand_in, order[0]) or _first_other([order[0]], stand_in)
    return stand_in, backup
