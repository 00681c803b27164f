"""Time to page: alert webhook → the first request the (fake) Twilio server receives.

Each of N alerts opens a new incident through the real HTTP app and worker (separate processes,
the real twilio SDK pointed at tests/fakes' FakeTwilio). The floor, measured in the same run on
the same dev server: signal-with-start into a trivial workflow → its first activity starting.
Prints p50/p99 of both and their ratio; the last line is one JSON object.

Alerts are spaced by --interval (both paths alike) so each sample is one page, not a queue:
an incident also starts its page workflow right after the first SMS, and back-to-back
incidents would measure that background work instead.

    uv run python -m benchmarks.time_to_page [--incidents 200] [--interval 0.5] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from benchmarks.alert_storm import alertmanager_body, free_port, wait_http
from benchmarks.floor import FLOOR_QUEUE, FloorWorkflow, first_step, started_at
from mayday.devstack import temporal_binary
from tests.fakes import FakeTwilio
from worker.client import DATA_CONVERTER
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

REPO = Path(__file__).resolve().parent.parent
SECRET = "page-secret"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def figures(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


async def measure_floor(client: Client, n: int, interval: float) -> list[float]:
    samples = []
    async with Worker(
        client, task_queue=FLOOR_QUEUE, workflows=[FloorWorkflow], activities=[first_step]
    ):
        for i in range(n + 5):
            key = f"floor-{uuid.uuid4().hex[:8]}"
            began = time.time()
            await client.start_workflow(
                FloorWorkflow.run,
                key,
                id=key,
                task_queue=FLOOR_QUEUE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                start_signal="alert",
                start_signal_args=[{"n": i}],
            )
            while key not in started_at:
                await asyncio.sleep(0.0005)
            if i >= 5:  # the first few warm the worker's caches
                samples.append(started_at[key] - began)
            await asyncio.sleep(interval)
    return samples


async def measure_mayday(
    fake: FakeTwilio, url: str, n: int, run: str, interval: float
) -> tuple[list[float], list[float]]:
    samples, accepted = [], []
    headers = {"Authorization": f"Bearer {SECRET}"}
    async with httpx.AsyncClient(timeout=30) as http:
        for i in range(n + 5):
            body = alertmanager_body(i, i, f"{run}x{i}")
            before = len(fake.messages)
            began = time.time()
            response = await http.post(url, json=body, headers=headers)
            answered = time.time()
            assert response.status_code == 202, response.text
            await asyncio.to_thread(
                fake.requests.wait_for,
                before + 1,
                where=lambda r: r.path.endswith("/Messages.json"),
                timeout=30,
            )
            arrived = [r for r in fake.requests if r.path.endswith("/Messages.json")][before]
            if i >= 5:
                samples.append(arrived.at - began)
                accepted.append(answered - began)
            await asyncio.sleep(interval)
    return samples, accepted


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between alerts")
    parser.add_argument("--quick", action="store_true", help="30 incidents, for a smoke run")
    args = parser.parse_args()
    n = 30 if args.quick else args.incidents
    run = uuid.uuid4().hex[:6]

    with FakeTwilio() as fake, tempfile.TemporaryDirectory() as data_dir:
        async with await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary()),
            data_converter=DATA_CONVERTER,
            search_attributes=SEARCH_ATTRIBUTES,
        ) as env:
            port = free_port()
            common = {
                "MAYDAY_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
                "MAYDAY_TASK_QUEUE": f"ttp-{run}",
                "MAYDAY_PAGE_TASK_QUEUE": f"ttp-pages-{run}",
                "MAYDAY_CONTACT_TASK_QUEUE": f"ttp-contacts-{run}",
                "MAYDAY_DATA_DIR": data_dir,
                "MAYDAY_HOOK_SECRET": SECRET,
                "MAYDAY_SMS_PROVIDER": "twilio",
                "MAYDAY_VOICE_PROVIDER": "twilio",
                "TWILIO_ACCOUNT_SID": fake.account_sid,
                "TWILIO_AUTH_TOKEN": fake.auth_token,
                "MAYDAY_TWILIO_BASE_URL": fake.url,
                "MAYDAY_TWILIO_FROM": "+15005550006",
                "MAYDAY_CARRIER_THROTTLE": "false",
                "MAYDAY_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "NO_PROXY": "127.0.0.1,localhost",
            }
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "mayday", cmd, *extra],
                    cwd=REPO,
                    env={**os.environ, **common},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for cmd, extra in (("worker", []), ("serve", ["--port", str(port)]))
            ]
            try:
                await wait_http(f"http://127.0.0.1:{port}/readyz")
                floor = await measure_floor(env.client, n, args.interval)
                mayday, accepted = await measure_mayday(
                    fake, f"http://127.0.0.1:{port}/hooks/alertmanager", n, run, args.interval
                )
            finally:
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.wait(10)

    ours, base = figures(mayday), figures(floor)
    ours["hook_202_p50_ms"] = figures(accepted)["p50_ms"]
    ratio = {
        "p50": round(ours["p50_ms"] / base["p50_ms"], 3),
        "p99": round(ours["p99_ms"] / base["p99_ms"], 3),
    }
    print(f"incidents={n}")
    print(
        f"alert webhook → Twilio request   p50 {ours['p50_ms']:7.2f} ms  p99 "
        f"{ours['p99_ms']:7.2f} ms"
    )
    print(
        f"floor signal-with-start → activity p50 {base['p50_ms']:7.2f} ms  p99 "
        f"{base['p99_ms']:7.2f} ms"
    )
    print(f"ratio p50 {ratio['p50']}  p99 {ratio['p99']}")
    print(
        json.dumps(
            {
                "benchmark": "time_to_page",
                "incidents": n,
                "mayday": ours,
                "baseline": base,
                "ratio": ratio,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)  # Temporal's Rust bridge can abort the interpreter at exit (sdk-python #300)
