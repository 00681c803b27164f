"""Turn a rendered voice message into text a text-to-speech engine reads naturally."""

from __future__ import annotations

import re

_URL = re.compile(r"https?://([^/\s]+)\S*")
_SEVERITY = re.compile(r"\bSEV-?(\d)\b", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_SPOKEN_WORDS = {
    r"\bIC\b": "incident commander",
    r"\bSLT\b": "senior leadership",
    r"\bETA\b": "expected time",
    r"&": "and",
    r"#": "number ",
}


def for_speech(text: str) -> str:
    """Plain sentences for TTS: links become spoken host names and abbreviations are expanded."""
    spoken = _URL.sub(lambda match: match.group(1).replace(".", " dot "), text)
    spoken = _SEVERITY.sub(r"severity \1", spoken)
    for pattern, words in _SPOKEN_WORDS.items():
        spoken = re.sub(pattern, words, spoken)
    spoken = _SPACE.sub(" ", spoken).strip()
    if spoken and spoken[-1] not in ".!?":
        spoken += "."
    return spoken
