"""How a page's steps read on the incident timeline, and who a page woke without an ack."""

from __future__ import annotations

from workflows.contracts import SYSTEM_ACTOR, TimelineEntry
from workflows.escalation_contracts import ChannelKind, PageEvent, PageStatus

STAND_DOWN_CHANNEL: dict[str, ChannelKind] = {"sms": "sms", "email": "email", "voice": "sms"}
"""A stand-down never rings a phone: whoever a call woke is texted."""
PLAIN_WORDS = {
    "possibly-sent": "possibly sent (the provider never answered; not sent again)",
    "renotified": "paged again",
    "skipped": "repeat skipped",
}
WOKEN = ("paged", "possibly-sent", "renotified")


def page_timeline(events: list[PageEvent]) -> list[TimelineEntry]:
    """A page's steps as timeline entries (its ack is recorded by the incident itself)."""
    entries = []
    for event in events:
        if event.outcome == "acked":
            continue
        if event.outcome == "notified":
            entries.append(
                TimelineEntry(
                    at=event.at,
                    actor=SYSTEM_ACTOR,
                    kind="page",
                    text=f"{event.person} told by {event.channel} who has the page",
                )
            )
            continue
        if event.outcome in PLAIN_WORDS:
            detail = f" ({event.detail})" if event.outcome == "skipped" and event.detail else ""
            outcome = PLAIN_WORDS[event.outcome] + detail
        else:
            outcome = event.outcome + (f" ({event.detail})" if event.detail else "")
        level = f"Level {event.level}" if event.level else "Fallback"
        who = f" {event.person}" if event.person else ""
        how = f" by {event.channel}" if event.channel else ""
        entries.append(
            TimelineEntry(
                at=event.at,
                actor=SYSTEM_ACTOR,
                kind="page",
                text=f"{level}:{who}{how} {outcome}",
            )
        )
    return entries


def woken_without_ack(status: PageStatus) -> dict[str, ChannelKind]:
    """People a page reached who never took it, with the channel to tell them on."""
    woken: dict[str, ChannelKind] = {}
    for event in status.events:
        if event.outcome in WOKEN and event.person and event.channel:
            channel = STAND_DOWN_CHANNEL.get(event.channel)
            if channel is not None:
                woken.setdefault(event.person, channel)
    woken.pop(status.acked_by or "", None)
    return woken
