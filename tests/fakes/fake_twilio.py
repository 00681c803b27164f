"""A fake Twilio REST API (Messages and Calls) that also sends signed status callbacks.

Point the real SDK at it with `TwilioProvider(..., base_url=fake.url)`. Error bodies mimic
Twilio's, including the phone number inside the message, so PII scrubbing is exercised.

Magic numbers (Twilio's test credentials): From +15005550001 → 21212, …0007 → 21606,
…0008 → 21611 (queue full); To +15005550001 → 21211, …0002 → 21612, …0003 → 21408,
…0004 → 21610 (STOP), …0009 → 21614 (not mobile). Calls honour the 21211/21212 numbers only.
"""

from __future__ import annotations

import base64
import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import partial
from typing import Any

from tests.fakes.server import EventLog, FakeServer, Fault, Incoming, Reply
from tests.fakes.webhooks import SentWebhook, WebhookSender, post_twilio_form

TEST_ACCOUNT_SID = "AC" + "0" * 32
TEST_AUTH_TOKEN = "test-token"

_ROUTE = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/(?P<kind>Messages|Calls)\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource {path} was not found",
    21205: "Either Url or Twiml is required, not both",
    21211: "The 'To' number {to} is not a valid phone number.",
    21212: "The 'From' number {from_} is not a valid phone number, shortcode, or alphanumeric "
    "sender ID.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
    "'To' number: {to}.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided ({from_}) is not a valid message-capable Twilio "
    "phone number for this destination.",
    21610: "Attempt to send to unsubscribed recipient",
    21611: "This 'From' number has exceeded the maximum number of queued messages",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone "
    "number: {from_} via SMS.",
    21614: "'To' number {to} is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}
_MAGIC_FROM = {"+15005550001": 21212, "+15005550007": 21606, "+15005550008": 21611}
_MAGIC_TO_SMS = {
    "+15005550001": 21211,
    "+15005550002": 21612,
    "+15005550003": 21408,
    "+15005550004": 21610,
    "+15005550009": 21614,
}
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")
_CALL_EVENTS = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}


