"""Alert hooks: authenticate a webhook delivery and normalise it into `Alert`s.

Pure functions of the raw body and headers, no I/O: the HTTP routes call `verify`, then the
source's parser from `PARSERS`, and answer a `HookError` with its `.status` and `.body()`.
A parser returns a `ParsedHook` or raises a `HookError`, never anything else, whatever the
input: a client's mistake is a 4xx, never a 5xx.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mayday.hooks.alertmanager import parse_alertmanager
from mayday.hooks.auth import verify
from mayday.hooks.datadog import parse_datadog
from mayday.hooks.errors import (
    HookError,
    InvalidPayload,
    MalformedPayload,
    PayloadTooLarge,
    Unauthorized,
)
from mayday.hooks.generic import parse_generic
from mayday.hooks.grafana import parse_grafana
from mayday.hooks.pagerduty import parse_pagerduty
from mayday.hooks.payload import MAX_BODY_BYTES, ParsedHook

Parser = Callable[[bytes, Mapping[str, str]], ParsedHook]

PARSERS: dict[str, Parser] = {
    "alertmanager": parse_alertmanager,
    "grafana": parse_grafana,
    "pagerduty": parse_pagerduty,
    "datadog": parse_datadog,
    "generic": parse_generic,
}

__all__ = [
    "MAX_BODY_BYTES",
    "PARSERS",
    "HookError",
    "InvalidPayload",
    "MalformedPayload",
    "ParsedHook",
    "Parser",
    "PayloadTooLarge",
    "Unauthorized",
    "verify",
]
