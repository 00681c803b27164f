"""Typed delivery errors: what went wrong with a send, and whether trying again can help.

Hierarchy::

    DeliveryError                    any failed send; .provider, .code
    ├── PermanentDeliveryError       never retry; .reason tells the caller what to do instead
    │                                  invalid_address  the address is not valid for the channel
    │                                  opted_out        the recipient replied STOP (record it)
    │                                  not_mobile       the number cannot take SMS (try voice)
    │                                  rejected         the provider refused this message
    │                                  auth             credentials, scope or sender setup
    │                                  too_large        the message exceeds the provider's limit
    └── RetryableDeliveryError       try again later; .retry_after when the provider said when
        └── DeliveryThrottled        our own per-destination throttle asked for a pause

Messages are human sentences naming the provider and its code. They never contain the address:
error messages end up in Temporal histories, which are not encrypted like payloads. Provider
text is passed through `scrub` before it is quoted, and SDK exceptions are not chained.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from temporalio.exceptions import ApplicationError

PermanentReason = Literal[
    "invalid_address", "opted_out", "not_mobile", "rejected", "auth", "too_large"
]

_APPLICATION_ERROR_TYPES: dict[str, str] = {
    "invalid_address": "DeliveryInvalidAddress",
    "opted_out": "DeliveryOptedOut",
    "not_mobile": "DeliveryNotMobile",
    "rejected": "DeliveryRejected",
    "auth": "DeliveryAuth",
    "too_large": "DeliveryTooLarge",
}

_EMAIL = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


def scrub(text: str, *addresses: str) -> str:
    """Remove the given addresses and anything shaped like an email or phone number from text."""
    for address in addresses:
        if address:
            text = text.replace(address, "<redacted>")
    text = _EMAIL.sub("<redacted>", text)
    return _PHONE.sub("<redacted>", text)


class DeliveryError(Exception):
    """A send failed; `str(err)` is a sentence safe to log (no address)."""

    application_error_type = "DeliveryError"

    def __init__(self, message: str, *, provider: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.code = code

    @property
    def retryable(self) -> bool:
        """Whether sending the same message again may succeed."""
        return not isinstance(self, PermanentDeliveryError)

    def to_application_error(self) -> ApplicationError:
        """Translate into the Temporal error an activity should raise for this failure."""
        return ApplicationError(
            self.message,
            {"provider": self.provider, "code": self.code},
            type=self.application_error_type,
            non_retryable=not self.retryable,
        )


class PermanentDeliveryError(DeliveryError):
    """The provider will never accept this message; retrying repeats the failure."""

    def __init__(
        self, message: str, *, provider: str, reason: PermanentReason, code: int | None = None
    ) -> None:
        super().__init__(message, provider=provider, code=code)
        self.reason: PermanentReason = reason
        self.application_error_type = _APPLICATION_ERROR_TYPES[reason]

    def to_application_error(self) -> ApplicationError:
        """Translate into a non-retryable Temporal error typed by the reason."""
        return ApplicationError(
            self.message,
            {"provider": self.provider, "code": self.code, "reason": self.reason},
            type=self.application_error_type,
            non_retryable=True,
        )


class RetryableDeliveryError(DeliveryError):
    """The send may succeed later: rate limits, provider outages, network trouble.

    `possibly_sent` is set when the request may have reached the provider before failing (a read
    timeout), so a retry can duplicate the message.
    """

    application_error_type = "DeliveryRetryable"

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        code: int | None = None,
        retry_after: timedelta | None = None,
        possibly_sent: bool = False,
    ) -> None:
        super().__init__(message, provider=provider, code=code)
        self.retry_after = retry_after
        self.possibly_sent = possibly_sent

    def to_application_error(self) -> ApplicationError:
        """Translate into a retryable Temporal error that honours the provider's retry hint."""
        return ApplicationError(
            self.message,
            {"provider": self.provider, "code": self.code, "possibly_sent": self.possibly_sent},
            type=self.application_error_type,
            next_retry_delay=self.retry_after,
        )


class DeliveryThrottled(RetryableDeliveryError):
    """Our throttle refused the send for now so the destination is not flooded."""

    application_error_type = "DeliveryThrottled"
