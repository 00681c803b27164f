"""Alert storm: N webhooks for K dedup keys at concurrency C through the real HTTP app.

Prints accepted/s, p50/p99 hook latency and incidents created, next to the same figures for a
bare endpoint that only signal-with-starts a trivial workflow, measured in the same run on the
same Temporal dev server; the last line is one JSON object with both and their ratios.
For every incident key it also reports the runs its continue-as-new chain used, the largest
run's history (events and bytes), and the events per accepted alert over all runs.

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
from temporalio.client import Client
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


class Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a load generator must be.

    httpx spent more CPU per post than either server on a 2-core machine, so it measured
    itself; this writes the request and reads the answer by its Content-Length.
    """

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self._port = port
        self._head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection("127.0.0.1", self._port)
        reader, writer = self._streams
        try:
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self._port}\r\n{self._head}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            status = int(head.split(" ", 2)[1])
            length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
            answer = await reader.readexactly(length)
            if "connection: close" in head:
                self.close()
            return status, answer
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def storm(
    port: int,
    path_for: Any,
    body_for: Any,
    headers: dict[str, str],
    n: int,
    concurrency: int,
    seen: set[str] | None = None,
    phase_timeout: float = 600,
) -> dict[str, Any]:
    """Fire n posts with at most `concurrency` in flight; latency per accepted post."""
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    incidents: set[str] = set() if seen is None else seen
    queue = iter(range(n))
    deadline = time.monotonic() + phase_timeout

    async def worker() -> None:
        nonlocal errors
        connection = Connection(port, headers)
        try:
            for i in queue:
                if time.monotonic() > deadline:
                    errors += 1
                    kinds["unsent"] = kinds.get("unsent", 0) + 1
                    continue
                body = json.dumps(body_for(i)).encode()
                began = time.perf_counter()
                try:
                    status, answer = await asyncio.wait_for(connection.post(path_for(i), body), 30)
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as err:
                    errors += 1
                    kinds[type(err).__name__] = kinds.get(type(err).__name__, 0) + 1
                    continue
                if status != 202:
                    errors += 1
                    kinds[str(status)] = kinds.get(str(status), 0) + 1
                    continue
                latencies.append(time.perf_counter() - began)
                incidents.update(json.loads(answer)["incidents"])
        finally:
            connection.close()

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


async def handoff_mean_ms(url: str) -> float:
    """Mean time the app spent from receiving a delivery to Temporal accepting it."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(url)).text
    total = count = 0.0
    for line in text.splitlines():
        if line.startswith("mayday_hook_handoff_seconds_sum"):
            total += float(line.split()[-1])
        elif line.startswith("mayday_hook_handoff_seconds_count"):
            count += float(line.split()[-1])
    return round(total / max(count, 1) * 1000, 2)


async def histories(client: Client, workflow_ids: set[str], accepted: int) -> dict[str, Any]:
    """Runs, largest run's history (events, bytes) per workflow id, and events per alert."""
    per_key: dict[str, dict[str, int]] = {}
    total_events = signals = 0
    for workflow_id in sorted(workflow_ids):
        runs = [e.run_id async for e in client.list_workflows(f'WorkflowId="{workflow_id}"')]
        sizes = []
        for run_id in runs:
            handle = client.get_workflow_handle(workflow_id, run_id=run_id)
            info = (await handle.describe()).raw_description.workflow_execution_info
            sizes.append((info.history_length, info.history_size_bytes))
            async for event in handle.fetch_history_events():
                signals += event.HasField("workflow_execution_signaled_event_attributes")
        total_events += sum(events for events, _ in sizes)
        per_key[workflow_id] = {
            "runs": len(runs),
            "max_run_events": max((events for events, _ in sizes), default=0),
            "max_run_bytes": max((size for _, size in sizes), default=0),
        }
    return {
        "per_key": per_key,
        "max_runs": max((k["runs"] for k in per_key.values()), default=0),
        "max_run_events": max((k["max_run_events"] for k in per_key.values()), default=0),
        "max_run_bytes": max((k["max_run_bytes"] for k in per_key.values()), default=0),
        "events_per_accepted_alert": round(total_events / max(accepted, 1), 3),
        "signals": signals,
        "accepted_per_signal": round(accepted / max(signals, 1), 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--webhooks", type=int, default=5000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="500 webhooks, for a smoke run")
    parser.add_argument(
        "--phase-timeout", type=float, default=300, help="stop posting after this many seconds"
    )
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
                bare_port,
                lambda i: f"/signal/{run}-{i % args.keys}",
                lambda i: alertmanager_body(i % args.keys, i, run),
                headers,
                n,
                args.concurrency,
                phase_timeout=args.phase_timeout,
            )
            incident_ids: set[str] = set()
            mayday = await storm(
                mayday_port,
                lambda i: "/hooks/alertmanager",
                lambda i: alertmanager_body(i % args.keys, i, run),
                headers,
                n,
                args.concurrency,
                incident_ids,
                phase_timeout=args.phase_timeout,
            )
            mayday["server_handoff_mean_ms"] = await handoff_mean_ms(
                f"http://127.0.0.1:{mayday_port}/metrics"
            )
            query = (
                'WorkflowType="IncidentWorkflow" AND WorkflowId STARTS_WITH "incident-" '
                'AND ExecutionStatus="Running"'
            )
            await asyncio.sleep(1)  # visibility trails the last signal a little
            mayday["incident_workflows"] = (await env.client.count_workflows(query)).count
            mayday["history"] = await histories(env.client, incident_ids, mayday["accepted"])
            bare["history"] = await histories(
                env.client, {f"bare-{run}-{k}" for k in range(args.keys)}, bare["accepted"]
            )
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    # A worker still draining a backlog of tasks; its figures are in.
                    proc.kill()
                    proc.wait(10)

    print(f"webhooks={n} keys={args.keys} concurrency={args.concurrency}")
    for name, figures in (("mayday /hooks/alertmanager", mayday), ("bare signal-with-start", bare)):
        print(
            f"{name:28s} {figures['accepted_per_s']:8.1f}/s  p50 {figures['p50_ms']:7.2f} ms"
            f"  p99 {figures['p99_ms']:7.2f} ms  errors {figures['errors']}"
            f"  incidents {figures['incidents_created']}"
        )
        history = figures["history"]
        print(
            f"{'':28s} runs/key ≤ {history['max_runs']}  largest run {history['max_run_events']}"
            f" events, {history['max_run_bytes'] / 1e6:.2f} MB"
            f"  events/alert {history['events_per_accepted_alert']}"
            f"  alerts/signal {history['accepted_per_signal']}"
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
