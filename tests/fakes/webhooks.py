"""Webhooks the fakes send to the system under test: signed, posted in order from one thread.

Posting ignores proxy variables on purpose: the targets are local test servers.
"""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator

from tests.fakes.server import EventLog

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class SentWebhook:
    """One webhook the fake posted, and what the receiver answered (0: unreachable)."""

    url: str
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    status: int = 0
    answer: bytes = b""
    at: float = 0.0


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float = 5.0) -> SentWebhook:
    """POST raw bytes; return what was sent and the receiver's status and body."""
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    status, answer = 0, b""
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read()
    except OSError:
        status = 0
    return SentWebhook(url, dict(headers), body, status=status, answer=answer, at=time.time())


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature for a form POST, computed by the real SDK."""
    signature: str = RequestValidator(auth_token).compute_signature(url, dict(params))
    return signature


def post_twilio_form(
    url: str,
    params: Mapping[str, str],
    *,
    auth_token: str,
    idempotency_token: str | None = None,
) -> SentWebhook:
    """A form POST signed like Twilio's webhooks."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(auth_token, url, params),
        "User-Agent": "TwilioProxy/1.1",
    }
    if idempotency_token:
        headers["I-Twilio-Idempotency-Token"] = idempotency_token
    sent = post(url, urlencode(dict(params)).encode(), headers)
    return SentWebhook(
        sent.url, sent.headers, sent.body, dict(params), sent.status, sent.answer, sent.at
    )


class EventWebhookSigner:
    """SendGrid's signed Event Webhook: ECDSA P-256 over timestamp + raw body."""

    SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
    TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_key_b64(self) -> str:
        """The verification key as SendGrid's settings page shows it (base64 DER SPKI)."""
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Signature and timestamp headers for a raw body."""
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signature = self._key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "Content-Type": "application/json",
            self.SIGNATURE_HEADER: base64.b64encode(signature).decode(),
            self.TIMESTAMP_HEADER: stamp,
        }

    def post(self, url: str, events: list[dict[str, Any]]) -> SentWebhook:
        """POST a signed JSON array of events."""
        body = json.dumps(events).encode()
        return post(url, body, self.headers(body))


class WebhookSender:
    """Delivers webhooks in submission order from one background thread; logs each result."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.sent: EventLog[SentWebhook] = EventLog()
        self._queue: queue.Queue[Callable[[], SentWebhook] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def submit(self, deliver: Callable[[], SentWebhook]) -> None:
        """Queue a zero-argument callable returning a `SentWebhook`."""
        self._queue.put(deliver)

    def close(self) -> None:
        """Stop after the queued webhooks are sent."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while (deliver := self._queue.get()) is not None:
            if self.delay:
                time.sleep(self.delay)
            self.sent.append(deliver())
