"""What mayday workers run: every workflow and activity, and the providers they send through."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from activities.business_actions import BusinessActions
from activities.contacts import ClientSource, ContactBook, activity_client
from activities.notify import NotifyActivities
from activities.opt_outs import OptOutRegistry
from activities.providers import Channel, ProviderSet, RateLimit, build_providers
from activities.providers.throttled import SharedSendBudget
from mayday.settings import Settings, parse_rate
from playbooks import Playbook
from workflows.business import BusinessIncidentWorkflow
from workflows.contacts import ContactWorkflow
from workflows.escalation import EscalationWorkflow
from workflows.incident import IncidentWorkflow

INCIDENT_WORKFLOWS: Sequence[type] = (IncidentWorkflow, BusinessIncidentWorkflow)
PAGE_WORKFLOWS: Sequence[type] = (EscalationWorkflow,)
CONTACT_WORKFLOWS: Sequence[type] = (ContactWorkflow,)
"""On their own queue: renaming the page queue must never strand a person's opt-outs."""
WORKFLOWS: Sequence[type] = (*INCIDENT_WORKFLOWS, *PAGE_WORKFLOWS, *CONTACT_WORKFLOWS)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def contacts_for(settings: Settings, client: ClientSource = activity_client) -> ContactBook:
    """The contact entities (opt-outs, send budgets), on the contact queue's worker."""
    return ContactBook(client, settings.contact_task_queue)


def providers_for(settings: Settings) -> ProviderSet:
    """The delivery providers the settings choose (the outbox unless told otherwise)."""
    carrier = "twilio" in (settings.sms_provider, settings.voice_provider)
    # Carrier-aware limits protect a real sending number; the outbox has no carrier to upset.
    budget = None
    if carrier and settings.carrier_throttle:
        limits: dict[Channel, RateLimit] = {
            "sms": RateLimit(*parse_rate(settings.sms_per_destination)),
            "voice": RateLimit(*parse_rate(settings.voice_per_destination)),
        }
        budget = SharedSendBudget(contacts_for(settings), limits)
    return build_providers(
        outbox_path=settings.outbox_path,
        email=settings.email_provider,
        sms=settings.sms_provider,
        voice=settings.voice_provider,
        pagerduty=settings.pagerduty_provider,
        sendgrid_api_key=_secret(settings.sendgrid_api_key),
        sendgrid_from_email=settings.sendgrid_from,
        sendgrid_from_name=settings.sendgrid_from_name,
        sendgrid_host=settings.sendgrid_base_url,
        twilio_account_sid=settings.twilio_account_sid,
        twilio_auth_token=_secret(settings.twilio_auth_token),
        twilio_from_number=settings.twilio_from,
        twilio_base_url=settings.twilio_base_url,
        pagerduty_routing_key=_secret(settings.pagerduty_routing_key),
        pagerduty_base_url=settings.pagerduty_base_url,
        timeout=settings.provider_timeout,
        budget=budget,
    )


def notify_activities(settings: Settings, playbook: Playbook) -> NotifyActivities:
    """Page activities bound to the settings' providers and the playbook."""
    callback = f"{settings.hooks_base_url}/hooks/twilio"
    return NotifyActivities(
        providers_for(settings),
        playbook,
        callback_url=callback,
        opt_outs=OptOutRegistry.with_data_dir(contacts_for(settings), settings.data_dir),
    )


def page_activities(acts: NotifyActivities) -> list[Callable[..., Any]]:
    """What the page worker hosts: level resolution and sends."""
    return [acts.resolve_level, acts.notify, acts.pagerduty_event]


def business_actions(settings: Settings, playbook: Playbook) -> BusinessActions:
    """The business functions' HTTP actions, with the playbook's headers and the timeout."""
    return BusinessActions(timeout=settings.provider_timeout, playbook=playbook)


def incident_activities(
    acts: NotifyActivities, business: BusinessActions | None = None
) -> list[Callable[..., Any]]:
    """What the incident worker hosts: the first page (a local activity), business actions."""
    return [acts.first_page, *([business.http_action] if business is not None else [])]
