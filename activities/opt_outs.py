"""Contacts who replied STOP: mirrored on our side so no provider is asked again.

A carrier answers a message to an opted-out number with Twilio error 21610; sending again
risks the sending number and breaks the law. The opt-out lives in the person's contact entity
in Temporal (see `activities.contacts`), so every worker and HTTP app sees one answer. An
`opt_outs.json` left in the data dir by an older mayday is migrated once and renamed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from activities.contacts import ContactBook, ContactUnavailable
from workflows.contact_contracts import CONTACT_CHANNELS, ContactIdError

log = logging.getLogger(__name__)

LEGACY_FILENAME = "opt_outs.json"
MIGRATED_SUFFIX = ".migrated"


class OptOutRegistry:
    """Who opted out of which channel, as the contact entities in Temporal hold it."""

    def __init__(self, contacts: ContactBook, *, legacy_file: Path | None = None) -> None:
        self._contacts = contacts
        self._legacy = legacy_file
        self._migration = asyncio.Lock()

    @classmethod
    def with_data_dir(cls, contacts: ContactBook, data_dir: Path) -> OptOutRegistry:
        """A registry that first migrates the data dir's legacy file, if there is one."""
        return cls(contacts, legacy_file=data_dir / LEGACY_FILENAME)

    async def opted_out(self, person: str, channel: str) -> bool:
        """Whether the person asked this channel to stop (email and pages are never stopped)."""
        await self._migrate()
        if channel not in CONTACT_CHANNELS:
            return False
        return await self._contacts.opted_out(person, channel)

    async def record(self, person: str, channel: str, *, reply_id: str | None = None) -> None:
        """Remember that the person opted out of the channel (a replayed reply changes nothing)."""
        await self._migrate()
        await self._contacts.change_opt_out(person, channel, opted_out=True, reply_id=reply_id)

    async def clear(self, person: str, channel: str, *, reply_id: str | None = None) -> None:
        """The person sent START: the channel may be used again."""
        await self._migrate()
        await self._contacts.change_opt_out(person, channel, opted_out=False, reply_id=reply_id)

    async def _migrate(self) -> None:
        """Move a legacy file's opt-outs into Temporal once, then rename the file."""
        legacy = self._legacy
        if legacy is None:
            return
        async with self._migration:
            if self._legacy is None:
                return
            try:
                loaded = json.loads(legacy.read_text())
            except FileNotFoundError:
                self._legacy = None
                return
            except ValueError:
                loaded = {}
            entries = loaded.items() if isinstance(loaded, dict) else []
            migrated = 0
            for person, channels in entries:
                for channel in channels if isinstance(channels, list) else []:
                    try:
                        await self._contacts.change_opt_out(person, channel, opted_out=True)
                    except ContactIdError:
                        continue
                    except ContactUnavailable:
                        raise
                    migrated += 1
            legacy.replace(legacy.with_name(legacy.name + MIGRATED_SUFFIX))
            log.info("migrated %d opt-outs from the data dir into Temporal", migrated)
            self._legacy = None
