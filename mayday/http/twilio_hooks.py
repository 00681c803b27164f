"""Twilio's webhooks: SMS replies and voice keypresses acknowledge pages; status callbacks.

Every request is checked against `X-Twilio-Signature` with the account's auth token over the
public URL Twilio called; without a token, unsigned requests are accepted only as the hook
policy allows (loopback in `mayday dev`).

A signed request can be replayed, so each one that acts is claimed by its MessageSid or CallSid
in the person's contact entity (Temporal, shared by every app) before it acts: a replay gets the
first answer and acts no second time. STOP and START are signals-with-start carrying the
MessageSid, durable once Temporal accepts them; when it does not, Twilio gets a 503 and retries.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from xml.sax.saxutils import escape

from fastapi import FastAPI, Request
from fastapi.responses import Response
from temporalio.service import RPCError

from activities.contacts import ContactBook, ContactUnavailable
from activities.opt_outs import OptOutRegistry
from mayday.hooks.auth import is_loopback
from mayday.http.hooks import Unsigned
from mayday.http.temporal_link import TemporalLink
from mayday.incidents import IncidentError
from mayday.pages import NoOpenPage, ack_for, ack_page, page_of_notification
from mayday.settings import Settings
from playbooks import Playbook
from workflows.contact_contracts import REPLY_ID, ContactIdError
from workflows.escalation import EscalationWorkflow
from workflows.escalation_contracts import DeliveryStatus

log = logging.getLogger(__name__)

Acting = Callable[[], Awaitable[str | None]]
"""Acts on a request once and gives the TwiML inside <Response>, or None if Temporal failed."""

ACK_REPLY = re.compile(r"^(?:1|ACK)(?:\s+(?P<short>[A-Z0-9._-]+))?$")
TWIML = "text/xml"
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
PENDING_ANSWER = "<Message>Your reply is already being handled.</Message>"


def twiml(inner: str = "") -> Response:
    """A TwiML document answering Twilio."""
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>', media_type=TWIML
    )


def unavailable() -> Response:
    """Temporal can't take the request: Twilio retries on its own schedule."""
    return Response("Temporal unavailable", status_code=503, headers={"Retry-After": "5"})


def reply_id(form: Mapping[str, str], field: str) -> str | None:
    """The request's MessageSid or CallSid when it has Twilio's shape, else None."""
    value = form.get(field, "")
    return value if REPLY_ID.fullmatch(value) else None


def phone_directory(playbook: Playbook) -> dict[str, str]:
    """E.164 number → directory id, for matching an SMS reply to its sender."""
    return {
        channel.address: person.id
        for person in playbook.directory.people.values()
        for channel in person.channels
        if channel.kind in ("sms", "voice")
    }


class TwilioSignature:
    """Checks Twilio's signature on the URL it called, as the hook policy requires."""

    def __init__(self, settings: Settings, unsigned: Unsigned) -> None:
        token = settings.twilio_auth_token
        self._token = token.get_secret_value() if token else None
        self._public_url = settings.public_url.rstrip("/") if settings.public_url else None
        self._unsigned = unsigned

    def url(self, request: Request) -> str:
        """The URL Twilio signed: the public base URL behind TLS termination, else the request's."""
        if self._public_url is None:
            return str(request.url)
        query = f"?{request.url.query}" if request.url.query else ""
        return f"{self._public_url}{request.url.path}{query}"

    def accepts(self, request: Request, form: Mapping[str, str]) -> bool:
        """Whether the request is Twilio's (or allowed unsigned)."""
        if self._token is None:
            host = request.client.host if request.client else ""
            if self._unsigned is Unsigned.ANYONE:
                return True
            return self._unsigned is Unsigned.LOOPBACK and is_loopback(host)
        from twilio.request_validator import RequestValidator

        signature = request.headers.get("X-Twilio-Signature", "")
        valid: bool = RequestValidator(self._token).validate(
            self.url(request), dict(form), signature
        )
        return valid


