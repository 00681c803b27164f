"""Notification activities of a page: resolve a level's people, send one notification.

Addresses are looked up here, from the playbook's directory, and never leave the activity:
workflows name people by directory id. A `DeliveryError` becomes the Temporal error its
`to_application_error` gives, so permanent failures are not retried (the workflow moves to the
person's next channel) and a 429 is retried after the provider's Retry-After.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.directory import resolve_targets
from activities.opt_outs import OptOutRegistry
from activities.pages import page_text
from activities.providers import (
    DeliveryError,
    OutboundMessage,
    PermanentDeliveryError,
    ProviderSet,
    RetryableDeliveryError,
)
from playbooks import Playbook
from workflows.escalation_contracts import (
    POSSIBLY_SENT,
    FirstLevelPaged,
    FirstPageRequest,
    LevelMember,
    NotifyRequest,
    NotifyResult,
    PagerDutyEvent,
    ResolvedLevel,
    ResolveLevelRequest,
)

PAGERDUTY_PURPOSES = {"trigger": "page", "acknowledge": "ack", "resolve": "resolve"}
FIRST_SEND_DEADLINE = 6.0
"""Seconds one person's first-page send may take inside the first-page local activity (10 s).

Past it the send counts as possibly sent: the activity returns what it did for everyone else
instead of timing out, which would make the page workflow page the whole level again."""
HEARTBEAT_EVERY = 1.0
"""Seconds between heartbeats of a send, so an ack's cancellation reaches it (the workflow sets
a heartbeat timeout of a few seconds)."""
PAGERDUTY_KEY_PREFIX = "mayday:"
T = TypeVar("T")


def pagerduty_dedup_key(incident_id: str) -> str:
    """The Events API dedup key of an incident; PagerDuty echoes it back as `incident_key`."""
    return PAGERDUTY_KEY_PREFIX + incident_id


class NotifyActivities:
    """Page activities bound to the worker's providers and playbook.

    Register both methods: `activities=[acts.resolve_level, acts.notify]`.
    """

    def __init__(
        self,
        providers: ProviderSet,
        playbook: Playbook,
        *,
        callback_url: str | None = None,
        opt_outs: OptOutRegistry | None = None,
    ) -> None:
        self._providers = providers
        self._playbook = playbook
        self._callback_url = callback_url
        self._opt_outs = opt_outs

    @activity.defn(name="resolve_level")
    async def resolve_level(self, request: ResolveLevelRequest) -> ResolvedLevel:
        """The people one escalation level pages at the workflow's time."""
        return resolve_targets(
            self._playbook, request.targets, request.at, both=request.both_primary_and_backup
        )

    @activity.defn(name="first_page")
    async def first_page(self, request: FirstPageRequest) -> FirstLevelPaged:
        """Resolve level 1 and page each person on their first channel, all at once.

        Run as a local activity in the incident's first task, so the first page leaves before
        the page workflow exists; whoever this misses, the page workflow retries.
        """
        level = request.level
        resolved = resolve_targets(
            self._playbook, level.targets, level.at, both=level.both_primary_and_backup
        )

        async def page(member: LevelMember) -> tuple[str, str, str | None]:
            """(person, channel, None) when accepted, else the error type of the failure."""
            channel = member.channels[0]
            request_ = NotifyRequest(
                notification_id=f"{request.page_id}:{request.purpose}:1:1:{member.person}:{channel}",
                incident_id=level.incident_id,
                purpose="page",
                person=member.person,
                channel=channel,
                level=1,
                summary=request.summary,
                severity=request.severity,
                service=request.service,
                role_name=request.role_name,
                restricted=request.restricted,
            )
            try:
                await asyncio.wait_for(self.notify(request_), FIRST_SEND_DEADLINE)
            except TimeoutError:
                # The send may be on the wire: never sent again for this notification id.
                return member.person, channel, POSSIBLY_SENT
            except ApplicationError as err:
                return member.person, channel, err.type or "DeliveryError"
            return member.person, channel, None

        outcomes = await asyncio.gather(*(page(m) for m in resolved.members if m.channels))
        return FirstLevelPaged(
            at=level.at,
            members=resolved.members,
            unresolved=resolved.unresolved,
            reached={person: channel for person, channel, error in outcomes if error is None},
            failed={
                person: error
                for person, _, error in outcomes
                if error is not None and error != POSSIBLY_SENT
            },
            possibly_sent={
                person: channel for person, channel, error in outcomes if error == POSSIBLY_SENT
            },
        )

    @activity.defn(name="pagerduty_event")
    async def pagerduty_event(self, event: PagerDutyEvent) -> NotifyResult:
        """Trigger, acknowledge or resolve the incident's PagerDuty alert."""
        message = OutboundMessage(
            id=f"{event.incident_id}:pagerduty:{event.action}",
            incident_id=event.incident_id,
            purpose=PAGERDUTY_PURPOSES[event.action],
            channel="pagerduty",
            person="pagerduty",
            address="events-api",
            subject=event.summary,
            body=event.summary,
            severity=event.severity,
            dedup_key=pagerduty_dedup_key(event.incident_id),
        )
        try:
            delivery = await self._providers.pagerduty.send(message)
        except DeliveryError as err:
            raise err.to_application_error() from None
        return NotifyResult(
            notification_id=message.id,
            provider=delivery.provider,
            provider_id=delivery.provider_id,
            status=delivery.status,
        )

    @activity.defn(name="notify")
    async def notify(self, request: NotifyRequest) -> NotifyResult:
        """Render and send one notification; raise a typed ApplicationError when it fails.

        A send whose request left without an answer raises DeliveryPossiblySent, never retried:
        Twilio and SendGrid cannot deduplicate, so a retry could text a person twice.
        """
        if activity.info().is_local:
            return await self._notify(request)
        return await _heartbeating(self._notify(request))

    async def _notify(self, request: NotifyRequest) -> NotifyResult:
        person = self._playbook.directory.people.get(request.person)
        channel = person.channel(request.channel) if person is not None else None
        if channel is None:
            raise ApplicationError(
                f"Notification {request.notification_id}: person {request.person!r} has no "
                f"{request.channel} channel in the directory.",
                type="DeliveryNoChannel",
                non_retryable=True,
            )
        if self._opt_outs is not None and await self._opt_outs.opted_out(
            request.person, request.channel
        ):
            raise ApplicationError(
                f"Notification {request.notification_id}: {request.person!r} opted out of "
                f"{request.channel} (replied STOP); not sent.",
                type="DeliveryOptedOut",
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
            opted_out = isinstance(err, PermanentDeliveryError) and err.reason == "opted_out"
            if opted_out and self._opt_outs is not None:
                await self._opt_outs.record(request.person, request.channel)
            if isinstance(err, RetryableDeliveryError) and err.possibly_sent:
                raise ApplicationError(
                    f"Notification {request.notification_id}: {err.message} Not retried: "
                    f"{err.provider} cannot tell a repeat from a new {request.channel}.",
                    {"provider": err.provider, "code": err.code},
                    type=POSSIBLY_SENT,
                    non_retryable=True,
                ) from None
            raise err.to_application_error() from None
        return NotifyResult(
            notification_id=request.notification_id,
            provider=delivery.provider,
            provider_id=delivery.provider_id,
            status=delivery.status,
        )


async def _heartbeating(work: Coroutine[Any, Any, T]) -> T:
    """Await `work`, heartbeating meanwhile; a cancellation (an ack) stops the wait at once."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            activity.heartbeat()
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
    finally:
        # A request already on the wire (in a thread) still ends; its answer is dropped.
        task.cancel()
