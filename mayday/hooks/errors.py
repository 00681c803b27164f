"""Typed hook errors: why a webhook delivery was refused, as the HTTP status the sender sees.

Hierarchy::

    HookError                 any refused delivery; .status, .error, .field
    ├── MalformedPayload      400  the body is not UTF-8 JSON (names the decoder's problem)
    ├── Unauthorized          401  signature or token missing, wrong or stale
    ├── PayloadTooLarge       413  the body exceeds the hook size limit
    └── InvalidPayload        422  JSON of the wrong shape (names the first failing field)

Every status is a 4xx: a sender's bad input is its mistake and never our 5xx. Messages are
sentences about the *shape* of the input (field paths, decoder positions), never its values:
they end up in logs and answers, and alert contents or secrets must not.
"""

from __future__ import annotations


class HookError(Exception):
    """A delivery was refused; `str(err)` is a sentence safe to log and to answer with."""

    status = 400

    def __init__(self, error: str, *, field: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.field = field

    def body(self) -> dict[str, str | None]:
        """The JSON answer for the sender: `{"error": ..., "field": ...}`."""
        return {"error": self.error, "field": self.field}


class MalformedPayload(HookError):
    """The body is not UTF-8 text or not JSON."""

    status = 400


class Unauthorized(HookError):
    """The delivery could not be authenticated."""

    status = 401


class PayloadTooLarge(HookError):
    """The body exceeds the size mayday accepts for one delivery."""

    status = 413


class InvalidPayload(HookError):
    """Well-formed JSON that is not the shape this source sends."""

    status = 422
