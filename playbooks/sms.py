"""SMS length in segments (GSM-7 with its two-septet extension characters, or UCS-2), and cutting
a body to a segment limit while keeping what matters (the link, the ack instruction)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Each costs an escape septet plus itself, and a segment boundary may not split the pair.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

_GSM7_SINGLE, _GSM7_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67

SmsEncoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SmsLength:
    """How a text travels as SMS: its encoding, its size in encoding units and its segments."""

    encoding: SmsEncoding
    units: int
    segments: int


def measure_sms(text: str) -> SmsLength:
    """Count the segments a carrier will bill for `text`."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        sizes = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return SmsLength("GSM-7", sum(sizes), _segments(sizes, _GSM7_SINGLE, _GSM7_PART))
    sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SmsLength("UCS-2", sum(sizes), _segments(sizes, _UCS2_SINGLE, _UCS2_PART))


def _segments(sizes: list[int], single: int, part: int) -> int:
    total = sum(sizes)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments


SMS_MAX_CHARACTERS = 1_600
"""Twilio refuses a longer body whatever its segments."""
CUT = "..."


def fits_sms(text: str, segment_limit: int) -> bool:
    """Whether `text` goes out in at most `segment_limit` segments and Twilio accepts it."""
    return len(text) <= SMS_MAX_CHARACTERS and measure_sms(text).segments <= segment_limit


def fit_sms(render: Callable[[str], str], text: str, segment_limit: int) -> str:
    """`render(text)`, with `text` cut (ending in CUT) just enough for the result to fit.

    `text` is the part that may give way (an incident title); what `render` adds around it (the
    link, the ack instruction) is kept. If even an empty `text` does not fit, the rendered body
    is cut with `cut_sms`.
    """
    body = render(text)
    if fits_sms(body, segment_limit):
        return body
    shortest, longest = 0, len(text) - 1
    best: str | None = None
    while shortest <= longest:
        middle = (shortest + longest) // 2
        candidate = render(_cut(text, middle))
        if fits_sms(candidate, segment_limit):
            best, shortest = candidate, middle + 1
        else:
            longest = middle - 1
    return best if best is not None else cut_sms(render(CUT), segment_limit)


def cut_sms(text: str, segment_limit: int) -> str:
    """`text` cut to fit, keeping its last line (the link or the instruction) when it can."""
    if fits_sms(text, segment_limit):
        return text
    head, _, last = text.rpartition("\n")
    if not head or not fits_sms(f"{CUT}\n{last}", segment_limit):
        head, last = text, ""
    tail = f"\n{last}" if last else ""
    shortest, longest = 0, len(head)
    while shortest < longest:
        middle = (shortest + longest + 1) // 2
        if fits_sms(_cut(head, middle) + tail, segment_limit):
            shortest = middle
        else:
            longest = middle - 1
    return _cut(head, shortest) + tail


def _cut(text: str, length: int) -> str:
    return text[:length].rstrip() + CUT