def sms_segments(body: str) -> int:
    """Segments Twilio bills for a body: GSM-7 160/153, otherwise UCS-2 70/67."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in body):
        units = sum(2 if c in _GSM7_EXTENDED else 1 for c in body)
        return 1 if units <= 160 else -(-units // 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


@dataclass(frozen=True)
class SentSms:
    """A message the fake accepted."""

    sid: str
    to: str
    from_: str
    body: str
    segments: int
    status_callback: str | None


@dataclass(frozen=True)
class PlacedCall:
    """A call the fake accepted, with the Gather action found in its TwiML."""

    sid: str
    to: str
    from_: str
    twiml: str
    gather_action: str | None
    status_callback: str | None
    callback_events: tuple[str, ...]


def _gather_action(twiml: str) -> str | None:
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        return None
    gather = root.find(".//Gather")
    return gather.get("action") if gather is not None else None


class FakeTwilio(FakeServer):
    """Messages.json and Calls.json with Basic auth, magic numbers and status callbacks.

    Knobs: `sms_statuses` (callback sequence, default sent → delivered), `sms_error_code`
    (ErrorCode on undelivered/failed), `call_final_status` (completed, no-answer, busy, failed),
    `callback_delay` (seconds before each callback), plus `latency`, `fail_next(code=...)` and
    `drop_next` from `FakeServer`.
    """

    vendor = "twilio"

    def __init__(
        self,
        account_sid: str = TEST_ACCOUNT_SID,
        auth_token: str = TEST_AUTH_TOKEN,
        *,
        callback_delay: float = 0.0,
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sms_statuses: tuple[str, ...] = ("sent", "delivered")
        self.sms_error_code: int | None = None
        self.call_final_status = "completed"
        self.messages: EventLog[SentSms] = EventLog()
        self.calls: EventLog[PlacedCall] = EventLog()
        self._sender = WebhookSender(callback_delay)
        self.callbacks: EventLog[SentWebhook] = self._sender.sent

    @property
    def callback_delay(self) -> float:
        """Seconds the fake waits before each status callback."""
        return self._sender.delay

    @callback_delay.setter
    def callback_delay(self, seconds: float) -> None:
        self._sender.delay = seconds

    def close(self) -> None:
        """Stop serving and stop sending callbacks."""
        super().close()
        self._sender.close()

    def press_digits(self, call_sid: str, digits: str = "1") -> SentWebhook:
        """Simulate the callee pressing keys: a signed POST to the call's Gather action."""
        call = next((c for c in self.calls if c.sid == call_sid), None)
        if call is None or call.gather_action is None:
            raise LookupError(f"call {call_sid} has no Gather action to post to")
        params = {
            "AccountSid": self.account_sid,
            "CallSid": call.sid,
            "From": call.from_,
            "To": call.to,
            "Digits": digits,
            "CallStatus": "in-progress",
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }
        return post_twilio_form(call.gather_action, params, auth_token=self.auth_token)

    def send_inbound_sms(
        self, url: str, *, from_: str, body: str, to: str = "+15005550006"
    ) -> SentWebhook:
        """Simulate a person texting our number: a signed POST to the incoming-message hook."""
        params = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": str(sms_segments(body)),
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        return post_twilio_form(url, params, auth_token=self.auth_token)

    def error_reply(self, fault: Fault, request: Incoming) -> Reply:
        """Twilio's REST error JSON for an injected fault."""
        code = fault.code if fault.code is not None else fault.status
        return self._error(code, request, status=fault.status)

    def route(self, request: Incoming) -> Reply:
        """Create a message or a call."""
        match = _ROUTE.match(request.path)
        if request.method != "POST" or match is None:
            return self._error(20404, request, status=404)
        if not self._authorized(request, match["sid"]):
            return self._error(20003, request, status=401)
        if match["kind"] == "Messages":
            return self._create_message(request)
        return self._create_call(request)

    def _authorized(self, request: Incoming, sid: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return sid == self.account_sid and request.header("Authorization") == f"Basic {expected}"

    def _error(self, code: int, request: Incoming, *, status: int = 400) -> Reply:
        text = _MESSAGES.get(code, "Injected error").format(
            to=request.field("To") or "", from_=request.field("From") or "", path=request.path
        )
        return Reply.json(
            status,
            {
                "code": code,
                "message": text,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    def _create_message(self, request: Incoming) -> Reply:
        to, from_ = request.field("To"), request.field("From")
        body = request.field("Body") or ""
        if not to:
            return self._error(21604, request)
        if not from_ and not request.field("MessagingServiceSid"):
            return self._error(21603, request)
        if from_ in _MAGIC_FROM:
            return self._error(_MAGIC_FROM[from_], request)
        if to in _MAGIC_TO_SMS:
            return self._error(_MAGIC_TO_SMS[to], request)
        if not _E164.match(to):
            return self._error(21211, request)
        if not body.strip():
            return self._error(21602, request)
        if len(body) > 1600:
            return self._error(21617, request)
        sms = SentSms(
            "SM" + secrets.token_hex(16),
            to,
            from_ or "",
            body,
            sms_segments(body),
            request.field("StatusCallback"),
        )
        self.messages.append(sms)
        if sms.status_callback:
            for status in self.sms_statuses:
                self._sender.submit(partial(self._sms_callback, sms, status))
        return Reply.json(201, self._message_resource(sms, request))

    def _message_resource(self, sms: SentSms, request: Incoming) -> dict[str, Any]:
        return {
            "sid": sms.sid,
            "account_sid": self.account_sid,
            "status": "queued",
            "to": sms.to,
            "from": sms.from_,
            "body": sms.body,
            "num_segments": str(sms.segments),
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "error_code": None,
            "error_message": None,
            "messaging_service_sid": request.field("MessagingServiceSid"),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sms.sid}.json",
        }

    def _sms_callback(self, sms: SentSms, status: str) -> SentWebhook:
        params = {
            "MessageSid": sms.sid,
            "SmsSid": sms.sid,
            "AccountSid": self.account_sid,
            "From": sms.from_,
            "To": sms.to,
            "MessageStatus": status,
            "SmsStatus": status,
            "ApiVersion": "2010-04-01",
        }
        if status in ("undelivered", "failed") and self.sms_error_code is not None:
            params["ErrorCode"] = str(self.sms_error_code)
        assert sms.status_callback is not None
        return post_twilio_form(
            sms.status_callback,
            params,
            auth_token=self.auth_token,
            idempotency_token=f"{sms.sid}-{status}",
        )

    def _create_call(self, request: Incoming) -> Reply:
        to, from_ = request.field("To"), request.field("From")
        twiml, url = request.field("Twiml"), request.field("Url")
        if not to:
            return self._error(21604, request)
        if not from_:
            return self._error(21603, request)
        if from_ == "+15005550001":
            return self._error(21212, request)
        if to == "+15005550001" or not _E164.match(to):
            return self._error(21211, request)
        if bool(twiml) == bool(url):
            return self._error(21205, request)
        call = PlacedCall(
            "CA" + secrets.token_hex(16),
            to,
            from_,
            twiml or "",
            _gather_action(twiml or ""),
            request.field("StatusCallback"),
            tuple(request.form.get("StatusCallbackEvent", [])),
        )
        self.calls.append(call)
        if call.status_callback:
            for sequence, status in enumerate(self._call_statuses(call)):
                self._sender.submit(partial(self._call_callback, call, status, sequence))
        resource = {
            "sid": call.sid,
            "account_sid": self.account_sid,
            "status": "queued",
            "to": call.to,
            "from": call.from_,
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call.sid}.json",
        }
        return Reply.json(201, resource)

    def _call_statuses(self, call: PlacedCall) -> list[str]:
        final = self.call_final_status
        progress = ["initiated", "ringing"] + (["in-progress"] if final == "completed" else [])
        wanted = [s for s in progress if _CALL_EVENTS[s] in call.callback_events]
        return [*wanted, final]

    def _call_callback(self, call: PlacedCall, status: str, sequence: int) -> SentWebhook:
        params = {
            "CallSid": call.sid,
            "AccountSid": self.account_sid,
            "From": call.from_,
            "To": call.to,
            "CallStatus": status,
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
            "SequenceNumber": str(sequence),
        }
        if status == "completed":
            params["CallDuration"] = "12"
        assert call.status_callback is not None
        return post_twilio_form(
            call.status_callback,
            params,
            auth_token=self.auth_token,
            idempotency_token=f"{call.sid}-{sequence}",
        )
