"""The outbox: one JSON line per notification, idempotent on the notification id."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from activities.providers import OutboxProvider, read_outbox

from .helpers import outbound


async def test_outbox_line_has_the_contract_fields(outbox_provider: OutboxProvider) -> None:
    delivery = await outbox_provider.send(outbound("sms", audience="on-call"))

    (line,) = outbox_provider.path.read_text().splitlines()
    entry = json.loads(line)
    assert outbox_provider.path.name == "outbox.jsonl"
    assert entry["id"] == "INC-42:page:1:dana"
    assert entry["channel"] == "sms"
    assert entry["to"] == {"person": "dana", "address": "+15558675310"}
    assert entry["subject"] == "[SEV1] Checkout down"
    assert entry["body"] == "[SEV1] INC-42 checkout down. Reply 1 to ACK"
    assert (entry["incident_id"], entry["purpose"], entry["audience"]) == (
        "INC-42",
        "page",
        "on-call",
    )
    assert datetime.fromisoformat(entry["at"]) == delivery.at
    assert (delivery.provider, delivery.provider_id, delivery.status) == (
        "outbox",
        "INC-42:page:1:dana",
        "written",
    )


async def test_same_notification_twice_writes_one_line(outbox_provider: OutboxProvider) -> None:
    first = await outbox_provider.send(outbound("sms"))
    again = await outbox_provider.send(outbound("sms", body="a retried attempt"))
    other = await outbox_provider.send(outbound("email", id="INC-42:page:1:dana:email"))

    assert [e["id"] for e in read_outbox(outbox_provider.path)] == [
        first.provider_id,
        other.provider_id,
    ]
    assert again == first


async def test_a_restarted_provider_remembers_what_the_file_holds(tmp_path: Path) -> None:
    await OutboxProvider(tmp_path / "outbox.jsonl").send(outbound("sms"))

    restarted = OutboxProvider(tmp_path / "outbox.jsonl")
    await restarted.send(outbound("sms"))
    await restarted.send(outbound("voice", id="INC-42:page:2:dana"))

    assert [e["id"] for e in read_outbox(restarted.path)] == [
        "INC-42:page:1:dana",
        "INC-42:page:2:dana",
    ]


async def test_concurrent_threads_write_each_id_once(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    providers = [OutboxProvider(path, durable=False) for _ in range(4)]
    messages = [outbound("sms", id=f"n-{i % 25}", body="é" * 500) for i in range(200)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda i: providers[i % 4].send_blocking(messages[i]), range(200)))

    ids = [e["id"] for e in read_outbox(path)]
    assert sorted(ids) == sorted(f"n-{i}" for i in range(25))
    assert len(path.read_text().splitlines()) == 25


def _send_from_another_process(path: str, count: int) -> None:
    provider = OutboxProvider(path, durable=False)
    for i in range(count):
        provider.send_blocking(outbound("sms", id=f"n-{i}"))


def test_concurrent_processes_write_each_id_once(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_send_from_another_process, args=(str(path), 40)) for _ in range(4)
    ]

    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=20)

    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert sorted(e["id"] for e in read_outbox(path)) == sorted(f"n-{i}" for i in range(40))


async def test_a_torn_last_line_does_not_swallow_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    path.write_text('{"id": "n-0", "at": "2024-10-01T12:00:00+00:00"}\n{"id": "n-1", "bo')

    await OutboxProvider(path).send(outbound("sms", id="n-2"))
    await OutboxProvider(path).send(outbound("sms", id="n-0"))

    assert [e["id"] for e in read_outbox(path)] == ["n-0", "n-2"]


async def test_parallel_sends_on_the_event_loop(outbox_provider: OutboxProvider) -> None:
    sends = [outbox_provider.send(outbound("sms", id=f"n-{i % 3}")) for i in range(12)]

    deliveries = await asyncio.gather(*sends)

    assert {d.provider_id for d in deliveries} == {"n-0", "n-1", "n-2"}
    assert len(read_outbox(outbox_provider.path)) == 3
