"""Who a page level reaches: rotations, roles, teams and people resolved against the directory."""

from __future__ import annotations

from datetime import datetime

from playbooks import NoOneOnCall, Playbook, UnknownReference, who_is_on_call
from workflows.escalation_contracts import LevelMember, PageTarget, ResolvedLevel, Slot


def resolve_targets(
    playbook: Playbook, targets: list[PageTarget], at: datetime, *, both: bool = False
) -> ResolvedLevel:
    """The people `targets` name at `at`, each once, in target order.

    With `both`, a rotation or role target pages its primary and backup together. A target with
    nobody on call, or one the playbook does not know, is listed in `unresolved`.
    """
    picked: list[tuple[str, str]] = []
    unresolved: list[str] = []
    for target in targets:
        try:
            found = _people(playbook, target, at, both=both)
        except (NoOneOnCall, UnknownReference):
            found = []
        if not found:
            unresolved.append(target.id)
        picked.extend(found)
    members: list[LevelMember] = []
    for person_id, slot in picked:
        if any(member.person == person_id for member in members):
            continue
        person = playbook.directory.people.get(person_id)
        if person is None:
            unresolved.append(person_id)
            continue
        channels = [channel.kind for channel in person.channels]
        members.append(LevelMember(person=person_id, slot=slot, channels=channels))
    return ResolvedLevel(members=members, unresolved=unresolved)


def _people(
    playbook: Playbook, target: PageTarget, at: datetime, *, both: bool
) -> list[tuple[str, str]]:
    if target.kind == "person":
        playbook.person(target.id)
        return [(target.id, "person")]
    if target.kind == "team":
        team = playbook.directory.teams.get(target.id)
        if team is None:
            raise UnknownReference(f"team {target.id!r} is not in the directory")
        return [(member, "team") for member in team.members]
    on_call = who_is_on_call(playbook, target.id, at)
    slot: Slot = "both" if both and target.slot == "primary" else target.slot
    people: list[tuple[str, str]] = []
    if slot in ("primary", "both"):
        people.append((on_call.primary, "on-call"))
    if slot in ("backup", "both") and on_call.backup is not None:
        people.append((on_call.backup, "backup"))
    return people