def register_twilio_hooks(
    app: FastAPI,
    settings: Settings,
    link: TemporalLink,
    playbook: Playbook,
    *,
    unsigned: Unsigned,
) -> None:
    """Add `/hooks/twilio/{sms,voice,status}`."""
    signature = TwilioSignature(settings, unsigned)
    phones = phone_directory(playbook)
    names = {person.id: person.name for person in playbook.directory.people.values()}
    contacts = ContactBook(link.client, settings.contact_task_queue)
    opt_outs = OptOutRegistry.with_data_dir(contacts, settings.data_dir)

    async def signed_form(request: Request) -> dict[str, str] | None:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        return form if signature.accepts(request, form) else None

    async def once(person: str, channel: str, request_id: str, act: Acting) -> Response:
        """Act on a request the first time its id is seen; a replay gets the first answer."""
        try:
            claimed = await contacts.claim_reply(person, channel, request_id)
        except ContactUnavailable:
            link.forget()
            return unavailable()
        if not claimed.fresh:
            return twiml(PENDING_ANSWER if claimed.answer is None else claimed.answer)
        answer = await act()
        if answer is None:
            with contextlib.suppress(ContactUnavailable):
                await contacts.release_reply(person, channel, request_id)
            link.forget()
            return unavailable()
        try:
            await contacts.answer_reply(person, channel, request_id, answer)
        except ContactUnavailable:
            # The claim stays pending: a replay is answered "being handled" and acts not.
            log.warning("answer to a %s reply not kept; its replays will not act", channel)
        return twiml(answer)

    @app.post("/hooks/twilio/sms")
    async def sms_reply(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            return Response("invalid Twilio signature", status_code=403)
        person = phones.get(form.get("From", ""))
        if person is None:
            return twiml("<Message>This number is not in the on-call directory.</Message>")
        body = form.get("Body", "").strip().upper()
        message = reply_id(form, "MessageSid")
        # Twilio answers these keywords itself; we mirror them so no page is sent again.
        if body in STOP_WORDS or body in START_WORDS:
            try:
                if body in STOP_WORDS:
                    await opt_outs.record(person, "sms", reply_id=message)
                else:
                    await opt_outs.clear(person, "sms", reply_id=message)
            except ContactUnavailable:
                link.forget()
                return unavailable()
            return twiml()
        match = ACK_REPLY.match(body)
        if match is None:
            return twiml("<Message>Reply 1 or ACK to acknowledge a page.</Message>")
        if message is None:
            return Response("an SMS reply needs its MessageSid", status_code=400)
        short = (match.group("short") or "").lower() or None

        async def ack() -> str | None:
            try:
                client = await link.client()
                page_id, _ = await ack_for(client, person, "sms", incident_contains=short)
            except NoOpenPage as err:
                # The page that texted them may have ended: say where the incident stands.
                name = names.get(err.acked_by or "")
                return f"<Message>{escape(err.text(name))}</Message>"
            except IncidentError as err:
                return f"<Message>{escape(str(err))}</Message>"
            except (RPCError, RuntimeError):
                return None
            incident = page_id.split("-page-")[0]
            return (
                f"<Message>Acknowledged {escape(incident)}. Everyone paged is told you "
                "have it.</Message>"
            )

        return await once(person, "sms", message, ack)

    @app.post("/hooks/twilio/voice")
    async def voice_keypress(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            return Response("invalid Twilio signature", status_code=403)
        page = page_of_notification(request.query_params.get("notification", ""))
        if form.get("Digits") != "1" or page is None:
            return twiml("<Say>No acknowledgement received. Goodbye.</Say>")
        call = reply_id(form, "CallSid")
        if call is None:
            return Response("a keypress needs its CallSid", status_code=400)
        page_id, person = page

        async def ack() -> str | None:
            try:
                await ack_page(await link.client(), page_id, person, "voice")
            except IncidentError as err:
                return f"<Say>{escape(str(err))}</Say><Hangup/>"
            except (RPCError, RuntimeError):
                return None
            return "<Say>Acknowledged. Everyone paged will be told you have it.</Say><Hangup/>"

        try:
            return await once(person, "voice", call, ack)
        except ContactIdError:
            return twiml("<Say>No acknowledgement received. Goodbye.</Say>")

    @app.post("/hooks/twilio/status")
    async def delivery_status(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            return Response("invalid Twilio signature", status_code=403)
        notification = request.query_params.get("notification", "")
        page = page_of_notification(notification)
        state = form.get("MessageStatus") or form.get("CallStatus")
        if page is None or not state:
            return Response(status_code=204)
        update = DeliveryStatus(
            notification_id=notification,
            status=state,
            error_code=form.get("ErrorCode") or None,
            provider_id=form.get("MessageSid") or form.get("CallSid") or None,
        )
        try:
            client = await link.client()
            await client.get_workflow_handle(page[0]).signal(
                EscalationWorkflow.delivery_status, update
            )
        except RPCError as err:
            log.info("status callback for a closed page ignored: %s", err.status)
        except RuntimeError:
            link.forget()
            return unavailable()
        return Response(status_code=204)
