"""Contracts of the contact entity: one workflow per person and phone channel, shared by hosts.

A contact holds what every worker and HTTP app must agree on about reaching one person on one
channel: whether they replied STOP, the sends counted against the per-number budget, and the
Twilio replies (MessageSid, CallSid) already handled. Its workflow id is a hash of the directory
id and the channel, so no name or number reaches Temporal's ids or visibility.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

ContactChannel = Literal["sms", "voice"]
CONTACT_CHANNELS: tuple[ContactChannel, ...] = ("sms", "voice")

CONTACT_PREFIX = "contact-"
CONTACT_ID = re.compile(r"contact-[0-9a-f]{32}")
PERSON_ID = re.compile(r"[a-z0-9]+(?:[_-][a-z0-9]+)*")
REPLY_ID = re.compile(r"[A-Za-z0-9]{2,64}")
"""Twilio's MessageSid / CallSid: two letters and 32 hex digits; bounded and plain."""

MAX_REPLIES = 200
"""Handled replies a contact remembers; older ones fall off (a person answers a few a day)."""
MAX_SENDS = 100
"""Budgeted sends a contact remembers inside its window; far above any sane limit."""
MESSAGES_PER_RUN = 500
"""Continue-as-new after this many signals and updates (Temporal caps a run at 2,000 updates)."""


class ContactIdError(ValueError):
    """A directory id or channel that cannot name a contact."""


def contact_workflow_id(person: str, channel: str) -> str:
    """The contact's workflow id: `contact-` and 32 hex digits of SHA-256(person, channel)."""
    if len(person) > 64 or not PERSON_ID.fullmatch(person):
        raise ContactIdError("A contact needs a directory id (a slug of at most 64 characters).")
    if channel not in CONTACT_CHANNELS:
        raise ContactIdError(f"Contacts are kept for sms and voice, not {channel[:16]!r}.")
    digest = hashlib.sha256(f"{person}\x00{channel}".encode()).hexdigest()
    return CONTACT_PREFIX + digest[:32]


def is_contact_id(text: str) -> bool:
    """Whether `text` has the contact id grammar."""
    return CONTACT_ID.fullmatch(text) is not None


class OptOutChange(BaseModel):
    """STOP (opted_out) or START from the person, or a carrier's refusal (error 21610)."""

    opted_out: bool
    reply_id: str | None = Field(
        default=None, pattern=REPLY_ID.pattern, description="MessageSid of the reply, if any."
    )
    at: datetime | None = Field(default=None, description="When the door received it.")


class SendAdmission(BaseModel):
    """May notification `notification_id` be sent now under `count` sends per `per`?"""

    notification_id: str = Field(min_length=1, max_length=300)
    count: int = Field(ge=1)
    per: timedelta = Field(gt=timedelta(0))


class Admission(BaseModel):
    """The answer to a SendAdmission: zero wait means admitted and counted."""

    wait: timedelta = timedelta(0)


class ReplyClaim(BaseModel):
    """A Twilio request (MessageSid or CallSid) about to be acted on."""

    reply_id: str = Field(pattern=REPLY_ID.pattern)


class ClaimedReply(BaseModel):
    """Fresh: act on the request. Otherwise it was seen: answer `answer` (None: still pending)."""

    fresh: bool
    answer: str | None = None


class ReplyAnswer(BaseModel):
    """What the door answered a claimed request, kept so a replay gets the same answer."""

    reply_id: str = Field(pattern=REPLY_ID.pattern)
    answer: str = Field(max_length=2000)


class SeenReply(BaseModel):
    """A handled (or pending) request and the answer it got."""

    reply_id: str
    answer: str | None = None
    at: datetime


class BudgetedSend(BaseModel):
    """A send counted against the per-number budget."""

    notification_id: str
    at: datetime


class ContactState(BaseModel):
    """Everything a contact carries across continue-as-new."""

    runs: int = 1
    opted_out: bool = False
    changed_at: datetime | None = None
    sends: list[BudgetedSend] = Field(default_factory=list)
    horizon: timedelta = Field(
        default=timedelta(0), description="The longest budget window asked about."
    )
    replies: list[SeenReply] = Field(default_factory=list)
    messages_per_run: int = Field(default=MESSAGES_PER_RUN, ge=1, le=MESSAGES_PER_RUN)


class ContactView(BaseModel):
    """What the `view` query reports: no address, no name."""

    opted_out: bool
    changed_at: datetime | None = None
    sends_in_horizon: int = 0
    replies_remembered: int = 0
    runs: int = Field(default=1, description="Runs of this contact's chain so far.")
