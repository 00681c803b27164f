"""What the shared contact entities add to a page send, next to the in-process throttle.

Each sample is one SMS through the path `notify` takes on a carrier: the opt-out read (a query
to the person's ContactWorkflow) and the per-number budget (an update-with-start), then the
outbox write. The baseline, measured in the same run, is the same send with the in-memory
`DeliveryThrottle` and no opt-out read. Sends rotate over --people contacts on one dev server
with a ContactWorkflow worker in this process. The last line is one JSON object.

    uv run python -m benchmarks.contact_send [--sends 400] [--people 20] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.contacts import ContactBook
from activities.opt_outs import OptOutRegistry
from activities.providers import (
    Channel,
    DeliveryThrottle,
    OutboundMessage,
    OutboxProvider,
    RateLimit,
    ThrottlePolicy,
)
from activities.providers.throttled import LocalBudget, SharedSendBudget, ThrottledProvider
from mayday.devstack import temporal_binary
from worker.client import DATA_CONVERTER
from workflows.contacts import ContactWorkflow

QUEUE = "contact-send-bench"
WARMUP = 20
UNBOUNDED: dict[Channel, RateLimit] = {"sms": RateLimit(10**6, timedelta(minutes=15))}


def message(n: int, person: str) -> OutboundMessage:
    return OutboundMessage(
        id=f"incident-bench-page-1:page:1:{n}:{person}:sms",
        incident_id="incident-bench",
        purpose="page",
        channel="sms",
        person=person,
        address="+15550000000",
        body="[SEV2] bench",
    )


def figures(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


async def timed(
    sends: int, people: list[str], send: Callable[[int, str], Awaitable[None]]
) -> list[float]:
    samples = []
    for n in range(sends + WARMUP):
        person = people[n % len(people)]
        began = time.perf_counter()
        await send(n, person)
        if n >= WARMUP:
            samples.append(time.perf_counter() - began)
    return samples


async def run(client: Client, sends: int, people: int, outbox_dir: Path) -> dict[str, object]:
    who = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(people)]
    outbox = OutboxProvider(outbox_dir / "outbox.jsonl")

    async def source() -> Client:
        return client

    contacts = ContactBook(source, QUEUE)
    registry = OptOutRegistry(contacts)
    # Limits no sample reaches: the figures are the cost of asking, never a wait.
    unpaced = ThrottlePolicy(per_destination=UNBOUNDED, per_channel={})
    local = ThrottledProvider(outbox, LocalBudget(DeliveryThrottle(unpaced)))
    shared = ThrottledProvider(
        outbox,
        SharedSendBudget(contacts, UNBOUNDED, pace=DeliveryThrottle(ThrottlePolicy.unlimited())),
    )

    async def baseline(n: int, person: str) -> None:
        await local.send(message(n, person).model_copy(update={"id": f"local-{n}"}))

    async def opt_out_read(_: int, person: str) -> None:
        assert not await registry.opted_out(person, "sms")

    async def budget(n: int, person: str) -> None:
        await contacts.admit(person, "sms", f"budget-{n}", count=10**6, per=timedelta(minutes=15))

    async def full(n: int, person: str) -> None:
        if await registry.opted_out(person, "sms"):
            raise AssertionError("nobody here opted out")
        await shared.send(message(n, person))

    async with Worker(client, task_queue=QUEUE, workflows=[ContactWorkflow]):
        results = {
            "in_memory": figures(await timed(sends, who, baseline)),
            "opt_out_query": figures(await timed(sends, who, opt_out_read)),
            "budget_update": figures(await timed(sends, who, budget)),
            "shared_send": figures(await timed(sends, who, full)),
        }
    base = results["in_memory"]["p50_ms"]
    added = results["shared_send"]["p50_ms"] - base
    return {
        "benchmark": "contact_send",
        "sends": sends,
        "people": people,
        **results,
        "added_p50_ms": round(added, 2),
        "ratio_p50": round(results["shared_send"]["p50_ms"] / max(base, 0.001), 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=400)
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="60 sends, for a smoke run")
    args = parser.parse_args()
    sends = 60 if args.quick else args.sends
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()), data_converter=DATA_CONVERTER
    ) as env:
        with tempfile.TemporaryDirectory() as tmp:
            result = await run(env.client, sends, args.people, Path(tmp))
    for name in ("in_memory", "opt_out_query", "budget_update", "shared_send"):
        print(f"{name:>14}: {result[name]}")
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
