"""The words of a page, its "handled by" notice, the stand-down and notices.

A playbook without the `page` / `page_acknowledged` / `page_stand_down` templates (or one whose
template needs a fact this page lacks) still sends: the plain text below is used instead.
An SMS is cut to the playbook's segment limit by shortening the title, never the ack
instruction or the link. A notice (a reminder, a callout) is its summary, never a phone call.

A restricted (security) request never uses the templates and never names the title, service,
incident id or a link: its summary is the codename line the workflow gives, and the text sends
the reader to the playbook's secure channel (domain.md §4: no SMS but "move to a secure channel").
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.exceptions import ApplicationError

from playbooks import Playbook, TemplateError, UnknownReference, render_template
from playbooks.sms import fit_sms
from playbooks.speech import for_speech
from workflows.escalation_contracts import WRONG_CHANNEL, NotifyRequest

TEMPLATES = {"page": "page", "ack-notice": "page_acknowledged", "stand-down": "page_stand_down"}
NOTICE_SUBJECT_LENGTH = 60


@dataclass(frozen=True)
class PageText:
    """What a provider needs besides the address."""

    body: str
    subject: str | None = None
    html: str | None = None
    voice_text: str | None = None


def page_text(playbook: Playbook, request: NotifyRequest) -> PageText:
    """Render the request's template for its channel, or the plain fallback."""
    if request.purpose == "notice" and request.channel == "voice":
        raise ApplicationError(
            f"Notification {request.notification_id}: a notice is never a phone call; "
            "send it by SMS or email.",
            type=WRONG_CHANNEL,
            non_retryable=True,
        )
    if request.restricted:
        return _restricted(playbook, request)
    if request.purpose == "notice":
        return _notice(playbook, request)
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


def _notice(playbook: Playbook, request: NotifyRequest) -> PageText:
    if request.channel == "sms":
        body = fit_sms(lambda summary: summary, request.summary, playbook.sms.segment_limit)
        return PageText(body=body)
    # A subject is one line, whatever the summary holds.
    subject = " ".join(request.summary.split())[:NOTICE_SUBJECT_LENGTH].rstrip()
    return PageText(body=request.summary, subject=f"mayday: {subject}")


def _restricted(playbook: Playbook, request: NotifyRequest) -> PageText:
    """Security wording: the codename line and the secure channel, nothing about the incident."""
    channel = playbook.company.secure_channel
    where = f"the secure channel {channel}" if channel else "the secure channel"

    def body(summary: str, *, spoken: bool = False) -> str:
        if request.purpose == "ack-notice":
            return f"Handled: {summary}. No action needed."
        if request.purpose == "stand-down":
            return f"Stand down: {summary}. No action needed."
        if request.purpose == "notice":
            return f"SECURITY NOTICE: {summary}. Details only in {where}."
        # A call's keypress is asked for by the provider; a text is answered with ACK.
        ack = "" if spoken else " Reply ACK."
        return f"SECURITY PAGE: {summary}. Join {where} now.{ack}"

    if request.channel == "voice":
        spoken = for_speech(body(request.summary, spoken=True))
        return PageText(body=spoken, voice_text=spoken)
    if request.channel == "sms":
        limit = playbook.sms.segment_limit
        return PageText(body=fit_sms(body, request.summary, limit))
    subjects = {
        "ack-notice": "SECURITY handled",
        "stand-down": "SECURITY stand-down",
        "notice": "SECURITY notice",
    }
    lead = subjects.get(request.purpose, "SECURITY")
    return PageText(body=body(request.summary), subject=f"{lead}: {request.summary}")


def _display_name(playbook: Playbook, person_id: str | None) -> str | None:
    if person_id is None:
        return None
    person = playbook.directory.people.get(person_id)
    return person.name if person is not None else person_id


def _service_name(playbook: Playbook, service_id: str | None) -> str:
    service = playbook.services.get(service_id or "")
    return service.name if service is not None else (service_id or "")
