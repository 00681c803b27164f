"""Text from outside is bounded and visible: nothing raw reaches a terminal, an SMS or a query."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playbooks.sms import measure_sms
from workflows.bounds import (
    NOTE_MAX,
    TITLE_MAX,
    TRUNCATED,
    bounded,
    clean_text,
    clean_title,
    visible,
)

HOSTILE = [
    "\x1b[31mred\x1b[0m",
    "\x1b]0;retitled terminal\x07",
    "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "\x1bP+q544e\x1b\\",
    "\x9b2J",
    "\x9d0;8-bit title\x9c",
    "\x1b(0",
    "\x1bc",
    "\x00\x07\x08\x7f",
    "\u202eevil\u202c",
    "\u2066isolate\u2069",
    "\ufeff\u200b\u2060",
    "\ue000private",
    "line\nbreak\r\nand\ttab\u2028sep",
]


def _raw(text: str) -> bool:
    return any(ch in text for ch in "\x1b\x9b\x9d\x90\x07\x00\r\n\t\u202e\u2066\ufeff\ue000")


@pytest.mark.parametrize("text", HOSTILE)
def test_escapes_and_controls_never_survive(text: str) -> None:
    assert not _raw(visible(text))
    assert not _raw(clean_title(f"Checkout {text} down"))


def test_a_coloured_title_keeps_its_words_and_loses_its_codes() -> None:
    title = "\x1b[1;31mCheckout\x1b[0m 5xx\x1b]0;owned\x07 above\n5%"
    assert clean_title(title) == "Checkout 5xx above 5%"


def test_an_osc_hyperlink_keeps_its_text_not_its_target() -> None:
    assert visible("\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\") == "click"


def test_words_and_emoji_joined_by_zero_width_joiners_stay_whole() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_title(f"{family} team page") == f"{family} team page"


@pytest.mark.parametrize(
    "text", ["", "   ", "\x1b[2J\x1b[H", "\u200b\u200b", "\u3164\u2800", "\n\t\r", "\x1b]0;t\x07"]
)
def test_a_title_of_only_invisible_characters_cleans_to_nothing(text: str) -> None:
    assert clean_title(text) == ""


def test_a_long_title_is_cut_with_the_marker() -> None:
    title = clean_title("Checkout down " * 1_000)
    assert len(title) <= TITLE_MAX and title.endswith(TRUNCATED)
    assert title.startswith("Checkout down Checkout down")


def test_a_900000_character_title_is_cut_quickly() -> None:
    started = time.perf_counter()
    title = clean_title("\x1b[1mA\x00 " * 225_000)
    assert time.perf_counter() - started < 0.05
    assert len(title) <= TITLE_MAX and title.endswith(TRUNCATED)


def test_a_long_run_of_hidden_characters_does_not_hide_the_title_behind_it() -> None:
    assert clean_title("\x1b[0m" * 5_000 + "visible tail") == "visible tail"


def test_a_title_cut_before_it_was_all_read_says_so() -> None:
    title = clean_title("\x1b[0m" * 500 + "x" + " " * 10_000 + "tail")
    assert title.startswith("x") and title.endswith(TRUNCATED)


def test_short_plain_text_passes_unchanged() -> None:
    assert clean_title("Checkout 5xx above 5%") == "Checkout 5xx above 5%"
    assert bounded("short", 10) == "short"
    assert clean_text("a note", NOTE_MAX) == "a note"


def test_the_marker_keeps_an_sms_in_gsm7() -> None:
    assert measure_sms(clean_title("x" * 1_000)).encoding == "GSM-7"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=2_000), limit=st.integers(min_value=20, max_value=400))
def test_any_text_comes_out_bounded_and_visible(text: str, limit: int) -> None:
    for cleaned in (clean_title(text, limit), clean_text(text, limit)):
        assert len(cleaned) <= limit
        assert cleaned == cleaned.strip()
        assert not _raw(cleaned)
    assert visible(visible(text)) == visible(text)
