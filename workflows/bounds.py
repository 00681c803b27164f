"""Bounds on every text that comes from outside: titles, labels, annotations, notes, answers.

Text is bounded where it enters (hooks, CLI, HTTP forms) and again where a workflow holds it, so
no accepted input can grow an incident's history, queries or messages past Temporal's limits.
Pure functions: imported by workflows, intake and the CLI alike.
"""

from __future__ import annotations

import re
import unicodedata

TITLE_MAX = 300
"""Characters of an incident or alert title; longer ones end in TRUNCATED."""
NOTE_MAX = 1_000
"""Characters of a decision's reason or note."""
LABEL_VALUE_MAX = 1_024
ANNOTATION_MAX = 4_096
FINGERPRINT_MAX = 256
TRUNCATED = "…[truncated]"

_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.")


def visible(text: str) -> str:
    """`text` without terminal escape sequences and control characters (newlines become spaces)."""
    text = _CONTROL.sub("", text)
    return "".join(
        " " if ch in "\r\n\t" else ch
        for ch in text
        if ch in "\r\n\t" or unicodedata.category(ch) not in {"Cc", "Cf", "Co", "Cs"}
    )


def bounded(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in TRUNCATED when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(TRUNCATED), 0)].rstrip() + TRUNCATED


def clean_title(text: str, limit: int = TITLE_MAX) -> str:
    """A title fit to show anywhere: visible, one line, bounded; "" when nothing visible is left."""
    return bounded(" ".join(visible(text).split()), limit)
