"""A fake SendGrid v3 Mail Send endpoint, with SendGrid's validation and signed Event Webhooks.

Point the real SDK at it with `SendGridEmailProvider(..., host=fake.url)`.

Magic recipients: `fail-<status>@any.domain` answers that status with SendGrid's body (400 and
403 JSON errors, 401 bad key, 413 nginx HTML, 429 with X-RateLimit-* headers, 5xx).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from tests.fakes.server import EventLog, FakeServer, Fault, Incoming, Reply
from tests.fakes.webhooks import EventWebhookSigner, SentWebhook, WebhookSender

TEST_API_KEY = "SG.test-key"
HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"

_MAGIC = re.compile(r"^fail-(?P<status>\d{3})@", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NGINX_413 = (
    b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    b"<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_STATUS_TEXT = {
    400: "Bad Request",
    401: "The provided authorization grant is invalid, expired, or revoked",
    403: "The from address does not match a verified Sender Identity.",
    429: "too many requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class AcceptedMail:
    """A mail the fake accepted: its X-Message-Id, recipients and the raw JSON payload."""

    message_id: str
    recipients: tuple[str, ...]
    payload: dict[str, Any]


class SendGridError(Exception):
    """A validation failure, shaped like SendGrid's `errors` entries."""

    def __init__(self, message: str, field: str | None, help_anchor: str = "") -> None:
        super().__init__(message)
        self.entry = {"message": message, "field": field, "help": f"{HELP}{help_anchor}"}


def _recipients(payload: dict[str, Any]) -> list[str]:
    found = []
    for personalization in payload.get("personalizations") or []:
        for kind in ("to", "cc", "bcc"):
            for entry in personalization.get(kind) or []:
                if isinstance(entry, dict):
                    found.append(str(entry.get("email", "")))
    return found


def validate_mail(payload: Any) -> None:
    """Raise `SendGridError` where SendGrid's API would answer 400."""
    if not isinstance(payload, dict):
        raise SendGridError("Bad Request", None)
    personalizations = payload.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        raise SendGridError(
            "The personalizations field is required and must have at least one personalization.",
            "personalizations",
            "#-Personalizations-Errors",
        )
    if len(personalizations) > 1000:
        raise SendGridError("Too many personalizations.", "personalizations")
    seen: set[str] = set()
    for i, personalization in enumerate(personalizations):
        to = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(to, list) or not to:
            raise SendGridError(
                "The to array is required for all personalization objects, and must have at "
                "least one email object with a valid email address.",
                f"personalizations.{i}.to",
            )
        for kind in ("to", "cc", "bcc"):
            for j, entry in enumerate(personalization.get(kind) or []):
                email = str(entry.get("email", "")) if isinstance(entry, dict) else ""
                if not _EMAIL.match(email):
                    raise SendGridError(
                        "Does not contain a valid address.",
                        f"personalizations.{i}.{kind}.{j}.email",
                    )
                if email.lower() in seen:
                    raise SendGridError(
                        "Each email address in the personalization block should be unique "
                        f"between to, cc, and bcc. We found the first duplicate instance of "
                        f"[{email}] in the personalizations.{i}.{kind} field.",
                        f"personalizations.{i}.{kind}",
                    )
                seen.add(email.lower())
        _check_custom_args(personalization.get("custom_args"), f"personalizations.{i}.")
    sender = payload.get("from")
    if not isinstance(sender, dict) or not _EMAIL.match(str(sender.get("email", ""))):
        raise SendGridError(
            "The from object must be provided for every email send. It is an object that "
            "requires the email parameter, but may also contain a name parameter.",
            "from.email",
        )
    templated = bool(payload.get("template_id"))
    subjects = all(isinstance(p, dict) and p.get("subject") for p in personalizations)
    if not templated and not payload.get("subject") and not subjects:
        raise SendGridError(
            "The subject is required. You can get around this requirement if you use a "
            "template with a subject defined or if every personalization has a subject defined.",
            "subject",
        )
    _check_content(payload.get("content"), templated)
    _check_custom_args(payload.get("custom_args"), "")
    categories = payload.get("categories") or []
    if len(categories) > 10:
        raise SendGridError("Too many categories. Maximum of 10 categories.", "categories")


