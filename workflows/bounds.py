"""Bounds on every text that comes from outside: titles, labels, annotations, notes, answers.

Text is bounded where it enters (hooks, CLI, HTTP forms) and again where a workflow holds it, so
no accepted input can grow an incident's history, queries or messages past Temporal's limits.
Pure functions: imported by workflows, intake and the CLI alike.

"Visible" text has no terminal escape sequences (CSI, OSC, DCS, …, in their 7-bit and 8-bit
forms) and no control, format, private-use or surrogate characters: nothing that can move a
cursor, retitle a terminal, hide a link or reorder the text around it (bidi overrides). Line
breaks and tabs become spaces. The marker is ASCII so a cut title never turns a GSM-7 SMS into
UCS-2.
"""

from __future__ import annotations

import re
import unicodedata

TITLE_MAX = 300
"""Characters of an incident or alert title; longer ones end in TRUNCATED."""
NOTE_MAX = 1_000
"""Characters of a decision's reason or note."""
LABEL_VALUE_MAX = 1_024
"""Characters of one label value (labels route alerts, so a longer one is refused, not cut)."""
LABEL_COUNT_MAX = 100
"""Labels (and, separately, annotations) one alert may carry."""
ANNOTATION_MAX = 4_096
"""Characters of one annotation value; longer ones end in TRUNCATED."""
FINGERPRINT_MAX = 256
"""Characters of an alert fingerprint; a longer or unprintable one is replaced by its hash."""
LINKS_MAX = 10
"""Links one alert keeps (the first ones)."""
LINK_MAX = 2_048
"""Characters of one link; a longer one is dropped (a cut URL leads nowhere)."""
TRUNCATED = "... [truncated]"

_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI: colours, cursor moves, erase
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # strings
    r"|\x1b[ -/]*[0-~]?"  # the other escapes (charset switches, resets, …)
)
_SPACES = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")
_HIDDEN = frozenset({"Cc", "Cf", "Co", "Cs"})
# Format characters that join letters into words or emoji rather than hide anything.
_JOINERS = frozenset("\u200c\u200d")
# Letters and marks that render as nothing: a title of them looks empty.
_BLANKS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")


def visible(text: str) -> str:
    """`text` without terminal escape sequences and control characters (line breaks: spaces)."""
    if text.isprintable():
        return text
    text = _ESCAPES.sub("", text)
    return "".join(
        " " if ch in _SPACES else ch
        for ch in text
        if ch in _SPACES
        or ch in _JOINERS
        or ch.isprintable()
        or unicodedata.category(ch) not in _HIDDEN
    )


def bounded(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in TRUNCATED when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(TRUNCATED), 0)].rstrip() + TRUNCATED


def clean_title(text: str, limit: int = TITLE_MAX) -> str:
    """A title fit to show anywhere: visible, one line, bounded; "" when nothing visible is left."""
    head = text[: _scan(limit)]
    line = _title_line(head)
    if not line and len(head) < len(text):
        # Hidden characters up front: read on rather than call a long title empty.
        head = text
        line = _title_line(head)
    return _cut(line, limit, cut=len(head) < len(text)) if line else ""


def _title_line(text: str) -> str:
    return " ".join("".join(" " if ch in _BLANKS else ch for ch in visible(text)).split())


def clean_text(text: str, limit: int) -> str:
    """Prose (a note, a reason, an answer) visible, on one line, bounded."""
    head = text[: _scan(limit)]
    return _cut(" ".join(visible(head).split()), limit, cut=len(head) < len(text))


def _scan(limit: int) -> int:
    # Only a generous prefix is cleaned: a 900,000-character title costs what a short one does.
    return limit * 8 + 64


def _cut(line: str, limit: int, *, cut: bool) -> str:
    if not cut or len(line) > limit:
        return bounded(line, limit)
    return line[: max(limit - len(TRUNCATED), 0)].rstrip() + TRUNCATED
