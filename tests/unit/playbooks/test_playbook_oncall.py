"""Who is on call: handoffs, backups, layers, dated overrides, time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from playbooks import NoOneOnCall, Playbook, Rotation, rotation_on_call, who_is_on_call


def _rotation(time_zone: str = "America/New_York", **changes: Any) -> Rotation:
    data: dict[str, Any] = {
        "id": "ic",
        "name": "Incident Commanders",
        "time_zone": time_zone,
        "layers": [{"name": "weekly", "members": ["ann", "bo", "cy"], "start": "2026-01-05T09:00"}],
    }
    data.update(changes)
    return Rotation.model_validate(data)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_weekly_handoff_passes_the_pager_at_the_local_handoff_time() -> None:
    rotation = _rotation()
    # Monday 2026-01-12 09:00 in New York is 14:00 UTC (EST).
    before = rotation_on_call(rotation, _utc("2026-01-12T13:59"))
    after = rotation_on_call(rotation, _utc("2026-01-12T14:00"))
    assert (before.primary, before.backup) == ("ann", "bo")
    assert before.until == _utc("2026-01-12T14:00")
    assert (after.primary, after.backup) == ("bo", "cy")
    assert after.until == _utc("2026-01-19T14:00")


def test_backup_wraps_around_to_the_first_member() -> None:
    holder = rotation_on_call(_rotation(), _utc("2026-01-20T12:00"))
    assert (holder.primary, holder.backup) == ("cy", "ann")


def test_handoff_stays_at_nine_local_across_spring_forward() -> None:
    # DST starts in New York on Sunday 2026-03-08: Monday 09:00 moves from 14:00Z to 13:00Z.
    rotation = _rotation()
    last_winter_shift = rotation_on_call(rotation, _utc("2026-03-09T12:59"))
    first_summer_shift = rotation_on_call(rotation, _utc("2026-03-09T13:00"))
    assert last_winter_shift.until == _utc("2026-03-09T13:00")
    assert first_summer_shift.primary != last_winter_shift.primary
    assert first_summer_shift.primary == last_winter_shift.backup
    assert first_summer_shift.until == _utc("2026-03-16T13:00")


def test_handoff_stays_at_nine_local_across_fall_back() -> None:
    # DST ends in New York on Sunday 2026-11-01: Monday 09:00 moves from 13:00Z to 14:00Z.
    rotation = _rotation()
    at_old_offset = rotation_on_call(rotation, _utc("2026-11-02T13:30"))
    assert at_old_offset.until == _utc("2026-11-02T14:00")
    assert rotation_on_call(rotation, _utc("2026-11-02T14:00")).primary == at_old_offset.backup


def test_rotation_time_zone_decides_the_handoff_instant() -> None:
    london = _rotation("Europe/London")
    tokyo = _rotation("Asia/Tokyo")
    assert rotation_on_call(london, _utc("2026-01-12T12:00")).until == _utc("2026-01-19T09:00")
    assert rotation_on_call(tokyo, _utc("2026-01-12T12:00")).until == _utc("2026-01-19T00:00")


def test_custom_twelve_hour_handoff_follows_the_sun() -> None:
    rotation = _rotation(
        "UTC",
        layers=[
            {
                "name": "sun",
                "members": ["london", "new-york"],
                "start": "2026-01-05T08:00",
                "handoff": "custom",
                "every": "12h",
            }
        ],
    )
    assert rotation_on_call(rotation, _utc("2026-02-10T19:59")).primary == "london"
    evening = rotation_on_call(rotation, _utc("2026-02-10T20:00"))
    assert (evening.primary, evening.backup) == ("new-york", "london")
    assert evening.until == _utc("2026-02-11T08:00")


def test_daily_handoff() -> None:
    rotation = _rotation(
        "UTC",
        layers=[
            {
                "name": "daily",
                "members": ["ann", "bo"],
                "start": "2026-01-05T10:00",
                "handoff": "daily",
            }
        ],
    )
    assert rotation_on_call(rotation, _utc("2026-01-05T10:00")).primary == "ann"
    assert rotation_on_call(rotation, _utc("2026-01-06T10:00")).primary == "bo"
    assert rotation_on_call(rotation, _utc("2026-01-07T09:59")).primary == "bo"


def test_later_layer_takes_over_from_its_start() -> None:
    rotation = _rotation(
        "UTC",
        layers=[
            {"name": "old", "members": ["ann", "bo"], "start": "2026-01-05T09:00"},
            {"name": "new", "members": ["cy", "di"], "start": "2026-02-04T12:00"},
        ],
    )
    before = rotation_on_call(rotation, _utc("2026-02-04T11:00"))
    assert before.primary in {"ann", "bo"}
    assert before.until == _utc("2026-02-04T12:00")
    after = rotation_on_call(rotation, _utc("2026-02-04T12:00"))
    assert (after.primary, after.backup) == ("cy", "di")


def test_dated_override_replaces_the_primary_for_its_window() -> None:
    rotation = _rotation(
        overrides=[
            {"person": "zed", "start": "2026-01-14T18:00", "end": "2026-01-15T08:00"},
        ]
    )
    before = rotation_on_call(rotation, _utc("2026-01-14T12:00"))
    assert before.primary == "bo"
    assert before.until == _utc("2026-01-14T23:00")  # 18:00 New York
    during = rotation_on_call(rotation, _utc("2026-01-15T02:00"))
    assert (during.primary, during.backup) == ("zed", "cy")
    assert during.until == _utc("2026-01-15T13:00")
    assert rotation_on_call(rotation, _utc("2026-01-15T13:00")).primary == "bo"


def test_override_by_the_backup_moves_the_backup_to_the_next_in_line() -> None:
    rotation = _rotation(
        overrides=[
            {"person": "cy", "start": "2026-01-13T00:00Z", "end": "2026-01-14T00:00Z"},
        ]
    )
    holder = rotation_on_call(rotation, _utc("2026-01-13T12:00"))
    assert (holder.primary, holder.backup) == ("cy", "ann")


def test_override_of_the_backup_slot_keeps_the_primary() -> None:
    rotation = _rotation(
        overrides=[
            {
                "person": "zed",
                "start": "2026-01-13T00:00",
                "end": "2026-01-14T00:00",
                "slot": "backup",
            },
        ]
    )
    holder = rotation_on_call(rotation, _utc("2026-01-13T12:00"))
    assert (holder.primary, holder.backup) == ("bo", "zed")


def test_nobody_on_call_before_the_first_layer_starts() -> None:
    with pytest.raises(NoOneOnCall, match="no layer covers it"):
        rotation_on_call(_rotation(), _utc("2025-12-31T12:00"))


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        rotation_on_call(_rotation(), datetime(2026, 1, 12, 9))


def test_role_id_resolves_to_its_rotation(acme: Playbook) -> None:
    at = _utc("2026-06-01T12:00")
    assert who_is_on_call(acme, "incident_commander", at) == who_is_on_call(
        acme, "incident-commanders", at
    )


def test_every_acme_role_has_a_primary_and_a_different_backup(acme: Playbook) -> None:
    now = datetime.now(UTC)
    for role_id in acme.roles:
        holder = who_is_on_call(acme, role_id, now)
        assert holder.primary in acme.directory.people
        assert holder.backup in acme.directory.people
        assert holder.backup != holder.primary
        assert now < holder.until <= now + timedelta(days=7)


def test_acme_holiday_override_puts_omar_in_command(acme: Playbook) -> None:
    holder = who_is_on_call(acme, "incident_commander", _utc("2026-12-25T12:00"))
    assert (holder.primary, holder.backup) == ("omar-haddad", "dana-reyes")
    assert holder.until == _utc("2026-12-28T14:00")
