"""SMS and voice pages through the real Twilio SDK.

The SDK is synchronous here (one `requests` session per provider, calls run in a worker thread);
its HTTP client is the documented extension point, used to point it at another base URL and to
keep the last response's headers per thread, because Twilio exceptions do not carry them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from twilio.twiml.voice_response import Gather, VoiceResponse

from activities.providers.errors import (
    DeliveryError,
    PermanentDeliveryError,
    PermanentReason,
    RetryableDeliveryError,
    scrub,
)
from activities.providers.message import Delivery, OutboundMessage, utc_now
from activities.providers.retry_hints import retry_after

PROVIDER = "twilio"

_PERMANENT_CODES: dict[int, tuple[PermanentReason, str]] = {
    21211: ("invalid_address", "the 'To' number is not a valid phone number"),
    21610: ("opted_out", "the recipient replied STOP to this sender; record the opt-out"),
    21614: ("not_mobile", "the 'To' number cannot receive SMS; call it instead"),
    21212: ("rejected", "the 'From' number is not a valid sender; check the Twilio settings"),
    21606: ("rejected", "the 'From' number cannot send SMS; check the Twilio settings"),
    21408: ("rejected", "the account has no geo permission for the destination's region"),
    21612: ("rejected", "Twilio cannot route between this 'From' and 'To' pair"),
    21617: ("too_large", "the body is longer than 1600 characters"),
    21602: ("rejected", "the message body is empty"),
    20003: ("auth", "Twilio refused the credentials; check the account SID and auth token"),
    20404: ("auth", "Twilio does not know this account or resource; check the account SID"),
}
# 20429: too many concurrent requests, not processed. 21611: the sender's queue is full.
_RETRYABLE_CODES = frozenset({20429, 21611})


class RoutedTwilioHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """`TwilioHttpClient` that can send every request to another base URL.

    It also remembers the headers of the last response on the calling thread, so an error can
    honour Retry-After. Edge and region settings do not apply once a base URL is given.
    """

    def __init__(self, base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base = urlsplit(base_url) if base_url else None
        self._last = threading.local()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """Send the request (to the base URL when one is set) and keep its response headers."""
        self._last.headers = None
        if self._base is not None:
            parts = urlsplit(url)
            url = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        response: Response = super().request(method, url, *args, **kwargs)
        self._last.headers = response.headers
        return response

    def last_response_headers(self) -> Mapping[str, str] | None:
        """Headers of the last response received on this thread, if any."""
        headers: Mapping[str, str] | None = getattr(self._last, "headers", None)
        return headers


def hook_url(base: str, leaf: str, message: OutboundMessage) -> str:
    """`<base>/<leaf>` with the notification and incident ids in the query (Twilio signs it)."""
    parts = urlsplit(base)
    query = [
        *parse_qsl(parts.query),
        ("notification", message.id),
        ("incident", message.incident_id),
    ]
    path = parts.path.rstrip("/") + "/" + leaf
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


def voice_twiml(message: OutboundMessage) -> str:
    """Inline TwiML for a voice page: say the text twice inside a one-digit Gather."""
    text = f"{message.voice_text or message.body} Press 1 to acknowledge."
    response = VoiceResponse()
    if message.callback_url:
        gather = Gather(
            num_digits=1,
            method="POST",
            timeout=10,
            action=hook_url(message.callback_url, "voice", message),
        )
        gather.say(text, loop=2)
        response.append(gather)
        response.say("No input received. Goodbye.")
    else:
        response.say(message.voice_text or message.body, loop=2)
    return str(response)


def classify_twilio_error(
    status: int,
    code: int | None,
    detail: str,
    message: OutboundMessage,
    headers: Mapping[str, str] | None = None,
) -> DeliveryError:
    """Turn a Twilio REST error into a typed delivery error (never quoting the address)."""
    what = f"Twilio refused {message.channel} notification {message.id}"
    if code in _PERMANENT_CODES:
        reason, explanation = _PERMANENT_CODES[code]
        return PermanentDeliveryError(
            f"{what} with code {code}: {explanation}.", provider=PROVIDER, reason=reason, code=code
        )
    said = scrub(detail, message.address)
    if status == 429 or status >= 500 or code in _RETRYABLE_CODES:
        return RetryableDeliveryError(
            f"Twilio could not take {message.channel} notification {message.id} yet "
            f"(HTTP {status}, code {code}): {said}. It will be retried.",
            provider=PROVIDER,
            code=code,
            retry_after=retry_after(headers),
        )
    return PermanentDeliveryError(
        f"{what} (HTTP {status}, code {code}): {said}.",
        provider=PROVIDER,
        reason="auth" if status in (401, 403) else "rejected",
        code=code,
    )


def _transport_error(exc: requests.RequestException, message: OutboundMessage) -> DeliveryError:
    if isinstance(exc, requests.ConnectTimeout):
        cause, possibly_sent = "connecting to Twilio timed out", False
    elif isinstance(exc, requests.Timeout):
        cause, possibly_sent = (
            "Twilio did not answer in time (the message may have been sent)",
            True,
        )
    elif isinstance(exc, requests.ConnectionError):
        cause, possibly_sent = "Twilio could not be reached", False
    else:
        cause, possibly_sent = f"the request to Twilio failed ({type(exc).__name__})", True
    return RetryableDeliveryError(
        f"Sending {message.channel} notification {message.id} failed: {cause}.",
        provider=PROVIDER,
        possibly_sent=possibly_sent,
    )


class TwilioProvider:
    """SMS (`messages.create`) and voice (`calls.create` with inline TwiML) through Twilio."""

    name = PROVIDER

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        base_url: str | None = None,
        timeout: float = 10,
        *,
        ring_seconds: int = 30,
    ) -> None:
        self._from = from_number
        self._ring_seconds = ring_seconds
        self._http = RoutedTwilioHttpClient(base_url, timeout=timeout)
        client = Client(account_sid, auth_token, http_client=self._http)
        # The SDK imports its API modules on first use (~0.5 s); pay that at start, not on a page.
        self._messages = client.messages
        self._calls = client.calls

    async def send(self, message: OutboundMessage) -> Delivery:
        """Text or call the message's address, as its channel says."""
        return await asyncio.to_thread(self.send_blocking, message)

    def send_blocking(self, message: OutboundMessage) -> Delivery:
        """Synchronous `send`, for thread-pool activities."""
        if message.channel not in ("sms", "voice"):
            raise ValueError(f"Twilio does not deliver the {message.channel} channel")
        try:
            if message.channel == "sms":
                return self._text(message)
            return self._call(message)
        except TwilioRestException as exc:
            raise classify_twilio_error(
                int(exc.status),
                _int(exc.code),
                str(exc.msg),
                message,
                self._http.last_response_headers(),
            ) from None
        except TwilioException as exc:
            raise classify_twilio_error(
                _int(getattr(exc, "status", None)) or 500,
                _int(getattr(exc, "code", None)),
                type(exc).__name__,
                message,
                self._http.last_response_headers(),
            ) from None
        except requests.RequestException as exc:
            raise _transport_error(exc, message) from None

    def _text(self, message: OutboundMessage) -> Delivery:
        status_callback = (
            hook_url(message.callback_url, "status", message) if message.callback_url else None
        )
        sent = self._messages.create(
            to=message.address,
            from_=self._from,
            body=message.body,
            status_callback=status_callback or values.unset,
        )
        return Delivery(
            provider=self.name,
            provider_id=str(sent.sid),
            status=str(sent.status),
            segments=_int(sent.num_segments),
            at=utc_now(),
        )

    def _call(self, message: OutboundMessage) -> Delivery:
        status_callback = (
            hook_url(message.callback_url, "status", message) if message.callback_url else None
        )
        call = self._calls.create(
            to=message.address,
            from_=self._from,
            twiml=voice_twiml(message),
            timeout=self._ring_seconds,
            status_callback=status_callback or values.unset,
            status_callback_event=(
                ["initiated", "ringing", "answered", "completed"]
                if status_callback
                else values.unset
            ),
        )
        return Delivery(
            provider=self.name, provider_id=str(call.sid), status=str(call.status), at=utc_now()
        )


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None
