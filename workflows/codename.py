"""Codenames for restricted (security) incidents: two neutral words chosen by a hash of a seed.

A security incident is named by its codename wherever its words could leak (SMS, email, the
timeline of a page), so the words hint at nothing: no incident, threat or security vocabulary.
Pure and deterministic (hashlib only), so workflows may call it and replay gets the same name.
"""

from __future__ import annotations

import hashlib

# 64 words each, a power of two, so every pair is equally likely under the modulo below. Never
# change the lists (appending changes the modulo too): running incidents would be renamed, and
# their histories would no longer replay the texts they sent.
ADJECTIVES = (
    "Amber", "Azure", "Bold", "Breezy", "Bright", "Calm", "Candid", "Clever", "Coral", "Crisp",
    "Dapper", "Eager", "Emerald", "Fair", "Gentle", "Gilded", "Glad", "Golden", "Grand", "Hazel",
    "Honest", "Indigo", "Ivory", "Jade", "Jolly", "Keen", "Kind", "Lively", "Lucky", "Lunar",
    "Mellow", "Merry", "Modest", "Noble", "Olive", "Opal", "Patient", "Pearl", "Plucky", "Polar",
    "Proud", "Rapid", "Rosy", "Royal", "Rustic", "Sage", "Sandy", "Silver", "Sleek", "Smooth",
    "Solar", "Steady", "Sunny", "Swift", "Tidy", "Topaz", "Tranquil", "Velvet", "Vivid", "Mild",
    "Wise", "Witty", "Woven", "Zesty",
)  # fmt: skip
NOUNS = (
    "Falcon", "Heron", "Otter", "Badger", "Bison", "Cedar", "Comet", "Condor", "Crane", "Dolphin",
    "Eagle", "Elm", "Finch", "Fjord", "Gazelle", "Glacier", "Grove", "Harbor", "Ibis", "Island",
    "Kestrel", "Koala", "Lagoon", "Lark", "Lemur", "Linden", "Lynx", "Magpie", "Maple", "Marlin",
    "Meadow", "Mesa", "Moose", "Oak", "Orca", "Osprey", "Owl", "Panda", "Pelican", "Pine", "Plover",
    "Puffin", "Quail", "Reef", "Robin", "Sparrow", "Spruce", "Swan", "Tern", "Thrush", "Tulip",
    "Valley", "Walrus", "Willow", "Wren", "Yak", "Zebra", "Aspen", "Birch", "Canyon", "Summit",
    "River", "Orchid", "Pebble",
)  # fmt: skip


def codename(seed: str) -> str:
    """Two words, e.g. "Amber Falcon", always the same for the same seed."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    adjective = int.from_bytes(digest[:8], "big") % len(ADJECTIVES)
    noun = int.from_bytes(digest[8:16], "big") % len(NOUNS)
    return f"{ADJECTIVES[adjective]} {NOUNS[noun]}"
