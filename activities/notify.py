"""Notification activities of a page: resolve a level's people, send one notification.

Addresses are looked up here, from the playbook's directory, and never leave the activity:
workflows name people by directory id. A `DeliveryError` becomes the Temporal error its
`to_application_error` gives, so permanent failures are not retried (the workflow moves to the
person's next channel) and a 429 is retried after the provider's Retry-After.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.directory import resolve_targets
from activities.pages import page_text
from activities.providers import DeliveryError, OutboundMessage, ProviderSet
from playbooks import Playbook
from workflows.escalation_contracts import (
    NotifyRequest,
    NotifyResult,
    ResolvedLevel,
    ResolveLevelRequest,
)


class NotifyActivities:
    """Page activities bound to the worker's providers and playbook.

    Register both methods: `activities=[acts.resolve_level, acts.notify]`.
    """

    def __init__(
        self, providers: ProviderSet, playbook: Playbook, *, callback_url: str | None = None
    ) -> None:
        self._providers = providers
        self._playbook = playbook
        self._callback_url = callback_url

    @activity.defn(name="resolve_level")
    async def resolve_level(self, request: ResolveLevelRequest) -> ResolvedLevel:
        """The people one escalation level pages at the workflow's time."""
        return resolve_targets(
            self._playbook, request.targets, request.at, both=request.both_primary_and_backup
        )

    @activity.defn(name="notify")
    async def notify(self, request: NotifyRequest) -> NotifyResult:
        """Render and send one notification; raise a typed ApplicationError when it fails."""
        person = self._playbook.directory.people.get(request.person)
        channel = person.channel(request.channel) if person is not None else None
        if channel is None:
            raise ApplicationError(
                f"Notification {request.notification_id}: person {request.person!r} has no "
                f"{request.channel} channel in the directory.",
                type="DeliveryNoChannel",
                non_retryable=True,
            )
        text = page_text(self._playbook, request)
        message = OutboundMessage(
            id=request.notification_id,
            incident_id=request.incident_id,
            purpose=request.purpose,
            channel=request.channel,
            person=request.person,
            address=channel.address,
            subject=text.subject,
            body=text.body,
            html=text.html,
            voice_text=text.voice_text,
            callback_url=self._callback_url,
            severity=request.severity,
        )
        try:
            delivery = await self._providers.send(message)
        except DeliveryError as err:
            activity.logger.info(
                "Notification %s not delivered: %s", request.notification_id, err.message
            )
            raise err.to_application_error() from None
        return NotifyResult(
            notification_id=request.notification_id,
            provider=delivery.provider,
            provider_id=delivery.provider_id,
            status=delivery.status,
        )
