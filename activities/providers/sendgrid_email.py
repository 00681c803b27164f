"""Email through the real SendGrid SDK (synchronous urllib, so calls run in a worker thread)."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
from collections.abc import Mapping

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Category, CustomArg, Email, Mail, To

from activities.providers.errors import (
    DeliveryError,
    PermanentDeliveryError,
    PermanentReason,
    RetryableDeliveryError,
    scrub,
)
from activities.providers.message import Delivery, OutboundMessage, utc_now
from activities.providers.retry_hints import retry_after

PROVIDER = "sendgrid"
DEFAULT_HOST = "https://api.sendgrid.com"

_RECIPIENT_FIELD = re.compile(r"^personalizations\.\d+\.(to|cc|bcc)\b")
_PERMANENT_STATUS: dict[int, tuple[PermanentReason, str]] = {
    401: ("auth", "SendGrid refused the API key or the plan's credits are used up"),
    403: ("auth", "the API key lacks the mail.send scope or the sender is not verified"),
    413: ("too_large", "the message is larger than SendGrid accepts"),
}


def _headers(raw: object) -> Mapping[str, str] | None:
    if raw is None:
        return None
    items = getattr(raw, "items", None)
    return {str(k): str(v) for k, v in items()} if callable(items) else None


def _first_error(body: bytes) -> tuple[str, str | None]:
    """The first SendGrid error's message and field; ("", None) for a non-JSON (e.g. nginx) body."""
    try:
        errors = json.loads(body).get("errors") or []
        first = errors[0]
        return str(first.get("message") or ""), first.get("field")
    except (ValueError, AttributeError, IndexError, TypeError):
        return "", None


def classify_sendgrid_error(
    status: int, body: bytes, headers: Mapping[str, str] | None, message: OutboundMessage
) -> DeliveryError:
    """Turn a SendGrid HTTP error into a typed delivery error (never quoting the address)."""
    what = f"SendGrid refused email notification {message.id} (HTTP {status})"
    detail, field = _first_error(body)
    said = scrub(detail, message.address) if detail else "no details given"
    if status == 429 or status >= 500:
        return RetryableDeliveryError(
            f"SendGrid could not take email notification {message.id} yet (HTTP {status}): "
            f"{said}. It will be retried.",
            provider=PROVIDER,
            code=status,
            retry_after=retry_after(headers),
            possibly_sent=status >= 500,
        )
    if status in _PERMANENT_STATUS:
        reason, explanation = _PERMANENT_STATUS[status]
        return PermanentDeliveryError(
            f"{what}: {explanation} ({said}).", provider=PROVIDER, reason=reason, code=status
        )
    reason = "invalid_address" if field and _RECIPIENT_FIELD.match(field) else "rejected"
    where = f" in field {field}" if field else ""
    return PermanentDeliveryError(
        f"{what}{where}: {said}.", provider=PROVIDER, reason=reason, code=status
    )


def _transport_error(exc: OSError, message: OutboundMessage) -> RetryableDeliveryError:
    if isinstance(exc, urllib.error.URLError):
        cause, possibly_sent = "SendGrid could not be reached", False
    elif isinstance(exc, TimeoutError):
        cause, possibly_sent = (
            "SendGrid did not answer in time (the email may have been sent)",
            True,
        )
    else:
        cause, possibly_sent = f"the connection to SendGrid broke ({type(exc).__name__})", True
    return RetryableDeliveryError(
        f"Sending email notification {message.id} failed: {cause}.",
        provider=PROVIDER,
        possibly_sent=possibly_sent,
    )


class SendGridEmailProvider:
    """Mail Send v3: text/plain then text/html, correlation ids in custom_args, no PII in them."""

    name = PROVIDER

    def __init__(
        self,
        api_key: str,
        from_email: str,
        from_name: str | None = None,
        host: str | None = None,
        timeout: float = 10,
    ) -> None:
        self._from = Email(from_email, from_name)
        self._client = SendGridAPIClient(api_key=api_key, host=host or DEFAULT_HOST)
        # python_http_client has no default timeout; child clients inherit this attribute.
        self._client.client.timeout = timeout

    def build_mail(self, message: OutboundMessage) -> Mail:
        """The SendGrid `Mail` for one message."""
        mail = Mail(
            from_email=self._from,
            to_emails=To(message.address),
            subject=message.subject or f"Incident {message.incident_id}",
            plain_text_content=message.body,
            html_content=message.html,
        )
        mail.custom_arg = [
            CustomArg("incident_id", message.incident_id),
            CustomArg("notification_id", message.id),
            CustomArg("purpose", message.purpose),
        ]
        labels = ["mayday", message.purpose]
        if message.severity:
            labels.append(message.severity.lower())
        mail.category = [Category(label) for label in labels]
        return mail

    async def send(self, message: OutboundMessage) -> Delivery:
        """Send one email; the Delivery's provider_id is SendGrid's X-Message-Id."""
        return await asyncio.to_thread(self.send_blocking, message)

    def send_blocking(self, message: OutboundMessage) -> Delivery:
        """Synchronous `send`, for thread-pool activities."""
        if message.channel != "email":
            raise ValueError(f"SendGrid does not deliver the {message.channel} channel")
        mail = self.build_mail(message)
        try:
            response = self._client.send(mail)
        except HTTPError as exc:
            raise classify_sendgrid_error(
                int(exc.status_code), bytes(exc.body or b""), _headers(exc.headers), message
            ) from None
        except OSError as exc:
            raise _transport_error(exc, message) from None
        headers = _headers(response.headers) or {}
        message_id = next((v for k, v in headers.items() if k.lower() == "x-message-id"), "")
        return Delivery(provider=self.name, provider_id=message_id, status="accepted", at=utc_now())
