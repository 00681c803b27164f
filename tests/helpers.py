"""Small test helpers: polling, free ports, running the CLI as a user does."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from temporalio.client import Client
from temporalio.service import RPCError

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent


async def assert_eventually(
    check: Callable[[], Awaitable[T]], *, timeout: float = 10.0, interval: float = 0.1
) -> T:
    """Retry `check` until it stops raising AssertionError, or re-raise after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        await asyncio.sleep(interval)


async def end_running(client: Client, *task_queues: str) -> None:
    """Terminate whatever still runs on a test's own task queues, before its workers stop.

    A page left running where nobody polls any more answers no query, and an SMS ack asks every
    open page in the namespace: every later ack in the session would wait out the timeout.
    """
    queues = " OR ".join(f'TaskQueue="{queue}"' for queue in task_queues)
    query = f'({queues}) AND ExecutionStatus="Running"'
    for workflow_id in [e.id async for e in client.list_workflows(query)]:
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(workflow_id).terminate("test cleanup")


@contextlib.asynccontextmanager
async def cleaned_up(client: Client, *task_queues: str) -> AsyncIterator[None]:
    """On leaving the block (inside its workers' block), `end_running` on these queues."""
    try:
        yield
    finally:
        await end_running(client, *task_queues)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class CliResult:
    """What a CLI run printed and how it ended."""

    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        """The final non-empty stdout line."""
        return self.stdout.strip().splitlines()[-1]


def cli_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment a user's shell would give the CLI, with mayday settings overlaid."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAYDAY_")}
    env.update({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    env.update(extra)
    env.setdefault("COLUMNS", "200")
    return env


def run_cli(*args: str, env: Mapping[str, str], timeout: float = 60.0) -> CliResult:
    """Run `mayday ARGS` in a fresh process, as a user would from a shell."""
    done = subprocess.run(
        [sys.executable, "-m", "mayday", *args],
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


async def run_cli_async(*args: str, env: Mapping[str, str], timeout: float = 60.0) -> CliResult:
    """`run_cli` without blocking the event loop the test's worker runs on."""
    return await asyncio.to_thread(run_cli, *args, env=env, timeout=timeout)
