"""The words of a page, its "handled by" notice and the stand-down, from the playbook's templates.

A playbook without the `page` / `page_acknowledged` / `page_stand_down` templates (or one whose
template needs a fact this page lacks) still sends: the plain text below is used instead.
An SMS is cut to the playbook's segment limit by shortening the title, never the ack
instruction or the link.
"""

from __future__ import annotations

from dataclasses import dataclass

from playbooks import Playbook, TemplateError, UnknownReference, render_template
from playbooks.sms import fit_sms
from workflows.escalation_contracts import NotifyRequest

TEMPLATES = {"page": "page", "ack-notice": "page_acknowledged", "stand-down": "page_stand_down"}


@dataclass(frozen=True)
class PageText:
    """What a provider needs besides the address."""

    body: str
    subject: str | None = None
    html: str | None = None
    voice_text: str | None = None


def page_text(playbook: Playbook, request: NotifyRequest) -> PageText:
    """Render the request's template for its channel, or the plain fallback."""
    acked_by = _display_name(playbook, request.acked_by)
    service_name = _service_name(playbook, request.service)
    title = _title(request, service_name)
    context = {
        "incident": {
            "id": request.incident_id,
            "severity": request.severity or "",
            "title": title,
            "service_name": service_name,
            "url": str(playbook.company.internal_status_url),
        },
        "page": {
            "role": request.role_name or "on-call responder",
            # The page has no reason of its own yet; templates print it only when it differs.
            "reason": title,
            "level": request.level,
            **({"acked_by": acked_by} if acked_by else {}),
        },
    }
    if request.severity and request.service:
        try:
            rendered = render_template(
                playbook, TEMPLATES[request.purpose], request.channel, context
            )
        except (TemplateError, UnknownReference):
            pass
        else:
            if request.channel == "voice":
                return PageText(body=rendered.body, voice_text=rendered.body)
            return PageText(body=rendered.body, subject=rendered.subject, html=rendered.html)
    return _plain(playbook, request, acked_by)


def _title(request: NotifyRequest, service_name: str) -> str:
    """The incident's title: the summary without its "SEV2 Checkout: " lead, which the
    templates already print from the severity and service."""
    for service in (service_name, request.service):
        lead = f"{request.severity} {service}: "
        if request.severity and service and request.summary.startswith(lead):
            return request.summary.removeprefix(lead)
    return request.summary


def _plain(playbook: Playbook, request: NotifyRequest, acked_by: str | None) -> PageText:
    body = _plain_body(request, acked_by, request.summary)
    if request.channel == "sms":
        limit = playbook.sms.segment_limit
        body = fit_sms(
            lambda summary: _plain_body(request, acked_by, summary), request.summary, limit
        )
    if request.purpose == "stand-down":
        subject = f"Resolved: {request.summary}"
    elif request.purpose == "ack-notice":
        subject = f"Handled: {request.summary}"
    else:
        subject = f"PAGE: {request.summary}"
    if request.channel == "voice":
        return PageText(body=body, voice_text=body)
    return PageText(body=body, subject=subject if request.channel == "email" else None)


def _plain_body(request: NotifyRequest, acked_by: str | None, summary: str) -> str:
    if request.purpose == "stand-down":
        return f"Stand down: {summary} is resolved. No action needed."
    if request.purpose == "ack-notice":
        return f"Handled by {acked_by or 'a responder'}: {summary}. No action needed."
    return (
        f"PAGE (level {request.level}): {summary}. "
        f"Reply ACK or run: mayday ack {request.incident_id}"
    )


def _display_name(playbook: Playbook, person_id: str | None) -> str | None:
    if person_id is None:
        return None
    person = playbook.directory.people.get(person_id)
    return person.name if person is not None else person_id


def _service_name(playbook: Playbook, service_id: str | None) -> str:
    service = playbook.services.get(service_id or "")
    return service.name if service is not None else (service_id or "")
