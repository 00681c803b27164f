"""Template cross-checks: syntax, sandbox safety, variables and SMS length.

Every template is compiled, then rendered for each of its channels twice: with the full sample
incident and with only the facts callers always provide, so an unguarded optional fact or an
SMS that outgrows the playbook's segment limit is caught before an incident needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from playbooks.context import minimal_context, sample_context
from playbooks.errors import PlaybookIssue, TemplateError
from playbooks.locate import Locator
from playbooks.rendering import compile_check, render_form
from playbooks.schema import MessageTemplate, Playbook
from playbooks.yamlsource import PathKey

_CONTEXTS = (
    ("the sample incident", sample_context),
    ("an incident with only the required facts", minimal_context),
)


def check_templates(playbook: Playbook, locator: Locator) -> list[PlaybookIssue]:
    """Every template problem, located in its file."""
    issues: list[PlaybookIssue] = []
    # A playbook salvaged from schema errors may lack a valid company; then only compile.
    company = playbook.company.model_dump(mode="json") if "company" in playbook.__dict__ else None
    for template_id, template in playbook.templates.items():
        path: PathKey = ("templates", template_id)
        problems = list(_compile_problems(template))
        if not problems and company is not None:
            problems = list(_render_problems(template, company, playbook.sms.segment_limit))
        issues.extend(locator.issue((*path, *where), reason) for where, reason in problems)
    for index, route in enumerate(playbook.alert_routes):
        try:
            compile_check(route.dedup_key)
        except TemplateError as exc:
            issues.append(locator.issue(("alert_routes", index, "dedup_key"), exc.detail))
    return issues


def _forms(template: MessageTemplate) -> Iterator[tuple[PathKey, str, bool]]:
    if template.email is not None:
        yield ("email", "subject"), template.email.subject, False
        yield ("email", "text"), template.email.text, False
        if template.email.html is not None:
            yield ("email", "html"), template.email.html, True
    if template.sms is not None:
        yield ("sms",), template.sms, False
    if template.voice is not None:
        yield ("voice",), template.voice, False


def _compile_problems(template: MessageTemplate) -> Iterator[tuple[PathKey, str]]:
    for where, source, html in _forms(template):
        try:
            compile_check(source, html=html)
        except TemplateError as exc:
            yield where, exc.detail


def _render_problems(
    template: MessageTemplate, company: dict[str, Any], segment_limit: int
) -> Iterator[tuple[PathKey, str]]:
    for channel in template.channels():
        problem = _first_problem(template, channel, company, segment_limit)
        if problem is not None:
            yield (channel,), problem


def _first_problem(
    template: MessageTemplate, channel: str, company: dict[str, Any], segment_limit: int
) -> str | None:
    for description, make_context in _CONTEXTS:
        try:
            message = render_form(template, channel, {"company": company, **make_context()})
        except TemplateError as exc:
            return f"fails to render with {description}: {exc.detail}"
        if message.segments is not None and message.segments > segment_limit:
            return (
                f"renders to {message.segments} SMS segments ({message.encoding}) with "
                f"{description}, over the playbook's limit of {segment_limit}; "
                "shorten it and link to the full text"
            )
    return None
