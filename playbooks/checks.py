"""Cross-checks the schema cannot express: references, coverage and consistency."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playbooks.errors import PlaybookIssue
from playbooks.locate import Locator
from playbooks.schema import Playbook, Rotation, format_duration
from playbooks.template_checks import check_templates
from playbooks.yamlsource import PathKey
from workflows.authority import DECISIONS, WORDS

REQUIRED_ROLES = ("incident_commander",)


@dataclass(frozen=True)
class Known:
    """Every id the playbook defines, valid or not, so a broken entry is not also 'unknown'."""

    people: frozenset[str]
    teams: frozenset[str]
    rotations: frozenset[str]
    policies: frozenset[str]
    roles: frozenset[str]
    services: frozenset[str]
    functions: frozenset[str]
    templates: frozenset[str]
    severities: frozenset[str]
    unreadable: frozenset[str] = frozenset()

    @classmethod
    def from_raw(cls, raw: dict[str, Any], unreadable: Iterable[str] = ()) -> Known:
        """Collect ids from the raw playbook; `unreadable` kinds come from a missing file."""
        directory = raw.get("directory")
        directory = directory if isinstance(directory, dict) else {}
        severities = raw.get("severities")
        severities = severities if isinstance(severities, list) else []
        return cls(
            people=_keys(directory.get("people")),
            teams=_keys(directory.get("teams")),
            rotations=_keys(raw.get("rotations")),
            policies=_keys(raw.get("escalation_policies")),
            roles=_keys(raw.get("roles")),
            services=_keys(raw.get("services")),
            functions=_keys(raw.get("business_functions")),
            templates=_keys(raw.get("templates")),
            severities=frozenset(
                str(s["id"]) for s in severities if isinstance(s, dict) and "id" in s
            ),
            unreadable=frozenset(unreadable),
        )


def _keys(section: object) -> frozenset[str]:
    return frozenset(section) if isinstance(section, dict) else frozenset()


def cross_check(playbook: Playbook, known: Known, locator: Locator) -> list[PlaybookIssue]:
    """Every cross-reference and consistency problem, located in the files."""
    checks = _Checks(playbook, known)
    problems = [
        *checks.severities(),
        *checks.services(),
        *checks.directory(),
        *checks.rotations(),
        *checks.policies(),
        *checks.roles(),
        *checks.functions(),
        *checks.resume_order(),
        *checks.audiences(),
        *checks.routes(),
        *checks.authority(),
    ]
    issues = [locator.issue(path, reason) for path, reason in problems]
    issues.extend(check_templates(playbook, locator))
    return issues


Problem = tuple[PathKey, str]


class _Checks:
    def __init__(self, playbook: Playbook, known: Known) -> None:
        self.pb = playbook
        self.known = known

    def _ref(self, path: PathKey, kind: str, value: str, ids: frozenset[str]) -> Iterator[Problem]:
        # References into a file that could not be read were already reported as that file.
        if value not in ids and kind not in self.known.unreadable:
            yield path, f"unknown {kind} {value!r}{_suggestion(value, ids)}"

    def _refs(
        self, path: PathKey, kind: str, values: Iterable[str], ids: frozenset[str]
    ) -> Iterator[Problem]:
        for index, value in enumerate(values):
            yield from self._ref((*path, index), kind, value, ids)

    def severities(self) -> Iterator[Problem]:
        seen: set[str] = set()
        for index, severity in enumerate(self.pb.severities):
            if severity.id in seen:
                yield ("severities", index, "id"), f"duplicate severity id {severity.id!r}"
            seen.add(severity.id)
        yield from self._ref(
            ("business_threshold",), "severity", self.pb.business_threshold, self.known.severities
        )
        if self.pb.commander_threshold is not None:
            yield from self._ref(
                ("commander_threshold",),
                "severity",
                self.pb.commander_threshold,
                self.known.severities,
            )

    def services(self) -> Iterator[Problem]:
        for key, service in self.pb.services.items():
            yield from self._ref(("services", key, "team"), "team", service.team, self.known.teams)
            yield from self._ref(
                ("services", key, "escalation_policy"),
                "escalation policy",
                service.escalation_policy,
                self.known.policies,
            )

    def directory(self) -> Iterator[Problem]:
        for key, team in self.pb.directory.teams.items():
            path = ("directory", "teams", key)
            yield from self._refs((*path, "members"), "person", team.members, self.known.people)
            if team.rotation is not None:
                yield from self._ref(
                    (*path, "rotation"), "rotation", team.rotation, self.known.rotations
                )

    def rotations(self) -> Iterator[Problem]:
        for key, rotation in self.pb.rotations.items():
            path: PathKey = ("rotations", key)
            for index, layer in enumerate(rotation.layers):
                layer_path = (*path, "layers", index)
                yield from self._refs(
                    (*layer_path, "members"), "person", layer.members, self.known.people
                )
                if len(set(layer.members)) < 2:
                    yield (
                        (*layer_path, "members"),
                        (
                            f"layer {layer.name!r} has one member, so nobody backs them up; "
                            "add a second member"
                        ),
                    )
            for index, override in enumerate(rotation.overrides):
                yield from self._ref(
                    (*path, "overrides", index, "person"),
                    "person",
                    override.person,
                    self.known.people,
                )
            gap = _first_gap(rotation)
            if gap is not None:
                yield (
                    (*path, "layers"),
                    (
                        f"rotation has a gap: nobody is on call from {gap.isoformat(sep=' ')}; "
                        "add a layer that starts by then or remove the end"
                    ),
                )

    def policies(self) -> Iterator[Problem]:
        sets = {
            "rotation": self.known.rotations,
            "role": self.known.roles,
            "person": self.known.people,
            "team": self.known.teams,
        }
        for key, policy in self.pb.escalation_policies.items():
            for level_index, level in enumerate(policy.levels):
                for index, target in enumerate(level.targets):
                    path = ("escalation_policies", key, "levels", level_index, "targets", index)
                    for kind, ids in sets.items():
                        value = getattr(target, kind)
                        if value is not None:
                            yield from self._ref((*path, kind), kind, value, ids)

    def roles(self) -> Iterator[Problem]:
        for role_id in REQUIRED_ROLES:
            if role_id not in self.known.roles:
                yield ("roles",), f"the {role_id!r} role is required: every incident needs one"
        for key, role in self.pb.roles.items():
            path = ("roles", key)
            yield from self._ref(
                (*path, "rotation"), "rotation", role.rotation, self.known.rotations
            )
            if role.escalation_policy is not None:
                yield from self._ref(
                    (*path, "escalation_policy"),
                    "escalation policy",
                    role.escalation_policy,
                    self.known.policies,
                )
            rotation = self.pb.rotations.get(role.rotation)
            if rotation is not None and not _has_current_layer(rotation):
                yield (
                    (*path, "rotation"),
                    (f"role has nobody: every layer of rotation {role.rotation!r} has ended"),
                )

    def functions(self) -> Iterator[Problem]:
        for key, function in self.pb.business_functions.items():
            path: PathKey = ("business_functions", key)
            yield from self._ref(
                (*path, "owner_role"), "role", function.owner_role, self.known.roles
            )
            yield from self._refs(
                (*path, "resume_after"),
                "business function",
                function.resume_after,
                self.known.functions,
            )
            for phase in ("halt", "resume"):
                seen: set[str] = set()
                for index, action in enumerate(getattr(function, phase)):
                    action_path = (*path, phase, index)
                    if action.id in seen:
                        yield (*action_path, "id"), f"duplicate action id {action.id!r}"
                    seen.add(action.id)
                    yield from self._ref(
                        (*action_path, "owner_role"), "role", action.owner_role, self.known.roles
                    )

    def resume_order(self) -> Iterator[Problem]:
        functions = self.pb.business_functions
        for key in functions:
            cycle = _cycle_from(key, {k: f.resume_after for k, f in functions.items()})
            if cycle and cycle[0] == min(cycle):
                yield (
                    ("business_functions", key, "resume_after"),
                    (
                        f"resume order is circular ({' -> '.join([*cycle, cycle[0]])}), "
                        "so none of these functions could ever resume"
                    ),
                )

    def audiences(self) -> Iterator[Problem]:
        for key, audience in self.pb.audiences.items():
            path: PathKey = ("audiences", key)
            if not audience.channels:
                yield (
                    (*path, "channels"),
                    (
                        "audience has no channel, so nobody would hear from it; "
                        "list at least one of email, sms or voice"
                    ),
                )
            members = audience.members
            if not (
                members.people or members.teams or members.roles or members.lists or audience.opt_in
            ):
                yield (
                    (*path, "members"),
                    ("audience has no members and no opt-in, so nobody would receive its messages"),
                )
            yield from self._refs(
                (*path, "members", "people"), "person", members.people, self.known.people
            )
            yield from self._refs(
                (*path, "members", "teams"), "team", members.teams, self.known.teams
            )
            yield from self._refs(
                (*path, "members", "roles"), "role", members.roles, self.known.roles
            )
            if audience.min_severity is not None:
                yield from self._ref(
                    (*path, "min_severity"),
                    "severity",
                    audience.min_severity,
                    self.known.severities,
                )
            yield from self._approval_chain(path, audience.approval_chain)
            loop = sum((step.eta for step in audience.approval_chain), timedelta())
            if loop > audience.cadence.update_every:
                yield (
                    (*path, "cadence", "update_every"),
                    (
                        "impossible cadence: the approval chain takes up to "
                        f"{format_duration(loop)}, longer than update_every "
                        f"({format_duration(audience.cadence.update_every)}), so updates could "
                        "never keep up; shorten the step ETAs or update less often"
                    ),
                )
            if audience.channels:
                yield from self._audience_templates(path, audience.channels, audience.templates)

    def _approval_chain(self, path: PathKey, chain: Iterable[Any]) -> Iterator[Problem]:
        for index, step in enumerate(chain):
            for role_index, role_id in enumerate(step.roles):
                role_path = (*path, "approval_chain", index, "roles", role_index)
                role = self.pb.roles.get(role_id)
                if role_id not in self.known.roles:
                    yield from self._ref(role_path, "role", role_id, self.known.roles)
                elif role is not None and role.rotation not in self.known.rotations:
                    yield (
                        role_path,
                        (
                            f"approval step names role {role_id!r}, whose rotation "
                            f"{role.rotation!r} does not exist, so nobody could act on it"
                        ),
                    )

    def _audience_templates(
        self, path: PathKey, channels: Sequence[str], templates: Mapping[Any, str]
    ) -> Iterator[Problem]:
        for purpose, template_id in templates.items():
            template_path = (*path, "templates", purpose)
            yield from self._ref(template_path, "template", template_id, self.known.templates)
            template = self.pb.templates.get(template_id)
            if template is None:
                continue
            # A message goes out on the channels both the audience and the template have.
            if not set(channels) & set(template.channels()):
                yield (
                    template_path,
                    (
                        f"template {template_id!r} has no form for this audience's channels "
                        f"({', '.join(channels)}); add one so the message can be sent"
                    ),
                )

    def authority(self) -> Iterator[Problem]:
        yield from _authority_problems(self.pb.authority, self.known.roles)

    def routes(self) -> Iterator[Problem]:
        seen: set[str] = set()
        for index, route in enumerate(self.pb.alert_routes):
            path = ("alert_routes", index)
            if route.id in seen:
                yield (*path, "id"), f"duplicate alert route id {route.id!r}"
            seen.add(route.id)
            yield from self._ref((*path, "service"), "service", route.service, self.known.services)
            yield from self._ref(
                (*path, "severity"), "severity", route.severity, self.known.severities
            )


def _authority_problems(
    authority: Mapping[str, list[str]], roles: frozenset[str]
) -> Iterator[Problem]:
    decisions = frozenset(DECISIONS)
    for decision, rule in authority.items():
        path: PathKey = ("authority", decision)
        if decision not in decisions:
            yield path, f"unknown decision {decision!r}{_suggestion(decision, decisions)}"
            continue
        if not rule:
            yield path, "an empty rule lets nobody decide; name roles, or `responder` / `anyone`"
        for index, item in enumerate(rule):
            if item not in WORDS and item not in roles:
                known = roles | WORDS
                yield (*path, index), f"unknown role {item!r}{_suggestion(item, known)}"


def _cycle_from(start: str, after: Mapping[str, list[str]]) -> list[str]:
    """The cycle through `start` in the resume-after graph, or [] if there is none."""
    path: list[str] = []

    def visit(node: str) -> list[str]:
        if node == start and path:
            return list(path)
        if node in path or node not in after:
            return []
        path.append(node)
        for following in after[node]:
            found = visit(following)
            if found:
                return found
        path.pop()
        return []

    return visit(start)


def _suggestion(value: str, ids: frozenset[str]) -> str:
    close = difflib.get_close_matches(value, sorted(ids), n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    if not ids:
        return " (none are defined)"
    names = sorted(ids)
    more = f" and {len(names) - 8} more" if len(names) > 8 else ""
    return f" (known: {', '.join(names[:8])}{more})"


def _first_gap(rotation: Rotation) -> datetime | None:
    """The first moment after the earliest layer starts that no layer covers, if any."""
    spans = sorted((layer.start, layer.end) for layer in rotation.layers)
    reach: datetime | None = spans[0][0]
    for start, end in spans:
        if reach is None:
            return None
        if start > reach:
            return reach
        reach = None if end is None else max(reach, end)
    return reach


def _has_current_layer(rotation: Rotation) -> bool:
    now = datetime.now(ZoneInfo(rotation.time_zone)).replace(tzinfo=None)
    return any(layer.end is None or layer.end > now for layer in rotation.layers)
