"""Schema validation that reports every pydantic error as a located playbook issue."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ValidationError

from playbooks.errors import PlaybookIssue
from playbooks.locate import Locator
from playbooks.schema import (
    AlertRoute,
    Audience,
    BusinessFunction,
    Company,
    Directory,
    EscalationPolicy,
    MessageTemplate,
    Person,
    Playbook,
    Role,
    Rotation,
    Service,
    Severity,
    SmsPolicy,
    Team,
)
from playbooks.yamlsource import PathKey

_REASONS = {
    "missing": "is required but missing",
    "extra_forbidden": "is not a known field (check the spelling)",
}

_KEYED: dict[str, type[BaseModel]] = {
    "services": Service,
    "rotations": Rotation,
    "escalation_policies": EscalationPolicy,
    "roles": Role,
    "business_functions": BusinessFunction,
    "audiences": Audience,
    "templates": MessageTemplate,
}
_LISTED: dict[str, type[BaseModel]] = {"severities": Severity, "alert_routes": AlertRoute}


def schema_issues(
    error: ValidationError, locator: Locator, injected_ids: Collection[PathKey] = ()
) -> list[PlaybookIssue]:
    """Turn pydantic's errors into `file:line: path: reason` issues.

    An error about an id the loader copied from its key is reported at the key the user wrote.
    """
    issues = []
    for detail in error.errors(include_url=False):
        path: PathKey = tuple(part for part in detail["loc"] if part != "[key]")
        if path in injected_ids:
            path = path[:-1]
        reason = _REASONS.get(detail["type"]) or _human(detail["msg"])
        if "[key]" in detail["loc"]:
            reason = f"{path[-1]!r} is not an allowed key: {reason}"
        issues.append(locator.issue(path, reason))
    return issues


def _human(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message[0].lower() + message[1:] if message else message


def salvage(raw: dict[str, Any]) -> Playbook:
    """A best-effort playbook of the entries that are valid on their own, for cross-checks.

    Used only when the whole playbook failed the schema, so that reference checks still run and
    the user sees every mistake at once.
    """
    fields: dict[str, Any] = {"name": str(raw.get("name", "")), "content_hash": ""}
    for name, model in _KEYED.items():
        fields[name] = _valid_entries(raw.get(name), model)
    for name, model in _LISTED.items():
        entries = raw.get(name)
        fields[name] = [
            valid
            for entry in (entries if isinstance(entries, list) else [])
            if (valid := _validate(entry, model)) is not None
        ]
    directory = raw.get("directory")
    directory = directory if isinstance(directory, dict) else {}
    fields["directory"] = Directory.model_construct(
        people=_valid_entries(directory.get("people"), Person),
        teams=_valid_entries(directory.get("teams"), Team),
    )
    threshold = raw.get("business_threshold")
    fields["business_threshold"] = threshold if isinstance(threshold, str) else ""
    fields["sms"] = _validate(raw.get("sms", {}), SmsPolicy) or SmsPolicy()
    company = _validate(raw.get("company"), Company)
    if company is not None:
        fields["company"] = company
    return Playbook.model_construct(**fields)


def _valid_entries(entries: object, model: type[BaseModel]) -> dict[str, Any]:
    if not isinstance(entries, dict):
        return {}
    return {
        key: valid
        for key, entry in entries.items()
        if (valid := _validate(entry, model)) is not None
    }


def _validate(entry: object, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(entry)
    except ValidationError:
        return None
