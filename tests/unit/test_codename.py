"""Codenames of restricted incidents: stable, spread out, and saying nothing about an incident."""

from __future__ import annotations

import re

from workflows.codename import ADJECTIVES, NOUNS, codename

TELLING = (
    "alarm", "alert", "attack", "breach", "bug", "crash", "danger", "dark", "down", "error",
    "fail", "fire", "ghost", "hack", "hidden", "incident", "leak", "outage", "panic", "quiet",
    "risk", "secret", "secur", "shadow", "silent", "storm", "threat", "virus", "vault", "war",
)  # fmt: skip


def test_the_same_seed_always_gives_the_same_codename() -> None:
    assert codename("incident-checkout-3765fed2") == codename("incident-checkout-3765fed2")
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", codename("incident-checkout-3765fed2"))


def test_codenames_already_given_never_change() -> None:
    # Workflows compute codenames; a changed word list would rename incidents on replay.
    assert codename("incident-checkout-3765fed2") == "Gentle Maple"
    assert codename("incident-step1-20261128") == "Topaz Grove"


def test_different_seeds_spread_over_many_codenames() -> None:
    names = {codename(f"incident-{number}") for number in range(500)}
    assert len(names) > 400
    first_words = {name.split()[0] for name in names}
    assert len(first_words) == len(ADJECTIVES)


def test_word_lists_are_long_unique_and_neutral() -> None:
    for words in (ADJECTIVES, NOUNS):
        assert len(words) >= 48
        assert len(set(words)) == len(words)
        for word in words:
            assert word.isalpha() and word == word.capitalize(), word
            assert not [t for t in TELLING if t in word.lower()], word


def test_a_codename_is_made_of_the_listed_words() -> None:
    adjective, noun = codename("any seed at all").split()
    assert adjective in ADJECTIVES and noun in NOUNS
