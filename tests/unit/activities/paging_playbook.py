"""The Acme playbook plus people whose numbers exercise the fake Twilio's magic numbers."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from mayday.playbook_seam import current_playbook
from playbooks import Directory, Person, Playbook, Rotation, Team

BAD_NUMBER = "+15005550001"
"""Twilio test number: 21211, not a valid phone number (SMS and calls)."""
STOPPED = "+15005550004"
"""Twilio test number: 21610, the recipient replied STOP."""
NOT_MOBILE = "+15005550009"
"""Twilio test number: 21614, cannot receive SMS."""


def _person(person_id: str, name: str, *channels: tuple[str, str]) -> Person:
    return Person.model_validate(
        {
            "id": person_id,
            "name": name,
            "timezone": "UTC",
            "channels": [{"kind": kind, "address": address} for kind, address in channels],
        }
    )


PEOPLE = {
    "ada-first": _person(
        "ada-first", "Ada First", ("sms", "+15550700"), ("email", "ada@x.example")
    ),
    "ben-second": _person("ben-second", "Ben Second", ("sms", "+15550701")),
    "cy-third": _person("cy-third", "Cy Third", ("sms", "+15550702")),
    "dee-fourth": _person("dee-fourth", "Dee Fourth", ("sms", "+15550703")),
    "fay-fallback": _person("fay-fallback", "Fay Fallback", ("sms", "+15550704")),
    "sal-stopped": _person(
        "sal-stopped", "Sal Stopped", ("sms", STOPPED), ("email", "sal@x.example")
    ),
    "bo-badnumber": _person(
        "bo-badnumber", "Bo Badnumber", ("sms", BAD_NUMBER), ("email", "bo@x.example")
    ),
    "lee-landline": _person(
        "lee-landline",
        "Lee Landline",
        ("sms", NOT_MOBILE),
        ("email", "lee@x.example"),
        ("voice", NOT_MOBILE),
    ),
}
ADDRESSES = {pid: [c.address for c in p.channels] for pid, p in PEOPLE.items()}

NOBODY_YET = Rotation.model_validate(
    {
        "id": "nobody-yet",
        "name": "Starts in the future",
        "time_zone": "UTC",
        "layers": [{"name": "later", "members": ["ada-first"], "start": datetime(2099, 1, 1)}],
    }
)


@lru_cache(maxsize=1)
def paging_playbook() -> Playbook:
    """Acme, with the test people, a `pair` team and a rotation nobody holds yet."""
    acme = current_playbook(None)
    directory = Directory(
        people={**acme.directory.people, **PEOPLE},
        teams={
            **acme.directory.teams,
            "pair": Team(id="pair", name="Pair", members=["ben-second", "cy-third"]),
        },
    )
    return acme.model_copy(
        update={"directory": directory, "rotations": {**acme.rotations, "nobody-yet": NOBODY_YET}}
    )