def _check_content(content: Any, templated: bool) -> None:
    if not content:
        if templated:
            return
        raise SendGridError(
            "Unless a valid template_id is provided, the content parameter is required. There "
            "must be at least one defined content block.",
            "content",
        )
    types = [str(block.get("type", "")) for block in content if isinstance(block, dict)]
    expected_order = [t for t in ("text/plain", "text/html") if t in types]
    if types[: len(expected_order)] != expected_order:
        raise SendGridError(
            "If present, text/plain content must be first, followed by text/html, followed by "
            "any other content.",
            "content",
        )


def _check_custom_args(custom_args: Any, prefix: str) -> None:
    for key, value in (custom_args or {}).items():
        if not isinstance(value, str):
            raise SendGridError(
                f"Invalid type. Expected: string, given: {type(value).__name__}.",
                f"{prefix}custom_args.{key}",
            )


class FakeSendGrid(FakeServer):
    """`POST /v3/mail/send` with bearer auth, SendGrid's validation and magic recipients.

    Knobs: `event_webhook_url` (post signed events for every accepted mail), `events` (which
    ones, default processed → delivered), `rate_limit_reset` (seconds until X-RateLimit-Reset on
    429s), plus `latency`, `fail_next` and `drop_next` from `FakeServer`.
    """

    vendor = "sendgrid"

    def __init__(
        self, api_key: str = TEST_API_KEY, *, event_webhook_url: str | None = None
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.event_webhook_url = event_webhook_url
        self.events: tuple[str, ...] = ("processed", "delivered")
        self.rate_limit_reset = 3
        self.mails: EventLog[AcceptedMail] = EventLog()
        self.signer = EventWebhookSigner()
        self._sender = WebhookSender()
        self.webhooks: EventLog[SentWebhook] = self._sender.sent

    @property
    def public_key_b64(self) -> str:
        """Event Webhook verification key (base64 DER SubjectPublicKeyInfo)."""
        return self.signer.public_key_b64

    def close(self) -> None:
        """Stop serving and stop posting events."""
        super().close()
        self._sender.close()

    def post_events(self, url: str, events: list[dict[str, Any]]) -> SentWebhook:
        """POST a signed Event Webhook batch now."""
        return self.signer.post(url, events)

    def error_reply(self, fault: Fault, request: Incoming) -> Reply:
        """SendGrid's error body (and rate-limit headers) for an injected status."""
        return self._status_reply(fault.status)

    def route(self, request: Incoming) -> Reply:
        """Accept or refuse one mail send."""
        if request.method != "POST" or request.path != "/v3/mail/send":
            return self._errors(404, "Not Found", None)
        if request.header("Authorization") != f"Bearer {self.api_key}":
            return self._status_reply(401)
        payload = request.json
        recipients = _recipients(payload) if isinstance(payload, dict) else []
        for email in recipients:
            magic = _MAGIC.match(email)
            if magic:
                return self._status_reply(int(magic["status"]))
        try:
            validate_mail(payload)
        except SendGridError as exc:
            return Reply.json(400, {"errors": [exc.entry]})
        mail = AcceptedMail(secrets.token_urlsafe(16)[:22], tuple(recipients), payload)
        self.mails.append(mail)
        if self.event_webhook_url:
            self._sender.submit(partial(self._post_events, self.event_webhook_url, mail))
        return Reply(202, b"", {"X-Message-Id": mail.message_id})

    def _errors(
        self, status: int, message: str, field: str | None, headers: dict[str, str] | None = None
    ) -> Reply:
        return Reply.json(
            status, {"errors": [{"message": message, "field": field, "help": None}]}, headers
        )

    def _status_reply(self, status: int) -> Reply:
        if status == 413:
            return Reply(413, _NGINX_413, {"Content-Type": "text/html"})
        headers = {}
        if status == 429:
            headers = {
                "X-RateLimit-Limit": "600",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + self.rate_limit_reset),
            }
        return self._errors(status, _STATUS_TEXT.get(status, "Error"), None, headers)

    def _post_events(self, url: str, mail: AcceptedMail) -> SentWebhook:
        custom_args = dict(mail.payload.get("custom_args") or {})
        categories = list(mail.payload.get("categories") or [])
        batch = []
        for n, email in enumerate(mail.recipients):
            for event in self.events:
                batch.append(
                    {
                        "email": email,
                        "timestamp": int(time.time()),
                        "event": event,
                        "sg_event_id": secrets.token_urlsafe(16),
                        "sg_message_id": f"{mail.message_id}.filterdrecv-{n}",
                        "smtp-id": f"<{mail.message_id}@fake.sendgrid>",
                        "category": categories,
                        **custom_args,
                    }
                )
        return self.signer.post(url, batch)
