"""The embedded default provider: every notification becomes one JSON line in outbox.jsonl.

The file is shared by every worker thread and process of a dev stack, so appends are made with a
single `os.write` on an `O_APPEND` descriptor while holding an exclusive `flock`. Under that lock
the provider first reads whatever other writers appended since it last looked, which makes the
id check exact across processes: sending the same notification id twice writes one line.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from activities.providers.message import Delivery, OutboundMessage, utc_now

OUTBOX_FILENAME = "outbox.jsonl"


def outbox_line(message: OutboundMessage, at: datetime) -> dict[str, Any]:
    """The JSON object written to the outbox for one message (the Contract's outbox format)."""
    return {
        "id": message.id,
        "at": at.isoformat(),
        "channel": message.channel,
        "to": {"person": message.person, "address": message.address},
        "subject": message.subject,
        "body": message.body,
        "incident_id": message.incident_id,
        "purpose": message.purpose,
        "audience": message.audience,
        "html": message.html,
        "voice_text": message.voice_text,
        "severity": message.severity,
        "dedup_key": message.dedup_key,
        "callback_url": message.callback_url,
    }


def read_outbox(path: Path) -> list[dict[str, Any]]:
    """Every well-formed line of an outbox file, oldest first (missing file: empty list)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    entries: list[dict[str, Any]] = []
    for line in raw.splitlines():
        entry = _parse(line)
        if entry is not None:
            entries.append(entry)
    return entries


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


class OutboxProvider:
    """Append-only JSON-lines outbox, idempotent on the notification id."""

    name = "outbox"

    def __init__(self, path: Path | str, *, durable: bool = True) -> None:
        self.path = Path(path)
        self._durable = durable
        self._lock = threading.Lock()
        self._sent_at: dict[str, str] = {}
        self._scanned = 0

    @classmethod
    def in_data_dir(cls, data_dir: Path | str, *, durable: bool = True) -> OutboxProvider:
        """The outbox at `<data_dir>/outbox.jsonl`."""
        return cls(Path(data_dir) / OUTBOX_FILENAME, durable=durable)

    async def send(self, message: OutboundMessage) -> Delivery:
        """Append the message unless its id is already in the outbox."""
        return await asyncio.to_thread(self.send_blocking, message)

    def send_blocking(self, message: OutboundMessage) -> Delivery:
        """Synchronous `send`, for thread-pool activities."""
        with self._lock:
            if message.id in self._sent_at:
                return self._delivery(message.id, self._sent_at[message.id])
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                with _exclusive(fd):
                    torn_tail = self._catch_up()
                    if message.id in self._sent_at:
                        return self._delivery(message.id, self._sent_at[message.id])
                    now = utc_now()
                    line = json.dumps(outbox_line(message, now), ensure_ascii=False) + "\n"
                    # A writer that died mid-line must not swallow ours into its fragment.
                    data = (("\n" if torn_tail else "") + line).encode()
                    os.write(fd, data)
                    if self._durable:
                        os.fsync(fd)
                    self._scanned = os.fstat(fd).st_size
                    self._sent_at[message.id] = now.isoformat()
                    return self._delivery(message.id, now.isoformat())
            finally:
                os.close(fd)

    def _catch_up(self) -> bool:
        """Index lines other writers appended since the last look; True if the tail is torn.

        The caller holds the flock, so nobody appends while this reads.
        """
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size < self._scanned:  # truncated or replaced: start over
            self._sent_at.clear()
            self._scanned = 0
        if size == self._scanned:
            return False
        with self.path.open("rb") as handle:
            handle.seek(self._scanned)
            chunk = handle.read(size - self._scanned)
        for line in chunk.splitlines():
            entry = _parse(line)
            if entry is not None and isinstance(entry.get("id"), str):
                self._sent_at.setdefault(entry["id"], str(entry.get("at", "")))
        self._scanned = size
        return not chunk.endswith(b"\n")

    def _delivery(self, notification_id: str, at: str) -> Delivery:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            moment = utc_now()
        return Delivery(
            provider=self.name, provider_id=notification_id, status="written", at=moment
        )


@contextmanager
def _exclusive(fd: int) -> Iterator[None]:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
