"""Render a playbook template for one channel: sandboxed Jinja2, strict variables, safe HTML.

A rendered SMS stays within the playbook's segment limit: when a long incident title pushes it
over, the title is cut (never the link or the instruction around it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict

from playbooks.errors import TemplateError, TemplateFailed, TemplateRefused, UnknownReference
from playbooks.schema import MessageTemplate, Playbook, format_duration
from playbooks.sms import SmsEncoding, cut_sms, fit_sms, fits_sms, measure_sms
from playbooks.speech import for_speech

RenderChannel = Literal["email", "sms", "voice"]
_BLANK_LINES = re.compile(r"\n{3,}")


class RenderedMessage(BaseModel):
    """A message ready to hand to a provider; `segments` is set for SMS."""

    model_config = ConfigDict(frozen=True)

    template: str
    channel: RenderChannel
    subject: str | None = None
    body: str
    html: str | None = None
    encoding: SmsEncoding | None = None
    segments: int | None = None


def render_template(
    playbook: Playbook,
    template_id: str,
    channel: RenderChannel | str,
    context: Mapping[str, object],
) -> RenderedMessage:
    """Render `template_id` for `channel`; the playbook's `company` is added to the context."""
    template = playbook.templates.get(template_id)
    if template is None:
        raise UnknownReference(f"template {template_id!r} is not in playbook {playbook.name!r}")
    variables = {"company": playbook.company.model_dump(mode="json"), **context}
    rendered = render_form(template, channel, variables)
    limit = playbook.sms.segment_limit
    if rendered.channel != "sms" or fits_sms(rendered.body, limit):
        return rendered
    return _fitted_sms(template, variables, limit)


def _fitted_sms(
    template: MessageTemplate, variables: Mapping[str, object], limit: int
) -> RenderedMessage:
    """The SMS form within `limit` segments: the incident's title gives way, the link stays."""
    incident = variables.get("incident")
    title = incident.get("title") if isinstance(incident, Mapping) else None

    def body_with(text: str) -> str:
        given = _replaced(variables, str(title), text) if title else variables
        return render_form(template, "sms", given).body

    body = fit_sms(body_with, str(title), limit) if title else cut_sms(body_with(""), limit)
    length = measure_sms(body)
    return RenderedMessage(
        template=template.id,
        channel="sms",
        body=body,
        encoding=length.encoding,
        segments=length.segments,
    )


def _replaced(value: Any, old: str, new: str) -> Any:
    """`value` with every string equal to `old` (the title, the page reason) now `new`."""
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, Mapping):
        return {key: _replaced(child, old, new) for key, child in value.items()}
    if isinstance(value, list):
        return [_replaced(child, old, new) for child in value]
    return value


def render_form(
    template: MessageTemplate, channel: RenderChannel | str, variables: Mapping[str, object]
) -> RenderedMessage:
    """Render one channel form of a template with exactly these variables."""
    name = template.id
    if channel == "email" and template.email is not None:
        email = template.email
        subject = " ".join(_render(email.subject, variables, f"{name}: email.subject").split())
        html = None
        if email.html is not None:
            html = _render(email.html, variables, f"{name}: email.html", html=True)
        text = _tidy(_render(email.text, variables, f"{name}: email.text"))
        return RenderedMessage(
            template=name, channel="email", subject=subject, body=text, html=html
        )
    if channel == "sms" and template.sms is not None:
        body = _tidy(_render(template.sms, variables, f"{name}: sms"))
        length = measure_sms(body)
        return RenderedMessage(
            template=name,
            channel="sms",
            body=body,
            encoding=length.encoding,
            segments=length.segments,
        )
    if channel == "voice" and template.voice is not None:
        spoken = for_speech(_render(template.voice, variables, f"{name}: voice"))
        return RenderedMessage(template=name, channel="voice", body=spoken)
    forms = ", ".join(template.channels())
    raise UnknownReference(f"template {name!r} has no {channel} form (it has: {forms})")


def compile_check(source: str, *, html: bool = False) -> None:
    """Raise TemplateFailed or TemplateRefused if `source` would not compile or is unsafe."""
    _compiled(source, html)


def _render(source: str, variables: Mapping[str, object], where: str, *, html: bool = False) -> str:
    try:
        return str(_compiled(source, html).render(variables))
    except SecurityError as exc:
        raise TemplateRefused(
            f"refused to render: {exc}; templates may only use the incident context", where
        ) from None
    except UndefinedError as exc:
        raise TemplateFailed(
            f"{exc}; guard optional facts with 'is defined' or pass them in the context", where
        ) from None
    except TemplateError as exc:
        raise type(exc)(exc.detail, where) from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateFailed(str(exc), where) from None


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool) -> Template:
    environment = _environment(html)
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateFailed(f"line {exc.lineno} of the template: {exc.message}") from None
    reached = _private_names(tree)
    if reached:
        raise TemplateRefused(
            f"refused: the template reaches Python internals ({', '.join(sorted(reached))}); "
            "templates may only use the incident context"
        )
    return environment.from_string(source)


def _private_names(tree: nodes.Template) -> set[str]:
    names = {node.attr for node in tree.find_all(nodes.Getattr) if node.attr.startswith("_")}
    for node in tree.find_all(nodes.Getitem):
        if isinstance(node.arg, nodes.Const) and str(node.arg.value).startswith("_"):
            names.add(str(node.arg.value))
    for call in tree.find_all(nodes.Filter):
        if call.name == "attr":
            names.update(
                str(arg.value)
                for arg in call.args
                if isinstance(arg, nodes.Const) and str(arg.value).startswith("_")
            )
    return names


@lru_cache(maxsize=2)
def _environment(html: bool) -> SandboxedEnvironment:
    environment = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        clock=_clock,
        when=_when,
        day=_day,
        duration=_duration,
        listing=_listing,
    )
    return environment


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines))


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    raise TypeError(f"expected a date and time, got {value!r}")


def _clock(value: object) -> str:
    """14:05 UTC"""
    moment = _as_datetime(value)
    return moment.strftime("%H:%M ") + (moment.tzname() or "UTC")


def _when(value: object) -> str:
    """Tue 10 Mar 2026, 14:05 UTC"""
    moment = _as_datetime(value)
    return moment.strftime("%a %d %b %Y, %H:%M ") + (moment.tzname() or "UTC")


def _day(value: object) -> str:
    """10 March 2026"""
    return _as_datetime(value).strftime("%d %B %Y").lstrip("0")


def _duration(value: object) -> str:
    if isinstance(value, timedelta):
        return format_duration(value)
    return str(value)


def _listing(values: object) -> str:
    """'a, b and c'"""
    items = [str(item) for item in values] if isinstance(values, list | tuple) else [str(values)]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
