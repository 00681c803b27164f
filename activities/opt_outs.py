"""Contacts who replied STOP: mirrored on our side so no provider is asked again.

A carrier answers a message to an opted-out number with Twilio error 21610; sending again
risks the sending number. The registry is a small JSON file in the data dir, shared by every
worker process on the host, keyed by directory id and channel (never by number).
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

FILENAME = "opt_outs.json"


class OptOutRegistry:
    """Who opted out of which channel; safe across threads and processes."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> OptOutRegistry:
        """The registry kept beside the outbox."""
        return cls(data_dir / FILENAME)

    def _read(self) -> dict[str, list[str]]:
        try:
            loaded = json.loads(self._path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {k: list(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}

    async def opted_out(self, person: str, channel: str) -> bool:
        """Whether the person asked this channel to stop."""
        return channel in self._read().get(person, [])

    async def record(self, person: str, channel: str) -> None:
        """Remember that the person opted out of the channel."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self._read()
            channels = current.setdefault(person, [])
            if channel in channels:
                return
            channels.append(channel)
            temporary = self._path.with_suffix(".tmp")
            temporary.write_text(json.dumps(current, indent=1, sort_keys=True))
            os.replace(temporary, self._path)

    async def clear(self, person: str, channel: str) -> None:
        """The person sent START: the channel may be used again."""
        with open(self._path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self._read()
            if channel not in current.get(person, []):
                return
            current[person].remove(channel)
            temporary = self._path.with_suffix(".tmp")
            temporary.write_text(json.dumps(current, indent=1, sort_keys=True))
            os.replace(temporary, self._path)
