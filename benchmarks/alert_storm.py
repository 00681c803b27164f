"""Alert storm: N webhooks for K dedup keys at concurrency C through the real HTTP app.

Prints accepted/s, p50/p99 hook latency and incidents created, next to the same figures for a
bare endpoint that only signal-with-starts a trivial workflow, measured in the same run on the
same Temporal dev server; the last line is one JSON object with both and their ratios.

    uv run python benchmarks/alert_storm.py [--webhooks 5000 --keys 10 --concurrency 50] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from mayday.devstack import temporal_binary
from worker.client import DATA_CONVERTER
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

REPO = Path(__file__).resolve().parent.parent
SECRET = "storm-secret"


def alertmanager_body(key: int, n: int, run: str) -> dict[str, Any]:
    """A firing Alertmanager delivery for dedup key `key`; `n` makes the delivery distinct."""
    alertname = f"Storm{run}K{key}"
    labels = {
        "alertname": alertname,
        "service": "checkout",
        "severity": "critical",
        "pod": f"checkout-{n % 20}",
    }
    return {
        "version": "4",
        "groupKey": f"{{}}:{{alertname={alertname!r}}}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "mayday",
        "groupLabels": {"alertname": alertname},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://am:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": f"storm {key}"},
                "startsAt": f"2026-11-28T12:00:{n % 60:02d}Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prom:9090",
                "fingerprint": f"{key:04x}{n % 20:04x}",
            }
        ],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(url)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


async def storm(
    url_for: Any, body_for: Any, headers: dict[str, str], n: int, concurrency: int
) -> dict[str, Any]:
    """Fire n posts with at most `concurrency` in flight; latency per accepted post."""
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    incidents: set[str] = set()
    queue = iter(range(n))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(limits=limits, timeout=60) as http:

        async def worker() -> None:
            nonlocal errors
            for i in queue:
                began = time.perf_counter()
                try:
                    response = await http.post(url_for(i), json=body_for(i), headers=headers)
                except httpx.HTTPError as err:
                    errors += 1
                    kinds[type(err).__name__] = kinds.get(type(err).__name__, 0) + 1
                    continue
                if response.status_code != 202:
                    errors += 1
                    kinds[str(response.status_code)] = kinds.get(str(response.status_code), 0) + 1
                    continue
                latencies.append(time.perf_counter() - began)
                incidents.update(response.json()["incidents"])

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]
    return {
        "accepted": len(latencies),
        "errors": errors,
        "error_kinds": kinds,
        "accepted_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "incidents_created": len(incidents),
        "seconds": round(elapsed, 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--webhooks", type=int, default=5000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="500 webhooks, for a smoke run")
    args = parser.parse_args()
    n = 500 if args.quick else args.webhooks
    run = uuid.uuid4().hex[:6]

    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        data_converter=DATA_CONVERTER,
        search_attributes=SEARCH_ATTRIBUTES,
    ) as env:
        address = env.client.service_client.config.target_host
        mayday_port, bare_port = free_port(), free_port()
        common = {
            "MAYDAY_TEMPORAL_ADDRESS": address,
            "MAYDAY_TASK_QUEUE": f"storm-{run}",
            "MAYDAY_HOOK_SECRET": SECRET,
            "NO_PROXY": "127.0.0.1,localhost",
        }
        procs = [
            spawn([sys.executable, "-m", "mayday", "worker"], common),
            spawn([sys.executable, "-m", "mayday", "serve", "--port", str(mayday_port)], common),
            spawn(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "benchmarks.bare_signal:app",
                    "--port",
                    str(bare_port),
                    "--log-level",
                    "warning",
                    "--timeout-keep-alive",
                    "75",
                ],
                common,
            ),
        ]
        try:
            await wait_http(f"http://127.0.0.1:{mayday_port}/readyz")
            await wait_http(f"http://127.0.0.1:{bare_port}/docs")
            headers = {"Authorization": f"Bearer {SECRET}"}
            bare = await storm(
                lambda i: f"http://127.0.0.1:{bare_port}/signal/{run}-{i % args.keys}",
                lambda i: alertmanager_body(i % args.keys, i, run),
                headers,
                n,
                args.concurrency,
            )
            mayday = await storm(
                lambda i: f"http://127.0.0.1:{mayday_port}/hooks/alertmanager",
                lambda i: alertmanager_body(i % args.keys, i, run),
                headers,
                n,
                args.concurrency,
            )
            query = 'WorkflowType="IncidentWorkflow" AND WorkflowId STARTS_WITH "incident-"'
            mayday["incident_workflows"] = (await env.client.count_workflows(query)).count
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(10)

    print(f"webhooks={n} keys={args.keys} concurrency={args.concurrency}")
    for name, figures in (("mayday /hooks/alertmanager", mayday), ("bare signal-with-start", bare)):
        print(
            f"{name:28s} {figures['accepted_per_s']:8.1f}/s  p50 {figures['p50_ms']:7.2f} ms"
            f"  p99 {figures['p99_ms']:7.2f} ms  errors {figures['errors']}"
            f"  incidents {figures['incidents_created']}"
        )
    ratio = {
        "throughput": round(mayday["accepted_per_s"] / max(bare["accepted_per_s"], 0.1), 3),
        "p50": round(mayday["p50_ms"] / max(bare["p50_ms"], 0.01), 3),
        "p99": round(mayday["p99_ms"] / max(bare["p99_ms"], 0.01), 3),
    }
    print(
        json.dumps(
            {
                "benchmark": "alert_storm",
                "webhooks": n,
                "keys": args.keys,
                "concurrency": args.concurrency,
                "mayday": mayday,
                "baseline": bare,
                "ratio": ratio,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    # Temporal's Rust bridge can abort the interpreter at exit (sdk-python #300).
    os._exit(0)
